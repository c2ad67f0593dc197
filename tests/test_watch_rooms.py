"""The watcher's rooms on their own: intake and worker decisions, called directly.

Each test builds the rooms a :class:`~pipeline.watch.watcher.Watcher` would own around a temp
folder and a real SQLite :class:`~pipeline.watch.ledger.Ledger`, without the loop, threads or
file events. The files are real (WAV made with ffmpeg, a clip of the bundled stereo sample
where a recording is really processed). A stand-in pipeline is used only where the test is
about the worker's bookkeeping after the pipeline said something (an error, a stop); it records
its calls so a test fails when the worker runs it when it should not, or not when it should.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from pipeline import sidecar
from pipeline.config import Config
from pipeline.errors import DecodeError, OutputError
from pipeline.progress import Cancelled
from pipeline.watch.common import Pause
from pipeline.watch.status import PSEUDO_PREFIX
from pipeline.watch.folder import WatchedFolder
from pipeline.watch.intake import Intake
from pipeline.watch.ledger import Ledger
from pipeline.watch.log import FolderLog
from pipeline.watch.options import WatchOptions
from pipeline.watch.outcome import Outcomes
from pipeline.watch.refresh import Refresh
from pipeline.watch.settle import SettleTracker, ffprobe_readable
from pipeline.watch.worker import Worker, WorkerState

from kit import sha

ROOT = Path(__file__).resolve().parent.parent
STEREO = ROOT / "sample_audio" / "interview_stereo.opus"
FAST = Config(quality="fast", diarizer="channels")  # tiny.en and one voice per channel


# -- helpers --------------------------------------------------------------------------------------

def tone(path: Path, seconds: float = 1.0, freq: int = 440) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={freq}:sample_rate=16000:duration={seconds}", str(path)], check=True)
    return path


class Clock:
    """A settle clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Rooms:
    """What a Watcher owns, built by hand: the folder, a real ledger, the log and the rooms."""

    def __init__(self, folder: Path, config: Config = FAST, out_dir: Path | None = None,
                 follow_links: bool = False, make_pipeline=None, max_attempts: int = 2):
        self.place = WatchedFolder(folder, config, out_dir=out_dir)
        self.place.state_dir.mkdir(exist_ok=True)
        self.ledger = Ledger(self.place.state_dir / "state.db")
        self.log = FolderLog(self.place.state_dir, stderr=False)
        self.clock = Clock()
        self.settle = SettleTracker(0.5, probe=ffprobe_readable, probe_grace_s=0.5, clock=self.clock)
        self.wake, self.stop = threading.Event(), threading.Event()
        self.outcomes = Outcomes(self.place, self.ledger, self.log, self.wake)
        self.intake = Intake(self.place, self.ledger, self.settle, self.log, self.outcomes,
                             follow_links=follow_links, wake=self.wake)
        self.pause = Pause(self.log)
        self.refresh = Refresh(self.place, self.ledger, self.log, report=False)
        self.worker = Worker(self.place, self.ledger, self.log, self.outcomes, self.refresh,
                             self.pause, self.stop, self.wake, max_attempts=max_attempts,
                             retry_delay_s=0.0, tick_s=0.05, make_pipeline=make_pipeline)

    def settled(self, *names: str) -> None:
        """Scan, then let time pass until what was found settles and is taken in."""
        self.intake.scan(cleanup=True)
        self.clock.now += 1.0
        self.intake.tick()
        for name in names:
            assert self.ledger.path(name) is not None, f"{name} was not taken in"

    def claim(self) -> dict:
        job = self.ledger.claim(now=time.time() + 3600)  # retries are due at once
        assert job is not None
        return job


def test_a_declared_track_set_is_taken_in_once_every_track_settled_under_its_first_name(tmp_path, caplog):
    from pipeline.stages.decode import tracks_sha
    folder = tmp_path / "w"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "ivp.toml").write_text('tracks = ["a.wav", "b.wav"]\n')
    tone(folder / "sub" / "a.wav", freq=300)
    tone(folder / "own.wav", freq=700)
    rooms = Rooms(folder)
    rooms.settled("own.wav")
    assert rooms.ledger.path("sub/a.wav") is None and events(caplog, "waiting", "sub/a.wav")
    assert "waiting for sub/b.wav" in events(caplog, "waiting", "sub/a.wav")[-1]
    tone(folder / "sub" / "b.wav", freq=500)
    rooms.settled("sub/a.wav")
    key = tracks_sha([folder / "sub" / "a.wav", folder / "sub" / "b.wav"])
    assert rooms.ledger.path("sub/a.wav")["sha256"] == key and rooms.ledger.path("sub/b.wav") is None
    assert sorted(r["path"] for r in rooms.ledger.all_files()) == ["own.wav", "sub/a.wav"]
    queued = len(events(caplog, "queued", "sub/a.wav"))
    rooms.settled()  # a full scan again: nothing new, nothing hashed again
    assert len(events(caplog, "queued", "sub/a.wav")) == queued
    tone(folder / "sub" / "b.wav", freq=900)  # a track changes: the set is recorded again
    rooms.settled()
    assert rooms.ledger.path("sub/a.wav")["sha256"] != key
    assert len(events(caplog, "queued", "sub/a.wav")) == queued + 1


