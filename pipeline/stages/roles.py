"""Name one speaker ``interviewer`` and one ``interviewee`` from evidence, never from talk time.

The tool exists to catch interviewers who talk too much, so the evidence is what interviewers do:
ask questions, open the conversation, greet and close. Overrides (a speaker id or a channel) win.
"""
from __future__ import annotations

import re
from typing import Optional

import numpy as np

from ..interview import RoleAssignment, Segment, Turn

QUESTION_OPENINGS = re.compile(
    r"^(what|how|why|when|where|who|whom|which|whose|can you|could you|would you|will you|"
    r"do you|did you|does|have you|has|had you|is there|is it|are you|were you|was it|"
    r"tell me|walk me through|describe|talk me through|say more|anything else)\b", re.I)
HOST_PHRASES = re.compile(
    r"(thanks?( you)? (so much |very much )?for (joining|taking the time|your time|coming|talking|"
    r"being here|chatting|making time)|welcome\b|let'?s (get started|start|begin|dive in)|"
    r"before we (start|begin|get started)|my name is|i'?m (a|the) (researcher|designer|product manager)|"
    r"(that'?s|those are) all (the|my) questions|any questions for me|is there anything else|"
    r"(we'?re|i'?m|i'?ll be) recording|do i have your permission|is it ok(ay)? if i record|"
    r"no right or wrong answers|to kick (things|it) off|moving on|next question|one more question|"
    r"last question)", re.I)
WEIGHTS = {"questions": 3.0, "host_phrases": 2.0, "spoke_first": 1.0}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.findall(r"[^.?!]+[.?!]*", text) if s.strip()]


def is_question(sentence: str) -> bool:
    s = sentence.strip()
    return s.endswith("?") or bool(QUESTION_OPENINGS.match(s.lstrip("\"'- ").lower()))


def speaker_evidence(segments: list[Segment], turns: list[Turn]) -> dict[str, dict[str, float]]:
    """Per speaker: questions asked, host phrases said, whether they spoke first."""
    speakers = sorted({t.speaker for t in turns} | {s.speaker for s in segments if s.speaker})
    evidence = {s: {"questions": 0, "host_phrases": 0, "spoke_first": 0} for s in speakers}
    for seg in segments:
        if seg.speaker not in evidence:
            continue
        for sentence in sentences(seg.text):
            evidence[seg.speaker]["questions"] += int(is_question(sentence))
        evidence[seg.speaker]["host_phrases"] += len(HOST_PHRASES.findall(seg.text))
    voiced = [s for s in segments if s.speaker and s.text] or []
    first = min(voiced, key=lambda s: s.start).speaker if voiced else (
        min(turns, key=lambda t: t.start).speaker if turns else None)
    if first in evidence:
        evidence[first]["spoke_first"] = 1
    return evidence


def score(evidence: dict[str, dict[str, float]]) -> dict[str, float]:
    """Each speaker's share of every kind of evidence, weighted; shares sum to 1 over speakers."""
    speakers = list(evidence)
    total_weight = sum(WEIGHTS.values())
    scores = dict.fromkeys(speakers, 0.0)
    for key, weight in WEIGHTS.items():
        values = np.array([evidence[s][key] for s in speakers], dtype=float)
        shares = values / values.sum() if values.sum() > 0 else np.full(len(speakers), 1 / len(speakers))
        for s, share in zip(speakers, shares):
            scores[s] += weight * share / total_weight
    return {s: round(v, 4) for s, v in scores.items()}


def assign_roles(segments: list[Segment], turns: list[Turn], talk_s: dict[str, float],
                 interviewer: Optional[str] = None, channel_owner: Optional[str] = None) -> RoleAssignment:
    """Pick the interviewer by evidence (or override); the interviewee is the main other speaker.

    ``talk_s`` only chooses the interviewee among several non-interviewers; ``channel_owner`` is
    the speaker id found to own the channel named by ``--interviewer-channel``.
    """
    evidence = speaker_evidence(segments, turns)
    speakers = sorted(evidence, key=lambda s: -talk_s.get(s, 0.0))
    if not speakers:
        return RoleAssignment(None, None, 0.0, "none", {"reason": "no speech"})
    scores = score(evidence)
    record = {"speakers": evidence, "scores": scores, "weights": WEIGHTS}
    override = interviewer or channel_owner
    if override is not None:
        if override not in evidence:
            record["override_ignored"] = f"speaker {override!r} not found"
        else:
            others = [s for s in speakers if s != override]
            return RoleAssignment(override, others[0] if others else None, 1.0, "override", record)
    if len(speakers) == 1:
        return RoleAssignment(None, speakers[0], 0.0, "single-speaker", record)
    ranked = sorted(speakers, key=lambda s: (-scores[s], s))
    chosen = ranked[0]
    margin = scores[ranked[0]] - scores[ranked[1]]
    interviewee = next(s for s in speakers if s != chosen)
    confidence = round(min(1.0, 0.5 + margin), 3)
    return RoleAssignment(chosen, interviewee, confidence, "evidence", record)


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
