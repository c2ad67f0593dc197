"""The edits file applied to an :class:`~pipeline.interview.Interview` as it is read: speaker
names (found again by voice when ids changed), word corrections (:mod:`.words`), highlights added
by a person and changes to automatic moments. Pure: nothing is read or written here. Every edit
that no longer applies leaves one line in ``interview.edit_notes``; nothing is ever dropped from
the file for it."""
from __future__ import annotations

from typing import Any, Optional

from ..interview import Interview, Moment, Voiceprint
from ..timefmt import clock
from ..voiceprint import found_again
from . import words

USER_KIND = "bookmark"  # a person's highlight is a bookmark (stages.moments.KINDS), source "user"
USER_SOURCE = "user"
MATCH_S = 1.0  # an automatic moment is found again by its kind and a start within this


def apply(iv: Interview, edits: dict[str, Any]) -> Interview:
    """``iv`` with ``edits`` on top (in place; also returned)."""
    notes: list[str] = []
    _names(iv, edits.get("speakers") or {}, notes)
    for fix in edits.get("words") or []:
        missing = words.correct(iv, fix["start"], fix["end"], fix["old"], fix["new"])
        if missing:
            notes.append(f"word correction at {clock(fix['start'])} ({fix['old']!r} -> {fix['new']!r}) no "
                         f"longer aligns: {', '.join(repr(m) for m in missing)} not found there (kept in the edits file)")
    _moments(iv, edits.get("moments") or [], notes)
    for h in edits.get("highlights") or []:
        iv.moments.append(highlight_moment(iv, h))
    iv.moments.sort(key=lambda m: (m.start, m.end))
    iv.edit_notes.extend(notes)
    return iv


def highlight_moment(iv: Interview, h: dict[str, Any]) -> Moment:
    tags = list(h.get("tags") or [])
    label = ", ".join(tags) or (h.get("note") or "").strip()[:60] or "highlight"
    speaker = h.get("speaker")
    return Moment(start=h["start"], end=max(h["end"], h["start"]), kind=USER_KIND, label=label,
                  role=iv.role_of(speaker) if speaker else None, text=h.get("text", ""), score=1.0,
                  source=USER_SOURCE, tags=tags, note=h.get("note", ""), id=h["id"])


def _names(iv: Interview, speakers: dict[str, dict], notes: list[str]) -> None:
    present = {t.speaker for t in iv.turns} | {s.id for s in iv.speakers} | {s.speaker for s in iv.segments if s.speaker}
    for sid, entry in speakers.items():
        old = Voiceprint(sid, 0.0, 0, entry["voice"]) if entry.get("voice") else None
        now = found_again(old, sid, iv.voices, present)
        if now is None:
            notes.append(f"speaker name {entry['name']!r}: {sid} is not in this transcript any more (kept in the edits file)")
        elif now not in iv.names:
            iv.names[now] = entry["name"]


def _find(iv: Interview, start: float, kind: str) -> Optional[Moment]:
    near = [m for m in iv.moments if m.kind == kind and abs(m.start - start) <= MATCH_S and m.source != USER_SOURCE]
    return min(near, key=lambda m: abs(m.start - start), default=None)


def _moments(iv: Interview, changes: list[dict], notes: list[str]) -> None:
    for change in changes:
        m = _find(iv, change["start"], change["kind"])
        if m is None:
            notes.append(f"{change['action']} of the {change['kind']} moment at {clock(change['start'])}: "
                         f"no such moment now (kept in the edits file)")
            continue
        if change["action"] == "remove":
            iv.moments.remove(m)
        elif change["action"] == "tag":
            m.tags = list(change.get("tags") or [])
            m.note = change.get("note", "")
        elif change["action"] == "merge":
            into = change.get("into") or {}
            target = _find(iv, into.get("start", -1e9), into.get("kind", ""))
            if target is None or target is m:
                notes.append(f"merge of the {change['kind']} moment at {clock(change['start'])}: the moment "
                             f"to merge into is not there now (kept in the edits file)")
                continue
            if m.text and m.text not in target.text:
                target.text = (f"{target.text} {m.text}" if m.start >= target.start else f"{m.text} {target.text}").strip()
            target.start, target.end = min(target.start, m.start), max(target.end, m.end)
            target.also = sorted(set(target.also) | {m.kind, *m.also} - {target.kind})
            target.tags = sorted(set(target.tags) | set(m.tags))
            iv.moments.remove(m)
