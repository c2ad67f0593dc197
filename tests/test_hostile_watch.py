"""Hostile input to ``ivp watch`` / ``ivp status`` (issue 9), on real clips cut from the bundled sample.

Every watcher is a real ``ivp watch`` process, bounded by a timeout; stderr never holds a traceback.
Disk-full and read-only outputs use a private mount namespace (``unshare -m``) with a small tmpfs.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hostile_kit import CHANNELS, ROOT, cut, env, ivp, needs_namespaces, originals, snapshot
from kit import patient, sha, wait_for
from pipeline import sidecar

pytestmark = pytest.mark.slow  # a real watcher on real audio, killed, starved of disk and restarted


def log(folder: Path) -> str:
    path = folder / ".ivp" / "watch.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def watch(folder: Path, *args: str, prefix: tuple[str, ...] = (), stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen([*prefix, sys.executable, "-m", "pipeline", "watch", str(folder),
                             "--settle", "0.3", *args], cwd=ROOT, env=env(), stdout=subprocess.DEVNULL,
                            stderr=stderr, text=True, errors="replace")


def finish(proc: subprocess.Popen, timeout: float = 300) -> str:
    try:
        _, err = proc.communicate(timeout=patient(timeout))
    finally:
        proc.kill()
    err = err or ""
    assert "Traceback" not in err, err
    return err


def status(folder: Path) -> dict:
    proc = ivp("status", str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    return {f["path"]: f for f in json.loads(proc.stdout)["files"]}


@pytest.fixture(scope="module")
def wzoo(tmp_path_factory):
    """A watched folder of traps, watched once with ``--once``."""
    base = tmp_path_factory.mktemp("wzoo")
    w = base / "w"
    w.mkdir()
    (w / "ivp.toml").write_text(CHANNELS)
    cut(w / "good.wav", 0.0, 3.0)
    cut(w / "call.flac", 10.0, 3.0)
    cut(w / "call.wav", 20.0, 3.0)
    cut(w / "odd\nname.wav", 30.0, 3.0)
    (w / "[").mkdir()
    cut(w / "[" / "[bold]x.wav", 40.0, 3.0)
    os.mkfifo(w / "fifo.wav")
    os.symlink("/dev/zero", w / "zero.wav")
    cut(base / "outside.wav", 50.0, 3.0)
    os.symlink(base / "outside.wav", w / "outside.wav")
    (w / "good_clips").mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(w / "good.wav"), "-t", "1", "-c:a", "aac",
                    str(w / "good_clips" / "01_00h00m01s_moment.m4a")], check=True, timeout=patient(60))
    (w / ".notes.json.backup1.tmp").write_text("a user's file")  # looks like a temp file; is not
    (w / ("e" * 246 + ".mp3")).write_text("not audio")  # a 250-byte name that fails: its error file
    (base / "elsewhere").mkdir()
    os.symlink(base / "elsewhere", w / "ivp-report")  # a planted report link
    try:  # a device node inside the folder (a copy of /dev/zero): refused for what it is
        os.mknod(w / "[" / "zero.wav", 0o666 | __import__("stat").S_IFCHR, os.makedev(1, 5))
    except OSError:
        pass
    for i, (name, toml) in enumerate((("bad", "beam_size = 1000000\n"), ("nan", "min_silence_s = nan\n"),
                                      ("evil", f'cache_dir = "{base / "planted"}"\n'))):
        (w / name).mkdir()
        (w / name / "ivp.toml").write_text(toml)
        cut(w / name / f"{name}.wav", 60.0 + 5 * i, 3.0)
    before, around = originals(w), snapshot(base / "elsewhere")
    started = time.monotonic()
    err = finish(watch(w, "--once", "--max-attempts", "1"), timeout=400)
    return {"w": w, "base": base, "err": err, "before": before, "around": around,
            "seconds": time.monotonic() - started, "status": status(w)}


def test_4_5_6_traps_are_skipped_and_nothing_outside_is_written(wzoo):
    w, st, text = wzoo["w"], wzoo["status"], log(wzoo["w"])
    assert originals(w) == wzoo["before"]
    assert "skipped    fifo.wav: not a regular file (a FIFO)" in text
    assert "skipped    zero.wav: a symbolic link that leaves the folder" in text
    assert "outside.wav: a symbolic link that leaves the folder" in text
    if (w / "[" / "zero.wav").exists():
        assert "skipped    [/zero.wav: not a regular file (a device)" in text
    assert not {"fifo.wav", "zero.wav", "outside.wav"} & set(st)
    assert not list((w / "good_clips").glob("*.json")) and "good_clips/01_00h00m01s_moment.m4a" not in st
    assert snapshot(wzoo["base"] / "elsewhere") == wzoo["around"] == {}  # the report link was not followed
    assert "not writing the report" in text
    assert not (wzoo["base"] / "planted").exists()
    assert (w / ".notes.json.backup1.tmp").read_text() == "a user's file"
    assert not [p for p in w.rglob(".ivp-tmp-*")]


def test_1_8_16_one_output_each_and_bad_settings_fail_only_their_folder(wzoo):
    w, st = wzoo["w"], wzoo["status"]
    done = {p for p, f in st.items() if f["state"] == "done"}
    assert done == {"good.wav", "call.flac", "call.wav", "odd\nname.wav", "[/[bold]x.wav"}
    for rel in done:
        iv = sidecar.read(sidecar.sidecar_path(w / rel))
        assert iv.source.sha256 == sha(w / rel) and iv.source.path == str(w / rel)
        assert iv.pipeline.diarizer == "channels"  # the root ivp.toml cascades down
    assert (w / "call.flac.interview.json").is_file() and (w / "call.wav.interview.json").is_file()
    failed = {p: f for p, f in st.items() if f["state"] == "failed"}
    long_name = "e" * 246 + ".mp3"
    assert set(failed) == {"bad/bad.wav", "nan/nan.wav", "evil/evil.wav", long_name}
    assert failed.pop(long_name)["stage"] == "decode"
    errors = [p for p in w.glob("eeee*.error.json")]  # the error file of a 250-byte name is written
    assert len(errors) == 1 and len(errors[0].name.encode()) <= 255
    assert json.loads(errors[0].read_text())["file"] == str(w / long_name)
    assert all(f["stage"] == "config" and f["attempts"] == 1 for f in failed.values())
    assert "beam_size = 1000000: must be a whole number with 1 <= value <= 16" in failed["bad/bad.wav"]["error"]
    err_file = json.loads((w / "bad" / "bad.error.json").read_text())
    assert err_file["file"] == str(w / "bad" / "bad.wav") and "ivp.toml" in err_file["reason"]


def test_8_a_fixed_setting_is_picked_up_on_the_next_start(wzoo):
    w = wzoo["w"]
    (w / "bad" / "ivp.toml").write_text("beam_size = 2\n")
    finish(watch(w, "--once", "--no-report"), timeout=300)
    st = status(w)
    assert st["bad/bad.wav"]["state"] == "done" and st["nan/nan.wav"]["state"] == "failed"
    assert not (w / "bad" / "bad.error.json").exists()
    assert sidecar.read(w / "bad" / "bad.interview.json").pipeline.settings["beam_size"] == 2
    assert len([ln for ln in log(w).splitlines() if " started    good.wav" in ln]) == 1  # not redone


def test_15_names_are_escaped_in_log_and_status(wzoo):
    w = wzoo["w"]
    assert "odd\\nname.wav" in log(w) and "\nname.wav" not in log(w)
    proc = ivp("status", str(w))
    assert proc.returncode == 0, proc.stderr
    assert "[/[bold]x.wav" in proc.stdout and "odd\\nname.wav" in proc.stdout


@pytest.mark.parametrize("damage", ["garbage", "zero bytes", "corrupted page"])
def test_10_a_damaged_ledger_is_moved_aside_and_rebuilt(tmp_path, damage):
    w = tmp_path / "w"
    w.mkdir()
    (w / "ivp.toml").write_text(CHANNELS)
    cut(w / "a.wav", 70.0, 3.0)
    finish(watch(w, "--once", "--no-report"), timeout=300)
    out = w / "a.interview.json"
    made = out.stat().st_mtime_ns
    db = w / ".ivp" / "state.db"
    data = bytearray(db.read_bytes())
    if damage == "garbage":
        db.write_bytes(os.urandom(len(data)))
    elif damage == "zero bytes":
        db.write_bytes(b"")
    else:  # every page after the first overwritten: the schema says tables exist, their pages are junk
        page = int.from_bytes(data[16:18], "big")
        db.write_bytes(bytes(data[:page]) + os.urandom(len(data) - page))
    if damage != "zero bytes":
        proc = ivp("status", str(w))
        assert proc.returncode == 1 and "state database damaged" in proc.stderr
        assert "moves it aside and rebuilds it" in proc.stderr and len(proc.stderr.splitlines()) == 1
    finish(watch(w, "--once", "--no-report"), timeout=300)
    st = status(w)
    assert st["a.wav"]["state"] == "done"
    assert out.stat().st_mtime_ns == made  # rebuilt from the sidecar, not transcribed again
    if damage != "zero bytes":
        assert "moved it aside" in log(w) and list((w / ".ivp").glob("state.db.damaged-*"))


def test_13_kills_mid_file_are_not_failed_attempts(tmp_path):
    w = tmp_path / "w"
    w.mkdir()
    (w / "ivp.toml").write_text(CHANNELS)
    cut(w / "long.wav", 0.0, 60.0)
    before = sha(w / "long.wav")
    for n in range(3):  # three SIGKILLs while the file is in flight (--max-attempts is 3)
        proc = watch(w, "--no-report")
        try:
            wait_for(lambda: log(w).count(" started    long.wav") > n, 120, "the file to start")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(patient(30))
        finally:
            proc.kill()
        if "finished   long.wav" in log(w):
            pytest.skip("the machine finished the file before the kill")
    finish(watch(w, "--once", "--no-report"), timeout=400)
    f = status(w)["long.wav"]
    assert f["state"] == "done" and f["attempts"] == 1, f
    assert sidecar.read(w / "long.interview.json").source.sha256 == before == sha(w / "long.wav")


def _ns(script: str) -> tuple[str, ...]:
    return ("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh")


@needs_namespaces
def test_9_disk_full_pauses_and_resumes(tmp_path):
    w = tmp_path / "w"
    w.mkdir()
    clip = cut(tmp_path / "a.wav", 80.0, 3.0)
    script = (f'mount -t tmpfs -o size=8m tmpfs "{w}" && printf \'{CHANNELS}\' > "{w}/ivp.toml" '
              f'&& exec "$@"')
    err_path = tmp_path / "stderr.txt"
    with open(err_path, "w") as err_file:  # on the real disk: the log in the folder cannot grow
        proc = watch(w, "--no-report", "--rescan", "1", prefix=_ns(script), stderr=err_file)
    inside = Path(f"/proc/{proc.pid}/root") / str(w).lstrip("/")
    stderr = lambda: err_path.read_text(errors="replace")  # noqa: E731
    try:
        wait_for(lambda: "watching" in stderr(), 60, "the watcher to start")
        time.sleep(1.0)
        (inside / "a.wav").write_bytes(clip.read_bytes())
        filler = inside / "filler"
        with open(filler, "wb") as fh:  # the disk fills up before the file settles
            try:
                while True:
                    fh.write(b"\0" * (1 << 16))
                    fh.flush()
            except OSError:
                pass
        wait_for(lambda: "paused" in stderr(), 60, "the watcher to say it paused")
        assert proc.poll() is None  # still running
        filler.unlink()  # space is back
        wait_for(lambda: (inside / "a.interview.json").exists(), 120, "the file after space returned")
        iv = sidecar.read(inside / "a.interview.json")
        assert iv.source.sha256 == sha(clip)
        proc.send_signal(signal.SIGTERM)
        proc.wait(patient(60))
    finally:
        proc.kill()
    err = stderr()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Logging error" not in err, err
    assert "paused" in err and "nothing is lost" in err


@needs_namespaces
def test_12_unwritable_output_pauses_then_resumes_without_failing(tmp_path):
    w, out = tmp_path / "w", tmp_path / "out"
    w.mkdir()
    out.mkdir()
    (w / "ivp.toml").write_text(CHANNELS)
    script = f'mount -t tmpfs -o ro,size=8m tmpfs "{out}" && exec "$@"'
    proc = watch(w, "--no-report", "--out", str(out), prefix=_ns(script))
    try:
        wait_for(lambda: "watching" in log(w), 60, "the watcher to start")
        cut(w / "a.wav", 90.0, 3.0)
        wait_for(lambda: "output problem" in log(w), 60, "the output problem to be reported")
        time.sleep(1.0)
        st = status(w)
        assert st["a.wav"]["state"] == "queued" and st["a.wav"]["attempts"] == 0, st
        subprocess.run(["nsenter", "-t", str(proc.pid), "-m", "mount", "-o", "remount,rw", str(out)],
                       check=True, timeout=patient(30))
        inside = Path(f"/proc/{proc.pid}/root") / str(out).lstrip("/")
        wait_for(lambda: (inside / "a.interview.json").exists(), 120, "the sidecar once writable")
        proc.send_signal(signal.SIGTERM)
        finish(proc, timeout=60)
    finally:
        proc.kill()
    f = status(w)["a.wav"]
    assert f["state"] == "done" and f["attempts"] == 1, f
    assert "output problem" in log(w) and "internal error" not in log(w)


def test_4_a_fifo_never_blocks_and_the_first_sigterm_stops_the_watcher(tmp_path):
    w = tmp_path / "w"
    w.mkdir()
    os.mkfifo(w / "pipe.wav")
    os.symlink("/dev/zero", w / "zero.mp3")
    for rnd in range(2):  # and again on a restart
        proc = watch(w, "--no-report")
        try:
            wait_for(lambda: "skipped    pipe.wav" in log(w) and log(w).count("watching") > rnd, 60,
                     "the watcher to skip the FIFO")
            proc.send_signal(signal.SIGTERM)
            err = finish(proc, timeout=20)  # the first SIGTERM: no second one is ever sent
        finally:
            proc.kill()
        assert proc.returncode == 0, err
    assert not status(w)


def test_3_rebuilding_the_state_keeps_a_duplicates_own_fix_and_marks(tmp_path):
    """Two names of one content: the copy's own roles fix and mark survive ``rm -rf .ivp`` and a
    new watcher run; the original gets neither."""
    w = tmp_path / "w"
    w.mkdir()
    (w / "ivp.toml").write_text(CHANNELS)
    cut(w / "a.wav", 80.0, 3.0)
    (w / "b-copy.wav").write_bytes((w / "a.wav").read_bytes())
    finish(watch(w, "--once", "--no-report"), timeout=300)
    a, b = w / "a.interview.json", w / "b-copy.interview.json"
    assert sidecar.read(a).roles.interviewer == sidecar.read(b).roles.interviewer
    swapped = ivp("roles", str(w / "b-copy.wav"), "--swap")
    assert swapped.returncode == 0, swapped.stderr
    marked = ivp("mark", str(w / "b-copy.wav"), "1.5", "the copy's own mark")
    assert marked.returncode == 0, marked.stderr
    fixed = sidecar.read(b)
    assert fixed.roles.interviewer != sidecar.read(a).roles.interviewer
    assert any(m.label == "the copy's own mark" for m in fixed.moments)
    before = originals(w)
    subprocess.run(["rm", "-rf", str(w / ".ivp")], check=True)  # the docs call this safe
    finish(watch(w, "--once", "--no-report"), timeout=300)
    after = sidecar.read(b)
    assert after.roles.interviewer == fixed.roles.interviewer
    assert after.roles.evidence.get("override", {}).get("by") == "ivp roles"
    assert any(m.label == "the copy's own mark" for m in after.moments)
    assert not any(m.label == "the copy's own mark" for m in sidecar.read(a).moments)
    assert status(w)["b-copy.wav"]["state"] == "duplicate"
    assert originals(w) == before
