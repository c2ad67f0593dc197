"""Hostile input to the folder commands (issue 19): ``export FOLDER``, ``report``, ``study``,
``roles FOLDER``, ``mark``, ``search``.

The sidecars are built through the data model and ``pipeline.sidecar.write`` (schema-checked), as
in ``test_study.py``, beside real WAV files; the damaged ones are edited copies of a good one.
Every CLI run is bounded and checked for tracebacks (``hostile_kit.ivp``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hostile_kit import ivp, sha
from pipeline import sidecar
from pipeline.errors import SidecarError
from test_study import NAMES, add_interview, script_for

GOOD = NAMES[0]


def _damaged(folder: Path, good: Path) -> dict[str, Path]:
    """Copies of ``good`` with one trap each, named after it."""
    text = good.read_text(encoding="utf-8")
    doc = json.loads(text)

    def put(name: str, content: str) -> Path:
        p = folder / f"{name}{sidecar.SUFFIX}"
        p.write_text(content, encoding="utf-8")
        return p

    infinite = text.replace('"start": 1.0,', '"start": Infinity,', 1)
    assert infinite != text
    huge = dict(doc, turns=[dict(doc["turns"][0], end=1e308), *doc["turns"][1:]])
    string = dict(doc, roles="S1")
    voice = dict(doc, voices=[{"speaker": "S1", "seconds": 12.0, "windows": 9, "vector": "not*base64!"}])
    nested = dict(doc, roles=dict(doc["roles"], evidence={"deep": json.loads("[" * 200 + "]" * 200)}))
    newer = dict(doc, schema_version=sidecar.SCHEMA_VERSION + 1, something_new={"kept": True})
    return {"infinite": put("infinite", infinite), "huge": put("huge", json.dumps(huge)),
            "string": put("string", json.dumps(string)), "voice": put("voice", json.dumps(voice)),
            "nested": put("nested", json.dumps(nested)), "deeper": put("deeper", "[" * 100000 + "]" * 100000),
            "newer": put("newer", json.dumps(newer))}


@pytest.fixture
def damaged(tmp_path):
    folder = tmp_path / "f"
    good = add_interview(folder, GOOD)
    bad = _damaged(folder, good)
    return folder, good, bad, {p: sha(p) for p in [good, *bad.values()]}


def _error_lines(stderr: str, bad: dict[str, Path]) -> dict[str, str]:
    """The one error (or warning) line each bad sidecar got."""
    lines = stderr.splitlines()
    out = {}
    for name, path in bad.items():
        hits = [ln for ln in lines if path.name in ln]
        assert len(hits) == 1, (name, stderr)
        out[name] = hits[0]
    return out


# ------------------------------------------------------------------------------- 7: one reader

def test_the_reader_refuses_each_trap_with_one_line(damaged):
    _folder, good, bad, _ = damaged
    assert sidecar.read(good).source.duration_s > 0
    reasons = {}
    for name, path in bad.items():
        with pytest.raises(SidecarError) as err:
            sidecar.read(path)
        assert "\n" not in str(err.value) and str(path) in str(err.value)
        reasons[name] = err.value.reason
    assert "Infinity" in reasons["infinite"]
    assert "turns[0].end" in reasons["huge"]
    assert reasons["string"].startswith("roles:")
    assert "voices[0].vector" in reasons["voice"]
    assert "nested deeper" in reasons["nested"] and "nested deeper" in reasons["deeper"]
    assert "newer ivp" in reasons["newer"]


def test_the_readers_schema_check_agrees_with_jsonschema(damaged):
    """The reader checks the schema's keywords itself (fast on an hour of words); on good and bad
    sidecars it says what ``jsonschema`` says, down to the item in the middle of a long list."""
    import copy
    import jsonschema
    from pipeline import sidecar_check
    _folder, good, _bad, _ = damaged
    doc = json.loads(good.read_text(encoding="utf-8"))
    middle = len(doc["segments"]) // 2

    def word(d, **change):
        d["segments"][middle]["words"][1].update(change)

    cases = {"good": lambda d: None,
             "word text a number": lambda d: word(d, word=5),
             "word start a string": lambda d: word(d, start="1.0"),
             "word start negative": lambda d: word(d, start=-1),
             "no end": lambda d: d["turns"][-1].pop("end"),
             "role unknown": lambda d: d["segments"][middle].update(role="boss"),
             "sha256 not hex": lambda d: d["source"].update(sha256="z" * 64),
             "confidence above 1": lambda d: d["roles"].update(confidence=1.5),
             "channels a float": lambda d: d["source"].update(channels=1.5),
             "schema_version true": lambda d: d.update(schema_version=True),
             "by_speaker a number": lambda d: d["roles"].update(by_speaker={"S1": 1})}
    validator = jsonschema.Draft202012Validator(sidecar.schema())
    for name, change in cases.items():
        d = copy.deepcopy(doc)
        change(d)
        ours = sidecar_check.schema_problem(d, sidecar.schema(), lambda _d: "fallback")
        theirs = next(iter(validator.iter_errors(d)), None)
        assert (ours is None) == (theirs is None), (name, ours, theirs)
        if theirs is not None:
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in theirs.absolute_path).lstrip(".")
            assert ours.startswith(f"{path or 'the sidecar'}:"), (name, ours, path)
            with pytest.raises(SidecarError):
                sidecar.parse(json.dumps(d))


def test_export_folder_skips_each_bad_sidecar_and_exports_the_rest(damaged):
    folder, good, bad, before = damaged
    proc = ivp("export", str(folder), "--format", "srt")
    assert proc.returncode == 1
    assert (folder / f"{GOOD}.srt").is_file()
    lines = _error_lines(proc.stderr, bad)
    assert all(ln.startswith("error: ") for ln in lines.values())
    assert not any((folder / f"{name}.srt").exists() for name in bad)
    assert {p: sha(p) for p in before} == before


@pytest.mark.slow
def test_report_and_study_skip_bad_sidecars_with_one_line(damaged):
    folder, good, bad, before = damaged
    proc = ivp("report", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert "report: 1 interview" in proc.stdout
    _error_lines(proc.stderr, bad)
    proc = ivp("study", str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [Path(i["name"]).stem for i in data["interviews"]] == [GOOD]
    assert sum(path.name in w for w in data["warnings"] for path in bad.values()) == len(bad)
    assert {p: sha(p) for p in before} == before


def test_roles_folder_and_mark_leave_a_newer_sidecar_as_it_is(damaged):
    folder, good, bad, before = damaged
    proc = ivp("roles", str(folder))
    assert proc.returncode == 1
    lines = _error_lines(proc.stderr, bad)
    assert "newer ivp" in lines["newer"]
    assert {p: sha(p) for p in bad.values()} == {p: before[p] for p in bad.values()}
    assert json.loads(bad["newer"].read_text())["something_new"] == {"kept": True}
    # mark on a recording whose sidecar is from a newer ivp: one line, the sidecar untouched
    audio = folder / f"{GOOD}.wav"
    newer = bad["newer"]
    proc = ivp("mark", str(audio), "00:01", "--sidecar", str(newer))
    assert proc.returncode == 1 and "newer ivp" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert sha(newer) == before[newer]
    proc = ivp("mark", str(audio), "--sidecar", str(bad["string"]))
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    assert sha(bad["string"]) == before[bad["string"]]


# ------------------------------------------------------------------- 6: export mirrors subfolders

def test_export_out_mirrors_subfolders_and_never_replaces_one_with_another(tmp_path):
    folder, out = tmp_path / "f", tmp_path / "out"
    a = add_interview(folder / "a", NAMES[0])
    b = add_interview(folder / "b", NAMES[0], lines=[("interviewer", "Where do you work?"),
                                                     ("interviewee", "I work at the harbour bakery.")])
    for p in (a, b):  # one recording name in both subfolders
        p.rename(p.with_name("x" + sidecar.SUFFIX))
    proc = ivp("export", str(folder), "--format", "srt", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.srt")) == ["a/x.srt", "b/x.srt"]
    assert "spreadsheet" in (out / "a" / "x.srt").read_text() and "bakery" in (out / "b" / "x.srt").read_text()
    # two sidecars of one name given as files into one --out: the second is refused, the first kept
    flat = tmp_path / "flat"
    proc = ivp("export", str(folder / "a" / ("x" + sidecar.SUFFIX)), str(folder / "b" / ("x" + sidecar.SUFFIX)),
               "--format", "srt", "--out", str(flat))
    assert proc.returncode == 1
    assert len(proc.stderr.splitlines()) == 1 and "would replace" in proc.stderr
    assert [p.name for p in flat.iterdir()] == ["x.srt"] and "spreadsheet" in (flat / "x.srt").read_text()


# ------------------------------------------------------------- 5: identical copies, one interview

@pytest.fixture
def copies(tmp_path):
    """ada, ben and cleo (the spreadsheet theme), and ada's recording and sidecar copied twice."""
    import shutil
    folder = tmp_path / "f"
    for name in NAMES[:3]:
        add_interview(folder, name)
    for sub in ("c1", "c2"):
        (folder / sub).mkdir()
        for suffix in (".wav", sidecar.SUFFIX):
            shutil.copy2(folder / f"{NAMES[0]}{suffix}", folder / sub / f"{NAMES[0]}{suffix}")
    return folder


