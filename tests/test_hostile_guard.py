"""Hostile folders for the one guard (issue 19 items 8, 9, 10, 12, 13, 14): planted links, a marker
file linked out, sidecars pointing at media elsewhere, a full disk, a read-only folder, two writers.

Sidecars are built through the data model beside real WAV files (``test_study.add_interview``);
every CLI run is bounded and checked for tracebacks (``hostile_kit.ivp``); the files outside the
folder are walked before and after (``hostile_kit.snapshot``) and the originals' SHA-256 compared.
"""
from __future__ import annotations

import base64
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hostile_kit import env, ivp, needs_namespaces, originals, sha, snapshot
from kit import patient
from pipeline import sidecar
from pipeline.errors import OutputError
from pipeline.interview import Voiceprint
from pipeline.recording import guard
from pipeline.recording.outputs import OutputPlan, atomic_write_text
from test_study import NAMES, add_interview

GENERATED = '<html><head><meta name="generator" content="ivp report 0.0"></head><body>old</body></html>\n'
CLIP = "01_00h00m01s_x.m4a"  # a name like an exported clip's


@pytest.fixture
def place(tmp_path):
    """A study folder of three interviews (the spreadsheet theme) and, beside it, someone else's files."""
    folder, outside = tmp_path / "f", tmp_path / "elsewhere"
    for name in NAMES[:3]:
        add_interview(folder, name)
    outside.mkdir()
    (outside / "secret.txt").write_text("00:01 SECRET-LINE one\n00:02 SECRET-LINE two\n")
    (outside / CLIP).write_bytes(b"someone's clip")
    (outside / "old.html").write_text(GENERATED)
    db = sqlite3.connect(outside / "other.db")
    db.execute("CREATE TABLE accounts (name TEXT, balance REAL)")
    db.execute("INSERT INTO accounts VALUES ('ann', 12.5)")
    db.commit()
    db.close()
    return folder, outside


def _one_error(proc, *needles: str) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# --------------------------------------------------- 8: planted links never lead a write or delete out

TRAPS = {  # a link planted in the folder -> the command that must refuse it, with one line
    ".ivp": (".ivp", ["study"]),
    ".ivp search": (".ivp", ["search", "spreadsheet"]),
    ".ivp/study.db": (".ivp/study.db", ["study"]),
    "ivp-study": ("ivp-study", ["study"]),
    "ivp-study/reels": ("ivp-study/reels", ["export", "--reel-query", "spreadsheet", "--format", "edl"]),
    "clips": (f"{NAMES[0]}_clips", ["export", "--format", "clips"]),
    "ivp-report": ("ivp-report", ["report"]),
    "ivp-report/interviews": ("ivp-report/interviews", ["report"]),
    "ivp-report/assets": ("ivp-report/assets", ["report"]),
}


@pytest.mark.parametrize("trap", list(TRAPS))
def test_8_a_planted_link_is_refused_with_one_line_and_nothing_outside_changes(place, trap):
    folder, outside = place
    where, args = TRAPS[trap]
    link = folder / where
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside / "other.db" if where.endswith(".db") else outside, link)
    before, mine = snapshot(outside), originals(folder)
    command = [args[0], str(folder), *args[1:]]
    if args[0] == "export" and "--reel-query" not in args:  # clips of one interview
        command = ["export", str(sidecar.sidecar_path(folder / f"{NAMES[0]}.wav")), *args[1:]]
    proc = ivp(*command, timeout=240)
    assert proc.returncode == 1, proc.stderr
    line = _one_error(proc, "output")
    assert where.split("/")[-1] in line and ("symbolic link" in line or "refusing" in line), line
    assert snapshot(outside) == before  # nothing written, nothing deleted there
    assert (outside / CLIP).read_bytes() == b"someone's clip" and (outside / "old.html").read_text() == GENERATED
    assert originals(folder) == mine
    db = sqlite3.connect(outside / "other.db")
    assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("accounts",)]  # no table of ours


