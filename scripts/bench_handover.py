#!/usr/bin/env python
"""Handover timing benchmark: how well ivp measures the wait from the interviewee's last word
to the interviewer's first, and which handovers it calls fast fills, against constructed
interviews whose truth is exact (scripts/roles_audio.py: Piper ``joe`` asks, espeak-ng answers,
handover gaps set per line, negative ones spoken over the end of the answer, and backchannels
spoken over answers that must stay out of the fast fills).

    python scripts/bench_handover.py [--out bench_out] [--keep DIR] [--snr DB]

Prints, for the turn edges (the diarizer's), Whisper's words as it gave them, and the words with
their edges of speech refined from the sound (``stages/word_edges.py``, what the pipeline keeps):
the handover-gap error against the truth (median, 90th percentile), handovers found, and
fast-fill precision and recall at the 0.5 s threshold. ``--snr 20`` first adds room noise 20 dB
under the speech. Writes ``<out>/bench_handover.json``. Targets: median gap error at most 0.1 s,
precision and recall at least 0.9 each.

Measured (2 loaded cores, default Config, 2 interviews of 80 s, 12 handovers, 6 true fast fills,
2 of them overlapped by 0.5 and 0.3 s, 6 backchannels):

                          turn edges   Whisper's words   words, edges refined
    handovers found          12/12          12/12             12/12
    gap error median         0.102 s        0.065 s           0.0 s      (20 dB SNR: 0.107 / 0.08 / 0.045)
    gap error p90            0.3 s          0.3 s             0.3 s
    fast-fill precision      1.0            1.0               1.0        (20 dB SNR: 0.857 / 1.0 / 1.0)
    fast-fill recall         1.0            0.833 (5 of 6)    1.0        (20 dB SNR: 1.0 / 0.833 / 0.833)

Why Whisper's words alone lost a fast fill: the last word of an answer ends 0.15-0.25 s before the
voice does (espeak's trailing sounds, 20-50 dB under the speech), so the true 0.4 s handover
measured 0.56 s (0.2 s measured 0.34 s); the first word of a question starts up to 0.15 s early.
The refinement follows the voice out of the last word (with hysteresis, down to a tail 30 dB under
the speech) and into the first, which brings both to the truth on clean audio. With room noise
20 dB under the speech, the quietest tails are under the noise and cannot be heard: the 0.4 s
handover measures 0.51 s. The p90 is the overlapped handovers (-0.5, -0.3 s), which measure 0.0 s
in every row: one mono transcription never gives two speakers' words at once (Whisper drops the
interviewee's overlapped tail), and the diarizer's turns do not overlap there; both still count
as fast fills. Backchannels: none counted as a fast fill in any row.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import wave
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import roles_audio as ra  # noqa: E402

THRESHOLD_S = 0.5  # Config().fast_fill_s
MATCH_S = 1.5  # a measured handover this close to a true one (its middle) is that handover
GAPS = {  # per interview: the gap before each question that follows an answer (negative: early)
    "handover_a": [0.2, 0.8, -0.5, 1.5, 0.4, 1.0],
    "handover_b": [0.3, 1.2, -0.3, 0.6, 0.1, 2.0],
}


def script(name: str, gaps: list, variant: int) -> ra.Interview:
    lines, early, backchannels = [ra.OPENING], {}, []
    for k, gap in enumerate([None, *gaps]):  # the first question follows the opening
        q = ra.PLAIN_QUESTIONS[(variant * 3 + k) % len(ra.PLAIN_QUESTIONS)]
        a = ra.ANSWERS[(variant * 5 + k) % len(ra.ANSWERS)]
        if k:  # the question after an answer: ``gap`` s after it ends (early moves a line by -gap)
            early[len(lines)] = -gap
        lines.append(("A", q))
        lines.append(("B", a))
        if k % 2:  # a backchannel 2 s into every other answer
            backchannels.append((len(lines) - 1, 2.0, ra.BACKCHANNEL_WORDS[k % len(ra.BACKCHANNEL_WORDS)]))
    voice = "espeak:en-us+f2" if variant % 2 == 0 else "espeak:en-gb+m3"
    return ra.Interview(name, "joe", voice, lines, gap_s=0.7, early=early, backchannels=backchannels)


def true_handovers(truth: dict) -> list[tuple[float, float]]:
    """(interviewee stopped, interviewer started) for every answer followed by a question."""
    lines = sorted((t for t in truth["turns"] if not t.get("backchannel")), key=lambda t: t["start"])
    return [(a["end"], b["start"]) for a, b in zip(lines, lines[1:]) if a["speaker"] == "B" and b["speaker"] == "A"]


def score(found: list, truth: list[tuple[float, float]]) -> dict:
    """Match measured handovers to the true ones; gap errors and fast-fill counts."""
    errors, used, tp, fp = [], set(), 0, 0
    for h in found:
        mid = (h.start + h.end) / 2
        k = min(range(len(truth)), key=lambda i: abs(sum(truth[i]) / 2 - mid), default=None)
        match = k is not None and k not in used and abs(sum(truth[k]) / 2 - mid) <= MATCH_S
        if match:
            used.add(k)
            errors.append(abs(h.gap - (truth[k][1] - truth[k][0])))
        if h.gap < THRESHOLD_S:
            if match and truth[k][1] - truth[k][0] < THRESHOLD_S:
                tp += 1
            else:
                fp += 1
    return {"errors": errors, "matched": len(used), "tp": tp, "fp": fp,
            "true_fills": sum(1 for s, e in truth if e - s < THRESHOLD_S), "true": len(truth)}


def summary(parts: list[dict]) -> dict:
    errors = sorted(e for p in parts for e in p["errors"])
    tp, fp = sum(p["tp"] for p in parts), sum(p["fp"] for p in parts)
    true_fills = sum(p["true_fills"] for p in parts)
    p90 = errors[min(len(errors) - 1, int(round(0.9 * (len(errors) - 1))))] if errors else None
    return {"handovers_found": f"{sum(p['matched'] for p in parts)}/{sum(p['true'] for p in parts)}",
            "gap_error_median_s": round(statistics.median(errors), 3) if errors else None,
            "gap_error_p90_s": round(p90, 3) if p90 is not None else None,
            "fast_fill_precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "fast_fill_recall": round(tp / true_fills, 3) if true_fills else None,
            "fast_fills": f"{tp} right, {fp} wrong, {true_fills} true"}


ROWS = ("turn_edges", "whisper_words", "refined_words")
TITLES = {"turn_edges": "turn edges", "whisper_words": "Whisper's words", "refined_words": "words, edges refined"}


@contextmanager
def edges_as_whisper_gave_them():
    """The pipeline without ``word_edges.refine`` (the 'before' row): Whisper's word times as they are."""
    from pipeline.stages import word_edges
    kept = word_edges.refine
    word_edges.refine = lambda segments, audio: segments
    try:
        yield
    finally:
        word_edges.refine = kept


