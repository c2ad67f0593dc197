#!/usr/bin/env python3
"""Peak memory of ``ivp process`` against the length of the recording (target: flat).

Builds sparse recordings of 1, 3 and 10 hours (``--hours``): a ``--clip``-second excerpt of
``sample_audio/interview.opus`` every ``--every`` minutes (a different excerpt each time, both
voices), low noise (about -90 dBFS) between, encoded as FLAC. Each is processed by the real CLI
(``python -m pipeline process FILE --out DIR``, default settings, a fresh output folder so no
cache is used) in its own process; the peak resident memory is that one child's ``ru_maxrss``
(``os.wait4``: the child and the ffmpeg it runs). Prints hours, wall seconds, peak RSS MB, the
words and turns found, the ratio of the longest to the shortest, and the target line:
"flat: 10 h peak <= 2 GB and within 1.3x of 1 h".

    python scripts/bench_memory.py [--hours 1,3,10] [--out DIR] [--json PATH]

``--out`` keeps the built recordings (reused by the next run) and the sidecars; without it they
live in a temporary folder, removed at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_audio" / "interview.opus"
RATE = 16000
LIMIT_MB = 2048  # the target: at most 2 GB for 10 hours ...
FLAT = 1.3  # ... and within this factor of 1 hour


def speech() -> np.ndarray:
    """The sample as 16 kHz mono int16."""
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(SAMPLE), "-ac", "1", "-ar", str(RATE),
                          "-f", "s16le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.int16)


def build(path: Path, hours: float, every_min: float, clip_s: float) -> None:
    """A sparse recording of ``hours``, written as FLAC through ffmpeg a minute at a time."""
    voice = speech()
    clip, gap = int(clip_s * RATE), int(every_min * 60 * RATE)
    total = int(hours * 3600 * RATE)
    rng = np.random.default_rng(7)
    part = path.with_name(path.name + ".part")
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "-",
           "-c:a", "flac", "-compression_level", "0", "-f", "flac", str(part)]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE) as proc:
        assert proc.stdin is not None
        block = 60 * RATE
        for a in range(0, total, block):
            b = min(total, a + block)
            x = np.round(rng.normal(0.0, 1.0, b - a)).astype(np.int16)
            for k in range(max(0, (a - clip - 30 * RATE) // gap), b // gap + 1):  # clips starting at k * gap (+ 30 s), overlapping [a, b)
                at = k * gap + 30 * RATE
                source = (k * 37 * RATE) % (len(voice) - clip)  # a different excerpt each time
                lo, hi = max(a, at), min(b, at + clip)
                if lo < hi:
                    x[lo - a: hi - a] = voice[source + lo - at: source + hi - at]
            proc.stdin.write(x.tobytes())
        proc.stdin.close()
        if proc.wait() != 0:
            raise SystemExit(f"ffmpeg failed building {path}")
    part.replace(path)


def measure(path: Path, out: Path) -> dict:
    """One ``ivp process`` in a fresh process: wall seconds, its peak RSS, what it found."""
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    log = out / "process.log"
    started = time.monotonic()
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", "process", str(path), "--out", str(out),
                                 "--force", "-q"], cwd=ROOT, env=env, stdout=err, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"ivp process failed on {path} (exit {proc.returncode}):\n"
                         + log.read_text(errors="replace")[-3000:])
    sidecar = json.loads((out / f"{path.stem}.interview.json").read_text(encoding="utf-8"))
    words = sum(len(s.get("words") or []) for s in sidecar.get("segments", []))
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "words": words, "turns": len(sidecar.get("turns", [])),
            "speakers": len({t["speaker"] for t in sidecar.get("turns", [])})}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", default="1,3,10", help="comma-separated lengths in hours")
    ap.add_argument("--every", type=float, default=10.0, help="minutes between speech excerpts")
    ap.add_argument("--clip", type=float, default=15.0, help="seconds of speech per excerpt")
    ap.add_argument("--out", type=Path, help="keep the recordings and sidecars here")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    hours = [float(h) for h in args.hours.split(",") if h.strip()]
    with tempfile.TemporaryDirectory(prefix="ivp-bench-memory-") as tmp:
        work = args.out or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = []
        for h in hours:
            audio = work / f"sparse_{h:g}h_every{args.every:g}m_{args.clip:g}s.flac"
            if not audio.is_file():
                build(audio, h, args.every, args.clip)
            row = {"hours": h, **measure(audio, work / f"out_{h:g}h")}
            rows.append(row)
            print(f"{h:5g} h  {row['wall_s']:7.1f} s  peak {row['peak_rss_mb']:7.1f} MB  "
                  f"{row['words']} words, {row['turns']} turns, {row['speakers']} speakers", flush=True)
    shortest, longest = min(rows, key=lambda r: r["hours"]), max(rows, key=lambda r: r["hours"])
    ratio = longest["peak_rss_mb"] / shortest["peak_rss_mb"]
    ok = longest["peak_rss_mb"] <= LIMIT_MB and ratio <= FLAT
    print(f"\n{'hours':>6} {'wall s':>8} {'peak RSS MB':>12}")
    for r in rows:
        print(f"{r['hours']:6g} {r['wall_s']:8.1f} {r['peak_rss_mb']:12.1f}")
    print(f"ratio {longest['hours']:g} h / {shortest['hours']:g} h: {ratio:.2f}")
    print(f"flat: {longest['hours']:g} h peak <= {LIMIT_MB / 1024:g} GB and within {FLAT}x of "
          f"{shortest['hours']:g} h: {'PASS' if ok else 'FAIL'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"rows": rows, "ratio": round(ratio, 3), "pass": ok,
                                         "every_min": args.every, "clip_s": args.clip}, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