class StandIn:
    """A pipeline that says one thing (raises ``exc``) and records each call."""

    def __init__(self, exc: BaseException | None = None):
        self.exc, self.calls = exc, []

    def factory(self, config, hook, stop):
        return self

    def process(self, path, sha256=None, cache=None, track_files=()):
        self.calls.append(Path(path).name)
        if self.exc is not None:
            raise self.exc
        raise AssertionError("the stand-in pipeline cannot process a file")


def events(caplog, event: str, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "ivp.watch" and r.getMessage().split(maxsplit=1)[:1] == [event]
            and f" {name}" in r.getMessage()]


@pytest.fixture(autouse=True)
def _log_everything(caplog):
    caplog.set_level(logging.DEBUG, logger="ivp.watch")


@pytest.fixture
def folder(tmp_path) -> Path:
    w = tmp_path / "watched"
    w.mkdir()
    return w


# -- options ----------------------------------------------------------------------------------------

def test_options_are_frozen_and_clamped():
    opts = WatchOptions(workers=0, max_attempts=-2, retry_delay_s=-1, settle_s=-3, tick_s=0)
    assert (opts.workers, opts.max_attempts, opts.retry_delay_s, opts.settle_s) == (1, 1, 0.0, 0.0)
    assert opts.tick_s > 0
    with pytest.raises(AttributeError):
        opts.workers = 4
    assert WatchOptions().settle_s == 5.0 and WatchOptions(probe_grace_s=None).probe_grace_s is None


def test_a_pause_doubles_until_writing_works_again(folder, caplog):
    now = [100.0]  # an injected clock: no sleeping, no dependence on the machine's speed
    pause = Pause(FolderLog(folder / ".ivp", stderr=False), limits=(0.2, 0.5), clock=lambda: now[0])
    assert not pause.active() and not pause.resumed()  # never paused: nothing to say
    assert pause.pause("disk full") == pytest.approx(0.2)
    now[0] += 0.1
    assert pause.active() and pause.pause("disk full") == pytest.approx(0.1)  # the same pause
    now[0] += 0.15
    assert not pause.active() and pause.pause("still full") == pytest.approx(0.4)  # doubled
    now[0] += 0.45
    assert pause.pause("still full") == pytest.approx(0.5)  # capped
    assert len(events(caplog, "paused", ".")) == 3 and not pause.resumed()  # still paused
    now[0] += 0.55
    assert pause.resumed() and events(caplog, "resumed", ".")
    assert pause.pause("full again") == pytest.approx(0.2)  # short again after a resume


# -- intake -----------------------------------------------------------------------------------------

def test_intake_takes_only_recordings_it_may_read(folder, tmp_path, caplog):
    tone(folder / "a.wav")
    tone(folder / "sub" / "b.wav", freq=550)
    tone(folder / ".hidden" / "c.wav")  # a hidden folder
    tone(folder / "out" / "d.wav")  # the output folder
    tone(folder / "ivp-report" / "e.wav")  # one of our outputs
    (folder / "f.wav.part").write_bytes(tone(tmp_path / "f.wav").read_bytes())  # a partial download
    (folder / "notes.txt").write_text("not audio")
    stale = folder / ".ivp-tmp-abc123x.tmp"  # a torn write of ours
    stale.write_text("{half")
    mine = folder / ".notes.json.backup1.tmp"  # a user's file that only looks alike
    mine.write_text("mine")
    os.mkfifo(folder / "pipe.wav")  # never opened: reading it would block
    outside = tone(tmp_path / "elsewhere" / "g.wav", freq=660)
    (folder / "link.wav").symlink_to(outside)  # leaves the folder
    (folder / "inner.wav").symlink_to(folder / "a.wav")  # stays inside

    rooms = Rooms(folder, out_dir=folder / "out")
    found = [rooms.place.rel(p) for p in rooms.intake.walk(folder, cleanup=True)]
    assert found == ["a.wav", "inner.wav", "sub/b.wav"]
    assert not stale.exists() and mine.exists()
    assert events(caplog, "cleaned", ".ivp-tmp-abc123x.tmp")
    assert len(events(caplog, "skipped", "pipe.wav")) == 1
    assert len(events(caplog, "skipped", "link.wav")) == 1
    list(rooms.intake.walk(folder))  # a refusal is logged once, not at every scan
    assert len(events(caplog, "skipped", "link.wav")) == 1

    follow = Rooms(folder, out_dir=folder / "out", follow_links=True)
    assert "link.wav" in [follow.place.rel(p) for p in follow.intake.walk(folder)]
    assert not follow.intake.watchable(folder / ".hidden" / "c.wav")
    assert not follow.intake.watchable(folder / "out" / "d.wav")
    assert follow.intake.watchable(folder / "new.wav") and not follow.intake.watchable(folder / "notes.txt")


