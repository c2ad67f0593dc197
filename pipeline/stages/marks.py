"""Marks from a marker file as moments: a mark lasts to the end of the sentence spoken then.

Reading and writing the files is :mod:`pipeline.recording.markers`'s (shared with the drivers);
its names are re-exported here and by :mod:`.moments`.
"""
from __future__ import annotations

from ..interview import Interview, Moment
from ..recording.markers import WARNING_PREFIX, Mark, MarkProblem, format_time
from ..text import Sentence

MARKER = ("marker", "Marker", 1.0)  # kind, title, score
MARK_SPAN_S = 30.0  # a mark covers the sentence spoken at its time, up to this long
MARK_DEFAULT_S = 5.0  # ... or this long where nobody speaks


def mark_moments(interview: Interview, sents: list[Sentence], marks: list[Mark]) -> list[Moment]:
    """A mark starts at its time and lasts to the end of the sentence spoken then (or about to be)."""
    duration = interview.source.duration_s if interview.source else 0.0
    out = []
    for mark in marks:
        t = mark.seconds
        if duration and t > duration:
            continue  # reported as a problem by marks_past_end
        here = next((s for s in sents if s.start - 1.0 <= t < s.end), None)
        if here is not None:
            end, text, role = min(max(here.end, t + 1.0), t + MARK_SPAN_S), here.text, here.role
        else:
            end, text, role = t + MARK_DEFAULT_S, "", None
        if duration:
            end = min(end, duration)
        out.append(Moment(_round(t), _round(max(end, t)), MARKER[0], mark.label or MARKER[1], role, text, MARKER[2],
                          "marker_file"))
    return out


def marks_past_end(interview: Interview, marks: list[Mark]) -> list[MarkProblem]:
    duration = interview.source.duration_s if interview.source else 0.0
    return [MarkProblem(m.path, m.line, format_time(m.seconds),
                        f"after the end of the recording ({format_time(duration)})")
            for m in marks if duration and m.seconds > duration]


def set_mark_warnings(interview: Interview, problems: list[MarkProblem]) -> None:
    keep = [w for w in interview.warnings if not w.startswith(WARNING_PREFIX)]
    interview.warnings[:] = keep + [str(p) for p in problems]


def _round(t: float) -> float:
    return round(max(0.0, float(t)), 3)
