"""Where a recording's sidecar, error file and exports go: unique, short enough, inside the output.

* Next to the recording by default; with ``--out`` in the output folder, mirroring the
  recording's subfolders below the folder given (several inputs: below their common folder).
* ``call.flac`` beside ``call.wav``: each keeps its full name in its outputs
  (``call.flac.interview.json``, ``call.wav.interview.json``), so neither overwrites the other.
* A name too long for the file system is cut on a character boundary and given a short hash
  of the full name, so two long names that start alike stay apart.
* A path that would leave the output folder (a planted symlink) is refused (:mod:`.guard`).
"""
from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Iterable, Optional

from . import guard
from .discover import is_media_name

SIDECAR_SUFFIX = ".interview.json"  # pipeline.sidecar.SUFFIX; the edits file's name derives from it
STEM_BYTES = 150  # longest derived stem: leaves room for suffixes such as ".interview.json"
TEMP_PREFIX = ".ivp-tmp-"  # atomic writes; a name pattern no other program uses
TEMP_SUFFIX = ".tmp"


def short(stem: str, limit: int = STEM_BYTES) -> str:
    """``stem`` when it fits in ``limit`` UTF-8 bytes, else a cut of it plus ``~<hash>``."""
    raw = stem.encode("utf-8", "surrogateescape")
    if len(raw) <= limit:
        return stem
    tag = "~" + hashlib.sha1(raw).hexdigest()[:8]
    cut = raw[: limit - len(tag)].decode("utf-8", "ignore")
    return cut.rstrip(" .") + tag


def recording_stem(recording: Path, siblings: Optional[Iterable[str]] = None) -> str:
    """The name every output of ``recording`` starts with, unique in its folder."""
    recording = Path(recording)
    name, stem = recording.name, recording.stem
    if siblings is None:
        try:
            siblings = os.listdir(recording.parent)
        except OSError:
            siblings = []
    others = [s for s in siblings if s != name and is_media_name(s)]
    stems = {os.path.splitext(s)[0] for s in others}
    if stem in stems:  # call.flac beside call.wav: keep the extension
        stem = name
        if stem in stems:  # ... and a "call.flac.wav" too
            stem = f"{name}~{hashlib.sha1(name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"
    return short(stem)


class OutputPlan:
    """The output folder of each recording for one run (``out`` None: next to each recording)."""

    def __init__(self, out: Optional[Path], roots: Iterable[Path] = ()):
        self.out = Path(os.path.abspath(out)) if out else None
        roots = sorted({os.path.abspath(r) for r in roots})
        if len(roots) <= 1:
            self.base = Path(roots[0]) if roots else None
        else:
            self.base = Path(os.path.commonpath(roots))

    def folder(self, recording: Path) -> Path:
        recording = Path(os.path.abspath(recording))
        if self.out is None:
            return recording.parent
        if self.base is not None:
            try:
                return self.out / recording.parent.relative_to(self.base)
            except ValueError:
                pass
        return self.out

    def sidecar(self, recording: Path, suffix: str, check: bool = True) -> Path:
        """``<folder>/<stem><suffix>``; ``check``: raise :class:`OutputError` when writing there
        would leave the output (a planted symbolic link)."""
        folder = self.folder(recording)
        path = folder / f"{recording_stem(recording)}{suffix}"
        if check:
            return guard.check(path, self.out or Path(os.path.abspath(recording)).parent)
        return path


def writable(folder: Path) -> Optional[str]:
    """None when a file can be created in ``folder`` (made if missing), else why not."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
        try:
            os.write(fd, b"ivp")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(tmp)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def is_own_temp(name: str) -> bool:
    """A temp file of ``atomic_write_text`` (``.ivp-tmp-<random>.tmp``), never a user's file."""
    middle = name[len(TEMP_PREFIX):-len(TEMP_SUFFIX)] if len(name) > len(TEMP_PREFIX) + 4 else ""
    return (name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX) and len(middle) >= 6
            and all(c.isalnum() or c == "_" for c in middle))


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temp file in the same folder, fsync, then rename over ``path``.

    The temp file is named ``.ivp-tmp-<random>.tmp`` (a pattern nobody else uses), so a crash
    leftover can be cleaned without ever touching a user's file. A file name that is not UTF-8, held
    with surrogate escapes, is written as ``\\udce9`` (readable text, and a JSON escape that reads back
    to the same name), never a crash and never an invalid UTF-8 byte.
    """
    atomic_write_bytes(path, text.encode("utf-8", errors="backslashreplace"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """:func:`atomic_write_text` for bytes (a DOCX, a zip): temp file, fsync, rename. A failure
    (a full or read-only disk) names the file meant, never the temp file."""
    root = getattr(path, "guard_root", None)  # a path the guard checked: no link followed, even a new one
    path = Path(path)
    if root and guard.WALKS:
        folder_fd = guard.open_folder(path.parent, root)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder_fd = None
    try:
        _write_replace(path, data, folder_fd)
    finally:
        if folder_fd is not None:
            os.close(folder_fd)


def _write_replace(path: Path, data: bytes, folder_fd: Optional[int]) -> None:
    """Temp file beside ``path`` (in the folder ``folder_fd`` when given, names relative to it),
    fsync, rename over ``path``; an OSError names ``path``, never the temp file."""
    where = {} if folder_fd is None else {"dir_fd": folder_fd}
    target = str(path) if folder_fd is None else path.name
    try:
        fd, tmp = _new_temp(path.parent if folder_fd is None else Path(), where)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target, **({} if folder_fd is None else {"src_dir_fd": folder_fd, "dst_dir_fd": folder_fd}))
    except BaseException as exc:
        try:
            os.unlink(tmp, **where)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.errno and exc.filename in (None, tmp, target):  # name the file meant
            raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(path)) from exc
        raise


def _new_temp(folder: Path, where: Optional[dict] = None) -> tuple[int, str]:
    """A new temp file opened for writing, mode 0666 less the process umask (as any file the user
    makes; ``mkstemp`` would give 0600), without ever changing the umask. ``where``: ``dir_fd``
    for a name relative to an open folder."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        name = str(folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}")
        try:
            return os.open(name, flags, 0o666, **(where or {})), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp file name in {folder}")