def test_a_growing_file_is_queued_only_once_it_settles(folder, tmp_path, caplog):
    data = tone(tmp_path / "src.wav", seconds=2.0).read_bytes()
    target = folder / "copy.wav"
    rooms = Rooms(folder)
    with open(target, "wb") as fh:
        fh.write(data[:20_000])
        fh.flush()
        assert rooms.intake.scan() == 1 and target in rooms.settle
        for i in range(1, 4):  # still being written: every look finds it changed
            fh.write(data[i * 20_000:(i + 1) * 20_000])
            fh.flush()
            os.utime(target, ns=(time.time_ns(), time.time_ns() + i * 1_000_000))
            rooms.clock.now += 1.0
            rooms.intake.tick()
            assert rooms.ledger.pending() == 0 and rooms.ledger.path("copy.wav") is None
        fh.write(data[80_000:])
    assert len(events(caplog, "waiting", "copy.wav")) == 1
    rooms.clock.now += 0.2  # quiet, but not for settle_s yet
    rooms.intake.tick()
    assert rooms.ledger.pending() == 0
    rooms.clock.now += 1.0
    rooms.intake.tick()
    row = rooms.ledger.get(sha(target))
    assert row is not None and row["state"] == "queued" and row["path"] == "copy.wav"
    assert sha(target) == sha(tmp_path / "src.wav") and rooms.wake.is_set()
    assert rooms.intake.idle()


def test_a_second_copy_of_the_same_content_is_a_duplicate(folder, caplog):
    tone(folder / "a.wav")
    rooms = Rooms(folder)
    rooms.settled("a.wav")
    key = rooms.ledger.path("a.wav")["sha256"]
    (folder / "copy of a.wav").write_bytes((folder / "a.wav").read_bytes())
    rooms.settled("copy of a.wav")
    assert rooms.ledger.path("copy of a.wav")["sha256"] == key
    assert rooms.ledger.get(key)["path"] == "a.wav"  # one content, one job
    assert rooms.ledger.pending() == 1 and len(rooms.ledger.all_files()) == 1
    assert "will be copied when it finishes" in events(caplog, "duplicate", "copy of a.wav")[0]

    # the content fails: the duplicate name gets its own error file naming the reason
    rooms.worker.failed(rooms.claim() | {"attempts": 2}, "decode", "no audio stream")
    error = json.loads((folder / "copy of a.error.json").read_text())
    assert error["stage"] == "decode" and error["reason"] == "no audio stream"
    assert error["file"] == str(folder / "copy of a.wav") and error["sha256"] == key
    # a third name arriving later gets the error at once
    (folder / "third.wav").write_bytes((folder / "a.wav").read_bytes())
    rooms.settled("third.wav")
    assert "it failed before" in events(caplog, "duplicate", "third.wav")[0]
    assert json.loads((folder / "third.error.json").read_text())["reason"] == "no audio stream"


