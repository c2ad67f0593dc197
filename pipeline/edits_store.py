"""Each change to an edits file saved at once: read, change, check, write atomically, all under
the lock of the sidecar's folder (``sidecar.locked``, the one a run and ``ivp roles`` take), so
the server, ``ivp process``, ``ivp watch`` and ``ivp roles`` never interleave. A file that cannot
be read (damaged, edited by hand into something else, from a newer ivp) is never replaced: the
change is refused with the reason."""
from __future__ import annotations

import datetime as _dt
import secrets
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from . import sidecar
from .recording.outputs import atomic_write_text
from .errors import PipelineError
from .edits import file

MAX_TAGS = 50


class EditsError(PipelineError):
    stage = "edits"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def change(sidecar_path: Path, fn: Callable[[dict[str, Any], Any], Any]) -> Any:
    """``fn(edits, sidecar as written)`` on the edits beside ``sidecar_path``, saved; returns what
    ``fn`` returns."""
    sidecar_path = Path(sidecar_path)
    path = file.path_for(sidecar_path)
    with sidecar.locked(sidecar_path):
        edits, problem = file.load(sidecar_path)
        if problem:
            raise EditsError(str(path), f"{problem}; not changed (fix or move the file first)")
        raw = sidecar.read(sidecar_path, edits=False)
        edits["recording"] = {"path": raw.source.path, "sha256": raw.source.sha256}
        result = fn(edits, raw)
        problem = file.schema_problem(edits)
        if problem:
            raise EditsError(str(path), f"not saved: {problem}")
        atomic_write_text(path, sidecar.json_text(edits, indent=2) + "\n")
    return result


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags as typed: trimmed, commas split, blanks and repeats out, order kept."""
    out: list[str] = []
    for tag in tags:
        for part in str(tag).replace("\n", ",").split(","):
            part = " ".join(part.split())[:80]
            if part and part.lower() not in {t.lower() for t in out}:
                out.append(part)
    return out[:MAX_TAGS]


def set_name(sidecar_path: Path, speaker: str, name: str) -> None:
    """Name a speaker (an empty name removes it); the voiceprint is kept to find them again."""
    name = " ".join(str(name).split())[:120]

    def do(edits, raw):
        if speaker not in {t.speaker for t in raw.turns} | {s.id for s in raw.speakers}:
            raise EditsError(str(sidecar_path), f"no speaker {speaker!r} in this recording")
        if not name:
            edits["speakers"].pop(speaker, None)
            return
        voice = next((v.vector for v in raw.voices if v.speaker == speaker), "")
        edits["speakers"][speaker] = {"name": name, "voice": voice, "at": _now()}
    change(sidecar_path, do)


def correct_words(sidecar_path: Path, start: float, end: float, old: str, new: str,
                  speaker: Optional[str] = None) -> str:
    """Save a correction of the words said in ``start``-``end``; its id."""
    if not str(new).strip():
        raise EditsError(str(sidecar_path), "a correction needs the new words")
    wid = "w" + secrets.token_hex(6)
    change(sidecar_path, lambda e, _raw: e["words"].append(
        {"id": wid, "start": float(start), "end": float(end), "speaker": speaker, "old": " ".join(str(old).split()),
         "new": " ".join(str(new).split()), "at": _now()}))
    return wid


def add_highlight(sidecar_path: Path, start: float, end: float, text: str, tags: Iterable[str] = (),
                  note: str = "", speaker: Optional[str] = None) -> str:
    hid = "h" + secrets.token_hex(6)
    if not (0 <= float(start) <= float(end)):
        raise EditsError(str(sidecar_path), f"a highlight from {start} to {end} s is not a span")
    change(sidecar_path, lambda e, _raw: e["highlights"].append(
        {"id": hid, "start": float(start), "end": float(end), "text": " ".join(str(text).split()),
         "speaker": speaker, "tags": clean_tags(tags), "note": str(note).strip(), "at": _now()}))
    return hid


def change_highlight(sidecar_path: Path, hid: str, tags: Optional[Iterable[str]] = None,
                     note: Optional[str] = None, remove: bool = False) -> None:
    """Re-tag, re-note or remove a highlight a person added."""
    def do(edits, _raw):
        for h in edits["highlights"]:
            if h["id"] == hid:
                if remove:
                    edits["highlights"].remove(h)
                    return
                if tags is not None:
                    h["tags"] = clean_tags(tags)
                if note is not None:
                    h["note"] = str(note).strip()
                h["at"] = _now()
                return
        raise EditsError(str(sidecar_path), f"no highlight {hid!r}")
    change(sidecar_path, do)


def change_moment(sidecar_path: Path, start: float, kind: str, action: str, tags: Iterable[str] = (),
                  note: str = "", into: Optional[tuple[float, str]] = None) -> None:
    """Remove, re-tag or merge an automatic moment (found again by its kind and start). A later
    change of the same moment replaces the earlier one."""
    if action not in ("remove", "tag", "merge") or (action == "merge" and into is None):
        raise EditsError(str(sidecar_path), f"{action!r}: remove, tag, or merge with a moment to merge into")
    entry: dict[str, Any] = {"start": float(start), "kind": str(kind), "action": action, "at": _now()}
    if action == "tag":
        entry.update(tags=clean_tags(tags), note=str(note).strip())
    if action == "merge":
        entry["into"] = {"start": float(into[0]), "kind": str(into[1])}

    def do(edits, _raw):
        edits["moments"] = [m for m in edits["moments"]
                            if not (m["kind"] == entry["kind"] and abs(m["start"] - entry["start"]) < 1e-6)]
        edits["moments"].append(entry)
    change(sidecar_path, do)


def folder_tags(sidecars: Iterable[Path]) -> list[str]:
    """Every tag used in the edits files of these sidecars, most used first (offered when tagging)."""
    counts: dict[str, int] = {}
    for p in sidecars:
        edits, _problem = file.load(Path(p))
        for item in [*edits.get("highlights", []), *edits.get("moments", [])]:
            for t in item.get("tags") or []:
                counts[t] = counts.get(t, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t.lower()))
