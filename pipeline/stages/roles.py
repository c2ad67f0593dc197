"""Name one speaker ``interviewer`` and one ``interviewee`` from evidence, never from talk time.

Evidence is what interviewers do (ask questions, prompt, open and close the conversation) and,
when there is one, their voice: the voice that recurs across a study folder or an enrolled voice.
Each kind adds log-odds for "this speaker is the interviewer", weighed by how much of it there
is; the confidence is the logistic of the total. Overrides (a speaker id or a channel) win.
"""
from __future__ import annotations

import math
import re
from typing import Any, Optional, Sequence

import numpy as np

from ..interview import INTERVIEWEE, INTERVIEWER, RoleAssignment, Segment, Turn
from ..text import is_question, sentences
from .pcm import Signal

# Questions an interviewee asks the interviewer: they count for the interviewee, not as questions.
CLARIFYING = re.compile(
    r"\b(can you hear me|what do you mean|do you want me to|should i (keep going|go on|continue|share)|"
    r"could you repeat|can you repeat|say that again|sorry\?|pardon\?|is that what you (mean|meant|want)|"
    r"does that (make sense|answer)|is that (okay|ok|helpful|useful|the kind)|am i (on|muted))", re.I)
# Prompts that do an interviewer's job without a question mark.
PROMPTS = re.compile(
    r"^(go on|go ahead|keep going|carry on|say (a bit |a little )?more|tell me (a bit |a little )?more|"
    r"talk (a bit |a little )?more|and then|and after that|interesting,? (go on|tell me)|"
    r"take your time|walk me through|give me an example|let'?s talk about)\b", re.I)
HOST_PHRASES = re.compile(
    r"(thanks?( you)? (so much |very much )?for (joining|taking the time|your time|coming|talking|"
    r"being here|chatting|making time)|welcome\b|let'?s (get started|start|begin|dive in)|"
    r"before we (start|begin|get started)|my name is|i'?m (a|the) (researcher|designer|product manager)|"
    r"(that'?s|those are) all (the|my) questions|any questions for me|is there anything else|"
    r"(we'?re|i'?m|i'?ll be) recording|do i have your permission|is it ok(ay)? if i record|"
    r"no right or wrong answers|to kick (things|it) off|moving on|next question|one more question|"
    r"last question|(i'?ll be |i'?m |be )?taking notes?|"
    r"thanks?( you)?,? (so much,? |both,? |all,? )?(this|that) was (really |very |so |super )?(helpful|useful|great)|"
    r"thanks?( you)?,? (both,? )?(really |very |super )(helpful|useful))", re.I)
# Log-odds per unit of "strength" (see count_log_odds); clarifying questions point the other way.
WEIGHTS = {"questions": 1.0, "prompts": 0.8, "host_phrases": 1.0, "clarifying": -0.6}
SPOKE_FIRST = 0.3  # alone: confidence 0.57, under the 0.6 line
LOW_CONFIDENCE = 0.6
DISAGREE_CAP = 0.55  # voice and text pointing at different speakers: never confident


ANSWER_WORDS = 12  # a question or prompt counts when the other person then says at least this much
AT_RUN_END = 2  # ... and it is among the last sentences of its speaker's run (not rhetorical)


def _kind(sentence: str) -> Optional[str]:
    plain = sentence.lstrip("\"'- ")
    if CLARIFYING.search(plain):
        return "clarifying"
    if PROMPTS.match(plain):
        return "prompts"
    if is_question(plain) and len(plain.split()) >= 3:  # "Yeah?" is not a question asked
        return "questions"
    return None


