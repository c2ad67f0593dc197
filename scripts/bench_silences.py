#!/usr/bin/env python3
"""Silence edges from the turns against from the words, on the bundled sample's truth.

Processes ``sample_audio/interview.opus`` (or reads ``--sidecar``), then computes the silences
twice from the same result, side by side: edges from the diarizer's turns alone, and edges
read from the (refined) word times, as ivp does. Prints how many true silences are found, the
false ones, and the edge and duration errors against ``interview.truth.json``.

    python scripts/bench_silences.py [--sidecar out/interview.interview.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import sidecar  # noqa: E402
from pipeline.stages import analyze  # noqa: E402

SAMPLE = ROOT / "sample_audio" / "interview.opus"
TRUTH = ROOT / "sample_audio" / "interview.truth.json"


def score(found, truth) -> dict:
    edges, durations, matched = [], [], 0
    for t in truth:
        over = [s for s in found if s.start < t["end"] and s.end > t["start"]]
        if not over:
            continue
        matched += 1
        s = max(over, key=lambda s: min(s.end, t["end"]) - max(s.start, t["start"]))
        edges += [abs(s.start - t["start"]), abs(s.end - t["end"])]
        durations.append(abs(s.duration - t["duration"]))
    false = sum(1 for s in found if not any(s.start < t["end"] and s.end > t["start"] for t in truth))
    return {"true": len(truth), "found": matched, "false": false,
            "edge_error_median_s": round(statistics.median(edges), 3) if edges else None,
            "duration_error_mean_s": round(statistics.fmean(durations), 3) if durations else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sidecar", type=Path, help="a sidecar of the sample (default: process it now)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    path = args.sidecar
    if path is None:
        out = Path(tempfile.mkdtemp(prefix="ivp-silences-"))
        subprocess.run([sys.executable, "-m", "pipeline", "process", str(SAMPLE), "--out", str(out), "-q"],
                       cwd=ROOT, check=True)
        path = out / "interview.interview.json"
    iv = sidecar.read(path)
    truth = [t for t in json.loads(TRUTH.read_text())["silences"]]
    result = {}
    for name, segments in (("turn edges", ()), ("word edges (ivp)", iv.segments)):
        found = analyze.silences(iv.turns, iv.source.duration_s, 1.0, segments)
        result[name] = r = score(found, truth)
        print(f"{name:17s} true silences found {r['found']}/{r['true']}, false {r['false']}, "
              f"edge error median {r['edge_error_median_s']} s, duration error mean {r['duration_error_mean_s']} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
