"""Small helpers several test files share: interviews from a script, tone WAV files, a file's
SHA-256, waiting.

Browser helpers are in ``browser.py``; the hostile-input ones in ``hostile_kit.py``.
"""
from __future__ import annotations

import hashlib
import math
import os
import time
import wave
from pathlib import Path

import numpy as np

from pipeline.interview import INTERVIEWER, Interview, Segment, Turn, Word
from pipeline.stages import analyze

SPEAKER = {INTERVIEWER: "S1"}  # the interviewer is S1, anyone else S2


def spoken(script, word_gap: float = 0.05, roles: bool = True, space: str = " ") -> tuple[list[Segment], list[Turn]]:
    """Segments and turns from ``(role, start, end, text)`` lines, one turn per line; a line's words
    share its time evenly, each ending ``word_gap`` s before the next starts. Texts and words
    start with ``space`` (as Whisper's do); ``roles=False`` leaves the roles unknown."""
    segments, turns = [], []
    for role, start, end, text in script:
        words = text.split()
        step = (end - start) / len(words)
        ws = [Word(round(start + i * step, 3), round(start + (i + 1) * step - word_gap, 3), space + w)
              for i, w in enumerate(words)]
        speaker = SPEAKER.get(role, "S2")
        segments.append(Segment(start, end, space + text, ws, speaker, role if roles else None))
        turns.append(Turn(start, end, speaker, role if roles else None))
    return segments, turns


def fake_sha(audio: Path) -> str:
    """A ``source.sha256`` for a constructed interview: one per recording name (the same sha256
    would make them identical copies, one interview in the study and the report)."""
    return hashlib.sha256(Path(audio).name.encode("utf-8", "surrogateescape")).hexdigest()


def analysed(iv: Interview, duration: float) -> Interview:
    """``iv`` with the analysis stage's numbers filled in from its turns and segments."""
    iv.speakers = analyze.speaker_stats(iv.turns, iv.segments, iv.role_of)
    iv.talk_ratio = analyze.talk_ratio(iv.turns)
    iv.silences = analyze.silences(iv.turns, duration)
    iv.fast_fills = analyze.fast_fills(iv.turns, segments=iv.segments)
    iv.overlaps = analyze.overlaps(iv.turns)
    return iv


def write_wav(path: Path, seconds: float, rate: int = 16000, swell: bool = False) -> Path:
    """A mono 16-bit WAV of a 220 Hz tone (``swell``: its loudness swelling every 4 s)."""
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.2 * np.sin(2 * math.pi * 220 * t)
    if swell:
        tone *= 0.5 + 0.5 * np.sin(2 * math.pi * 0.25 * t)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((tone * 32767).astype("<i2").tobytes())
    return path


def sha(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex): what a test checks was never changed."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# Waits in tests detect hangs; they never check speed. A loaded machine (CI beside other jobs;
# `stress --cpu 2` beside the suite's two processes ran it about 5x slower than quiet), so every
# bound a test gives is stretched by this factor (IVP_TEST_PATIENCE, default 10): a test waits
# longer only when it is about to fail anyway. 4 was too little: under stress a watcher's
# diarization of a 2-minute dialogue took over 4 x 30 s.
PATIENCE = float(os.environ.get("IVP_TEST_PATIENCE") or 10.0)


def patient(seconds: float) -> float:
    """A test's time bound, stretched for a loaded machine (see ``PATIENCE``)."""
    return seconds * PATIENCE


def wait_for(fn, timeout: float = 10.0, what: str = "condition", poll: float = 0.05):
    """``fn()``'s first true value, asked every ``poll`` s; AssertionError after ``patient(timeout)`` s."""
    timeout = patient(timeout)
    deadline = time.monotonic() + timeout
    last = fn()
    while not last and time.monotonic() < deadline:
        time.sleep(poll)
        last = fn()
    if not last:
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value {last!r})")
    return last


def script(name: str):
    """``scripts/<name>.py`` imported (constructed interviews and folders the tests share with the
    benchmarks)."""
    import importlib
    import sys
    scripts = str(Path(__file__).resolve().parent.parent / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    return importlib.import_module(name)


def synthetic_voices(script_name: str):
    """``scripts/<script_name>.py`` (roles_audio, people_audio: constructed interviews), imported; the
    calling test module is skipped when Piper or espeak-ng is missing (``make test`` installs both)."""
    import shutil

    import pytest
    pytest.importorskip("piper")
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (make test installs it)", allow_module_level=True)
    return script(script_name)