def speaker_evidence(segments: list[Segment], turns: list[Turn]) -> dict[str, dict[str, int]]:
    """Per speaker: questions and prompts that were answered (the other speaker then said
    ``ANSWER_WORDS`` or more), unanswered ones, clarifying questions, host phrases, spoke first."""
    speakers = sorted({t.speaker for t in turns} | {s.speaker for s in segments if s.speaker})
    keys = ("questions", "prompts", "unanswered", "clarifying", "host_phrases", "spoke_first", "sentences")
    evidence = {s: dict.fromkeys(keys, 0) for s in speakers}
    runs: list[tuple[str, list[str]]] = []  # consecutive sentences of one speaker, in time order
    for seg in sorted(segments, key=lambda s: s.start):
        if seg.speaker not in evidence:
            continue
        evidence[seg.speaker]["host_phrases"] += len(HOST_PHRASES.findall(seg.text))
        if runs and runs[-1][0] == seg.speaker:
            runs[-1][1].extend(sentences(seg.text))
        else:
            runs.append((seg.speaker, sentences(seg.text)))
    for k, (speaker, said) in enumerate(runs):
        reply = next((len(" ".join(r).split()) for s, r in runs[k + 1:] if s != speaker), 0)
        e = evidence[speaker]
        e["sentences"] += len(said)
        for i, sentence in enumerate(said):
            kind = _kind(sentence)
            if kind == "clarifying":
                e[kind] += 1
            elif kind:
                answered = i >= len(said) - AT_RUN_END and reply >= ANSWER_WORDS
                e[kind if answered else "unanswered"] += 1
    voiced = [s for s in segments if s.speaker and s.text.strip()]
    first = min(voiced, key=lambda s: s.start).speaker if voiced else (
        min(turns, key=lambda t: t.start).speaker if turns else None)
    if first in evidence:
        evidence[first]["spoke_first"] = 1
    return evidence


def count_log_odds(a: float, b: float) -> float:
    """How strongly counts ``a`` against ``b`` say "a's speaker": the Laplace share's distance
    from even, times the square root of the amount. 1 vs 0: 0.33; 3 vs 0: 1.04; 12 vs 1: 2.64."""
    n = a + b
    if n <= 0:
        return 0.0
    share = (a + 1) / (n + 2)
    return (2 * share - 1) * math.sqrt(n)


def text_log_odds(evidence: dict[str, dict[str, int]], a: str, b: str) -> tuple[float, dict[str, float]]:
    """Log-odds that ``a`` (not ``b``) is the interviewer, and each kind's part of it."""
    parts = {k: round(w * count_log_odds(evidence[a][k], evidence[b][k]), 3) for k, w in WEIGHTS.items()}
    parts["spoke_first"] = SPOKE_FIRST * (evidence[a]["spoke_first"] - evidence[b]["spoke_first"])
    return sum(parts.values()), parts


def confidence_of(log_odds: float) -> float:
    return round(1.0 / (1.0 + math.exp(-abs(log_odds))), 3)


def describe_text(evidence: dict[str, dict[str, int]], speaker: str, other: str) -> str:
    e, o = evidence[speaker], evidence[other]
    bits = [f"{e[k]} {k.replace('_', ' ')} vs {o[k]}" for k in ("questions", "prompts", "host_phrases")
            if e[k] or o[k]]
    if e["spoke_first"]:
        bits.append("spoke first")
    return ", ".join(bits) or "no text evidence"


SIDE_LOG_ODDS = 0.8  # another speaker joins the interviewer side at this much evidence (0.69)
ALONE_QUESTION_SHARE = 0.3  # a lone speaker whose sentences are this often questions is the interviewer