def test_a_known_content_with_its_sidecar_is_not_taken_again(folder, caplog):
    audio = tone(folder / "a.wav")
    rooms = Rooms(folder)
    rooms.settled("a.wav")
    key = sha(audio)
    out = rooms.place.output_for(audio)
    out.write_text("{}")  # intake only looks whether the output is there
    signature = FAST.signature()
    rooms.ledger.claim()
    rooms.ledger.finish(key, "a.interview.json", signature, 1.0, None, None, [])

    again = Rooms(folder)  # a restart: nothing waits in the settle tracker
    assert again.intake.scan(cleanup=True) == 0 and again.intake.idle()
    assert again.ledger.pending() == 0
    again.intake.register(audio, "a.wav", key, audio.stat().st_size, audio.stat().st_mtime_ns)
    assert again.ledger.pending() == 0 and events(caplog, "unchanged", "a.wav")

    out.unlink()  # the sidecar went missing: the next full scan queues it again
    again.intake.scan()
    assert again.ledger.get(key)["state"] == "queued"
    assert "its sidecar is missing" in events(caplog, "queued", "a.wav")[-1]

    rooms.ledger.claim()
    rooms.ledger.finish(key, "a.interview.json", signature, 1.0, None, None, [])
    out.write_text("{}")
    (folder / "ivp.toml").write_text("min_silence_s = 2.5\n")  # other settings: processed again
    third = Rooms(folder)
    third.intake.scan()
    assert third.ledger.get(key)["state"] == "queued"
    assert "settings changed" in events(caplog, "queued", "a.wav")[-1]


def test_a_file_changed_under_the_same_name_is_a_new_content(folder, caplog):
    audio = tone(folder / "a.wav")
    rooms = Rooms(folder)
    rooms.settled("a.wav")
    old = sha(audio)
    tone(audio, freq=880, seconds=1.5)
    rooms.settled("a.wav")
    assert rooms.ledger.path("a.wav")["sha256"] == sha(audio) != old
    assert "changed since it was processed" in events(caplog, "queued", "a.wav")[-1]


# -- worker -----------------------------------------------------------------------------------------

def queued(folder: Path, stand_in: StandIn, name: str = "a.wav", max_attempts: int = 2) -> Rooms:
    tone(folder / name)
    rooms = Rooms(folder, make_pipeline=stand_in.factory, max_attempts=max_attempts)
    rooms.settled(name)
    return rooms


def test_an_output_error_pauses_and_counts_nothing(folder, caplog):
    stand_in = StandIn(OutputError(str(folder), "cannot write: No space left on device"))
    rooms = queued(folder, stand_in)
    rooms.worker.run_job(WorkerState(0), rooms.claim())
    [row] = rooms.ledger.all_files()
    assert stand_in.calls == ["a.wav"]
    assert row["state"] == "queued" and row["attempts"] == 0 and row["last_error"] is None
    assert rooms.pause.active() and "No space left" in events(caplog, "paused", ".")[0]
    assert not (folder / "a.error.json").exists() and not rooms.worker.busy()

    # the same from a plain OSError with a disk errno
    rooms.pause = Pause(rooms.log)
    rooms.worker.pause = rooms.pause
    stand_in.exc = OSError(errno.ENOSPC, "No space left on device")
    rooms.worker.run_job(WorkerState(0), rooms.claim())
    assert rooms.ledger.all_files()[0]["attempts"] == 0 and rooms.pause.active()


def test_a_files_own_error_is_retried_then_failed_with_an_error_file(folder, caplog):
    stand_in = StandIn(DecodeError(str(folder / "a.wav"), "no audio stream in the file"))
    rooms = queued(folder, stand_in)
    rooms.worker.run_job(WorkerState(0), rooms.claim())
    [row] = rooms.ledger.all_files()
    assert row["state"] == "queued" and row["attempts"] == 1
    assert (row["stage"], row["last_error"]) == ("decode", "no audio stream in the file")
    assert "attempt 1/2" in events(caplog, "retry", "a.wav")[0]
    assert not (folder / "a.error.json").exists() and not rooms.pause.active()

    rooms.worker.run_job(WorkerState(0), rooms.claim())
    [row] = rooms.ledger.all_files()
    assert row["state"] == "failed" and row["attempts"] == 2 and stand_in.calls == ["a.wav"] * 2
    error = json.loads((folder / "a.error.json").read_text())
    assert error["stage"] == "decode" and error["reason"] == "no audio stream in the file"
    assert error["attempts"] == 2 and error["sha256"] == sha(folder / "a.wav")
    assert "after 2 attempt(s)" in events(caplog, "failed", "a.wav")[0]
    assert rooms.ledger.claim() is None  # nothing left to do


def test_a_crash_inside_the_pipeline_is_the_files_error(folder, caplog):
    rooms = queued(folder, StandIn(ZeroDivisionError("division by zero")), max_attempts=1)
    rooms.worker.run_job(WorkerState(0), rooms.claim())
    [row] = rooms.ledger.all_files()
    assert row["state"] == "failed" and row["stage"] == "internal"
    assert "ZeroDivisionError" in row["last_error"]
    assert json.loads((folder / "a.error.json").read_text())["stage"] == "internal"


