"""Bad input: each case gives a clear error, leaves the file untouched and does not stop the run.

Every case goes through the watcher (``ivp watch``) and through ``process_batch`` (``ivp process``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import threading
import wave
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from pipeline import __version__, sidecar
from pipeline.batch import process_batch
from pipeline.watch.status import folder_status
from pipeline.watch.watcher import Watcher, WatchOptions

from kit import patient, sha, wait_for

pytestmark = pytest.mark.slow  # every bad input through the real watcher and process_batch

SR = 16000
WEIRD = "it's \"quoted\" & ünïcødé 🎤 call.wav"

# name -> (stage, words the one-line reason must contain)
FAILS = {
    "zero.wav": ("input", "empty file"),
    "truncated.mp3": ("decode", "not a readable audio/video file"),
    "not audio.mp3": ("decode", "not a readable audio/video file"),
    "video no audio.mp4": ("decode", "video without an audio track"),
}


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def dialogue(path: Path, voices: list[np.ndarray]) -> Path:
    """Two voices on two channels, one after the other."""
    gap = np.zeros(int(0.3 * SR), np.int16)
    a, b = voices
    left = np.concatenate([gap, a, gap, np.zeros_like(b), gap])
    right = np.concatenate([gap, np.zeros_like(a), gap, b, gap])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(np.stack([left, right], axis=1).astype(np.int16).tobytes())
    return path


def load(path: Path, max_s: float) -> np.ndarray:
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(SR),
                          "-f", "s16le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(pcm, np.int16)[: int(max_s * SR)]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, shared_data) -> Path:
    """One folder holding every bad input, plus a good recording with an awkward name."""
    d = tmp_path_factory.mktemp("bad")
    (d / "zero.wav").write_bytes(b"")
    mp3 = d / "whole.mp3.part"  # (a partial name: never picked up itself)
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=5", "-b:a", "64k", "-f", "mp3", str(mp3))
    data = mp3.read_bytes()
    (d / "truncated.mp3").write_bytes(data[:400])  # the header and not one whole frame
    (d / "truncated mid-stream.mp3.part").write_bytes(data[: len(data) * 2 // 5])
    (d / "not audio.mp3").write_text("This is a text file, not an MP3.\n" * 20)
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1", "-an",
           str(d / "video no audio.mp4"))
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "3", "-c:a", "pcm_s16le",
           str(d / "silence.wav"))
    clips = sorted((shared_data / "ljspeech").glob("*.flac"))[:2]
    if len(clips) < 2:
        pytest.skip("LJSpeech clips not found in shared data")
    voices = [load(c, 1.5) for c in clips]
    dialogue(d / WEIRD, voices)
    dialogue(d / "later.wav.part", voices[::-1])  # another good recording, for later
    return d


def copy_inputs(src: Path, dest: Path) -> dict[str, str]:
    """Copy the recordings (not the .part helpers) into ``dest``; return name -> sha256."""
    dest.mkdir(parents=True, exist_ok=True)
    out = {}
    for p in sorted(src.iterdir()):
        if p.suffix != ".part":
            shutil.copy2(p, dest / p.name)
            out[p.name] = sha(dest / p.name)
    return out


def check_error_file(recording: Path, stage: str, words: str) -> None:
    error_file = sidecar.sidecar_path(recording, suffix=sidecar.ERROR_SUFFIX)
    assert error_file.is_file(), f"no {error_file.name}"
    data = json.loads(error_file.read_text(encoding="utf-8"))
    assert data["file"] == str(recording) and data["stage"] == stage
    assert words in data["reason"] and "\n" not in data["reason"]
    assert data["version"] == __version__ and data["tool"] == "ivp"
    datetime.fromisoformat(data["time"])


def check_silence(out: Path) -> None:
    interview = sidecar.read(out)
    assert interview.segments == [] and interview.turns == []
    assert interview.talk_ratio.interviewee_share is None
    assert all(s.talk_s == 0 for s in interview.speakers)
    assert any("silence" in w for w in interview.warnings)


def log_lines(folder: Path, event: str, name: str) -> list[str]:
    pattern = re.compile(rf"\s{event}\s+{re.escape(name)}(:|$)")
    text = (folder / ".ivp" / "watch.log").read_text(encoding="utf-8")
    return [ln for ln in text.splitlines() if pattern.search(ln)]


@contextmanager
def running_watcher(folder: Path, **kw):
    options = dict(settle_s=1.0, tick_s=0.2, retry_delay_s=0.1, max_attempts=2, probe_grace_s=1.0,
                   log_stderr=False)
    options.update(kw)
    watcher = Watcher(folder, options=WatchOptions(**options))
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(watcher.ready.is_set, 30, "the watcher to start")
        yield watcher
    finally:
        stop.set()
        thread.join(patient(60))
        assert not thread.is_alive()


def test_bad_inputs_through_the_watcher(inputs, tmp_path):
    folder = tmp_path / "watched"
    folder.mkdir()
    with running_watcher(folder, settle_s=1.5):
        # a file deleted while it is still waiting to settle
        doomed = folder / "deleted while copying.wav"
        doomed.write_bytes((inputs / WEIRD).read_bytes()[:50_000])
        wait_for(lambda: log_lines(folder, "found", doomed.name), 10, "the doomed file to be seen")
        doomed.unlink()
        wait_for(lambda: log_lines(folder, "skipped", doomed.name), 10, "the deletion to be noticed")

        originals = copy_inputs(inputs, folder)  # everything dropped in at once
        bad = list(FAILS) + ["silence.wav"]

        def settled():
            s = {f["path"]: f["state"] for f in folder_status(folder)["files"]}
            return all(s.get(n) in ("done", "failed") for n in bad + [WEIRD])
        wait_for(settled, 120, "every input to be handled")

        # the watcher keeps going: a good recording dropped afterwards is processed
        shutil.copy2(inputs / "later.wav.part", tmp_path / "later.wav")
        (tmp_path / "later.wav").rename(folder / "later.wav")
        wait_for(lambda: log_lines(folder, "finished", "later.wav"), 60, "the later file")

    status = {f["path"]: f for f in folder_status(folder)["files"]}
    for name, (stage, words) in FAILS.items():
        f = status[name]
        assert f["state"] == "failed" and f["stage"] == stage and words in f["error"], f
        assert f["attempts"] == 2  # retried, then given up
        check_error_file(folder / name, stage, words)
        assert len(log_lines(folder, "failed", name)) == 1
        assert not sidecar.sidecar_path(folder / name).exists()
    assert status["silence.wav"]["state"] == "done"
    check_silence(sidecar.sidecar_path(folder / "silence.wav"))
    assert log_lines(folder, "warning", "silence.wav")
    assert status[WEIRD]["state"] == "done" and status[WEIRD]["interviewee_share"] is not None
    assert sidecar.read(sidecar.sidecar_path(folder / WEIRD)).source.path == str(folder / WEIRD)
    assert status["later.wav"]["state"] == "done"
    assert "deleted while copying.wav" not in status
    # originals untouched: same names, same bytes, nothing moved or renamed
    assert {n: sha(folder / n) for n in originals} == originals
    left = {p.name for p in folder.iterdir()} - {".ivp", "ivp-report", "ivp-study"}
    assert left == set(originals) | {"later.wav", "later.interview.json",
                                     "silence.interview.json", Path(WEIRD).stem + ".interview.json"} \
        | {Path(n).stem + ".error.json" for n in FAILS}


def test_bad_inputs_through_process_batch(inputs, tmp_path):
    originals = copy_inputs(inputs, tmp_path)
    files = [tmp_path / n for n in originals]
    results = {r.path.name: r for r in process_batch(files, {})}
    for name, (stage, words) in FAILS.items():
        r = results[name]
        assert not r.ok and r.error.startswith(f"{tmp_path / name}: {stage}: ") and words in r.error
        assert "\n" not in r.error
    assert results["silence.wav"].ok
    check_silence(results["silence.wav"].sidecar)
    assert results[WEIRD].ok and results[WEIRD].sidecar.name == Path(WEIRD).stem + ".interview.json"
    assert {n: sha(tmp_path / n) for n in originals} == originals


def test_truncated_mid_stream_mp3(inputs, tmp_path):
    """An MP3 cut off part-way: frames decode, but most of the announced audio is missing."""
    path = tmp_path / "cut off.mp3"
    shutil.copy2(inputs / "truncated mid-stream.mp3.part", path)
    before = sha(path)
    [result] = process_batch([path], {})
    assert sha(path) == before
    assert not result.ok
    assert "truncated" in result.error or "corrupt" in result.error


def test_unreadable_file(inputs, tmp_path):
    path = tmp_path / "locked.wav"
    shutil.copy2(inputs / WEIRD, path)
    before = sha(path)
    os.chmod(path, 0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: chmod 000 does not stop root from reading a file, so "
                        "'permission denied' cannot be emulated here")
        [result] = process_batch([path], {})
        assert not result.ok and "permission denied" in result.error
        folder = tmp_path / "watched"
        folder.mkdir()
        shutil.move(path, folder / path.name)
        Watcher(folder, options=WatchOptions(settle_s=0.3, tick_s=0.1, retry_delay_s=0.1, max_attempts=1,
                                             probe_grace_s=0.3, once=True, log_stderr=False)).run()
        [f] = folder_status(folder)["files"]
        assert f["state"] == "failed" and "permission denied" in f["error"]
        path = folder / path.name
    finally:
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    assert sha(path) == before


def test_unreadable_file_emulated_then_fixed(inputs, tmp_path, monkeypatch):
    """The same case with ``os.access`` reporting the file unreadable (works as root too).

    Once it is readable again (the permissions fixed), the watcher picks it up and processes it.
    """
    folder = tmp_path / "watched"
    folder.mkdir()
    path = folder / "locked.wav"
    shutil.copy2(inputs / WEIRD, path)
    before = sha(path)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if Path(p).name == path.name
                        else real_access(p, mode, *a, **k))
    options = dict(settle_s=0.3, tick_s=0.1, retry_delay_s=0.1, max_attempts=2, probe_grace_s=0.3,
                   once=True, log_stderr=False)
    Watcher(folder, options=WatchOptions(**options)).run()
    [f] = folder_status(folder)["files"]
    assert f["state"] == "failed" and f["stage"] == "input" and f["error"] == "permission denied"
    assert f["sha256"] is None  # it could not be hashed
    check_error_file(path, "input", "permission denied")
    monkeypatch.setattr(os, "access", real_access)
    Watcher(folder, options=WatchOptions(**options)).run()
    [f] = folder_status(folder)["files"]
    assert f["state"] == "done" and f["sha256"] == before == sha(path)
    assert not sidecar.sidecar_path(path, suffix=sidecar.ERROR_SUFFIX).exists()  # stale error gone