@pytest.mark.slow
def test_8_study_db_of_another_program_inside_the_folder_is_not_opened(place):
    folder, outside = place
    (folder / ".ivp").mkdir()
    shutil.copy2(outside / "other.db", folder / ".ivp" / "study.db")
    before = sha(folder / ".ivp" / "study.db")
    proc = ivp("study", str(folder))
    assert proc.returncode == 1
    _one_error(proc, "study.db", "another program's SQLite database")
    assert sha(folder / ".ivp" / "study.db") == before
    (folder / ".ivp" / "study.db").unlink()  # moved away: ivp makes its own, marked as ivp's
    assert ivp("study", str(folder)).returncode == 0
    head = (folder / ".ivp" / "study.db").read_bytes()[:100]
    from pipeline.study import index
    assert int.from_bytes(head[68:72], "big") == index.APP_ID


@pytest.mark.slow
def test_8_links_that_stay_inside_the_folder_are_used(place):
    folder, _outside = place
    (folder / "reports-real").mkdir()
    os.symlink(folder / "reports-real", folder / "ivp-report")
    proc = ivp("report", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert (folder / "reports-real" / "index.html").is_file()


def test_8_a_sidecar_linked_in_from_outside_is_not_read(place):
    folder, outside = place
    good = sidecar.sidecar_path(folder / f"{NAMES[0]}.wav")
    text = good.read_text(encoding="utf-8").replace("spreadsheet", "SECRETWORD")
    (outside / "private.interview.json").write_text(text, encoding="utf-8")
    os.symlink(outside / "private.interview.json", folder / "linked.interview.json")
    found, _ = sidecar.find_sidecars(folder)
    assert folder / "linked.interview.json" not in found and len(found) == 3
    proc = ivp("search", str(folder), "SECRETWORD")
    assert proc.returncode == 1 and "SECRETWORD" not in proc.stdout


def test_8_clip_cleanup_deletes_only_ivps_clips_never_through_a_link(tmp_path):
    """An export with fewer moments removes the clips of the earlier one, and nothing else: a file
    of a clip's name that is a link (to a file elsewhere), or inside a linked folder, stays."""
    from pipeline.export import clips
    folder, outside = tmp_path / "f", tmp_path / "elsewhere"
    (folder / "x_clips").mkdir(parents=True)
    outside.mkdir()
    (outside / CLIP).write_bytes(b"theirs")
    ours = folder / "x_clips" / "02_00h00m05s_y.m4a"
    ours.write_bytes(b"ours")
    os.symlink(outside / CLIP, folder / "x_clips" / CLIP)
    (folder / "x_clips" / "notes.txt").write_text("mine")
    clips._remove_clips(folder / "x_clips", set(), folder)
    assert not ours.exists()
    assert (folder / "x_clips" / CLIP).is_symlink() and (outside / CLIP).read_bytes() == b"theirs"
    assert (folder / "x_clips" / "notes.txt").read_text() == "mine"
    assert guard.remove(outside / CLIP, folder, ours=lambda p: True) is False  # outside the root


# ----------------------------------------------------------- 9: a marker file linked out is never read

def test_9_read_marks_names_a_link_leaving_the_folder_and_never_reads_it(tmp_path):
    from pipeline.recording import markers
    folder, outside = tmp_path / "f", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("00:01 SECRET-LINE\n")
    (folder / "keep.txt").write_text("00:02,inside\n")
    rec = folder / "call.wav"
    rec.write_bytes(b"")
    os.symlink(outside / "secret.txt", folder / "call.marks.txt")
    os.symlink(folder / "keep.txt", folder / "call.marks.csv")  # a link that stays inside: read
    marks, problems = markers.read_marks(rec)
    assert [(m.seconds, m.label) for m in marks] == [(2.0, "inside")]
    assert len(problems) == 1 and "leaves the folder" in str(problems[0]) and "SECRET" not in str(problems[0])
    assert markers.marker_files(rec) == [folder / "call.marks.csv"]


@pytest.mark.slow
def test_9_a_marker_file_linked_out_of_the_folder_is_not_read(place):
    folder, outside = place
    rec = folder / f"{NAMES[0]}.wav"
    os.symlink(outside / "secret.txt", folder / f"{NAMES[0]}.marks.txt")
    before = snapshot(outside)
    proc = ivp("mark", str(rec))  # refresh the moments from the marker files
    assert proc.returncode == 0, proc.stderr
    assert "symbolic link that leaves the folder" in proc.stderr and "SECRET" not in proc.stderr
    side = sidecar.sidecar_path(rec)
    assert "SECRET" not in side.read_text()
    assert ivp("report", str(folder)).returncode == 0
    for page in (folder / "ivp-report").rglob("*.html"):
        assert "SECRET" not in page.read_text(encoding="utf-8"), page
    proc = ivp("mark", str(rec), "00:03", "a note")  # adding a mark: never written through the link
    assert proc.returncode == 1
    _one_error(proc, "marks.txt", "refusing to write outside")
    assert snapshot(outside) == before


# -------------------------------------------- 10: media are cut from beside the sidecar, never from outside

def test_10_a_planted_sidecar_never_copies_audio_from_outside_into_the_folder(place, tmp_path):
    folder, outside = place
    private = outside / "private.wav"
    shutil.copy2(folder / f"{NAMES[0]}.wav", private)
    shared = tmp_path / "shared"
    shared.mkdir()
    iv = sidecar.read(sidecar.sidecar_path(folder / f"{NAMES[0]}.wav"))
    iv.source.path = str(private)  # a sidecar pointing at someone's private recording
    sidecar.write(iv, shared / "planted.interview.json")
    proc = ivp("export", str(shared), "--format", "clips")
    assert proc.returncode == 1
    _one_error(proc, "planted.interview.json", "not inside the folder exported")
    assert sorted(p.name for p in shared.iterdir()) == ["planted.interview.json"]


def test_10_a_copied_project_cuts_from_its_own_copy(place, tmp_path):
    folder, _outside = place
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    old = folder / f"{NAMES[0]}.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono",
                    "-t", "1", str(old)], check=True, timeout=patient(60))  # the old copy is now another, 1 s file
    proc = ivp("export", str(sidecar.sidecar_path(copy / f"{NAMES[0]}.wav")), "--format", "clips")
    assert proc.returncode == 0, proc.stderr
    clips = sorted((copy / f"{NAMES[0]}_clips").iterdir())
    assert clips
    for clip in clips:
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                str(clip)], capture_output=True, text=True, check=True)
        assert float(probe.stdout) > 2.0, clip  # cut from the full copy beside it, not the 1 s old one


