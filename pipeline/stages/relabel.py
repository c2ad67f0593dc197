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
from ..interview import INTERVIEWER, SCHEMA_VERSION, Interview, RoleAssignment
from . import analyze, moments
from ..voiceprint import similarity
from .roles import LOW_CONFIDENCE

ROLE_WARNINGS = ("roles decided with low confidence", "roles uncertain", "interviewer override ignored",
                 "voice and text disagree", "enrolled voice", "side uncertain", "people:")
# A speaker heard for less than this, and for under SURE_SHARE of the speech, may be a split of
# another voice or a blip: the count is uncertain (constructed note takers: 4-10 % of the speech).
SURE_SPEAKER_S = 10.0
SURE_SHARE = 0.1
# Two speakers' voiceprints this similar may be one person. Distinct people measured 0.42-0.74
# (pyannote's phone call the highest); clusters at 0.8 or more are merged (diarize.speakers.MERGE_COS).
ALIKE = 0.75


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


def fix_command(interview: Interview, speaker: Optional[str] = None) -> str:
    """The command that fixes the roles: for ``speaker``, putting them on the other side; else,
    for the lead, a swap (two people) or naming the other likely interviewer (more people)."""
    path = _quoted_path(interview)
    r = interview.roles
    if speaker is not None:
        other = "interviewee" if interview.role_of(speaker) == INTERVIEWER else "interviewer"
        return f"ivp roles {path} --role {speaker}={other}"
    other = r.interviewee if r and r.interviewee else "S2"
    if len({t.speaker for t in interview.turns}) > 2:
        voice = (r.evidence.get("voice") or {}).get("speaker") if r else None
        candidate = voice if voice and voice != r.interviewer else other
        return f"ivp roles {path} --interviewer {candidate}"
    return f"ivp roles {path} --swap (or --interviewer {other})"


def _quoted_path(interview: Interview) -> str:
    return shlex.quote(interview.source.path if interview.source else "RECORDING")


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
    for speaker, side in sorted((r.evidence.get("sides") or {}).items()):
        if not side.get("fixed") and side.get("confidence", 1.0) < LOW_CONFIDENCE:
            out.append(f"side uncertain for {speaker} (put on the {side['role']} side, confidence "
                       f"{side['confidence']:.2f}: {side.get('summary', 'little evidence')}); "
                       f"if wrong, fix with: {fix_command(interview, speaker)}")
    voice = r.evidence.get("enrolled_missing")
    if voice:
        out.append(f"enrolled voice {voice} not found in this recording; roles come from the other evidence")
    return out


def people_warnings(interview: Interview) -> list[str]:
    """How sure the number of people is, and whether this looks like a two-sided interview."""
    talk = analyze.talk_seconds(interview.turns)
    if len(talk) < 2:
        return []
    path = _quoted_path(interview)
    out = []
    fewer = f"ivp roles {path} --speakers {len(talk) - 1}"
    everyone = sum(talk.values())
    for speaker, seconds in sorted(talk.items()):
        if seconds < SURE_SPEAKER_S and seconds < SURE_SHARE * everyone:
            out.append(f"people: {speaker} speaks only {seconds:.0f} s, so the count of {len(talk)} people is "
                       f"uncertain (another person, or part of someone else's voice); if there are fewer, "
                       f"fix with: {fewer}")
    prints = {v.speaker: v for v in interview.voices if v.speaker in talk}
    if prints:
        names = sorted(prints)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                sim = similarity(prints[a], prints[b])
                if sim >= ALIKE:
                    out.append(f"people: {a} and {b} sound alike (voice similarity {sim:.2f}) and may be one "
                               f"person; if so, fix with: {fewer}")
    r = interview.roles
    if len(talk) >= 3 and r is not None and r.method in ("evidence", "voice") and r.confidence < LOW_CONFIDENCE:
        out.append(f"people: {len(talk)} people speak and nobody clearly leads with questions: this may be a "
                   f"meeting rather than a two-sided interview, and the talk ratio and coaching assume one; "
                   f"check the sides with: ivp roles {path}")
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
    interview.silences = analyze.silences(turns, duration, c.min_silence_s, interview.segments)
    interview.fast_fills = analyze.fast_fills(turns, c.fast_fill_s, interview.segments)
    interview.overlaps = analyze.overlaps(turns)
    interview.warnings = [w for w in interview.warnings if not w.startswith(ROLE_WARNINGS)]
    try:
        interview.moments = moments.find_moments(interview, c)
    except ImportError:
        interview.moments = []
    interview.warnings += role_warnings(interview) + people_warnings(interview)
    return interview
