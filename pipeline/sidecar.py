"""The JSON sidecar: where it goes, atomic write, read and schema validation."""
from __future__ import annotations

import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional, Union

from .interview import Interview
from .recording.outputs import TEMP_PREFIX, TEMP_SUFFIX, recording_stem

SUFFIX = ".interview.json"
ERROR_SUFFIX = ".error.json"
SCHEMA_PATH = Path(__file__).parent / "schema" / "interview.schema.json"


def sidecar_path(recording: Path, out_dir: Optional[Path] = None, suffix: str = SUFFIX) -> Path:
    """``<stem>.interview.json`` next to the recording, or in ``out_dir``.

    The stem is unique in the recording's folder (``call.flac`` beside ``call.wav`` keeps its
    extension) and short enough for any file system (see :mod:`pipeline.recording.outputs`).
    """
    recording = Path(recording)
    return Path(out_dir or recording.parent) / f"{recording_stem(recording)}{suffix}"


def find_sidecars(sources: Union[str, os.PathLike, Iterable],
                  exclude: Optional[Path] = None) -> tuple[list[Path], list[Path]]:
    """Sidecars in the given files and folders (recursively); returns (found, missing inputs).

    Hidden folders (``.ivp`` caches and the like) and ``exclude`` (the report's own folder) are skipped.
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


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temp file in the same folder, fsync, then rename over ``path``.

    The temp file is named ``.ivp-tmp-<random>.tmp`` (a pattern nobody else uses), so a crash
    leftover can be cleaned without ever touching a user's file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _new_temp(path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _new_temp(folder: Path) -> tuple[int, str]:
    """A new temp file opened for writing, mode 0666 less the process umask (as any file the user
    makes; ``mkstemp`` would give 0600), without ever changing the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = str(folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}")
        try:
            return os.open(name, flags, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp file name in {folder}")


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write(interview: Interview, path: Path, validate_schema: bool = True) -> Path:
    data = interview.to_dict()
    if validate_schema:
        validate(data)
    atomic_write_text(path, dumps(data))
    return Path(path)


def read(path: Path) -> Interview:
    with open(path, encoding="utf-8") as fh:
        return Interview.from_dict(json.load(fh))


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        return json.load(fh)


def validate(data: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``data`` does not match the sidecar schema."""
    import jsonschema  # lazy: a fifth of a second, paid only when a sidecar is validated
    jsonschema.validate(data, schema())
