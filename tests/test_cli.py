"""The ivp command as a user runs it: odd file names, a corrupt file in a batch, exit codes, reruns."""
import json
import shutil
import subprocess
import sys

import pytest

from kit import sha

pytestmark = pytest.mark.slow

ODD_NAME = "Call with \"Ann\" & O'Brien – café 2024.wav"


def ivp(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pipeline", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})


@pytest.fixture(scope="module")
def batch(tmp_path_factory, short_clip):
    folder = tmp_path_factory.mktemp("batch")
    shutil.copy(short_clip, folder / ODD_NAME)
    (folder / "nested").mkdir()
    shutil.copy(short_clip, folder / "nested" / "second.wav")
    (folder / "broken.mp3").write_bytes(b"ID3" + b"\x00garbage" * 500)
    (folder / "notes.txt").write_text("not a recording")
    (folder / ".hidden.wav").write_bytes(b"")
    hashes = {p: sha(p) for p in folder.rglob("*") if p.is_file()}
    result = ivp("process", folder, "--json")
    return folder, hashes, result


def test_batch_with_a_corrupt_file_processes_the_rest_and_fails_loudly(batch):
    folder, hashes, result = batch
    assert result.returncode == 1
    rows = {r["path"].split("/")[-1]: r for r in json.loads(result.stdout)}
    assert set(rows) == {ODD_NAME, "second.wav", "broken.mp3"}  # .txt and dot-files ignored
    assert rows[ODD_NAME]["ok"] and rows["second.wav"]["ok"]
    assert not rows["broken.mp3"]["ok"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.mp3" in errors[0] and "decode" in errors[0]
    assert "Traceback" not in result.stderr
    assert {p: sha(p) for p in hashes} == hashes  # every original byte-for-byte untouched


def test_odd_file_name_gets_its_sidecar_next_to_it(batch):
    folder, _, _ = batch
    out = folder / ODD_NAME.replace(".wav", ".interview.json")
    data = json.loads(out.read_text())
    assert data["source"]["path"].endswith(ODD_NAME)
    assert data["segments"] and data["roles"]["interviewer"]
    assert (folder / "nested" / "second.interview.json").is_file()
    assert not (folder / "broken.interview.json").exists()


def test_rerun_is_idempotent_and_skips_up_to_date_files(batch):
    folder, _, _ = batch
    out = folder / "nested" / "second.interview.json"
    before = out.read_bytes()
    result = ivp("process", folder / "nested", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)[0]["skipped"] is True
    assert out.read_bytes() == before
    assert sorted(p.name for p in (folder / "nested").iterdir()) == ["second.interview.json", "second.wav"]


def test_out_dir_and_human_summary(tmp_path, short_clip):
    result = ivp("process", short_clip, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "talk ratio: interviewee" in result.stdout and "interviewer" in result.stdout
    assert (tmp_path / "out" / "short.interview.json").is_file()


def test_missing_path_and_bad_option():
    result = ivp("process", "/no/such/file.wav")
    assert result.returncode == 1 and "no such file" in result.stderr
    assert ivp("process", "x.wav", "--speakers", "zero").returncode == 2


def test_rerun_picks_up_a_new_marker_file_without_transcribing_again(batch):
    folder, _, _ = batch
    recording = folder / "nested" / "second.wav"
    out = folder / "nested" / "second.interview.json"
    (folder / "nested" / "second.marks.txt").write_text("00:05 the first answer\nnot a time\n")
    result = ivp("process", recording, "--json")
    assert result.returncode == 0 and json.loads(result.stdout)[0]["skipped"] is True
    data = json.loads(out.read_text())
    marks = [m for m in data["moments"] if m["source"] == "marker_file"]
    assert len(marks) == 1 and marks[0]["start"] == 5.0 and "first answer" in marks[0]["label"]
    assert any("line 2" in w for w in data["warnings"])


def test_mark_with_out_finds_the_sidecar_of_a_recording_in_a_subfolder(tmp_path, short_clip):
    """ivp process ROOT --out OUT mirrors ROOT's subfolders; ivp mark REC --out OUT finds the
    sidecar there (it used to look only in OUT/ and say "no sidecar yet")."""
    rec = tmp_path / "root" / "week 1" / "call.wav"
    rec.parent.mkdir(parents=True)
    shutil.copy(short_clip, rec)
    out = tmp_path / "out"
    assert ivp("process", tmp_path / "root", "--out", out, "--quiet").returncode == 0
    side = out / "week 1" / "call.interview.json"
    assert side.is_file() and not (out / "call.interview.json").exists()
    result = ivp("mark", rec, "0:05", "price", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "no sidecar yet" not in result.stdout
    moments = json.loads(side.read_text())["moments"]
    assert any(m["source"] == "marker_file" and m["start"] == 5.0 for m in moments), moments
    assert not (out / "call.interview.json").exists()
