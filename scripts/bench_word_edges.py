#!/usr/bin/env python
"""Word edges at pauses on real speech: Whisper's word times and the refined ones
(stages/word_edges.py) against the human who-spoke-when references in ../shared/data.

    python scripts/bench_word_edges.py

For every word end followed by a pause of 0.1 s or more (and every word start after one), the
distance to the nearest edge of speech in the reference (the RTTM's speech, all speakers merged),
kept when under 0.6 s; prints the count, median and mean per file. Skips when ../shared/data is
absent. Measured (Whisper base, int8, 2 loaded cores):

    file                  edges   Whisper's words        refined
                                  median / mean s        median / mean s
    pyannote_sample.wav   11      0.18 / 0.224           0.06 / 0.172
    ami/dev00.wav (30 s)  5 / 6   0.148 / 0.24           0.194 / 0.218   (far-field meeting)
    ami/dev01.wav (30 s)  8       0.27 / 0.268           0.053 / 0.085
"""
from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
REAL = Path(os.environ.get("IVP_SHARED_DATA", ROOT.parent / "shared" / "data")) / "real"
PAUSE_S, NEAR_S = 0.1, 0.6
FILES = [("pyannote_sample.wav", "pyannote_sample.rttm", None, None),
         ("ami/dev00.wav", "ami/debug.development.rttm", "dev00", 30.0),
         ("ami/dev01.wav", "ami/debug.development.rttm", "dev01", 30.0)]


def speech(path: Path, file_id: str | None, until: float | None) -> list[list[float]]:
    """The reference's speech (every speaker's turns merged) as [start, end] spans."""
    spans = []
    for line in path.read_text().splitlines():
        p = line.split()
        if len(p) < 5 or (file_id and p[1] != file_id) or (until and float(p[3]) > until):
            continue
        spans.append((float(p[3]), float(p[3]) + float(p[4])))
    merged: list[list[float]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return merged


def errors(words: list, original: list, spans: list[list[float]]) -> list[float]:
    """Distances of the edges of speech (chosen on ``original``'s times) to the reference's."""
    ends, starts, out = [e for _, e in spans], [s for s, _ in spans], []
    for k, w in enumerate(words):
        if k + 1 == len(words) or original[k + 1].start - original[k].end >= PAUSE_S:
            d = min(abs(w.end - e) for e in ends)
            out += [d] if d < NEAR_S else []
        if k == 0 or original[k].start - original[k - 1].end >= PAUSE_S:
            d = min(abs(w.start - s) for s in starts)
            out += [d] if d < NEAR_S else []
    return out


def main() -> None:
    if not REAL.is_dir():
        print(f"{REAL} absent: skipped")
        return
    from pipeline.config import Config
    from pipeline.runner import Pipeline
    from pipeline.stages import word_edges
    from pipeline.stages.decode import decode, probe
    transcribe = Pipeline(Config()).transcriber
    for wav, ref, file_id, until in FILES:
        audio = decode(REAL / wav, probe(REAL / wav))
        segments = transcribe(audio).segments
        raw = [w for s in segments for w in s.words]
        refined = [w for s in word_edges.refine(segments, audio) for w in s.words]
        spans = speech(REAL / ref, file_id, until)
        row = []
        for name, ws in (("Whisper's words", raw), ("refined", refined)):
            e = errors(ws, raw, spans)
            row.append(f"{name}: {len(e)} edges, median {statistics.median(e):.3f} s, mean {statistics.mean(e):.3f} s"
                       if e else f"{name}: no edges")
        print(f"{wav:22} " + " | ".join(row), flush=True)


if __name__ == "__main__":
    main()
