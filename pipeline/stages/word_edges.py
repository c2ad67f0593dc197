"""Word edges from the sound: where speech stops and starts around a pause, by frame energy.

Whisper's word timestamps are good inside speech but loose at its edges: the last word before a
pause often ends 0.15-0.25 s before the voice does (a trailing vowel or consonant), and the first
word after one may start in the silence. Every handover and silence is timed from those edges
(``analyze.handovers``), so a 0.4 s handover measured 0.56 s and was no fast fill. ``refine``
moves each edge of speech (a word end followed by a pause of at least ``PAUSE_S``, a word start
after one) to where the frame energy crosses the recording's own speech threshold, by at most
``MAX_SHIFT_S`` and never across a neighbouring word. Words inside running speech are left as
they are. The threshold comes from the recording itself (its quiet floor and its speech level,
percentiles of 10 ms frames), so a noisy room and a clean synthetic file are read alike.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..interview import Segment, Word
from .decode import Audio

FRAME_S = 0.01  # frame energy in 10 ms frames
MAX_SHIFT_S = 0.3  # an edge moves at most this far
PAUSE_S = 0.1  # a word end this far before the next word's start (or a start this far after the previous end) is an edge of speech
QUIET_S = 0.03  # the voice has stopped after this long under the threshold (a plosive's closure is shorter)
FLOOR_MARGIN_DB = 6.0  # speech is at least this far above the recording's quiet floor ...
SPEECH_RANGE_DB = 35.0  # ... and no more than this far under its speech level
HOLD_DB = 10.0  # once speaking, the voice goes on down to this much under the threshold (hysteresis: a fading tail) ...
FLOOR_HOLD_DB = 4.0  # ... while it stays this far over the quiet floor
MIN_WORD_S = 0.05  # a word keeps at least this long


def frame_db(audio: Audio, block: int = 10_000) -> np.ndarray:
    """The energy of each ``FRAME_S`` frame of the mono mix, in dB (silence: -120); read ``block``
    frames at a time, so a long recording is never in memory whole."""
    hop = max(1, int(round(audio.sample_rate * FRAME_S)))
    n = audio.length // hop
    power = np.empty(n, dtype=np.float64)
    for b in range(0, n, block):
        x = audio.read(b * hop, min(n, b + block) * hop).astype(np.float64).reshape(-1, hop)
        power[b: b + len(x)] = np.einsum("ij,ij->i", x, x) / hop
    return 10.0 * np.log10(power + 1e-12)


def threshold(db: np.ndarray) -> float:
    """The level that tells speech from the pauses: ``FLOOR_MARGIN_DB`` over the quiet floor (5th
    percentile of the frames) but at most ``SPEECH_RANGE_DB`` under the speech level (95th)."""
    if db.size == 0:
        return 0.0
    floor, level = np.percentile(db, 5), np.percentile(db, 95)
    return float(max(floor + FLOOR_MARGIN_DB, level - SPEECH_RANGE_DB))


def refine(segments: list[Segment], audio: Audio) -> list[Segment]:
    """New segments whose words at the edges of speech are moved to where the sound stops and
    starts (see the module docstring); the rest of each segment is kept, its start and end follow
    its first and last word."""
    db = frame_db(audio)
    if db.size == 0 or not any(seg.words for seg in segments):
        return segments
    level = _Levels(db)
    words = sorted(((k, j) for k, seg in enumerate(segments) for j in range(len(seg.words))),
                   key=lambda kj: segments[kj[0]].words[kj[1]].start)
    moved: dict[tuple[int, int], Word] = {}
    prev_end = 0.0
    for n, (k, j) in enumerate(words):
        w = segments[k].words[j]
        start, end = w.start, w.end
        next_start = segments[words[n + 1][0]].words[words[n + 1][1]].start if n + 1 < len(words) else audio.duration
        if start - prev_end >= PAUSE_S:
            start = _edge(level, start, lo=max(prev_end, start - MAX_SHIFT_S),
                          hi=min(start + MAX_SHIFT_S, end - MIN_WORD_S), forward=False)
        if next_start - end >= PAUSE_S:
            end = _edge(level, end, lo=max(end - MAX_SHIFT_S, start + MIN_WORD_S),
                        hi=min(next_start, end + MAX_SHIFT_S), forward=True)
        if (start, end) != (w.start, w.end):
            moved[(k, j)] = replace(w, start=round(start, 3), end=round(end, 3))
        prev_end = max(prev_end, end)
    if not moved:
        return segments
    out = []
    for k, seg in enumerate(segments):
        ws = [moved.get((k, j), w) for j, w in enumerate(seg.words)]
        if ws == seg.words:
            out.append(seg)
        else:
            out.append(replace(seg, words=ws, start=ws[0].start, end=ws[-1].end))
    return out


class _Levels:
    """Which frames are voice: ``onset`` over the threshold; ``held`` over the lower one a voice
    already going fades down to (the frames after a word end, the frames before a word start)."""

    def __init__(self, db: np.ndarray):
        t = threshold(db)
        floor = float(np.percentile(db, 5))
        self.onset = db > t
        self.held = db > max(t - HOLD_DB, floor + FLOOR_HOLD_DB)


def _edge(level: _Levels, t: float, lo: float, hi: float, forward: bool) -> float:
    """Where the voice ends (``forward``: a word end) or begins (a word start) near ``t``, within
    ``lo``-``hi``: from a voiced frame at ``t``, outwards while the voice is held, to the first
    ``QUIET_S`` under it; from a quiet one, inwards to the nearest voiced frame. ``t`` itself when
    nothing is found."""
    n = len(level.onset)
    if hi <= lo or n == 0:
        return t
    quiet_run = max(1, int(round(QUIET_S / FRAME_S)))
    i_lo, i_hi = max(0, int(lo / FRAME_S)), min(n - 1, int(hi / FRAME_S))
    step = 1 if forward else -1
    i = min(n - 1, max(0, int((t - 1e-9) / FRAME_S) if forward else int(t / FRAME_S)))  # the frame at the edge
    if level.held[i]:  # the voice goes on past the word's edge: follow it out
        last, k = i, i + step
        while i_lo <= k <= i_hi and abs(k - last) <= quiet_run:
            if level.held[k]:
                last = k
            k += step
        return min(hi, (last + 1) * FRAME_S) if forward else max(lo, last * FRAME_S)
    k = i  # quiet at the edge: the word was stretched into the pause; back to the nearest voice
    while i_lo <= k <= i_hi and not level.onset[k]:
        k -= step
    if not i_lo <= k <= i_hi:
        return t
    return max(lo, (k + 1) * FRAME_S) if forward else min(hi, k * FRAME_S)
