"""File names of any bytes (issue 19, item 1): a recording named with Latin-1 bytes (``caf\\xe9.wav``
from an old zip or SMB share) and one whose name holds a terminal escape sequence, on real clips
cut from the bundled sample. ``ivp process`` and ``ivp watch --once`` process both; the sidecar
names the very bytes (``os.fsencode`` round trip); the folder commands read them; no raw escape
sequence from a file name reaches the terminal.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from hostile_kit import CHANNELS, cut, ivp, originals

LATIN1 = os.fsdecode(b"caf\xe9.wav")  # not UTF-8: held with a surrogate escape
ESCAPE = "x\x1b[31mred\x07.wav"  # an ANSI colour and a bell


pytestmark = pytest.mark.slow  # every test here runs ivp on real audio


def _raw_escapes(*texts: str) -> bool:
    return any(ch in text for text in texts for ch in ("\x1b", "\x07"))


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    base = tmp_path_factory.mktemp("names")
    folder = base / "p"
    cut(folder / "plain.wav", 0.0)
    shutil.move(folder / "plain.wav", folder / LATIN1)
    cut(folder / ESCAPE, 12.0)
    (folder / "ivp.toml").write_text(CHANNELS)
    before = originals(folder)
    proc = ivp("process", str(folder), timeout=600)
    return {"base": base, "folder": folder, "proc": proc, "before": before}


def test_process_writes_a_sidecar_for_a_latin1_name(named):
    folder, proc = named["folder"], named["proc"]
    assert proc.returncode == 0, proc.stderr
    raw = {os.fsencode(p.name) for p in folder.iterdir()}
    assert b"caf\xe9.interview.json" in raw
    data = json.loads((folder / os.fsdecode(b"caf\xe9.interview.json")).read_text(encoding="utf-8"))
    assert os.fsencode(Path(data["source"]["path"]).name) == b"caf\xe9.wav"  # the same bytes back
    assert originals(folder) == named["before"]
    assert not _raw_escapes(proc.stdout, proc.stderr)
    assert "\\x1b[31mred" in proc.stdout + proc.stderr  # shown, escaped


def test_folder_commands_read_and_show_such_names_escaped(named):
    folder = named["folder"]
    formats = "srt,vtt,chapters,audacity,csv,edl,premiere,fcpxml"
    for args in (["export", str(folder), "--format", formats, "--kinds", "all"], ["report", str(folder)],
                 ["study", str(folder)], ["search", str(folder), "the"], ["roles", str(folder)],
                 ["roles", str(folder / ESCAPE)], ["mark", str(folder / ESCAPE), "00:01", "note"],
                 ["export", str(folder / "gone\x1b[2J.interview.json"), "--format", "srt"]):
        proc = ivp(*args)
        assert proc.returncode in (0, 1), (args, proc.stderr)
        assert "error" not in proc.stderr or "gone" in args[1], (args, proc.stderr)
        assert not _raw_escapes(proc.stdout, proc.stderr), args
    assert (folder / os.fsdecode(b"caf\xe9.srt")).is_file()
    for args in (["study", str(folder), "--json"], ["search", str(folder), "the", "--json"]):
        proc = ivp(*args)  # JSON on stdout stays UTF-8: the name as a \udce9 escape, its bytes back
        names = {Path(i.get("name") or i.get("doc")).name for i in
                 (json.loads(proc.stdout)["interviews"] if args[0] == "study" else json.loads(proc.stdout))}
        assert LATIN1 in names or args[0] == "search", (args, names)
    import xml.etree.ElementTree as ET
    for stem in ("caf\udce9", ESCAPE[:-4]):  # the editors' files stay well-formed XML
        for suffix in (".fcpxml", ".premiere.xml"):
            ET.parse(folder / f"{stem}{suffix}")
    page = next((folder / "ivp-report" / "interviews").glob("caf*.html")).read_text(encoding="utf-8")
    assert "caf%E9.wav" in page  # the link names the file's own bytes
    assert originals(folder) == named["before"]


def test_watch_processes_a_latin1_name(named, tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    shutil.copy(named["folder"] / LATIN1, folder / LATIN1)
    (folder / "ivp.toml").write_text(CHANNELS)
    proc = ivp("watch", str(folder), "--once", "--settle", "0", "--no-report", timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (folder / os.fsdecode(b"caf\xe9.interview.json")).is_file()
    status = ivp("status", str(folder), "--json")
    assert status.returncode == 0, status.stderr
    # a second start finds it done (the ledger keeps the name's bytes)
    again = ivp("watch", str(folder), "--once", "--settle", "0", "--no-report", timeout=600)
    assert again.returncode == 0 and "started" not in again.stderr, again.stderr


# ---------------------------------------------- 17: an ancestor named like one of ivp's outputs

@pytest.mark.parametrize("ancestor", ["ivp-study", ".ivp"])
def test_an_ancestor_named_like_an_output_folder_hides_nothing(tmp_path, ancestor):
    """Only ivp's outputs inside the folder processed or watched are outputs (issue 19, item 17)."""
    folder = tmp_path / ancestor / "calls"
    cut(folder / "call.wav", 0.0)
    (folder / "ivp.toml").write_text(CHANNELS)
    cut(folder / "ivp-study" / "reels" / "old.wav", 12.0)  # inside the tree: ours, never a recording
    proc = ivp("process", str(folder), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (folder / "call.interview.json").is_file()
    assert not (folder / "ivp-study" / "reels" / "old.interview.json").exists()
    (folder / "call.interview.json").unlink()
    proc = ivp("watch", str(folder), "--once", "--settle", "0", "--no-report", timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (folder / "call.interview.json").is_file(), proc.stderr
    assert not (folder / "ivp-study" / "reels" / "old.interview.json").exists()


# ------------------------------------------- 7: a sidecar from a newer ivp is never replaced

def test_process_and_watch_leave_a_sidecar_from_a_newer_ivp_as_it_is(tmp_path):
    folder = tmp_path / "f"
    cut(folder / "call.wav", 0.0)
    (folder / "ivp.toml").write_text(CHANNELS)
    newer = folder / "call.interview.json"
    newer.write_text(json.dumps({"schema_version": 99, "from": "a newer ivp"}))
    before = newer.read_bytes()
    proc = ivp("process", str(folder), timeout=600)
    assert proc.returncode == 1 and "newer ivp" in proc.stderr, proc.stderr
    assert newer.read_bytes() == before
    proc = ivp("watch", str(folder), "--once", "--settle", "0", "--no-report", "--max-attempts", "1", timeout=600)
    assert "newer ivp" in proc.stderr, proc.stderr
    assert newer.read_bytes() == before
