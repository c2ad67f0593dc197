"""Words to speakers: each word takes the speaker whose turn overlaps it most; segments split there
(a segment transcribed from one person's own track is already theirs)."""
from __future__ import annotations

import bisect
from typing import Optional

from ..interview import Segment, Turn, Word


class TurnIndex:
    """Fast lookup of the turns around a time span."""

    def __init__(self, turns: list[Turn]):
        self.turns = sorted(turns, key=lambda t: t.start)
        self.starts = [t.start for t in self.turns]
        self.longest = max((t.duration for t in self.turns), default=0.0)

    def speaker_for(self, start: float, end: float) -> Optional[str]:
        """The speaker overlapping [start, end] most; the nearest turn's speaker when none overlaps."""
        if not self.turns:
            return None
        hi = bisect.bisect_right(self.starts, end)
        overlap: dict[str, float] = {}
        floor: dict[str, float] = {}  # ties (a backchannel inside a turn) go to the longer turn
        i = hi - 1
        while i >= 0 and self.turns[i].start >= start - self.longest:
            t = self.turns[i]
            shared = min(end, t.end) - max(start, t.start)
            if shared > 0:
                overlap[t.speaker] = overlap.get(t.speaker, 0.0) + shared
                floor[t.speaker] = max(floor.get(t.speaker, 0.0), t.duration)
            i -= 1
        if overlap:
            return max(overlap, key=lambda s: (round(overlap[s], 6), floor[s]))
        mid = (start + end) / 2
        candidates = self.turns[max(0, hi - 2): hi + 1]
        nearest = min(candidates, key=lambda t: max(t.start - mid, mid - t.end, 0.0))
        return nearest.speaker


def assign_speakers(segments: list[Segment], turns: list[Turn]) -> list[Segment]:
    """New segments, one speaker each: a segment is split wherever its words change speaker.

    A segment that already has a speaker (transcribed from that person's own track,
    ``stages.tracks``) keeps it: its words are that person's whoever the turns say overlaps."""
    index = TurnIndex(turns)
    out: list[Segment] = []
    for seg in segments:
        if seg.speaker is not None:
            out.append(Segment(seg.start, seg.end, seg.text, list(seg.words), seg.speaker, language=seg.language))
            continue
        if not seg.words:
            out.append(Segment(seg.start, seg.end, seg.text, [], index.speaker_for(seg.start, seg.end),
                               language=seg.language))
            continue
        run: list[Word] = []
        run_speaker: Optional[str] = None
        for word in seg.words:
            speaker = index.speaker_for(word.start, max(word.end, word.start + 0.01))
            if run and speaker != run_speaker:
                out.append(_segment_from(run, run_speaker, seg.language))
                run = []
            run_speaker = speaker
            run.append(word)
        out.append(_segment_from(run, run_speaker, seg.language))
    return out


def _segment_from(words: list[Word], speaker: Optional[str], language: Optional[str] = None) -> Segment:
    text = "".join(w.word for w in words).strip()
    return Segment(start=words[0].start, end=words[-1].end, text=text, words=list(words), speaker=speaker,
                   language=language)