@pytest.mark.slow
def test_identical_copies_are_one_interview_in_study_report_and_search(copies):
    folder = copies
    proc = ivp("study", str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    names = {Path(i["name"]).name: i for i in data["interviews"]}
    assert len(data["interviews"]) == 3 and len(data["progress"]) == 3
    assert sorted(names[f"{NAMES[0]}.wav"]["copies"]) == [f"c1/{NAMES[0]}.wav", f"c2/{NAMES[0]}.wav"]
    for t in data["themes"]:
        assert t["n_interviews"] <= 3
        texts = [q["text"] for q in t["quotes"]]
        assert len(texts) == len(set(texts)), t  # no quote three times
        assert not any(q["interview"].startswith(("c1/", "c2/")) for q in t["quotes"])
    assert (folder / "ivp-study" / "progress.csv").read_text().count(NAMES[0]) == 1
    proc = ivp("search", str(folder), "spreadsheet", "--json")
    hits = json.loads(proc.stdout)
    assert len(hits) == 1 and sorted(hits[0]["copies"]) == [f"c1/{NAMES[0]}.wav", f"c2/{NAMES[0]}.wav"]
    proc = ivp("report", str(folder))
    assert proc.returncode == 0 and "report: 3 interviews" in proc.stdout, proc.stdout + proc.stderr
    index = (folder / "ivp-report" / "index.html").read_text(encoding="utf-8")
    assert f"c1/{NAMES[0]}.wav" in index and len(list((folder / "ivp-report" / "interviews").glob("*.html"))) == 3


# ---------------------------------------------------------- 11: no formula in progress.csv

@pytest.mark.slow
def test_progress_csv_neutralises_formulas_in_names(tmp_path):
    import csv
    folder = tmp_path / "f"
    evil = '=HYPERLINK("http:evil","click")'
    add_interview(folder / "@SUM(1+1)", evil, lines=script_for(NAMES[0]))
    add_interview(folder / "+calls", "-2+3", lines=script_for(NAMES[1]))
    proc = ivp("study", str(folder))
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader((folder / "ivp-study" / "progress.csv").open(encoding="utf-8")))
    assert sorted(r["recording"] for r in rows) == sorted(["'+calls/-2+3.wav", f"'@SUM(1+1)/{evil}.wav"])
    assert sorted(r["interviewer"] for r in rows) == ["'+calls", "'@SUM(1+1)"]
    for r in rows:
        assert not any(v.startswith(("=", "+", "-", "@")) for v in r.values()), r


