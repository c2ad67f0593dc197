"""``ivp export FOLDER --format qdpx``: a REFI-QDA project that validates against the published
schema (tests/data/refi-qda/Project.xsd) and reads back to the same codes and coded segments."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import xmlschema
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.study.qdpx import NS, write_project
from pipeline.study import build_study

from test_study import NAMES, SMALL_TALK, SPREADSHEET, five  # noqa: F401

XSD = Path(__file__).parent / "data" / "refi-qda" / "Project.xsd"
Q = {"q": NS}


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(XSD))


def read_back(path: Path) -> dict:
    """An independent reader: {source name: {"text", "media", "segments": [(text, {code paths})]}}
    and the code tree as paths ("Themes/..."), from the zip alone."""
    from lxml import etree
    with zipfile.ZipFile(path) as zf:
        qde = etree.fromstring(zf.read("project.qde"))
        texts = {n: zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("Sources/")}
    names = {}
    for code in qde.iterfind(".//q:Code", Q):
        parent = code.getparent()
        prefix = names.get(parent.get("guid"), "") if parent.tag == f"{{{NS}}}Code" else ""
        names[code.get("guid")] = f"{prefix}/{code.get('name')}" if prefix else code.get("name")
    out = {}
    for src in qde.iterfind(".//q:TextSource", Q):
        text = texts["Sources/" + src.get("plainTextPath").removeprefix("internal://")]
        segs = []
        for sel in src.iterfind("q:PlainTextSelection", Q):
            a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
            segs.append((text[a:b], {names[c.get("targetGUID")] for c in sel.iterfind("q:Coding/q:CodeRef", Q)}))
        out[src.get("name")] = {"text": text, "segments": segs}
    for media in qde.iterfind(".//q:AudioSource", Q):
        out[media.get("name")]["media"] = media.get("path")
        out[media.get("name")]["sync"] = [(int(s.get("timeStamp")), int(s.get("position")))
                                          for s in media.iterfind("q:Transcript/q:SyncPoint", Q)]
    return {"sources": out, "codes": set(names.values()),
            "cases": {c.get("name") for c in qde.iterfind(".//q:Case", Q)}}


def test_qdpx_validates_and_round_trips_codes_and_segments(five, schema, tmp_path):
    study = build_study(five)
    path, warnings = write_project(five)
    assert path == five / "ivp-study" / "study.qdpx" and not warnings
    with zipfile.ZipFile(path) as zf:
        schema.validate(zf.read("project.qde"))  # raises on any departure from the published schema
    got = read_back(path)
    src = got["sources"]
    assert set(src) == {f"{n}.wav" for n in NAMES}
    # every theme and its quotes come back as codes on exactly the quoted sentences
    for theme in study.data["themes"]:
        assert f"Themes/{theme['name']}" in got["codes"]
        for q in theme["quotes"]:
            coded = [codes for text, codes in src[q["interview"]]["segments"] if text == q["text"]]
            assert coded and f"Themes/{theme['name']}" in coded[0], q
    # the spreadsheet workarounds are highlights; every sentence says who spoke it
    for name, sentence in SPREADSHEET.items():
        segs = dict(src[f"{name}.wav"]["segments"])
        assert "Highlights/Workaround" in segs[sentence] and "Speakers/Interviewee" in segs[sentence]
    for name in NAMES:
        segs = dict(src[f"{name}.wav"]["segments"])
        assert segs[SMALL_TALK[name]] == {"Speakers/Interviewee"}  # small talk: no theme, no highlight
        assert segs["How is your week going?"] == {"Speakers/Interviewer"}
        s = src[f"{name}.wav"]
        assert s["media"] == f"relative://{name}.wav"  # the recording, relative to the folder
        assert all(s["text"][pos:].startswith("[") for _t, pos in s["sync"])  # a sync point opens each turn
        assert {f"{name}.wav: Interviewer", f"{name}.wav: Interviewee"} <= got["cases"]
    assert {n for n in got["codes"] if "/" not in n} == {"Speakers", "Themes", "Highlights", "Tags"}
    # the same folder gives the same bytes (GUIDs from names, fixed zip times)
    first = path.read_bytes()
    write_project(five)
    assert path.read_bytes() == first


def test_marker_labels_become_tags_and_the_cli_writes_one_project(five, schema, tmp_path):
    (five / "2024-03-12 dev.marks.txt").write_text("0:20 pricing concern\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["mark", str(five / "2024-03-12 dev.wav")])
    assert res.exit_code == 0, res.output
    (five / "broken.interview.json").write_text("{not json", encoding="utf-8")
    out = tmp_path / "exports"
    res = CliRunner().invoke(main, ["export", str(five), "--format", "qdpx", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "broken.interview.json" in res.stderr and res.stderr.count("\n") >= 1  # one line, the rest exported
    path = out / "study.qdpx"
    assert res.stdout.strip().endswith("study.qdpx")
    with zipfile.ZipFile(path) as zf:
        schema.validate(zf.read("project.qde"))
    got = read_back(path)
    assert "Tags/pricing_concern" in got["codes"]
    assert any("Tags/pricing_concern" in codes for _t, codes in got["sources"]["2024-03-12 dev.wav"]["segments"])
    assert set(got["sources"]) == {f"{n}.wav" for n in NAMES}
    res = CliRunner().invoke(main, ["export", str(five), "--format", "qdpx,srt"])
    assert res.exit_code == 2 and "qdpx" in res.output