def with_noise(path: Path, snr_db: float, out: Path) -> Path:
    """``path`` with room noise (low-passed white noise) ``snr_db`` under the speech level (-20 dB)."""
    import numpy as np
    rng = np.random.default_rng(7)
    x = ra.decode16k(path)
    noise = np.convolve(rng.standard_normal(len(x)), np.ones(8) / 8, mode="same")
    noise *= 10 ** ((-20 - snr_db) / 20) / np.sqrt(np.mean(noise ** 2))
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(ra.SR)
        w.writeframes((np.clip(x + noise, -1, 1) * 32767).astype("<i2").tobytes())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    ap.add_argument("--keep", type=Path, help="build the interviews here and keep them (reused next time)")
    ap.add_argument("--snr", type=float, help="add room noise this many dB under the speech first")
    args = ap.parse_args()
    from pipeline.config import Config
    from pipeline.runner import Pipeline
    from pipeline.stages import analyze
    pipeline = Pipeline(Config())
    parts: dict[str, list] = {k: [] for k in ROWS}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for variant, (name, gaps) in enumerate(GAPS.items()):
            path, truth_path = folder / f"{name}.wav", folder / f"{name}.truth.json"
            if path.is_file() and truth_path.is_file():
                truth = json.loads(truth_path.read_text())
            else:
                path, truth = ra.build(script(name, gaps, variant), folder)
            if args.snr is not None:
                path = with_noise(path, args.snr, Path(tmp) / f"{name}.snr{args.snr:g}.wav")
            true = true_handovers(truth)
            with edges_as_whisper_gave_them():
                raw = pipeline.process(path)
            iv = pipeline.process(path)
            found = {"turn_edges": analyze.handovers(iv.turns), "whisper_words": analyze.handovers(raw.turns, raw.segments),
                     "refined_words": analyze.handovers(iv.turns, iv.segments)}
            row = {"name": name, "true_gaps": [round(e - s, 3) for s, e in true],
                   "roles": iv.roles.by_speaker if iv.roles else None}
            print(f"{name}: true gaps {row['true_gaps']}", flush=True)
            for key in ROWS:
                parts[key].append(score(found[key], true))
                row[key] = [h.gap for h in found[key]]
                print(f"  {TITLES[key]:22} {row[key]}", flush=True)
            rows.append(row)
    result = {key: summary(parts[key]) for key in ROWS}
    result.update(rows=rows, snr_db=args.snr)
    print(f"{'':22}" + "".join(f"{TITLES[k]:>27}" for k in ROWS))
    for key in ("handovers_found", "gap_error_median_s", "gap_error_p90_s", "fast_fill_precision",
                "fast_fill_recall", "fast_fills"):
        print(f"{key:22}" + "".join(f"{result[k][key]!s:>27}" for k in ROWS))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_handover.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