def test_10_the_media_rule(tmp_path):
    from pipeline.recording import media
    tree, elsewhere = tmp_path / "t", tmp_path / "e"
    tree.mkdir()
    elsewhere.mkdir()
    (elsewhere / "a.wav").write_bytes(b"RIFF-a")
    side = tree / "a.interview.json"
    assert media.recording_of(side, str(elsewhere / "a.wav"), tree) is None  # outside, not proven
    assert media.recording_of(side, str(elsewhere / "a.wav"), tree, sha(elsewhere / "a.wav")) == elsewhere / "a.wav"
    assert media.recording_of(side, str(elsewhere / "a.wav"), None) == elsewhere / "a.wav"  # a link only
    os.symlink(elsewhere / "a.wav", tree / "a.wav")  # beside, but a link leaving the tree
    assert media.recording_of(side, str(tree / "a.wav"), tree) is None
    (tree / "a.wav").unlink()
    (tree / "a.wav").write_bytes(b"RIFF-beside")
    assert media.recording_of(side, str(elsewhere / "a.wav"), tree) == tree / "a.wav"


# ------------------------------------------------------------- 12: a full disk, one line, nothing lost

def _voice(path: Path) -> None:
    """Give the sidecar's S1 a voiceprint (so ``ivp voice enroll --speaker S1`` has one to store)."""
    iv = sidecar.read(path)
    vec = (np.ones(192) / np.sqrt(192)).astype("<f2")
    iv.voices = [Voiceprint("S1", 30.0, 20, base64.b64encode(vec.tobytes()).decode())]
    sidecar.write(iv, path)