def assign_roles(segments: list[Segment], turns: list[Turn], talk_s: dict[str, float],
                 interviewer: Optional[str] = None, channel_owner: Optional[str] = None,
                 voice: Optional[dict[str, Any]] = None,
                 team: Optional[dict[str, dict[str, Any]]] = None,
                 fixed: Optional[dict[str, str]] = None) -> RoleAssignment:
    """Every speaker on a side: the interviewer side (the lead researcher, a note taker, an
    observer) or the participant side (one or more interviewees). Never decided by talk time.

    The lead interviewer is the speaker whose evidence stands out most against everyone else's
    (or an override); ``talk_s`` only orders speakers (the main interviewee is the participant
    who talks most). Each other speaker joins the interviewer side when their own evidence beats
    the main interviewee's by :data:`SIDE_LOG_ODDS`, or when their voice is a team member's
    (``team``: speaker -> voice evidence: several enrolled voices, or a voice heard with the
    interviewer across a study, :func:`.voices.folder_team`). ``channel_owner`` is the
    speaker found to own the channel named by ``--interviewer-channel``. ``voice`` is voice
    evidence for the lead: ``{"speaker", "log_odds", "kind": folder|enrolled, ...}`` (see
    :mod:`.voices`). ``fixed`` (speaker -> role, a user's fix) wins for the speakers it names.
    """
    evidence = speaker_evidence(segments, turns)
    speakers = sorted(evidence, key=lambda s: (-talk_s.get(s, 0.0), s))
    if not speakers:
        return RoleAssignment(None, None, 0.0, "none", {"reason": "no speech"})
    record: dict[str, Any] = {"speakers": evidence, "weights": {**WEIGHTS, "spoke_first": SPOKE_FIRST}}
    team = {s: v for s, v in (team or {}).items() if s in evidence}
    override = interviewer or channel_owner
    if override is not None and override not in evidence:
        record["override_ignored"] = f"speaker {override!r} not found"
        override = None
    if override is not None:
        record["override"] = {"interviewer": override,
                              "by": "--interviewer" if interviewer else "--interviewer-channel"}
        main = next((s for s in speakers if s != override), None)
        result = RoleAssignment(override, main, 1.0, "override", record)
    elif len(speakers) == 1:
        return _alone(speakers[0], evidence, record)
    else:
        result = _lead(speakers, evidence, record, voice)
    return _sides(result, speakers, evidence, team, fixed or {})


def _alone(speaker: str, evidence: dict[str, dict[str, int]], record: dict[str, Any]) -> RoleAssignment:
    """One voice: the interviewer when most of what they say asks or prompts (the other side was
    not recorded), else the interviewee (a monologue, a voice memo)."""
    e = evidence[speaker]
    asked = e["questions"] + e["prompts"] + e["unanswered"] + e["host_phrases"]
    said = max(1, e["sentences"])
    share = asked / said
    record["alone"] = {"asked": asked, "sentences": said, "share": round(share, 3)}
    role = INTERVIEWER if asked >= 2 and share >= ALONE_QUESTION_SHARE else INTERVIEWEE
    return RoleAssignment(speaker if role == INTERVIEWER else None, speaker if role == INTERVIEWEE else None,
                          0.0, "single-speaker", record, {speaker: role})


def _lead(speakers: list[str], evidence: dict[str, dict[str, int]], record: dict[str, Any],
          voice: Optional[dict[str, Any]]) -> RoleAssignment:
    """The lead interviewer against the main other speaker, with a confidence."""
    if len(speakers) == 2:
        a, b = speakers
    else:  # the one whose evidence stands out against everyone else's, then the most talkative other
        def against_rest(s: str) -> float:
            rest = {k: sum(evidence[o][k] for o in speakers if o != s) for k in evidence[s]}
            vote = voice["log_odds"] if voice and voice.get("speaker") == s else 0.0
            return text_log_odds({s: evidence[s], "rest": rest}, s, "rest")[0] + vote
        a = max(speakers, key=against_rest)  # max keeps the first (most talk) on a tie
        b = next(s for s in speakers if s != a)
        if speakers.index(b) < speakers.index(a):
            a, b = b, a  # keep "a" the one with more talk, as with two speakers
    text, parts = text_log_odds(evidence, a, b)
    record["text"] = {"log_odds": round(text, 3), "parts": parts, "for": a}
    total, method = text, "evidence"
    if voice and voice.get("speaker") in (a, b):
        v = voice["log_odds"] * (1 if voice["speaker"] == a else -1)
        total += v
        method = "enrolled-voice" if voice.get("kind") == "enrolled" else "voice"
        record["voice"] = dict(voice)
    chosen = a if total > 0 or (total == 0 and a < b) else b
    other = b if chosen == a else a
    confidence = confidence_of(total)
    record["log_odds"] = round(total if chosen == a else -total, 3)
    if method != "evidence":
        text_pick = a if text > 0 else b
        if abs(text) >= 0.4 and text_pick != voice["speaker"]:
            confidence = min(confidence, DISAGREE_CAP)
            record["disagreement"] = (
                f"voice says {voice['speaker']} ({voice.get('describe', 'voice match')}) but the text says "
                f"{text_pick} ({describe_text(evidence, text_pick, voice['speaker'])})")
    record["summary"] = describe_text(evidence, chosen, other)
    interviewee = next(s for s in speakers if s != chosen)
    return RoleAssignment(chosen, interviewee, confidence, method, record)


