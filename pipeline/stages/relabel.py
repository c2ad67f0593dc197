"""Apply a role decision to an interview and recompute everything that hangs on it.

From the stored turns and words only (no audio, no models): the roles of turns and segments,
speaker stats, talk ratio, silences, fast fills, overlaps, moments and the role warnings. The
runner uses it after the stages, ``ivp roles`` to fix a sidecar in well under a second.
"""
from __future__ import annotations

import shlex
from dataclasses import fields
from typing import Any, Optional

from ..config import Config
from ..interview import SCHEMA_VERSION, Interview, RoleAssignment
from . import analyze, moments
from .roles import LOW_CONFIDENCE

ROLE_WARNINGS = ("roles decided with low confidence", "roles uncertain", "interviewer override ignored",
                 "voice and text disagree", "enrolled voice")


def config_of(interview: Interview) -> Config:
    """The Config a sidecar was made with (its recorded settings over the defaults)."""
    settings: dict[str, Any] = dict(interview.pipeline.settings or {}) if interview.pipeline else {}
    known = {f.name for f in fields(Config)}
    values = {k: v for k, v in settings.items() if k in known}
    if "bookmark_cues" in values:
        values["bookmark_cues"] = tuple(values["bookmark_cues"])
    try:
        return Config().with_overrides(**values)
    except Exception:  # settings from another version: fall back to the defaults
        return Config()


def fix_command(interview: Interview) -> str:
    path = interview.source.path if interview.source else "RECORDING"
    r = interview.roles
    other = r.interviewee if r and r.interviewee else "S2"
    return f"ivp roles {shlex.quote(path)} --swap (or --interviewer {other})"


def role_warnings(interview: Interview) -> list[str]:
    r = interview.roles
    out: list[str] = []
    if r is None:
        return out
    if "override_ignored" in r.evidence:
        out.append(f"interviewer override ignored: {r.evidence['override_ignored']}")
    if "disagreement" in r.evidence:
        out.append(f"voice and text disagree: {r.evidence['disagreement']}; "
                   f"if the roles are wrong, fix with: {fix_command(interview)}")
    elif r.method in ("evidence", "voice", "enrolled-voice") and r.interviewer and r.confidence < LOW_CONFIDENCE:
        out.append(f"roles uncertain (confidence {r.confidence:.2f}; interviewer {r.interviewer}: "
                   f"{r.evidence.get('summary', 'little evidence')}); "
                   f"if they are wrong, fix with: {fix_command(interview)}")
    voice = r.evidence.get("enrolled_missing")
    if voice:
        out.append(f"enrolled voice {voice} not found in this recording; roles come from the other evidence")
    return out


def apply(interview: Interview, assignment: RoleAssignment, config: Optional[Config] = None) -> Interview:
    """Set ``assignment`` and recompute every number and moment that depends on roles (in place)."""
    c = config or config_of(interview)
    interview.roles = assignment
    interview.schema_version = SCHEMA_VERSION  # written back in the current format
    for item in [*interview.turns, *interview.segments]:
        item.role = interview.role_of(item.speaker)
    turns = interview.turns
    interview.speakers = analyze.speaker_stats(turns, interview.segments, interview.role_of, c.monologue_gap_s)
    interview.talk_ratio = analyze.talk_ratio(turns if assignment.interviewer else [], c.target)
    duration = (interview.source.duration_s if interview.source else 0.0) or max((t.end for t in turns), default=0.0)
    interview.silences = analyze.silences(turns, duration, c.min_silence_s)
    interview.fast_fills = analyze.fast_fills(turns, c.fast_fill_s)
    interview.overlaps = analyze.overlaps(turns)
    interview.warnings = [w for w in interview.warnings if not w.startswith(ROLE_WARNINGS)]
    try:
        interview.moments = moments.find_moments(interview, c)
    except ImportError:
        interview.moments = []
    interview.warnings += role_warnings(interview)
    return interview