def _namespace(script: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], env=env(
        PYTHONDONTWRITEBYTECODE="1"), capture_output=True, text=True, timeout=patient(timeout))


@pytest.mark.slow
@needs_namespaces
def test_12_disk_full_every_folder_command_says_one_line_and_keeps_earlier_outputs(place, tmp_path):
    import sys
    folder, _outside = place
    _voice(sidecar.sidecar_path(folder / f"{NAMES[0]}.wav"))
    disk, results = tmp_path / "disk", tmp_path / "results"
    disk.mkdir()
    results.mkdir()
    py = f'"{sys.executable}" -m pipeline'
    a = f"{disk}/{NAMES[0]}"
    commands = {
        "study": f'study "{disk}" --force',
        "report": f'report "{disk}"',
        "reel": f'export "{disk}" --reel-query spreadsheet --format edl',
        "mark": f'mark "{a}.wav" 00:03 a-note',
        "search": f'search "{disk}" spreadsheet',
        "enroll": f'voice enroll joe "{a}.wav" --speaker S1',
        "roles": f'roles "{a}.wav" --swap',
    }
    lines = [f'mount -t tmpfs -o size=24m tmpfs "{disk}"', f'cp -a "{folder}/." "{disk}/"',
             f'{py} study "{disk}" >/dev/null', f'{py} report "{disk}" >/dev/null',
             f'{py} export "{disk}" --reel-query spreadsheet --format edl >/dev/null',
             f'cp "{a}.interview.json" "{disk}/new.interview.json"',  # search must add it: a write
             f'cd "{disk}" && sha256sum ivp-study/study.json ivp-report/index.html ivp-study/reels/* '
             f'*.interview.json > "{results}/before"',
             f'dd if=/dev/zero of="{disk}/filler" bs=64k 2>/dev/null; true']
    for name, args in commands.items():
        lines.append(f'IVP_VOICES_DIR="{disk}/voices" {py} {args} >/dev/null 2>"{results}/{name}.err"; '
                     f'echo $? > "{results}/{name}.rc"')
    lines += [f'cd "{disk}" && sha256sum ivp-study/study.json ivp-report/index.html ivp-study/reels/* '
              f'*.interview.json > "{results}/after"',
              f'find "{disk}" -name ".ivp-tmp-*" > "{results}/leftovers"']
    proc = _namespace(" && ".join(lines[:6]) + "; " + "; ".join(lines[6:]))
    assert proc.returncode == 0, proc.stderr
    for name in commands:
        err = (results / f"{name}.err").read_text()
        rc = int((results / f"{name}.rc").read_text())
        assert "Traceback" not in err, (name, err)
        assert rc == 1, (name, rc, err)
        errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, (name, err)
        assert any(w in errors[0] for w in ("No space left on device", "is the disk full")), (name, errors[0])
    assert "cannot read sidecar" not in (results / "roles.err").read_text()
    assert "cannot write the fixed sidecar" in (results / "roles.err").read_text()
    assert (results / "before").read_text() == (results / "after").read_text()  # earlier outputs intact
    assert (results / "leftovers").read_text() == ""  # no temp file left behind


# ------------------------------------------- 13: a read-only folder: state elsewhere, or one clear line

