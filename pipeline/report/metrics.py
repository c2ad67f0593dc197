"""The numbers the report shows, computed from one :class:`~pipeline.interview.Interview`.

Pure functions over the data model; nothing here reads files or renders HTML.
"""
from __future__ import annotations

import statistics
from typing import Optional

from ..interview import INTERVIEWEE, INTERVIEWER, Interview, Segment
from ..stages.analyze import monologues
from ..stages.roles import is_question, sentences

LONG_SILENCE_S = 3.0
EDGE_KINDS = frozenset({"leading", "trailing", "empty"})  # not a silence *in* the conversation


def duration(iv: Interview) -> float:
    """The recording's length; falls back to the last thing heard when ffprobe gave none."""
    d = iv.source.duration_s if iv.source and iv.source.duration_s else 0.0
    ends = [t.end for t in iv.turns] + [s.end for s in iv.segments] + [s.end for s in iv.silences]
    return float(max([d] + ends)) if (d or ends) else 0.0


def segment_role(iv: Interview, seg: Segment) -> Optional[str]:
    return seg.role or iv.role_of(seg.speaker)


def long_silences(iv: Interview, min_s: float = LONG_SILENCE_S) -> list:
    """Silences of ``min_s`` or more between two people talking (the edges of the recording left out)."""
    return [s for s in iv.silences if s.kind not in EDGE_KINDS and s.duration >= min_s - 1e-9]


def broken_by_interviewee(silences: list) -> int:
    """How many of ``silences`` the interviewee ended (the interviewer let them hang)."""
    return sum(1 for s in silences if s.broken_by == INTERVIEWEE)


def questions_asked(iv: Interview) -> int:
    """Questions in the interviewer's transcript (sentences ending in "?" or opening like one)."""
    return sum(1 for seg in iv.segments if segment_role(iv, seg) == INTERVIEWER
               for sentence in sentences(seg.text) if is_question(sentence))


def handover_waits(iv: Interview) -> list[float]:
    """Seconds from the interviewee stopping to the interviewer starting, for every such handover
    (negative: the interviewer started before the interviewee had finished)."""
    runs = monologues([t for t in iv.turns if t.role in (INTERVIEWER, INTERVIEWEE)], 0.0)
    return [round(b.start - a.end, 3) for a, b in zip(runs, runs[1:])
            if a.role == INTERVIEWEE and b.role == INTERVIEWER]


def median_wait(iv: Interview) -> Optional[float]:
    waits = handover_waits(iv)
    return round(statistics.median(waits), 3) if waits else None


def talk_seconds(iv: Interview) -> dict[str, float]:
    """Talk time per role, from the talk ratio (falling back to the speaker table)."""
    out = {INTERVIEWER: 0.0, INTERVIEWEE: 0.0}
    if iv.talk_ratio and (iv.talk_ratio.interviewer_s or iv.talk_ratio.interviewee_s):
        out[INTERVIEWER] = iv.talk_ratio.interviewer_s
        out[INTERVIEWEE] = iv.talk_ratio.interviewee_s
        return out
    for sp in iv.speakers:
        if sp.role in out:
            out[sp.role] += sp.talk_s
    return out


def longest_monologue(iv: Interview) -> dict[str, float]:
    out = {INTERVIEWER: 0.0, INTERVIEWEE: 0.0}
    for sp in iv.speakers:
        if sp.role in out:
            out[sp.role] = max(out[sp.role], sp.longest_monologue_s)
    return out


def target(iv: Interview) -> tuple[float, float]:
    if iv.talk_ratio and len(iv.talk_ratio.target) == 2:
        return float(iv.talk_ratio.target[0]), float(iv.talk_ratio.target[1])
    return 0.70, 0.80


def share(iv: Interview) -> Optional[float]:
    return iv.talk_ratio.interviewee_share if iv.talk_ratio else None


def verdict(iv: Interview) -> str:
    return iv.talk_ratio.verdict if iv.talk_ratio else "unknown"


# the moment kinds that are notes for the interviewer rather than things worth finding again
_COACHING_FALLBACK = ("leading_question", "closed_question", "fast_fill", "interviewer_monologue")


def coaching_kinds() -> frozenset[str]:
    try:
        from ..stages.moments import GROUPS
        return frozenset(GROUPS.get("coaching", _COACHING_FALLBACK))
    except ImportError:
        return frozenset(_COACHING_FALLBACK)


def is_coaching(moment) -> bool:
    return moment.kind in coaching_kinds()


def highlights(iv: Interview) -> list:
    """Moments worth finding again: bookmarks, marks and detected highlights (not coaching notes)."""
    return [m for m in iv.moments if not is_coaching(m)]