def _sides(result: RoleAssignment, speakers: list[str], evidence: dict[str, dict[str, int]],
           team: dict[str, dict[str, Any]], fixed: dict[str, str]) -> RoleAssignment:
    """Put every speaker other than the lead and the main interviewee on a side. The main
    interviewee is the participant who talks most: a team member's voice or a speaker the user put
    on the interviewer side is never it."""
    lead = result.interviewer
    others = [s for s in speakers if s != lead]
    main = next((s for s in others if s not in team and fixed.get(s) != INTERVIEWER), others[0] if others else None)
    result.interviewee = main
    roles = {s: INTERVIEWEE for s in speakers}
    if lead is not None:
        roles[lead] = INTERVIEWER
    sides: dict[str, Any] = {}
    for s in speakers:
        if s in (lead, main):
            continue
        text = text_log_odds(evidence, s, main)[0] if main is not None else 0.0
        vote = float(team[s]["log_odds"]) if s in team else 0.0
        total = text + vote
        role = INTERVIEWER if total >= SIDE_LOG_ODDS else INTERVIEWEE
        roles[s] = role
        p = 1.0 / (1.0 + math.exp(-(total - SIDE_LOG_ODDS)))  # how sure of the side taken
        summary = describe_text(evidence, s, main) if main is not None else "no other speaker"
        if s in team:  # why the voice says so first: "heard with the interviewer in 3 of 4 recordings, ..."
            summary = f"{team[s].get('describe', 'a team voice')}; {summary}"
        sides[s] = {"role": role, "log_odds": round(total, 3), "confidence": round(max(p, 1 - p), 3),
                    "summary": summary}
        if s in team:
            sides[s]["voice"] = dict(team[s])
    for s, role in fixed.items():
        if s in roles and s != lead:
            roles[s] = role
            sides.setdefault(s, {}).update({"role": role, "fixed": True, "confidence": 1.0})
    if main is not None and roles[main] != INTERVIEWEE:  # fixed onto the interviewer side
        result.interviewee = next((s for s in speakers if roles[s] == INTERVIEWEE), None)
    if sides:
        result.evidence["sides"] = sides
    result.by_speaker = roles
    return result


def channel_owner(turns: list[Turn], channels: Optional[Sequence[Signal]], sample_rate: int,
                  channel: Optional[str]) -> Optional[str]:
    """The speaker whose speech is loudest, relative to the other side, on ``channel`` (left|right);
    ``channels``: the two sides (signals, each turn read on its own)."""
    if channel is None or channels is None or len(channels) != 2:
        return None
    if {t.speaker for t in turns} >= {"left", "right"}:
        return channel
    side = 0 if channel == "left" else 1
    balance: dict[str, list[float]] = {}
    for t in turns:
        a, b = int(t.start * sample_rate), int(t.end * sample_rate)
        if b - a < sample_rate // 10:
            continue
        sides = np.stack([c.read(a, b) for c in channels]).astype(np.float64) * 32768.0  # in int16 steps
        energy = np.mean(sides ** 2, axis=1) + 1e-12
        balance.setdefault(t.speaker, []).append(10 * np.log10(energy[side] / energy[1 - side]))
    if not balance:
        return None
    return max(balance, key=lambda s: float(np.median(balance[s])))