@pytest.mark.slow
@needs_namespaces
def test_13_a_read_only_folder_keeps_study_state_in_the_user_cache(place, tmp_path):
    import sys
    folder, _outside = place
    out, ro_out, cache, results = tmp_path / "out", tmp_path / "ro-out", tmp_path / "cache", tmp_path / "results"
    for d in (ro_out, results):
        d.mkdir()
    before = snapshot(folder)
    py = f'"{sys.executable}" -m pipeline'
    a = f"{folder}/{NAMES[0]}"
    commands = {
        "study": f'study "{folder}" --out "{out}" --json',
        "search": f'search "{folder}" spreadsheet --json',
        "report": f'report "{folder}"',
        "report-out": f'report "{folder}" --out "{out}/report"',
        "mark": f'mark "{a}.wav" --sidecar "{a}.interview.json"',
        "ro-out": f'study "{folder}" --out "{ro_out}"',
    }
    lines = [f'mount --bind "{folder}" "{folder}"', f'mount -o remount,bind,ro "{folder}"',
             f'mount -t tmpfs -o ro,size=1m tmpfs "{ro_out}"']
    for name, args in commands.items():
        lines.append(f'XDG_CACHE_HOME="{cache}" {py} {args} >"{results}/{name}.out" 2>"{results}/{name}.err"; '
                     f'echo $? > "{results}/{name}.rc"')
    proc = _namespace(" && ".join(lines[:3]) + " && " + "; ".join(lines[3:]))
    assert proc.returncode == 0, proc.stderr
    res = {n: (int((results / f"{n}.rc").read_text()), (results / f"{n}.out").read_text(),
               (results / f"{n}.err").read_text()) for n in commands}
    for name, (_rc, _out, err) in res.items():
        assert "Traceback" not in err, (name, err)
    rc, stdout, err = res["study"]
    assert rc == 0, err
    assert len(json.loads(stdout)["interviews"]) == 3 and (out / "study.json").is_file()
    assert list(cache.glob("ivp/folders/f-*/study.db")), list(cache.rglob("*"))
    rc, stdout, err = res["search"]
    assert rc == 0 and len(json.loads(stdout)) >= 1, err
    rc, stdout, err = res["report-out"]  # the report elsewhere, its study page too
    assert rc == 0 and "report: 3 interviews" in stdout, err
    page = (out / "report" / "study.html").read_text(encoding="utf-8")
    assert "Read-only" not in page and "spreadsheet" in page.lower()
    for name in ("report", "mark", "ro-out"):
        rc, _out, err = res[name]
        assert rc == 1, (name, err)
        errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1 and "Read-only file system" in errors[0], (name, err)
    assert snapshot(folder) == before  # nothing written in the folder


# ------------------------------------------------------------- 14: two writers of one study.db

def _sync(args) -> str:
    folder, db = args
    from pipeline.sidecar import find_sidecars
    from pipeline.study import index as idx
    try:
        paths, _ = find_sidecars(folder)
        with idx.Index(Path(db)) as index:
            index.sync(paths, Path(folder))
            return f"ok {len(index.docs())}"
    except Exception as exc:  # what the test must never see
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.slow
def test_14_concurrent_syncs_of_one_study_db_never_collide(tmp_path):
    folder = tmp_path / "f"
    for name in NAMES:
        add_interview(folder, name)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        for round_ in range(6):
            db = tmp_path / f"round{round_}" / "study.db"
            results = pool.map(_sync, [(str(folder), str(db))] * 4)
            assert results == [f"ok {len(NAMES)}"] * 4, results
            con = sqlite3.connect(db)
            assert con.execute("SELECT COUNT(*) FROM docs").fetchone()[0] == len(NAMES)
            assert con.execute("SELECT COUNT(DISTINCT doc) FROM sents").fetchone()[0] == len(NAMES)
            con.close()


@pytest.mark.slow
def test_14_two_ivp_study_at_once(tmp_path):
    import sys
    folder = tmp_path / "f"
    for name in NAMES:
        add_interview(folder, name)
    for _round in range(3):
        shutil.rmtree(folder / ".ivp", ignore_errors=True)
        procs = [subprocess.Popen([sys.executable, "-m", "pipeline", "study", str(folder), "--force"], env=env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=patient(300)) for p in procs]
        for p, (_out, err) in zip(procs, outs):
            assert p.returncode == 0 and "Traceback" not in err, err
        data = json.loads((folder / "ivp-study" / "study.json").read_text())
        assert len(data["interviews"]) == len(NAMES)


