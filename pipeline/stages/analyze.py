"""Pure functions for the numbers: talk time, talk ratio, silences, fast fills, overlaps, monologues."""
from __future__ import annotations

from typing import Callable, Iterable, Optional

from ..config import TARGET_BAND
from ..interview import (INTERVIEWEE, INTERVIEWER, Handover, Overlap, Segment, Silence,
                         SpeakerStats, TalkRatio, Turn)

Span = tuple[float, float]
DENOMINATOR = ("participant-side speech seconds / (interviewer-side + participant-side speech seconds); "
               "each side is the union of the turns of everyone on it (the interviewer side: researcher, "
               "note taker, observer; the participant side: every interviewee), so overlapping speech "
               "counts for both sides; silence is left out; unknown unless both sides speak")


def union(spans: Iterable[Span]) -> list[Span]:
    """Merge overlapping or touching spans."""
    merged: list[list[float]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def total(spans: Iterable[Span]) -> float:
    return sum(e - s for s, e in union(spans))


def talk_seconds(turns: list[Turn]) -> dict[str, float]:
    by_speaker: dict[str, list[Span]] = {}
    for t in turns:
        by_speaker.setdefault(t.speaker, []).append((t.start, t.end))
    return {s: round(total(spans), 3) for s, spans in by_speaker.items()}


def monologues(turns: list[Turn], max_gap: float) -> list[Turn]:
    """Maximal runs of one speaker: consecutive turns merged across gaps up to ``max_gap``
    as long as nobody else speaks in between."""
    runs: list[Turn] = []
    for t in sorted(turns, key=lambda t: (t.start, t.end)):
        last = runs[-1] if runs else None
        if last and last.speaker == t.speaker and t.start - last.end <= max_gap:
            last.end = max(last.end, t.end)
        elif last and t.end <= last.end and t.speaker != last.speaker:
            continue  # a short interjection inside someone's run does not break it
        else:
            runs.append(Turn(t.start, t.end, t.speaker, t.role))
    return runs


def speaker_stats(turns: list[Turn], segments: list[Segment], role_of: Callable[[str], Optional[str]],
                  monologue_gap: float = 2.0) -> list[SpeakerStats]:
    talk = talk_seconds(turns)
    all_talk = sum(talk.values())
    words: dict[str, int] = {}
    for seg in segments:
        if seg.speaker:
            words[seg.speaker] = words.get(seg.speaker, 0) + len(seg.words or seg.text.split())
    runs = monologues(turns, monologue_gap)
    stats = []
    for speaker in sorted(talk, key=lambda s: (role_of(s) != INTERVIEWER, role_of(s) is None, s)):
        t = talk[speaker]
        n_words = words.get(speaker, 0)
        stats.append(SpeakerStats(
            id=speaker, role=role_of(speaker), talk_s=t,
            share=round(t / all_talk, 4) if all_talk else 0.0,
            turns=sum(1 for r in runs if r.speaker == speaker),
            words=n_words, wpm=round(n_words / (t / 60), 1) if t > 0 else 0.0,
            longest_monologue_s=round(max((r.duration for r in runs if r.speaker == speaker), default=0.0), 3),
        ))
    return stats


def talk_ratio(turns: list[Turn], target: tuple[float, float] = TARGET_BAND) -> TalkRatio:
    """The participant side's share of both sides' speech, with a verdict against ``target``."""
    interviewer = total((t.start, t.end) for t in turns if t.role == INTERVIEWER)
    interviewee = total((t.start, t.end) for t in turns if t.role == INTERVIEWEE)
    both = interviewer + interviewee
    if interviewer <= 0 or interviewee <= 0:
        return TalkRatio(None, list(target), "unknown", DENOMINATOR, round(interviewer, 3), round(interviewee, 3))
    share = interviewee / both
    verdict = "below" if share < target[0] else "above" if share > target[1] else "within"
    return TalkRatio(round(share, 4), list(target), verdict, DENOMINATOR,
                     round(interviewer, 3), round(interviewee, 3))


WORD_SLACK_S = 0.5  # a word this far outside its run still counts (the diarizer may clip a run in overlap)


def silences(turns: list[Turn], duration: float, min_gap: float = 1.0,
             segments: list[Segment] = ()) -> list[Silence]:
    """Every gap of at least ``min_gap`` where nobody speaks, leading and trailing included.

    The gaps are found between the turns; their edges are then read from the words where there
    are words (the last word before ends, the first word after starts, within WORD_SLACK_S of the
    turn edge), since turn edges carry padding: a 0.8 s gap between turns may be 1.1 s between
    words. ``before``/``after`` are the roles (speaker id when a speaker has no role) around the
    gap. Kinds: ``filled`` (interviewer broke it after the interviewee stopped), ``held`` (the
    interviewee broke it: the interviewer let it hang), ``pause`` (anything else), and
    ``leading``/``trailing``/``empty`` at the edges.
    """
    if not turns:
        return ([Silence(0.0, round(duration, 3), round(duration, 3), None, None, None, "empty")]
                if duration >= min_gap else [])
    label = {id(t): t.role or t.speaker for t in turns}
    ordered = sorted(turns, key=lambda t: t.end)
    speech = union((t.start, t.end) for t in turns)
    gaps: list[Span] = [(0.0, speech[0][0])]
    gaps += [(a[1], b[0]) for a, b in zip(speech, speech[1:])]
    gaps.append((speech[-1][1], duration))
    words = sorted((w for seg in segments for w in seg.words), key=lambda w: w.start)
    out = []
    for k, (start, end) in enumerate(gaps):
        before = _last_before(ordered, start, label)
        after = _first_from(turns, end, label)
        quiet_from = start if k == 0 else _word_edge(words, start, ends=True)
        quiet_to = end if k == len(gaps) - 1 else _word_edge(words, end, ends=False)
        if quiet_to - quiet_from < min_gap - 1e-9:
            continue
        if before is None:
            kind = "leading"
        elif after is None:
            kind = "trailing"
        elif after == INTERVIEWER and before == INTERVIEWEE:
            kind = "filled"
        elif after == INTERVIEWEE:
            kind = "held"
        else:
            kind = "pause"
        out.append(Silence(round(quiet_from, 3), round(quiet_to, 3), round(quiet_to - quiet_from, 3),
                           before, after, after, kind))
    return out


def _word_edge(words: list, edge: float, ends: bool) -> float:
    """Where speech really stops (``ends``: the last word's end) or starts (the first word's start)
    near the turn edge ``edge``; the turn edge itself when no word is within WORD_SLACK_S."""
    if ends:
        near = [w.end for w in words if (w.start + w.end) / 2 <= edge and abs(w.end - edge) <= WORD_SLACK_S]
        return max(near, default=edge)
    near = [w.start for w in words if (w.start + w.end) / 2 >= edge and abs(w.start - edge) <= WORD_SLACK_S]
    return min(near, default=edge)


# A backchannel among the turns (diarized runs, no words): an interviewer run this short, with the
# interviewee going on right after ... (moments.BACKCHANNEL_SENTENCE_S is the rule for a
# transcribed sentence: it counts words and its times include the words' padding, hence 2 s)
BACKCHANNEL_RUN_S = 1.0
RESUME_S = 1.0  # ... within this, is a backchannel ("mm-hmm", "right"), not taking the floor


def side_runs(turns: list[Turn]) -> list[Turn]:
    """The two sides' runs: consecutive turns of one side (role INTERVIEWER or INTERVIEWEE, however
    many people are on it) merged while they touch; a turn inside the other side's run is left out
    (an interjection); ``speaker`` is the side."""
    sides = [Turn(t.start, t.end, t.role, t.role) for t in turns if t.role in (INTERVIEWER, INTERVIEWEE)]
    return monologues(sides, 0.0)




def _words_in(role: str, start: float, end: float, segments: list[Segment]) -> list:
    """The words of ``role``'s side whose middle lies within ``start``-``end``."""
    return [w for seg in segments if seg.role == role for w in seg.words
            if start <= (w.start + w.end) / 2 <= end]


def handovers(turns: list[Turn], segments: list[Segment] = ()) -> list[Handover]:
    """Every handover from the participant side to the interviewer side: ``start`` is when the
    participant side's last word ends, ``end`` when the interviewer side's first word starts
    (word timestamps, since turn edges carry about 0.3 s of padding; a run without words falls
    back to its turn edge), ``gap`` the difference (negative: the interviewer started before the
    participant had finished). A backchannel (an interviewer run of at most BACKCHANNEL_RUN_S
    after which the participant side carries on within RESUME_S) hands nothing over and is left
    out. The one owner of the handovers: fast fills and the median wait read it."""
    runs = side_runs(turns)
    out = []
    for k, (a, b) in enumerate(zip(runs, runs[1:])):
        if a.role != INTERVIEWEE or b.role != INTERVIEWER:
            continue
        after = runs[k + 2] if k + 2 < len(runs) else None
        if (b.duration <= BACKCHANNEL_RUN_S and after is not None and after.role == INTERVIEWEE
                and after.start - b.end <= RESUME_S):
            continue
        stopped = max((w.end for w in _words_in(a.role, a.start, a.end + WORD_SLACK_S, segments)), default=a.end)
        started = min((w.start for w in _words_in(b.role, b.start - WORD_SLACK_S, b.end, segments)),
                      default=b.start)
        out.append(Handover(round(stopped, 3), round(started, 3), round(started - stopped, 3)))
    return out


def fast_fills(turns: list[Turn], threshold: float = 0.5, segments: list[Segment] = ()) -> list[Handover]:
    """The handovers (see :func:`handovers`, word times where there are words) where the
    interviewer starts within ``threshold`` s of the participant's last word (negative gap: the
    interviewer started before the participant finished); backchannels are not among them."""
    return [h for h in handovers(turns, segments) if h.gap < threshold]


def overlaps(turns: list[Turn], min_duration: float = 0.1) -> list[Overlap]:
    """Stretches where two different speakers talk at once."""
    ordered = sorted(turns, key=lambda t: t.start)
    found = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.start >= a.end:
                break
            if b.speaker != a.speaker:
                start, end = b.start, min(a.end, b.end)
                if end - start >= min_duration:
                    found.append(Overlap(round(start, 3), round(end, 3), round(end - start, 3),
                                         sorted({a.role or a.speaker, b.role or b.speaker})))
    return found


def _last_before(turns_by_end: list[Turn], time: float, label: dict) -> Optional[str]:
    best = None
    for t in turns_by_end:
        if t.end <= time + 1e-6:
            best = t
        else:
            break
    return label[id(best)] if best else None


def _first_from(turns: list[Turn], time: float, label: dict) -> Optional[str]:
    later = [t for t in turns if t.start >= time - 1e-6]
    return label[id(min(later, key=lambda t: t.start))] if later else None
