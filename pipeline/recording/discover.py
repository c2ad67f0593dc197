"""Is this path a recording? Regular media files only, never our own outputs or partial files.

Nothing here opens a file: FIFOs, devices and sockets are refused from ``stat`` alone, so a
FIFO or a symlink to ``/dev/zero`` in a folder can never block a scan. Symlinks that leave the
scanned tree are not followed unless ``follow_links`` is set.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from pathlib import Path
from typing import Iterable, Iterator, Optional

AUDIO_EXTENSIONS = frozenset({
    ".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".webm", ".mp4", ".mov",
    ".mkv", ".mka", ".wma", ".aif", ".aiff", ".caf", ".m4v", ".avi", ".3gp", ".amr",
})

# partial downloads, editor/office temp files
PARTIAL_SUFFIXES = (".part", ".crdownload", ".tmp", ".download", ".partial", ".filepart",
                    ".opdownload", ".!qb", ".swp")
IGNORED_PREFIXES = (".", "~$")
STATE_DIR = ".ivp"  # the watcher's ledger, log and the stage cache
REPORT_DIR = "ivp-report"
STUDY_DIR = "ivp-study"  # study.json, progress.csv and highlight reels (pipeline.study)
# ``ivp export --format clips`` writes ``<stem>_clips/NN_00h01m08s_label.m4a``: media files, but ours.
CLIPS_DIR_SUFFIX = "_clips"
CLIP_NAME = re.compile(r"^\d{2,}_\d{2}h\d{2}m\d{2}s_[a-z0-9-]+\.(mp4|m4a)$")


def is_ignored_name(name: str) -> bool:
    """Partial, temporary and hidden names that must never be picked up."""
    return name.startswith(IGNORED_PREFIXES) or name.lower().endswith(PARTIAL_SUFFIXES)


def is_media_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS


def is_recording_name(name: str) -> bool:
    return not is_ignored_name(name) and is_media_name(name)


def is_own_output(path: Path, root: Optional[Path] = None) -> bool:
    """A file ivp wrote: an exported clip, anything in an ``ivp-report``, ``ivp-study`` or ``.ivp``
    folder inside ``root`` (the folder processed or watched). A folder of those names above
    ``root`` is the user's: ``/data/ivp-study/calls`` holds recordings."""
    path = Path(path)
    if path.parent.name.endswith(CLIPS_DIR_SUFFIX) and CLIP_NAME.match(path.name):
        return True
    return any(part in (REPORT_DIR, STUDY_DIR, STATE_DIR) for part in _below(path, root))


def _below(path: Path, root: Optional[Path]) -> tuple[str, ...]:
    """The folders of ``path`` below ``root`` (all of them without a root, or outside it)."""
    if root is not None:
        for p, r in ((path, Path(root)), (Path(os.path.abspath(path)), Path(os.path.abspath(root)))):
            try:
                return p.relative_to(r).parts[:-1]
            except ValueError:
                continue
    return path.parts[:-1]


def is_recording_path(path: Path, root: Optional[Path] = None) -> bool:
    """A recording by its name: media, not partial, hidden or one of our outputs inside ``root``
    (no stat)."""
    path = Path(path)
    return is_recording_name(path.name) and not is_own_output(path, root)


def inside(path: Path, folder: Path) -> bool:
    """``path`` (links resolved) lies in ``folder`` (links resolved)."""
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
        return True
    except ValueError:
        return False


def not_regular(path: Path, root: Optional[Path] = None, follow_links: bool = False) -> Optional[str]:
    """Why ``path`` is not a regular file to read (None when it is). Never opens it.

    A symlink whose target lies outside ``root`` is refused unless ``follow_links``.
    """
    path = Path(path)
    try:
        lst = os.lstat(path)
    except FileNotFoundError:
        return "file not found"
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISLNK(lst.st_mode):
        if root is not None and not follow_links and not inside(path, root):
            return "a symbolic link that leaves the folder (not followed)"
        try:
            st = os.stat(path)
        except OSError:
            return "a broken symbolic link"
    else:
        st = lst
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular file ({_kind(st.st_mode)})"
    return None


def local_input(path: Path) -> list[str]:
    """ffmpeg/ffprobe input arguments that can only ever read the local file ``path``."""
    return ["-protocol_whitelist", "file,pipe", "-i", "file:" + os.path.abspath(path)]


def open_regular(path: Path):
    """Open ``path`` for reading only if it is a regular file, without ever blocking.

    ``O_NONBLOCK`` makes opening a FIFO return at once; ``fstat`` on the open descriptor then
    refuses anything that is not a regular file (no race between the check and the read).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"not a regular file ({_kind(st.st_mode)})", str(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a regular file (a FIFO or device raises ``OSError`` at once, never blocks)."""
    digest = hashlib.sha256()
    with open_regular(path) as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def walk(root: Path, skip: Iterable[Path] = (), follow_links: bool = False) -> Iterator[Path]:
    """Recordings under ``root``, sorted; hidden folders, our output folders and ``skip`` left out."""
    root = Path(root)
    skipped = [Path(os.path.realpath(s)) for s in skip]
    for dirpath, dirnames, filenames in os.walk(root, followlinks=follow_links):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in (REPORT_DIR, STUDY_DIR)
                             and not any(inside(here / d, s) for s in skipped))
        for name in sorted(filenames):
            path = here / name
            if is_recording_path(path, root) and not_regular(path, root, follow_links) is None:
                yield path


def find_recordings(paths: Iterable[Path], follow_links: bool = False,
                    skip: Iterable[Path] = ()) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(recording, root) for files named directly and recordings under folders; and missing inputs.

    A file named directly is kept even when it is not a regular file (the pipeline then reports
    why, in one line); its root is its own folder.
    """
    found: list[tuple[Path, Path]] = []
    missing: list[Path] = []
    seen: set[str] = set()
    for path in map(Path, paths):
        if path.is_dir():
            items = [(p, path) for p in walk(path, skip, follow_links)]
        elif path.exists() or path.is_symlink():
            items = [(path, path.parent)]
        else:
            missing.append(path)
            continue
        for rec, root in items:
            key = os.path.realpath(rec)
            if key not in seen:
                seen.add(key)
                found.append((rec, root))
    return found, missing


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a file"
