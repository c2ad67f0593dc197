#!/usr/bin/env python
"""Backchannel benchmark: a constructed interview with 15 interviewer backchannels ("mm-hmm",
"right", ...) spoken over the interviewee; overlap recall / precision, the interviewee-share
error against the truth, and what overlap detection adds to the diarization time.

    python scripts/bench_overlap.py [--out bench_out]

Targets: recall >= 0.8, share within 2 points of the truth, no backchannel counted as a fast fill.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import roles_audio as ra  # noqa: E402

NEAR_S = 0.5  # an overlap within this of a true backchannel finds it


def true_share(truth: dict) -> float:
    from pipeline.stages.analyze import total
    a = total((t["start"], t["end"]) for t in truth["turns"] if t["speaker"] == "A")
    b = total((t["start"], t["end"]) for t in truth["turns"] if t["speaker"] == "B")
    return b / (a + b)


def score(interview, truth: dict) -> dict:
    """Recall, precision, share error and fast fills on backchannels of a processed interview."""
    bcs = [t for t in truth["turns"] if t.get("backchannel")]
    found = [(o.start, o.end) for o in interview.overlaps]

    def near(s, e, b):
        return s < b["end"] + NEAR_S and e > b["start"] - NEAR_S
    hits = sum(any(near(s, e, b) for s, e in found) for b in bcs)
    good = sum(any(near(s, e, b) for b in bcs) for s, e in found)
    fills = sum(any(b["start"] - NEAR_S <= h.end <= b["end"] for b in bcs) for h in interview.fast_fills)
    share = interview.talk_ratio.interviewee_share
    return {"backchannels": len(bcs), "recall": round(hits / len(bcs), 3),
            "precision": round(good / len(found), 3) if found else None, "overlaps": len(found),
            "share": share, "true_share": round(true_share(truth), 4),
            "share_error_points": round(100 * abs(share - true_share(truth)), 2),
            "backchannel_fast_fills": fills}


def run(folder: Path, stereo: bool = False) -> dict:
    """Build the interview (``stereo``: one person per channel), process it, score it."""
    from pipeline.stages.diarize import overlap
    from pipeline.batch import process_batch
    path, truth = ra.build(ra.with_backchannels("backchannels"), folder, stereo=stereo)
    t0 = time.perf_counter()
    result = process_batch([path], {})[0]
    process_s = time.perf_counter() - t0
    if not result.ok:
        raise SystemExit(f"{path}: {result.error}")
    from pipeline import sidecar
    out = score(sidecar.read(result.sidecar), truth)
    out["diarizer"] = result.interview.pipeline.diarizer
    samples = ra.decode16k(path)
    t0 = time.perf_counter()  # the model is loaded already (it ran inside the diarization)
    overlap.detect(samples, ra.SR)
    out["overlap_detect_s"] = round(time.perf_counter() - t0, 2)
    out["audio_s"] = round(len(samples) / ra.SR, 1)
    out["process_s"] = round(process_s, 1)
    out["stage_seconds"] = dict(result.interview.pipeline.stage_seconds) if result.interview else {}
    out["added_fraction"] = round(out["overlap_detect_s"] / process_s, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench_out", type=Path)
    args = parser.parse_args()
    report = {}
    for layout in ("mono", "stereo"):  # stereo: one person per channel (the channels diarizer)
        r = report[layout] = run(Path(tempfile.mkdtemp(prefix="ivp-bench-overlap-")), layout == "stereo")
        print(f"backchannels {layout} ({r['diarizer']}): recall {r['recall']} precision {r['precision']} "
              f"share {r['share']} (truth {r['true_share']}, error {r['share_error_points']} points), "
              f"backchannel fast fills {r['backchannel_fast_fills']}; overlap detection "
              f"{r['overlap_detect_s']} s for {r['audio_s']} s audio, {100 * r['added_fraction']:.1f} % "
              f"of the {r['process_s']} s end to end" + (" (not run for channels)" if layout == "stereo" else ""))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_overlap.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