# ------------------------------------------------------- 16: study.toml in Windows-1252, wrong types

@pytest.mark.slow
def test_a_windows_1252_study_toml_is_applied_with_one_warning_and_wrong_types_are_said(tmp_path):
    folder = tmp_path / "f"
    for name in NAMES[:3]:  # one shared theme: the spreadsheet workaround
        add_interview(folder, name)
    first = json.loads(ivp("study", str(folder), "--json").stdout)
    assert len(first["themes"]) == 1
    tid = first["themes"][0]["id"]
    (folder / "study.toml").write_bytes(
        f'[themes.{tid}]\nname = "Caf\xe9 workarounds \u2013 sheets"\n\n[themes.t00000000]\nname = 5\nhide = "yes"\n'
        .encode("cp1252"))
    for args in (["study", str(folder), "--json"], ["export", str(folder), "--reel", tid, "--format", "edl"]):
        proc = ivp(*args)
        assert proc.returncode == 0, (args, proc.stderr)
    data = json.loads(ivp("study", str(folder), "--json").stdout)
    assert data["themes"][0]["name"] == "Caf\xe9 workarounds \u2013 sheets"  # the rest applied
    warnings = [w for w in data["warnings"] if "study.toml" in w]
    assert sum("Windows-1252" in w for w in warnings) == 1
    assert any("t00000000.name must be text" in w for w in warnings)
    assert any("t00000000.hide must be true or false" in w for w in warnings)