def test_12_a_failed_write_is_one_line_in_process(place, monkeypatch):
    """The same without mount namespaces: the one atomic-write helper fails as a full disk does."""
    import errno
    from click.testing import CliRunner
    from pipeline.cli import main
    from pipeline.recording import outputs as atomic_owner  # atomic writes and their temp files
    folder, _outside = place
    assert CliRunner().invoke(main, ["study", str(folder)]).exit_code == 0
    study_json = folder / "ivp-study" / "study.json"
    side = sidecar.sidecar_path(folder / f"{NAMES[0]}.wav")
    before = {p: sha(p) for p in (study_json, side)}

    def full(*_where):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic_owner, "_new_temp", full)
    for args, needle in ((["study", str(folder), "--force"], "study-themes.json: output: No space left"),
                         (["roles", str(side), "--swap"], "cannot write the fixed sidecar: No space left")):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 1, res.output
        errors = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1 and needle in errors[0], res.output
        assert "cannot read sidecar" not in res.output
    assert {p: sha(p) for p in before} == before


@pytest.mark.slow
def test_8_process_and_watch_refuse_a_linked_state_folder(tmp_path):
    """``.ivp`` linked elsewhere: no stage cache, ledger or log is written through it."""
    from hostile_kit import cut
    folder, outside = tmp_path / "f", tmp_path / "elsewhere"
    cut(folder / "a.wav", 10.0, 3.0)
    outside.mkdir()
    os.symlink(outside, folder / ".ivp")
    before, mine = snapshot(outside), originals(folder)
    proc = ivp("process", str(folder), "--diarizer", "channels", timeout=120)
    assert proc.returncode != 0
    _one_error(proc, ".ivp", "refusing to write outside")
    proc = ivp("watch", str(folder), "--no-report", timeout=60)
    assert proc.returncode != 0
    _one_error(proc, ".ivp", "refusing to write outside")
    assert snapshot(outside) == before and originals(folder) == mine
    assert not list(folder.glob("*.interview.json"))
    (folder / ".ivp").unlink()  # the state folder real, its log a link out: refused too
    (folder / ".ivp").mkdir()
    (outside / "diary.txt").write_text("mine\n")
    os.symlink(outside / "diary.txt", folder / ".ivp" / "watch.log")
    proc = ivp("watch", str(folder), "--no-report", timeout=60)
    assert proc.returncode != 0
    _one_error(proc, "watch.log", "refusing to write outside")
    assert (outside / "diary.txt").read_text() == "mine\n"


def test_8_check_database_tells_ivps_file_from_others(tmp_path):
    from pipeline.recording import guard
    from pipeline.study import index
    old = tmp_path / "old.db"  # a study.db of an ivp before the application_id: kept
    con = sqlite3.connect(old)
    for statement in index.SCHEMA:
        con.execute(statement)
    con.commit()
    con.close()
    guard.check_database(old, index.APP_ID, index.TABLES)
    with index.Index(old) as idx:  # and marked as ivp's from then on
        assert idx.db.execute("PRAGMA application_id").fetchone()[0] == index.APP_ID
    guard.check_database(tmp_path / "missing.db", index.APP_ID, index.TABLES)
    (tmp_path / "empty.db").write_bytes(b"")
    guard.check_database(tmp_path / "empty.db", index.APP_ID, index.TABLES)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE docs (x)")  # one of our names, and one that is not
    con.execute("CREATE TABLE accounts (name)")
    con.commit()
    con.close()
    marked = tmp_path / "marked.db"
    con = sqlite3.connect(marked)
    con.execute("PRAGMA application_id = 42")
    con.execute("CREATE TABLE meta (k)")
    con.commit()
    con.close()
    (tmp_path / "garbage.db").write_bytes(b"not a database at all" * 10)
    for path in (other, marked, tmp_path / "garbage.db"):
        before = sha(path)
        with pytest.raises(OutputError):
            guard.check_database(path, index.APP_ID, index.TABLES)
        with pytest.raises(OutputError):
            index.Index(path)
        assert sha(path) == before


