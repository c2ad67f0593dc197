"""The JSON sidecar: where it goes, atomic write, read and schema validation."""
from __future__ import annotations

import fcntl
import json
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Union

from . import schemas, sidecar_check as check
from .edits import apply as edits_apply, file as edits_file
from .errors import NewerSidecar, SidecarError
from .interview import SCHEMA_VERSION, Interview
from .recording import guard
from .recording.outputs import SIDECAR_SUFFIX, atomic_write_text, recording_stem
from .sidecar_check import MAX_BYTES, MAX_DEPTH

SUFFIX = SIDECAR_SUFFIX
ERROR_SUFFIX = ".error.json"
SCHEMA_PATH = schemas.SCHEMA_DIR / "interview.schema.json"


def sidecar_path(recording: Path, out_dir: Optional[Path] = None, suffix: str = SUFFIX) -> Path:
    """``<stem>.interview.json`` next to the recording, or in ``out_dir``.

    The stem is unique in the recording's folder (``call.flac`` beside ``call.wav`` keeps its
    extension) and short enough for any file system (see :mod:`pipeline.recording.outputs`).
    """
    recording = Path(recording)
    return Path(out_dir or recording.parent) / f"{recording_stem(recording)}{suffix}"


def sidecar_in_out(recording: Path, out_dir: Path, suffix: str = SUFFIX) -> Path:
    """Where ``ivp process ... --out out_dir`` put ``recording``'s sidecar: ``out_dir`` mirrors the
    folders below the one processed (:class:`~pipeline.recording.outputs.OutputPlan`), which is
    not known here, so each place the recording's folders could map to is tried, nearest first,
    and the one whose sidecar names this recording is taken; else ``out_dir/<stem><suffix>``."""
    recording = Path(os.path.abspath(recording))
    flat = sidecar_path(recording, out_dir, suffix)
    for root in recording.parents:
        candidate = Path(out_dir) / recording.parent.relative_to(root) / flat.name
        if candidate != flat and candidate.is_file():
            try:
                if os.path.abspath(read(candidate, edits=False).source.path) == str(recording):
                    return candidate
            except (SidecarError, OSError):
                continue
    return flat


def find_sidecars(sources: Union[str, os.PathLike, Iterable],
                  exclude: Optional[Path] = None) -> tuple[list[Path], list[Path]]:
    """Sidecars in the given files and folders (recursively); returns (found, missing inputs).

    Hidden folders (``.ivp`` caches and the like), ``exclude`` (the report's own folder) and, in a
    folder, a sidecar that is a link leading out of it (:mod:`pipeline.recording.guard`) are skipped.
    """
    found: list[Path] = []
    missing: list[Path] = []
    exclude = exclude.resolve() if exclude else None
    for src in ([Path(sources)] if isinstance(sources, (str, os.PathLike)) else map(Path, sources)):
        if src.is_file():
            found.append(src)
        elif src.is_dir():
            for path in sorted(src.rglob(f"*{SUFFIX}")):
                rel = path.relative_to(src).parts[:-1]
                if any(p.startswith(".") for p in rel):
                    continue
                if exclude and path.resolve().is_relative_to(exclude):
                    continue
                if guard.leaves(path, src):  # a link out of the folder: never read through
                    continue
                found.append(path)
        else:
            missing.append(src)
    return unique_paths(found), missing


def unique_paths(paths: Iterable[Path]) -> list[Path]:
    """``paths`` in order, each file once even when named twice (resolved through links)."""
    seen: set[Path] = set()
    unique = []
    for p in paths:
        key = Path(p).resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def dumps(data: dict[str, Any]) -> str:
    """The sidecar's text (see :func:`json_text`)."""
    return json_text(data, indent=2) + "\n"


