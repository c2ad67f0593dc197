"""Name one speaker ``interviewer`` and one ``interviewee`` from evidence, never from talk time.

Evidence is what interviewers do (ask questions, prompt, open and close the conversation) and,
when there is one, their voice: the voice that recurs across a study folder or an enrolled voice.
Each kind adds log-odds for "this speaker is the interviewer", weighed by how much of it there
is; the confidence is the logistic of the total. Overrides (a speaker id or a channel) win.
"""
from __future__ import annotations

import math
import re
from typing import Any, Optional

import numpy as np

from ..interview import RoleAssignment, Segment, Turn
from ..text import QUESTION_OPENINGS, is_question, sentences  # noqa: F401  (one question rule)

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
    r"last question)", re.I)
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
    keys = ("questions", "prompts", "unanswered", "clarifying", "host_phrases", "spoke_first")
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


def assign_roles(segments: list[Segment], turns: list[Turn], talk_s: dict[str, float],
                 interviewer: Optional[str] = None, channel_owner: Optional[str] = None,
                 voice: Optional[dict[str, Any]] = None) -> RoleAssignment:
    """Pick the interviewer by evidence (or override); the interviewee is the main other speaker.

    ``talk_s`` only chooses the interviewee among several non-interviewers; ``channel_owner`` is
    the speaker id found to own the channel named by ``--interviewer-channel``. ``voice`` is voice
    evidence: ``{"speaker", "log_odds", "kind": folder|enrolled, ...}`` (see :mod:`.voices`).
    """
    evidence = speaker_evidence(segments, turns)
    speakers = sorted(evidence, key=lambda s: -talk_s.get(s, 0.0))
    if not speakers:
        return RoleAssignment(None, None, 0.0, "none", {"reason": "no speech"})
    record: dict[str, Any] = {"speakers": evidence, "weights": {**WEIGHTS, "spoke_first": SPOKE_FIRST}}
    override = interviewer or channel_owner
    if override is not None:
        if override not in evidence:
            record["override_ignored"] = f"speaker {override!r} not found"
        else:
            others = [s for s in speakers if s != override]
            record["override"] = {"interviewer": override,
                                  "by": "--interviewer" if interviewer else "--interviewer-channel"}
            return RoleAssignment(override, others[0] if others else None, 1.0, "override", record)
    if len(speakers) == 1:
        return RoleAssignment(None, speakers[0], 0.0, "single-speaker", record)
    a, b = speakers[0], speakers[1]  # the two main speakers by talk time
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


def channel_owner(turns: list[Turn], channels: Optional[np.ndarray], sample_rate: int,
                  channel: Optional[str]) -> Optional[str]:
    """The speaker whose speech is loudest, relative to the other side, on ``channel`` (left|right)."""
    if channel is None or channels is None or channels.shape[0] != 2:
        return None
    if {t.speaker for t in turns} >= {"left", "right"}:
        return channel
    side = 0 if channel == "left" else 1
    balance: dict[str, list[float]] = {}
    for t in turns:
        a, b = int(t.start * sample_rate), int(t.end * sample_rate)
        if b - a < sample_rate // 10:
            continue
        energy = np.mean(channels[:, a:b].astype(np.float64) ** 2, axis=1) + 1e-12
        balance.setdefault(t.speaker, []).append(10 * np.log10(energy[side] / energy[1 - side]))
    if not balance:
        return None
    return max(balance, key=lambda s: float(np.median(balance[s])))