def test_8_a_stage_cache_entry_linked_out_is_neither_read_nor_written(tmp_path):
    from pipeline.recording.cache import StageCache
    cache, outside = tmp_path / "cache", tmp_path / "elsewhere"
    outside.mkdir()
    sha_ = "ab" * 32
    (cache).mkdir()
    os.symlink(outside, cache / sha_)  # the entry's folder leads out
    stage = StageCache(cache)
    stage.save(sha_, "transcribe", "k", {"x": 1})
    assert list(outside.iterdir()) == []
    (outside / "transcribe.k.json").write_text(json.dumps({"ivp_cache": 2, "stage": "transcribe", "key": "k",
                                                           "data": {"x": 2}}))
    assert stage.load(sha_, "transcribe", "k", lambda d: d) is None
    assert (outside / "transcribe.k.json").exists()  # not removed either
    assert stage.entries(sha_, "transcribe", lambda d: d) == [] and stage.stages(sha_) == []
    other = "cd" * 32
    stage.save(other, "transcribe", "k", {"x": 3})  # a real entry works
    assert stage.load(other, "transcribe", "k", lambda d: d) == {"x": 3}


# ------------------------------------- 8: a link planted between the guard's check and the write

def _plant(folder: Path, outside: Path) -> None:
    """Swap ``folder`` (checked a moment ago) for a link to ``outside``, as another program could."""
    shutil.rmtree(folder)
    folder.symlink_to(outside, target_is_directory=True)


@pytest.mark.parametrize("depth", ["the file's folder", "a folder above it"])
def test_8_a_link_planted_after_the_check_is_refused_by_the_write(tmp_path, depth):
    root, outside = tmp_path / "f", tmp_path / "elsewhere"
    (root / "ivp-report" / "interviews").mkdir(parents=True)
    outside.mkdir()
    (outside / "keep.txt").write_text("someone's")
    before = snapshot(outside)
    page = guard.check(root / "ivp-report" / "interviews" / "a.html", root)  # nothing planted yet
    _plant(root / "ivp-report" / ("interviews" if depth == "the file's folder" else ""), outside)
    with pytest.raises(OutputError, match="refusing to write outside"):
        atomic_write_text(page, "<p>page</p>")
    assert snapshot(outside) == before  # nothing made, changed or left behind out there


def test_8_a_sidecar_path_planned_then_linked_out_is_not_written(tmp_path):
    rec, out, outside = tmp_path / "in" / "sub" / "call.wav", tmp_path / "out", tmp_path / "elsewhere"
    rec.parent.mkdir(parents=True)
    rec.write_bytes(b"RIFF")
    (out / "sub").mkdir(parents=True)
    outside.mkdir()
    path = OutputPlan(out, [tmp_path / "in"]).sidecar(rec, ".interview.json")
    _plant(out / "sub", outside)
    with pytest.raises(OutputError):
        atomic_write_text(path, "{}")
    assert list(outside.iterdir()) == []


def test_8_checked_writes_make_missing_folders_and_follow_links_that_stay_inside(tmp_path):
    root = tmp_path / "f"
    (root / "real").mkdir(parents=True)
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    atomic_write_text(guard.check(root / "alias" / "a.txt", root), "through a link inside")
    atomic_write_text(guard.check(root / "new" / "deeper" / "b.txt", root), "in folders made on the way")
    assert (root / "real" / "a.txt").read_text() == "through a link inside"
    assert (root / "new" / "deeper" / "b.txt").read_text() == "in folders made on the way"
    assert not [p for p in root.rglob("*") if p.name.startswith(".ivp-tmp-")]


def test_8_a_file_where_a_folder_should_be_is_one_clear_error(tmp_path):
    root = tmp_path / "f"
    root.mkdir()
    page = guard.check(root / "ivp-report" / "a.html", root)
    (root / "ivp-report").write_text("a user's file")
    with pytest.raises(OutputError, match="'ivp-report' is a file, not a folder"):
        atomic_write_text(page, "<p>page</p>")
    assert (root / "ivp-report").read_text() == "a user's file"