def json_text(data: Any, indent: Optional[int] = 2) -> str:
    """JSON as ivp writes and prints it (UTF-8 text). A file name that is not UTF-8 (``caf\\xe9.wav``
    from an old zip) is held with surrogate escapes (``os.fsdecode``); they become JSON escapes
    (``\\udce9``), which read back to the same string and, through ``os.fsencode``, to the same bytes."""
    return _LONE_SURROGATE.sub(_json_escape, json.dumps(data, indent=indent, ensure_ascii=False))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_escape(match: "re.Match[str]") -> str:
    return f"\\u{ord(match.group()):04x}"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the lock of the folder a sidecar lives in (``flock`` on the folder itself): a run's
    last look at the sidecar and its write, and an ``ivp roles`` read-modify-write, never
    interleave, across processes, so a fix made while a recording is reprocessed is kept. A
    folder that does not exist yet holds no sidecar to protect. Never nested."""
    try:
        fd = os.open(Path(path).parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write(interview: Interview, path: Path, validate_schema: bool = True) -> Path:
    data = interview.to_dict()
    if validate_schema:
        validate(data)
    atomic_write_text(path, dumps(data))
    return Path(path)


def read(path: Path, edits: bool = True) -> Interview:
    """The one reader every command uses: :func:`parse` of the file's bytes (see there), with the
    person's edits beside it on top (``<stem>.edits.json``, :mod:`pipeline.edits`). Whoever reads a
    sidecar to write it back (a run keeping an ``ivp roles`` fix, ``ivp roles``, ``ivp mark``)
    passes ``edits=False``, so the edits stay a layer and are never written into the sidecar.

    Raises :class:`~pipeline.errors.SidecarError` (a ``ValueError``) with a one-line reason for a
    file that is too big, not JSON, from a newer ivp, or outside the schema and its bounds."""
    try:
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            raise SidecarError(str(path), f"{size} bytes: too big for a sidecar (at most {MAX_BYTES})")
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SidecarError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return parse(data, path, edits)


def newer(path: Path) -> Optional[NewerSidecar]:
    """The error to give when ``path`` holds a sidecar from a newer ivp (``ivp process`` and the
    watcher then leave it as it is instead of replacing it with today's version), else None."""
    try:
        if Path(path).is_file():
            read(path, edits=False)
    except NewerSidecar as exc:
        return exc
    except SidecarError:  # damaged: replaced by the new result as before
        pass
    return None


def parse(data: Union[bytes, str], path: Optional[Path] = None, edits: bool = True) -> Interview:
    """An :class:`Interview` from a sidecar's text, checked before anything uses it: JSON without
    ``NaN``/``Infinity`` and not nested deeper than :data:`MAX_DEPTH`; a ``schema_version`` this ivp
    knows (a newer one is refused, never read and rewritten as today's); the schema (types, required
    fields); every number finite and every time within :data:`MAX_SECONDS`; voiceprints that decode.
    Given the sidecar's ``path`` (and ``edits``), the edits file beside it is applied on top; one
    that cannot be read is left out with a line in ``edit_notes``."""
    where = None if path is None else str(path)
    if len(data) > MAX_BYTES:
        raise SidecarError(where, f"{len(data)} bytes: too big for a sidecar (at most {MAX_BYTES})")
    try:
        doc = json.loads(data, parse_constant=_no_constant)
    except RecursionError:
        raise SidecarError(where, f"not a sidecar: JSON nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SidecarError(where, f"not a sidecar: {exc}") from None
    if not isinstance(doc, dict):
        raise SidecarError(where, f"not a sidecar: a JSON {type(doc).__name__}, not an object")
    version = doc.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise NewerSidecar(where, f"written by a newer ivp (schema_version {version}; this ivp reads 1 to "
                                  f"{SCHEMA_VERSION}): not read and left as it is; update ivp")
    problem = (check.bounds(doc) or check.schema_problem(doc, schema(), _jsonschema_problem)
               or check.voiceprint_problem(doc))
    if problem:
        raise SidecarError(where, problem)
    try:
        interview = Interview.from_dict(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SidecarError(where, f"not a sidecar: {type(exc).__name__}: {exc}") from None
    if edits and path is not None:
        with_edits(interview, Path(path))
    return interview


def with_edits(interview: Interview, path: Path) -> Interview:
    """``interview`` (read from, or just written to, ``path``) with the edits file beside it on top."""
    found, problem = edits_file.load(path)
    if problem:
        interview.edit_notes.append(f"edits not applied: {problem}")
    else:
        edits_apply.apply(interview, found)
    return interview


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a sidecar holds")


def _jsonschema_problem(doc: dict) -> Optional[str]:
    return schemas.problem("interview", doc, "the sidecar")


def schema() -> dict[str, Any]:
    """The sidecar's JSON schema (``schema/interview.schema.json``)."""
    return schemas.load("interview")


def validate(data: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``data`` does not match the sidecar schema."""
    error = schemas.first_error("interview", data)
    if error is not None:
        raise error
