#!/usr/bin/env python3
"""Many short files dropped into a watched folder at once: how soon does work start?

Writes ``--files`` one-second WAV clips of real speech (distinct content, cut from the bundled
sample) into a fresh folder in one go, starts ``ivp watch`` on it and, for ``--window`` seconds,
samples the watcher's memory and counts sidecars. Prints (and writes as JSON with ``--json``):

* time from the watcher's start to its first sidecar (target: a few seconds, not the time it
  takes to probe every file);
* sidecars written per second over the window, and how many were done;
* the watcher's peak resident memory.

    python scripts/bench_watch_scale.py --files 1000 --window 120
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_audio" / "interview_stereo.opus"
RATE = 16000


def speech(seconds_total: float) -> np.ndarray:
    """The sample as 16 kHz stereo int16 (decoded once)."""
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(SAMPLE), "-t", f"{seconds_total:.0f}",
                          "-ac", "2", "-ar", str(RATE), "-f", "s16le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.int16).reshape(-1, 2)


def drop(folder: Path, n: int, seconds: float) -> None:
    """``n`` distinct clips written at once (each a different offset into the sample)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ivp.toml").write_text('diarizer = "channels"\n', encoding="utf-8")
    audio = speech(180)
    size = int(seconds * RATE)
    for i in range(n):
        start = (i * 1601) % (len(audio) - size)  # a prime stride: every clip different
        with wave.open(str(folder / f"clip{i:04d}.wav"), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(audio[start:start + size].tobytes())


def rss(proc: psutil.Process) -> int:
    try:
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
    except psutil.Error:
        return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each clip")
    ap.add_argument("--window", type=float, default=120.0, help="seconds to watch the watcher work")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ivp-scale-"))
    folder = work / "watched"
    drop(folder, args.files, args.seconds)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "watch", str(folder), "--settle", "1",
                             "--no-report", "--quiet"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    watcher = psutil.Process(proc.pid)
    first, peak, done = None, 0, 0
    while time.monotonic() - started < args.window and proc.poll() is None:
        peak = max(peak, rss(watcher))
        done = sum(1 for _ in folder.glob("*.interview.json"))
        if done and first is None:
            first = time.monotonic() - started
        if done >= args.files:
            break
        time.sleep(0.25)
    elapsed = time.monotonic() - started
    done = sum(1 for _ in folder.glob("*.interview.json"))
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    result = {"files": args.files, "clip_seconds": args.seconds, "window_s": round(elapsed, 1),
              "first_sidecar_s": round(first, 1) if first is not None else None, "done": done,
              "files_per_s": round(done / elapsed, 2) if elapsed else None,
              "after_first_files_per_s": (round((done - 1) / (elapsed - first), 2)
                                          if first is not None and elapsed > first else None),
              "peak_rss_mb": round(peak / 2**20), "tracebacks": (err or "").count("Traceback")}
    print(f"watch scale: {args.files} clips of {args.seconds:g} s dropped at once")
    print(f"  first sidecar after {result['first_sidecar_s']} s; {done} done in {result['window_s']} s "
          f"({result['files_per_s']} files/s, {result['after_first_files_per_s']} files/s after the first)")
    print(f"  watcher peak memory {result['peak_rss_mb']} MB; tracebacks: {result['tracebacks']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0 if first is not None and not result["tracebacks"] else 1


if __name__ == "__main__":
    sys.exit(main())