def test_an_interrupted_job_goes_back_uncounted(folder, caplog):
    stand_in = StandIn(Cancelled("stopping"))
    rooms = queued(folder, stand_in)
    rooms.worker.run_job(WorkerState(0), rooms.claim())
    [row] = rooms.ledger.all_files()
    assert stand_in.calls == ["a.wav"]
    assert row["state"] == "queued" and row["attempts"] == 0 and row["last_error"] is None
    assert events(caplog, "interrupted", "a.wav") and not rooms.pause.active()


def test_settings_that_do_not_load_fail_at_once_without_running(folder, caplog):
    stand_in = StandIn()
    rooms = queued(folder, stand_in, max_attempts=3)
    (folder / "ivp.toml").write_text("speakers = 'two'\n")
    rooms.place.settings.clear()
    rooms.worker.run_job(WorkerState(0), rooms.claim())
    [row] = rooms.ledger.all_files()
    assert stand_in.calls == [] and row["state"] == "failed" and row["stage"] == "config"
    assert "speakers" in row["last_error"] and row["attempts"] == 1  # no retry: a person fixes it


def test_a_file_gone_before_its_turn_is_dropped(folder, caplog):
    stand_in = StandIn()
    rooms = queued(folder, stand_in)
    (folder / "a.wav").unlink()
    rooms.worker.run_job(WorkerState(0), rooms.claim())
    assert stand_in.calls == [] and rooms.ledger.all_files() == []
    assert events(caplog, "skipped", "a.wav")


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    """A real 4 s stereo clip processed once by the worker with the real pipeline."""
    folder = tmp_path_factory.mktemp("real") / "watched"
    folder.mkdir()
    clip = folder / "clip.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", "20", "-i", str(STEREO),
                    "-t", "4", "-ar", "16000", str(clip)], check=True)
    rooms = Rooms(folder)  # the real pipeline (the default factory)
    rooms.settled("clip.wav")
    rooms.worker.run_job(WorkerState(0), rooms.claim())
    rooms.ledger.close()
    return folder


@pytest.mark.slow
def test_the_worker_processes_a_real_recording(processed):
    clip = processed / "clip.wav"
    ledger = Ledger(processed / ".ivp" / "state.db")
    row = ledger.get(sha(clip))
    assert row["state"] == "done" and row["attempts"] == 1, row
    assert row["output"] == "clip.interview.json" and 3.5 < row["duration_s"] < 4.5
    interview = sidecar.read(processed / "clip.interview.json")
    assert interview.source.sha256 == sha(clip) and interview.source.path == str(clip)
    assert ledger.path("clip.wav")["output"] == "clip.interview.json"
    ledger.close()


@pytest.mark.slow
def test_an_up_to_date_sidecar_is_just_marked_done(processed, caplog):
    out = processed / "clip.interview.json"
    before = out.stat().st_mtime_ns
    stand_in = StandIn()
    rooms = Rooms(processed, make_pipeline=stand_in.factory)
    key = sha(processed / "clip.wav")
    rooms.ledger.enqueue(key, "clip.wav")  # as if killed between the rename and the done mark
    rooms.worker.run_job(WorkerState(0), rooms.claim())
    assert stand_in.calls == []  # not processed again
    assert rooms.ledger.get(key)["state"] == "done"
    assert "already up to date" in events(caplog, "finished", "clip.wav")[0]
    assert out.stat().st_mtime_ns == before

    # with other settings the same sidecar is not up to date: the pipeline runs
    (processed / "ivp.toml").write_text("min_silence_s = 2.5\n")
    try:
        rooms.place.settings.clear()
        rooms.ledger.enqueue(key, "clip.wav")
        rooms.worker.run_job(WorkerState(0), rooms.claim())
        assert stand_in.calls == ["clip.wav"]
    finally:
        (processed / "ivp.toml").unlink()
    rooms.ledger.close()


def test_an_unreadable_file_is_keyed_by_its_name(folder, monkeypatch, caplog):
    audio = tone(folder / "locked.wav")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if Path(p).name == audio.name
                        else real_access(p, mode, *a, **k))
    rooms = Rooms(folder)
    rooms.settled("locked.wav")
    assert rooms.ledger.path("locked.wav")["sha256"] == PSEUDO_PREFIX + "locked.wav"
    monkeypatch.setattr(os, "access", real_access)
    rooms.intake.scan()  # readable now: hashed and queued as its content
    rooms.clock.now += 1.0
    rooms.intake.tick()
    assert rooms.ledger.path("locked.wav")["sha256"] == sha(audio)
    assert "readable now" in events(caplog, "queued", "locked.wav")[-1]