# ------------------------------------------------------------------------------ 19: smaller ones

def test_voice_names_with_spaces_or_newlines_at_the_ends_are_refused(tmp_path):
    from pipeline import voicelib
    from pipeline.errors import ConfigError
    for bad in ("joe ", "joe\n", " joe", "joe\t", ""):
        with pytest.raises(ConfigError):
            voicelib.check_name(bad)
    for good in ("joe", "dana smith", "sam.k-2"):
        voicelib.check_name(good)
    folder = tmp_path / "f"
    good = add_interview(folder, GOOD)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), IVP_VOICES_DIR=str(tmp_path / "v"))
    proc = ivp("voice", "enroll", "joe\n", str(good), "--speaker", "S1", environ=env)
    assert proc.returncode != 0 and "voice name" in proc.stderr
    assert not (tmp_path / "v").exists()


@pytest.mark.slow
def test_enroll_refuses_a_negative_start_and_says_when_the_end_is_past_the_recording(tmp_path):
    from hostile_kit import cut
    clip = cut(tmp_path / "c.wav", 0.0, seconds=6.0)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), IVP_VOICES_DIR=str(tmp_path / "v"))
    proc = ivp("voice", "enroll", "joe", str(clip), "--start", "-1", "--end", "8", environ=env)
    assert proc.returncode == 2 and "0 <= start < end" in proc.stderr
    proc = ivp("voice", "enroll", "joe", str(clip), "--start", "4", "--end", "1e9", environ=env)
    assert proc.returncode == 2 and "at least 4 s" in proc.stderr
    assert not (tmp_path / "v").exists()
    proc = ivp("voice", "enroll", "joe", str(clip), "--start", "0", "--end", "1e9", environ=env)
    if proc.returncode == 0:  # the voice model is here: enrolled up to the end, with the warning
        assert "past the end of the recording; enrolling 0-6.0 s" in proc.stderr
        entry = json.loads((tmp_path / "v" / "joe.json").read_text())
        assert entry["source"]["end"] == pytest.approx(6.0, abs=0.1)
    else:
        assert "past the end" in proc.stderr


def test_a_folder_roles_decision_that_keeps_the_interviewer_is_not_told():
    from pipeline import metrics
    same = {"sidecar": "a.interview.json", "before": "S2", "after": "S2", "method": "voice", "confidence": 0.8}
    assert metrics.roles_change_sentence(same) is None
    assert "S1 -> S2" in metrics.roles_change_sentence(dict(same, before="S1"))


@pytest.mark.slow
def test_an_empty_reel_is_an_error_and_clips_without_moments_leave_no_folder(tmp_path):
    folder = tmp_path / "f"
    good = add_interview(folder, GOOD)
    for args in (["--reel", ""], ["--reel", "  "], ["--reel-query", ""], ["--reel", "x", "--reel-query", "y"]):
        proc = ivp("export", str(folder), "--format", "edl", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert not list(folder.glob("*.edl")) and not (folder / "ivp-study").exists()
    iv = sidecar.read(good)
    iv.moments = []
    sidecar.write(iv, good)
    proc = ivp("export", str(good), "--format", "clips")
    assert proc.returncode == 0, proc.stderr
    assert not (folder / f"{GOOD}_clips").exists()
