"""Hostile input to ``ivp process`` (issue 9), on real clips cut from the bundled sample.

One folder full of traps is processed once (module fixture); the tests read what that run left.
Each CLI run is bounded by a subprocess timeout; every test checks there was no traceback.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from hostile_kit import CHANNELS, cut, env, ivp, needs_namespaces, originals, snapshot
from kit import patient, sha
from pipeline import sidecar
from pipeline.config import Config
from pipeline.runner import Pipeline

pytestmark = pytest.mark.slow  # ivp process on real audio, in namespaces and subprocesses

LONG = "n" * 246 + ".wav"  # 250 bytes
NEWLINE_FIFO = "fifo\nerror: forged.wav"
MARKS = "\n".join([
    "00:00:01 =HYPERLINK(\"http://evil.example/\",\"click\")",
    "00:00:02 =cmd|' /C calc'!A0",
    "00:00:03 @SUM(1+1)",
    "9" * 320 + " a time with 320 digits",
    "00:00:03.5 " + "L" * 1500,  # a long label: kept, cut to 200 characters
    "00:00:02.5 " + "x" * (20 << 20),  # a 20 MB line
]) + "\n"


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """A folder of traps, processed once with ``ivp process zoo <fifo>``."""
    base = tmp_path_factory.mktemp("hostile")
    z = base / "zoo"
    (z / "ivp.toml").parent.mkdir(parents=True)
    (z / "ivp.toml").write_text(CHANNELS + "min_silence_s = 1.5\n")
    cut(z / "call.flac", 0.0)
    cut(z / "call.wav", 12.0)
    (z / "call.marks.txt").write_text(MARKS)
    cut(z / LONG, 24.0)
    cut(z / "new\nline.wav", 36.0)
    os.mkfifo(z / "fifo.wav")
    os.mkfifo(z / NEWLINE_FIFO)
    os.symlink("/dev/zero", z / "zero.wav")
    cut(base / "elsewhere.wav", 48.0)
    os.symlink(base / "elsewhere.wav", z / "outside.wav")
    clips = z / "call_clips"
    clips.mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(z / "call.wav"), "-t", "1", "-c:a", "aac",
                    str(clips / "01_00h00m01s_moment.m4a")], check=True, timeout=patient(60))
    for name, toml in (("sub", "min_silence_s = 2.5\n"), ("bad", "beam_size = 1000000\n"),
                       ("nan", "min_silence_s = nan\n"), ("str", 'min_silence_s = "2"\n'),
                       ("evil", f'cache_dir = "{base / "planted-cache"}"\n')):
        (z / name).mkdir()
        (z / name / "ivp.toml").write_text(toml)
        cut(z / name / f"{name}.wav", 60.0 + len(name))
    before = originals(z)
    around = snapshot(base)
    proc = ivp("process", str(z), str(z / NEWLINE_FIFO), "--json", timeout=600)
    return {"base": base, "z": z, "proc": proc, "before": before, "around": around,
            "results": {Path(r["path"]).name: r for r in json.loads(proc.stdout)}}


def _sidecars(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.interview.json") if ".ivp" not in p.parts)


def test_the_run_is_bounded_and_originals_untouched(zoo):
    z = zoo["z"]
    assert zoo["proc"].returncode == 1  # some files fail; none stops the batch
    assert originals(z) == zoo["before"]
    # nothing written outside the folder: the planted cache_dir was never created
    assert not (zoo["base"] / "planted-cache").exists()
    outside = {k: v for k, v in snapshot(zoo["base"]).items() if not k.startswith(str(z))}
    assert outside == {k: v for k, v in zoo["around"].items() if not k.startswith(str(z))}
    assert (z / ".ivp" / "cache").is_dir()  # the stage cache is on for ivp process too


def test_1_no_sidecar_collisions_one_output_per_recording(zoo):
    z = zoo["z"]
    flac, wav = z / "call.flac.interview.json", z / "call.wav.interview.json"
    assert sidecar.read(flac).source.sha256 == sha(z / "call.flac")
    assert sidecar.read(wav).source.sha256 == sha(z / "call.wav")
    assert not (z / "call.interview.json").exists()
    good = ["call.flac", "call.wav", LONG, "new\nline.wav", "sub/sub.wav"]
    made = _sidecars(z)
    assert len(made) == len(good)
    assert {sidecar.read(p).source.path for p in made} == {str(z / g) for g in good}


def test_1_same_name_in_two_input_folders_with_out(tmp_path):
    for d, start in (("a", 0.0), ("b", 20.0)):
        cut(tmp_path / d / "interview.flac", start)
        (tmp_path / d / "ivp.toml").write_text(CHANNELS)
    proc = ivp("process", "a", "b", "--out", "res", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    a, b = tmp_path / "res" / "a" / "interview.interview.json", tmp_path / "res" / "b" / "interview.interview.json"
    assert sidecar.read(a).source.sha256 == sha(tmp_path / "a" / "interview.flac")
    assert sidecar.read(b).source.sha256 == sha(tmp_path / "b" / "interview.flac")
    assert sidecar.read(a).source.path == str(tmp_path / "a" / "interview.flac")  # absolute
    again = ivp("process", "a", "b", "--out", "res", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.count("up to date, skipped") == 2  # no rework


def test_2_a_file_name_is_never_a_url(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    port = server.getsockname()[1]
    names = [f"http:127.0.0.1:{port}.wav", f"tcp:127.0.0.1:{port}.wav"]
    for i, name in enumerate(names):
        cut(tmp_path / name, 5.0 + 20 * i, seconds=3.0)
    try:
        proc = ivp("process", *names, "--diarizer", "channels", cwd=tmp_path)
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr
    for name in names:
        iv = sidecar.read(sidecar.sidecar_path(tmp_path / name))
        assert iv.source.sha256 == sha(tmp_path / name) and abs(iv.source.duration_s - 3.0) < 0.2
        assert iv.source.path == str(tmp_path / name)


def test_4_fifos_and_device_links_are_never_opened(zoo):
    z, results = zoo["z"], zoo["results"]
    assert not {"fifo.wav", "zero.wav", "outside.wav"} & set(results)  # not candidates in a folder
    assert not (z / "outside.interview.json").exists()  # a link out of the folder is not followed
    line = next(ln for ln in zoo["proc"].stderr.splitlines() if "fifo" in ln)
    assert "not a regular file (a FIFO)" in line


def test_5_a_folder_setting_cannot_send_writes_elsewhere(zoo):
    err = zoo["proc"].stderr
    assert f"{zoo['z'] / 'evil' / 'ivp.toml'}: config: cache_dir" in err and "must be a folder inside" in err
    assert not (zoo["base"] / "planted-cache").exists()


def test_7_spreadsheet_formulas_are_neutralised(zoo, tmp_path):
    wav = zoo["z"] / "call.wav.interview.json"
    proc = ivp("export", str(wav), "--format", "csv,audacity", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    csv_text = (tmp_path / "call.wav.moments.csv").read_text()
    labels = (tmp_path / "call.wav.labels.txt").read_text()
    for text in (csv_text, labels):
        assert "HYPERLINK" in text and "cmd|" in text and "SUM(" in text  # the marks are there ...
        for line in text.splitlines():  # ... and no cell starts like a formula
            cells = line.split("\t") if text is labels else next(__import__("csv").reader([line]))
            assert not any(c[:1] in "=+-@" for c in cells if c), line


def test_8_bad_settings_fail_only_their_folder_with_one_line(zoo):
    z, err = zoo["z"], zoo["proc"].stderr
    lines = [ln for ln in err.splitlines() if ": config: " in ln]
    assert len(lines) == 4, err  # bad, nan, str, evil
    assert any(f"{z / 'bad' / 'ivp.toml'}: config: beam_size = 1000000: must be a whole number with "
               "1 <= value <= 16" in ln for ln in lines)
    assert any("min_silence_s = nan" in ln for ln in lines)
    assert any("min_silence_s = '2'" in ln and "must be a number" in ln for ln in lines)
    for name in ("bad", "nan", "str", "evil"):
        assert not _sidecars(z / name)
    # the cascade: root ivp.toml (channels, 1.5 s) and then sub/ivp.toml (2.5 s)
    sub = sidecar.read(z / "sub" / "sub.interview.json").pipeline
    assert sub.diarizer == "channels" and sub.settings["min_silence_s"] == 2.5
    top = sidecar.read(z / "call.wav.interview.json").pipeline
    assert top.diarizer == "channels" and top.settings["min_silence_s"] == 1.5
    text = (z / "call.wav.interview.json").read_text()
    assert "NaN" not in text and "Infinity" not in text


def test_14_bad_marker_lines_are_reported_and_skipped(zoo):
    z = zoo["z"]
    path = z / "call.wav.interview.json"
    assert path.stat().st_size < 200_000  # the 20 MB line did not reach the sidecar
    iv = sidecar.read(path)
    marks = [m for m in iv.moments if m.source == "marker_file"]
    assert len(marks) == 4 and max(len(m.label) for m in marks) <= 200
    notes = [w for w in iv.warnings if w.startswith("marker file")]
    assert any("time too large" in w or "too many digits" in w for w in notes)
    assert any("line too long" in w for w in notes) and all(len(w) < 300 for w in notes)


def test_15_long_and_odd_names(zoo):
    z, err = zoo["z"], zoo["proc"].stderr
    long_sidecars = [p for p in _sidecars(z) if p.name.startswith("nnnn")]
    assert len(long_sidecars) == 1 and len(long_sidecars[0].name.encode()) <= 255
    assert sidecar.read(long_sidecars[0]).source.path == str(z / LONG)
    assert sidecar.read(z / "new\nline.interview.json").source.path == str(z / "new\nline.wav")
    assert not [ln for ln in err.splitlines() if ln.startswith("error: forged")]  # no forged line
    assert "fifo\\nerror: forged.wav" in err
    for line in err.splitlines():
        assert line.startswith("error: ")


def test_16_clips_skipped_paths_absolute_and_stage_cache_reused(zoo):
    z = zoo["z"]
    assert not list((z / "call_clips").glob("*.interview.json"))  # our own clips are skipped
    assert "01_00h00m01s_moment.m4a" not in zoo["results"]
    first = sidecar.read(z / "call.wav.interview.json")
    assert "transcribe" in first.pipeline.stage_seconds
    proc = ivp("process", str(z / "call.wav"), "--interviewer", "right")
    assert proc.returncode == 0, proc.stderr
    again = sidecar.read(z / "call.wav.interview.json")
    assert again.pipeline.settings["interviewer"] == "right"
    assert "transcribe" not in again.pipeline.stage_seconds  # the transcript came from the stage cache
    assert [s.text for s in again.segments] == [s.text for s in first.segments]


def test_16_process_leaves_a_watched_folder_to_its_watcher(tmp_path):
    from pipeline.watch.lock import FolderLock
    cut(tmp_path / "inflight.wav", 80.0, seconds=3.0)
    lock = FolderLock(tmp_path / ".ivp" / "lock")
    lock.acquire()
    try:
        proc = ivp("process", str(tmp_path / "inflight.wav"), "--diarizer", "channels")
    finally:
        lock.release()
    assert proc.returncode == 0, proc.stderr
    assert f"the watcher (pid {os.getpid()})" in proc.stdout
    assert not (tmp_path / "inflight.interview.json").exists()


def test_11_wrong_shaped_cache_entries_are_recomputed(tmp_path):
    clip = cut(tmp_path / "c.wav", 90.0, seconds=3.0)
    digest = sha(clip)
    cache = tmp_path / ".ivp" / "cache" / digest
    cache.mkdir(parents=True)
    transcript = cache / f"transcript.{Pipeline(Config())._asr_key()}.json"  # the default settings' entry
    transcript.write_text('{"segments": [{"begin": 1}]}')  # no version
    (cache / "diarization.channels-2.json").write_text(
        '{"ivp_cache": 2, "stage": "diarization", "key": "channels-2", "data": {"turns": [{"x": 1}]}}')
    proc = ivp("process", str(clip), "--diarizer", "channels")
    assert proc.returncode == 0, proc.stderr
    iv = sidecar.read(tmp_path / "c.interview.json")
    assert "transcribe" in iv.pipeline.stage_seconds and "diarize" in iv.pipeline.stage_seconds
    entry = json.loads(transcript.read_text())
    assert entry["ivp_cache"] == 2 and entry["data"]["segments"] is not None


@needs_namespaces
def test_12_unwritable_out_is_found_before_any_work(tmp_path):
    clip = cut(tmp_path / "in" / "c.wav", 100.0, seconds=3.0)
    ro = tmp_path / "ro"
    ro.mkdir()
    script = f'mount -t tmpfs -o ro,size=1m tmpfs "{ro}" && exec "$@"'
    proc = ivp("process", str(clip), "--out", str(ro), "--diarizer", "channels", timeout=120,
               prefix=("unshare", "-m", "sh", "-c", script, "sh"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"error: {ro}: output: cannot write the outputs here: Read-only")
    assert "(0:03" not in proc.stdout  # nothing was transcribed


def test_3_nothing_touches_the_network(tmp_path):
    import shutil
    clip = cut(tmp_path / "c.wav", 110.0, seconds=3.0)
    trace = tmp_path / "net.trace"
    environ = {k: v for k, v in env().items()
               if k not in ("ORT_DISABLE_TELEMETRY", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")}
    if shutil.which("strace"):
        prefix = ("strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg", "-o", str(trace))
    elif subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        pytest.skip("strace missing; `unshare -n` alone cannot count connection attempts")
    else:
        pytest.skip("neither strace nor network namespaces are available in this sandbox")
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=patient(30))
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here: {probe.stderr.decode(errors='replace').strip()}")
    proc = ivp("process", str(clip), "--diarizer", "channels", environ=environ, prefix=prefix, timeout=600)
    assert proc.returncode == 0, proc.stderr
    calls = trace.read_text(errors="replace").splitlines()
    outward = [c for c in calls if "AF_INET" in c or "AF_INET6" in c or "htons(53)" in c
               or "nscd" in c or "AF_NETLINK" in c and "connect(" in c]
    assert outward == [], outward
