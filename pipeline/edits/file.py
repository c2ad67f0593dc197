"""``<stem>.edits.json``: where it lives, its version, its schema, and reading it.

Reading never raises: a missing file is no edits; a damaged one, one outside the schema or from a
newer ivp gives no edits and a one-line problem (so every command still reads the sidecar, and
says why the edits were left out). Writers (:mod:`.store`) refuse to replace such a file."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

from .. import schemas
from ..recording.outputs import SIDECAR_SUFFIX

EDITS_SUFFIX = ".edits.json"
VERSION = 1
MAX_BYTES = 16 << 20
SCHEMA_PATH = schemas.SCHEMA_DIR / "edits.schema.json"


def path_for(sidecar: Path) -> Path:
    """``call.edits.json`` beside ``call.interview.json``."""
    sidecar = Path(sidecar)
    name = sidecar.name
    stem = name[: -len(SIDECAR_SUFFIX)] if name.endswith(SIDECAR_SUFFIX) else sidecar.stem
    return sidecar.with_name(stem + EDITS_SUFFIX)


def empty() -> dict[str, Any]:
    return {"edits_version": VERSION, "recording": {}, "speakers": {}, "words": [], "highlights": [],
            "moments": []}


def load(sidecar: Path) -> tuple[dict[str, Any], Optional[str]]:
    """(the edits beside ``sidecar``, None) or (no edits, the one-line problem with the file)."""
    path = path_for(sidecar)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return empty(), None
    except OSError as exc:
        return empty(), f"{path.name}: cannot read: {exc.strerror or exc}"
    return parse(data, path.name)


def parse(data: bytes, name: str = "edits") -> tuple[dict[str, Any], Optional[str]]:
    if len(data) > MAX_BYTES:
        return empty(), f"{name}: {len(data)} bytes: too big for an edits file"
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return empty(), f"{name}: not JSON: {' '.join(str(exc).split())}"
    if not isinstance(doc, dict):
        return empty(), f"{name}: not an edits file (a JSON {type(doc).__name__})"
    version = doc.get("edits_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        return empty(), (f"{name}: written by a newer ivp (edits_version {version}; this ivp reads "
                         f"{VERSION}): not applied and left as it is; update ivp")
    problem = schema_problem(doc)
    if problem:
        return empty(), f"{name}: {problem}"
    out = empty()
    out.update(doc)
    return out, None


def schema_problem(doc: Any) -> Optional[str]:
    return schemas.problem("edits", doc, "the file")


def stamp(sidecar: Path) -> tuple[int, int]:
    """(mtime_ns, size) of the sidecar and its edits file together: a change to either is a
    change (the study's index re-reads a sidecar when this moves)."""
    st = os.stat(sidecar)
    try:
        ed = os.stat(path_for(sidecar))
    except OSError:
        return st.st_mtime_ns, st.st_size
    return max(st.st_mtime_ns, ed.st_mtime_ns), st.st_size + ed.st_size


def fingerprint(sidecar: Path) -> bytes:
    """The edits file's bytes (b"" when none): hashed with the sidecar's by the study's index."""
    try:
        with open(path_for(sidecar), "rb") as fh:
            return fh.read(MAX_BYTES + 1)
    except OSError:
        return b""
