"""Voice evidence for roles: the voice that recurs across a folder, an enrolled voice, overrides.

Folder-wide, never pair by pair inside one file (two people in one call can sound alike): prints
of different recordings are linked when their cosine is at least ``LINK``; each linked group is
one voice. The voice in the most recordings is an interviewer's; a further voice counts only
where it is in recordings no accepted voice covers (a second researcher), so an interviewee
heard in two follow-up interviews is not taken for one. In each recording the voice's speaker
must also beat the other speaker by ``MARGIN`` against the voice's print from the other files.

The research team (:func:`folder_team`): a voice heard with the interviewer beside different
participants (voices heard nowhere else) is on the interviewer side; copies and a returning
participant are never beside someone new.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Optional

import numpy as np

from ..errors import ConfigError, PipelineError
from ..interview import INTERVIEWEE, INTERVIEWER, ROLES, Interview, RoleAssignment, Segment, Voiceprint
from ..voicelib import load
from ..config import comma_list
from . import analyze, roles
from .align import assign_speakers
from ..voiceprint import decode, found_again, similarity, unit
from .diarize.speakers import Embedded, who_spoke
from .relabel import apply, config_of

# Chosen from measured cosine distributions of prints resting on 6 s or more (scripts/bench_roles.py;
# README "How roles are decided"): same speaker in other recordings >= 0.90 real, >= 0.96 synthetic;
# different speakers in other recordings <= 0.75 real, <= 0.66 synthetic; but two speakers in ONE
# recording reach 0.94 (a meeting room), so within a file only the margin between speakers counts.
LINK = 0.80  # same voice in two recordings
ENROLLED = 0.80  # an enrolled voice matches a speaker
MARGIN = 0.10  # the matched speaker beats the other speaker of that recording by this much
MIN_SECONDS = 6.0  # prints resting on less speech are unreliable and are not matched
TEAM_BESIDE = 2  # a team voice is heard beside this many different participants (voices heard nowhere else)
ENROLLED_LOG_ODDS = 5.0


@dataclass
class Print:
    recording: int
    speaker: str
    vector: np.ndarray
    seconds: float


def usable(voices: list[Voiceprint]) -> list[Voiceprint]:
    return [v for v in voices if v.seconds >= MIN_SECONDS and v.vector]


def folder_log_odds(count: int) -> float:
    """A voice heard as the interviewer in ``count`` recordings: 2 -> 1.75 (0.85), 3 -> 2.5, 5+ -> 4."""
    return min(4.0, 1.0 + 0.75 * (count - 1))


def enrolled_evidence(prints: list[Voiceprint], name: Optional[str]) -> tuple[Optional[dict], Optional[str]]:
    """(voice evidence, None) when the enrolled voice ``name`` matches a speaker, else (None, name)."""
    if not name:
        return None, None
    enrolled = load(name)
    scored = sorted(((similarity(enrolled, p), p.speaker) for p in usable(prints)), reverse=True)
    if not scored or scored[0][0] < ENROLLED or (len(scored) > 1 and scored[0][0] - scored[1][0] < MARGIN):
        return None, name
    sim, speaker = scored[0]
    runner = scored[1][0] if len(scored) > 1 else None
    return {"speaker": speaker, "kind": "enrolled", "name": name, "similarity": round(sim, 3),
            "runner_up": None if runner is None else round(runner, 3), "log_odds": ENROLLED_LOG_ODDS,
            "describe": f"enrolled voice {name!r}, cosine {sim:.2f}"}, None


def team_names(names: Optional[str]) -> list[str]:
    """The enrolled voices named by ``interviewer_voice``: one, or several comma-separated."""
    return comma_list(names)


def check_enrolled(names: Optional[str]) -> None:
    """Raise a PipelineError naming the voice when an enrolled voice is missing or damaged (before
    any recording is worked on)."""
    for name in team_names(names):
        try:
            vector = decode(load(name).vector)
        except ValueError:  # not base64
            vector = np.zeros(0)
        if vector.shape != (192,) or not np.all(np.isfinite(vector)) or not np.any(vector):
            raise ConfigError(None, f"enrolled voice {name!r} is damaged (enrol it again: ivp voice enroll)")


def enrolled_team(prints: list[Voiceprint], names: Optional[str]) -> tuple[Optional[dict], dict[str, dict], Optional[str]]:
    """Several enrolled team members (``"dana, sam"``): (the first matched voice as the lead's
    evidence, {speaker: evidence} for the other matched members, the names not found or None)."""
    lead, team, missing = None, {}, []
    for name in team_names(names):
        try:
            evidence, absent = enrolled_evidence(prints, name)
        except PipelineError:  # the voice was removed from the library since: decide without it
            evidence, absent = None, name
        if absent:
            missing.append(absent)
        elif lead is None:
            lead = evidence
        elif evidence["speaker"] != lead["speaker"]:
            team.setdefault(evidence["speaker"], evidence)
    return lead, team, ", ".join(missing) or None


def decide_folder(items: list[tuple[str, list[Voiceprint]]]) -> list[Optional[dict[str, Any]]]:
    """For each (recording name, its prints): the voice evidence naming its interviewer, or None."""
    out: list[Optional[dict[str, Any]]] = [None] * len(items)
    study = _study(items)
    if study is None:
        return out
    prints, matrix, groups = study
    heard_in = {k: {prints[j].recording for j in g} for g in groups for k in g}  # print -> its voice's recordings
    decided: set[int] = set()
    for number, group in enumerate(groups, 1):
        recordings = {prints[k].recording for k in group}
        if len(recordings) < 2:
            break
        free = recordings - decided
        if len(free) < max(2, math.ceil(len(recordings) / 2)):
            continue  # mostly where an accepted voice is already the interviewer: an interviewee's
        matched = _matches(group, prints, matrix, free)
        for r in list(matched):  # another voice of r recurring wherever this one does: no evidence
            if any(len(heard_in[k] & recordings) >= len(recordings) for k, p in enumerate(prints)
                   if p.recording == r and p.speaker != matched[r][0]):
                del matched[r]
        if len(matched) < 2:
            continue
        names = [items[r][0] for r in sorted(matched)]
        for r, (speaker, sim, runner) in matched.items():
            others = [n for n in names if n != items[r][0]]
            out[r] = {"speaker": speaker, "kind": "folder", "voice": f"voice {number}",
                      "similarity": round(sim, 3), "runner_up": None if runner is None else round(runner, 3),
                      "matched": others, "recordings": len(matched), "of": len(items),
                      "log_odds": folder_log_odds(len(matched)),
                      "describe": f"the voice in {len(matched)} of {len(items)} recordings, "
                                  f"cosine {sim:.2f} to {', '.join(others[:3])}"
                                  + (" ..." if len(others) > 3 else "")}
        decided |= set(matched)
    return out


def folder_team(items: list[tuple[str, list[Voiceprint]]],
                leads: list[Optional[str]]) -> list[dict[str, dict[str, Any]]]:
    """For each (recording name, its prints), given its lead interviewer (``leads``: the speaker
    the text and the lead's voice chose): {speaker: evidence} for the research team's voices (a
    note taker, an observer). A voice is the team's when, in :data:`TEAM_BESIDE` recordings or more,
    it is heard with the interviewer, whose voice recurs too, beside a voice heard nowhere else (a
    new participant); it then counts wherever it is heard with the interviewer. A returning
    participant is never beside someone new; in copies every voice recurs."""
    out: list[dict[str, dict[str, Any]]] = [{} for _ in items]
    study = _study(items)
    if study is None:
        return out
    prints, matrix, groups = study
    spans = [{prints[k].recording for k in g} for g in groups]
    recurring: dict[int, set[str]] = {}  # recording -> its speakers whose voice recurs
    alone: dict[int, set[str]] = {}  # recording -> its speakers heard in no other recording
    for group, recordings in zip(groups, spans):
        for k in group:
            (recurring if len(recordings) > 1 else alone).setdefault(prints[k].recording, set()).add(prints[k].speaker)
    for number, (group, recordings) in enumerate(zip(groups, spans), 1):
        if len(recordings) < 2:
            break
        matched = _matches(group, prints, matrix, recordings)
        together = sorted(r for r, (speaker, _, _) in matched.items()  # with the interviewer, a recurring voice
                          if leads[r] != speaker and leads[r] in recurring.get(r, ()))
        beside = [r for r in together if alone.get(r)]  # ... and a participant heard nowhere else
        if len(beside) < TEAM_BESIDE:
            continue
        for r in together:
            speaker, sim, runner = matched[r]
            out[r][speaker] = {
                "speaker": speaker, "kind": "team", "voice": f"voice {number}", "similarity": round(sim, 3),
                "runner_up": None if runner is None else round(runner, 3),
                "with": [items[t][0] for t in together if t != r], "recordings": len(together),
                "beside": len(beside), "of": len(items), "log_odds": folder_log_odds(len(beside)),
                "describe": f"heard with the interviewer in {len(together)} of {len(items)} recordings, "
                            f"beside {len(beside)} different participants"}
    return out


def _study(items: list[tuple[str, list[Voiceprint]]]) -> Optional[tuple[list[Print], np.ndarray, list[list[int]]]]:
    """The folder's usable prints, their cosines, and their voices (linked groups), the voice in
    the most recordings first; None when there is nothing to compare."""
    prints = [Print(i, v.speaker, unit(decode(v.vector)), v.seconds)
              for i, (_, voices) in enumerate(items) for v in usable(voices)]
    if len(items) < 2 or len(prints) < 2:
        return None
    vectors = np.stack([p.vector for p in prints])
    matrix = vectors @ vectors.T
    groups = _link(prints, matrix)
    groups.sort(key=lambda g: (-len({prints[k].recording for k in g}), -_mean_sim(g, matrix)))
    return prints, matrix, groups


def _link(prints: list[Print], matrix: np.ndarray) -> list[list[int]]:
    """Groups of prints joined by cross-recording links of cosine >= LINK, strongest first
    (union-find); two prints of one recording never join the same group."""
    parent = list(range(len(prints)))
    recordings = {k: {p.recording} for k, p in enumerate(prints)}  # per group root

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rows, cols = np.nonzero(np.triu(matrix >= LINK, k=1))
    for i, j in sorted(zip(rows.tolist(), cols.tolist()), key=lambda ij: -matrix[ij[0], ij[1]]):
        ri, rj = find(i), find(j)
        if ri == rj or recordings[ri] & recordings[rj]:
            continue  # one voice is one speaker per recording
        parent[rj] = ri
        recordings[ri] |= recordings.pop(rj)
    groups: dict[int, list[int]] = {}
    for k in range(len(prints)):
        groups.setdefault(find(k), []).append(k)
    return list(groups.values())


def _mean_sim(group: list[int], matrix: np.ndarray) -> float:
    if len(group) < 2:
        return 0.0
    sub = matrix[np.ix_(group, group)]
    return float((sub.sum() - len(group)) / (len(group) * (len(group) - 1)))


def _matches(group: list[int], prints: list[Print], matrix: np.ndarray,
             recordings: set[int]) -> dict[int, tuple[str, float, Optional[float]]]:
    """Per recording: (speaker, cosine to the voice elsewhere, the other speaker's cosine), where
    the speaker clears LINK and beats the other speaker by MARGIN."""
    out = {}
    for k in group:
        r = prints[k].recording
        if r not in recordings:
            continue
        rest = [j for j in group if prints[j].recording != r]
        centre = unit(np.mean([prints[j].vector for j in rest], axis=0))
        sim = float(prints[k].vector @ centre)
        rivals = [float(p.vector @ centre) for p in prints if p.recording == r and p.speaker != prints[k].speaker]
        runner = max(rivals) if rivals else None
        if sim >= LINK and (runner is None or sim - runner >= MARGIN):
            out[r] = (prints[k].speaker, sim, runner)
    return out


# -- applying decisions to sidecars ---------------------------------------------------------------

def reassess(interview: Interview, voice: Optional[dict[str, Any]],
             team: Optional[dict[str, dict[str, Any]]] = None) -> RoleAssignment:
    """The role decision for a stored interview with this voice evidence for the lead and
    ``team`` ({speaker: evidence}, :func:`folder_team`) for the interviewer side (an override stays).
    An enrolled voice wins over the folder's for the same speaker."""
    old = interview.roles
    if old is not None and (old.method == "override" or (old.evidence.get("override") or {}).get("by") == "ivp roles"):
        return old  # the user's word
    c = config_of(interview)
    enrolled, members, missing = enrolled_team(interview.voices, c.interviewer_voice)
    lead = enrolled or voice
    members = {**(team or {}), **members}
    if lead is not None:
        members.pop(lead["speaker"], None)
    assignment = roles.assign_roles(interview.segments, interview.turns, analyze.talk_seconds(interview.turns),
                                    c.interviewer, None, lead, members)
    if missing:
        assignment.evidence["enrolled_missing"] = missing
    return assignment


def set_override(interview: Interview, interviewer: Optional[str] = None,
                 sides: Optional[dict[str, str]] = None) -> RoleAssignment:
    """The user's word on roles, recorded so reruns keep it: ``interviewer`` makes that speaker the
    lead interviewer; ``sides`` (speaker -> interviewer | interviewee) puts speakers on a side."""
    speakers = {t.speaker for t in interview.turns}
    sides = dict(sides or {})
    for s in [interviewer, *sides]:
        if s is not None and s not in speakers:
            raise ValueError(f"no speaker {s!r} (speakers: {', '.join(sorted(speakers)) or 'none'})")
    bad = sorted(set(sides.values()) - set(ROLES))
    if bad:
        raise ValueError(f"unknown role {bad[0]!r}: use {' or '.join(ROLES)}")
    previous = interview.roles.interviewer if interview.roles else None
    earlier = (interview.roles.evidence.get("override") or {}) if interview.roles else {}
    if earlier.get("by") == "ivp roles":  # an earlier fix stays unless this one says otherwise
        sides = {**(earlier.get("sides") or {}), **sides}
        if interviewer is None and sides.get(earlier.get("interviewer")) != INTERVIEWEE:
            interviewer = earlier.get("interviewer")
    if interviewer is None and previous is not None and sides.get(previous) == INTERVIEWEE:
        talk = analyze.talk_seconds(interview.turns)
        on_side = [s for s, r in sides.items() if r == INTERVIEWER]
        if not on_side:
            raise ValueError(f"{previous} was the only interviewer: name another with --role S=interviewer "
                             f"or --interviewer S")
        interviewer = max(on_side, key=lambda s: talk.get(s, 0.0))
    sides.pop(interviewer, None)
    c = config_of(interview)
    assignment = roles.assign_roles(interview.segments, interview.turns, analyze.talk_seconds(interview.turns),
                                    interviewer or c.interviewer, None, None, fixed=sides)
    record = {"by": "ivp roles", "previous": previous,
              "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if interviewer is not None:
        record["interviewer"] = interviewer
    if sides:
        record["sides"] = sides
    if "speakers" in earlier:
        record["speakers"] = earlier["speakers"]
    assignment.evidence["override"] = record
    return assignment


def recount(interview: Interview, embedded: Embedded, speakers: int) -> RoleAssignment:
    """Cluster the stored window embeddings again into ``speakers`` people (0: estimate), move
    every word to its new speaker and decide the roles afresh; recorded so reruns keep it."""
    turns, prints = who_spoke(embedded, speakers or None)
    interview.turns, interview.voices = turns, prints
    unassigned = [Segment(s.start, s.end, s.text, s.words, None, None, s.language) for s in interview.segments]
    interview.segments = assign_speakers(unassigned, turns)  # every word to its new speaker
    interview.roles = None  # the old speaker ids mean nothing now
    assignment = reassess(interview, None)
    assignment.evidence["override"] = {"by": "ivp roles", "speakers": speakers,
                                       "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return assignment


def fixed_note(interview: Interview) -> Optional[str]:
    """"roles fixed with ivp roles: interviewer S2" when the roles are a user's fix, else None."""
    r = interview.roles
    fix = (r.evidence.get("override") or {}) if r is not None else {}
    if fix.get("by") != "ivp roles":
        return None
    bits = [f"interviewer {fix['interviewer']}"] if "interviewer" in fix else []
    bits += [f"{s} {role}" for s, role in sorted((fix.get("sides") or {}).items())]
    if "speakers" in fix:
        bits.append(f"{fix['speakers'] or 'estimated'} speakers")
    return "roles fixed with ivp roles: " + ", ".join(bits)


def carry_override(previous: Optional[Interview], interview: Interview,
                   embedded: Optional[Callable[[str], Optional[Embedded]]] = None) -> bool:
    """Keep an ``ivp roles`` fix across reprocessing of the same recording; True when applied.

    Speaker ids may change between runs, so each fixed speaker is found again by voice; a fixed
    number of people is applied again from the stored embeddings (``embedded(sha256)``)."""
    if previous is None or previous.roles is None or previous.source.sha256 != interview.source.sha256:
        return False
    override = previous.roles.evidence.get("override") or {}
    if override.get("by") != "ivp roles" or (interview.roles and interview.roles.method == "override"
                                             and interview.roles.evidence.get("override", {}).get("by") != "ivp roles"):
        return False
    applied = False
    if "speakers" in override and embedded is not None:
        stored = embedded(interview.source.sha256)
        if stored is not None:
            apply(interview, recount(interview, stored, int(override["speakers"])))
            applied = True
    old = {v.speaker: v for v in previous.voices}
    present = {t.speaker for t in interview.turns}

    def same(speaker: str) -> Optional[str]:
        return found_again(old.get(speaker), speaker, interview.voices, present)

    lead = same(override["interviewer"]) if "interviewer" in override else None
    sides = {same(s): r for s, r in (override.get("sides") or {}).items()}
    sides.pop(None, None)
    if lead is None and not sides:
        return applied
    assignment = set_override(interview, lead, sides)
    assignment.evidence["override"].update({k: override[k] for k in ("at", "previous", "speakers") if k in override})
    apply(interview, assignment)
    return True


def for_interviewer(previous: Interview, sha: str, config) -> Optional[Interview]:
    """``ivp process --interviewer S1`` on a recording processed before with otherwise the same
    settings: ``previous`` (its stored results) with that role set, no transcription; None when
    the stored results cannot be reused."""
    if not config.interviewer or previous.source.sha256 != sha:
        return None
    if not config.same_settings(previous.pipeline.settings, ignore=("interviewer",)):
        return None
    if config.interviewer not in {t.speaker for t in previous.turns}:
        return None
    started = time.perf_counter()
    assignment = roles.assign_roles(previous.segments, previous.turns, analyze.talk_seconds(previous.turns),
                                    config.interviewer)
    previous.pipeline.settings = config.stored_settings()
    apply(previous, assignment, config)
    previous.pipeline.stage_seconds = {"analyze": round(time.perf_counter() - started, 3)}  # this run's
    return previous
