#!/usr/bin/env python
"""One person per channel: the mono mix transcribed (as before) against each channel on its own.

A constructed stereo call (scripts/roles_audio.py): Piper's ``joe`` asks on the left and says
short backchannels over the answers, the real LJ Speech reader answers on the right, some
handovers start 0.5 s before the other side has finished, and each channel hears the other
25 dB down and 20 ms late (a call recorder's bleed). Both runs use the channels diarizer; they
differ only in what Whisper hears. Printed side by side:

* WER: every word in time order, whoever said it;
* cpWER: each speaker's words against what that person said (a word credited to the wrong
  person counts as an error twice);
* overlap recall: of the words said while the other person was talking too, the share found
  and credited to the right person;
* wrong-side words: words credited to someone where only the other person was talking;
* the transcription stage and end-to-end wall time.

    python scripts/bench_tracks.py [--out bench_out] [--backchannels 15] [--crosstalk-db -25]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import roles_audio as ra  # noqa: E402
from bench_asr import normalise  # noqa: E402

NEAR_S = 1.0  # a word found within this of where the truth has it counts as found
EDGE_S = 0.3  # a word this close to one of its speaker's true turns is not on the wrong side
EARLY_S = 0.5  # overlapped handovers start this early


def call(folder: Path, backchannels: int = 15, crosstalk_db: Optional[float] = -25.0,
         name: str = "tracks_call") -> tuple[Path, dict]:
    """The constructed stereo call and its truth: every other change of speaker overlapped."""
    iv = ra.with_backchannels(name, n=backchannels)
    changes = [k for k in range(2, len(iv.lines)) if iv.lines[k][0] != iv.lines[k - 1][0]]
    iv.early = {k: EARLY_S for k in changes[::2]}
    path, truth = ra.build(iv, folder, stereo=True, crosstalk_db=crosstalk_db)
    truth["early_handovers"] = len(iv.early)
    return path, truth


@contextmanager
def mono_mix() -> Iterator[None]:
    """Transcribe the mono mix as before per-channel transcription (the turns stay per channel)."""
    from pipeline.stages import tracks
    keep = tracks.per_track
    tracks.per_track = lambda audio: False
    try:
        yield
    finally:
        tracks.per_track = keep


def process(path: Path, per_channel: bool) -> tuple[object, float]:
    from pipeline.config import Config
    from pipeline.runner import Pipeline
    pipe = Pipeline(Config(diarizer="channels"))
    _ = pipe.transcriber.model  # loaded before the clock starts
    started = time.perf_counter()
    if per_channel:
        interview = pipe.process(path)
    else:
        with mono_mix():
            interview = pipe.process(path)
    return interview, time.perf_counter() - started


def truth_words(truth: dict) -> list[dict]:
    """Every true word with its speaker and nominal time (its line's time shared evenly), and
    whether someone else was talking then."""
    turns = [t for t in truth["turns"] if t.get("text")]
    out = []
    for t in turns:
        words = normalise(t["text"]).split()
        step = (t["end"] - t["start"]) / max(1, len(words))
        for i, w in enumerate(words):
            mid = t["start"] + (i + 0.5) * step
            overlapped = any(o["speaker"] != t["speaker"] and o["start"] <= mid <= o["end"] for o in truth["turns"])
            out.append({"word": w, "speaker": t["speaker"], "time": mid, "overlapped": overlapped})
    return out


def heard_words(interview, mapping: dict[str, str]) -> list[dict]:
    return [{"word": n, "speaker": mapping.get(s.speaker), "time": (w.start + w.end) / 2}
            for s in interview.segments for w in s.words for n in normalise(w.word).split()]


def score(interview, truth: dict) -> dict:
    import jiwer
    mapping = ra.truth_roles(interview, truth)
    said = [t for t in truth["turns"] if t.get("text")]
    ref_all = normalise(" ".join(t["text"] for t in sorted(said, key=lambda t: t["start"])))
    segments = sorted(interview.segments, key=lambda s: s.start)
    hyp_all = normalise(" ".join(s.text for s in segments))
    errors = words = 0
    for who in ("A", "B"):
        ref = normalise(" ".join(t["text"] for t in said if t["speaker"] == who))
        hyp = normalise(" ".join(s.text for s in segments if mapping.get(s.speaker) == who))
        m = jiwer.process_words(ref, hyp or "")
        errors += m.substitutions + m.deletions + m.insertions
        words += len(ref.split())
    stray = normalise(" ".join(s.text for s in segments if mapping.get(s.speaker) not in ("A", "B")))
    errors += len(stray.split())
    truth_w = truth_words(truth)
    heard = heard_words(interview, mapping)
    used: set[int] = set()
    found = 0
    wanted = [w for w in truth_w if w["overlapped"]]
    for w in wanted:
        for i, h in enumerate(heard):
            if i not in used and h["word"] == w["word"] and h["speaker"] == w["speaker"] \
                    and abs(h["time"] - w["time"]) <= NEAR_S:
                used.add(i)
                found += 1
                break
    wrong = [h for h in heard if not any(t["speaker"] == h["speaker"] and t["start"] - EDGE_S <= h["time"]
                                         <= t["end"] + EDGE_S for t in truth["turns"])]
    return {"wer": round(jiwer.wer(ref_all, hyp_all), 4), "cpwer": round(errors / words, 4),
            "overlap_words": len(wanted), "overlap_recall": round(found / len(wanted), 4) if wanted else None,
            "wrong_side_words": len(wrong), "wrong_side_examples": [h["word"] for h in wrong[:10]],
            "mapping": mapping, "diarizer": interview.pipeline.diarizer}


def run(folder: Path, backchannels: int = 15, crosstalk_db: Optional[float] = -25.0) -> dict:
    path, truth = call(folder, backchannels, crosstalk_db)
    report = {"audio_s": round(truth["duration_s"], 1), "crosstalk_db": crosstalk_db,
              "early_handovers": truth["early_handovers"]}
    for label, per_channel in (("mono", False), ("per_channel", True)):
        interview, wall = process(path, per_channel)
        r = score(interview, truth)
        r["transcribe_s"] = interview.pipeline.stage_seconds.get("transcribe")
        r["wall_s"] = round(wall, 2)
        report[label] = r
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench_out", type=Path)
    parser.add_argument("--backchannels", type=int, default=15)
    parser.add_argument("--crosstalk-db", type=float, default=-25.0)
    args = parser.parse_args()
    report = run(Path(tempfile.mkdtemp(prefix="ivp-bench-tracks-")), args.backchannels, args.crosstalk_db)
    print(f"stereo call, {report['audio_s']} s, {args.backchannels} backchannels, "
          f"{report['early_handovers']} handovers {EARLY_S} s early, crosstalk {args.crosstalk_db} dB / 20 ms")
    print(f"{'':<13}{'WER':>8}{'cpWER':>8}{'overlap recall':>16}{'wrong-side words':>18}"
          f"{'transcribe s':>14}{'wall s':>8}")
    for label in ("mono", "per_channel"):
        r = report[label]
        print(f"{label:<13}{100 * r['wer']:7.1f}%{100 * r['cpwer']:7.1f}%"
              f"{100 * r['overlap_recall']:15.1f}%{r['wrong_side_words']:>18}{r['transcribe_s']:>14}{r['wall_s']:>8}")
    print(f"overlapped words in the truth: {report['mono']['overlap_words']}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_tracks.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
