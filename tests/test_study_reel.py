"""Highlight reels over three recordings, read back with OpenTimelineIO's own adapters and ffprobe."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import opentimelineio as otio
import pytest
from click.testing import CliRunner

from pipeline.cli import main

from test_study import SPREADSHEET, five  # noqa: F401

FPS = 25
FRAME = 1 / FPS


def url_path(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


@pytest.fixture
def reel(five, tmp_path):
    from pipeline.study import build_study
    study = build_study(five)
    theme = study.data["themes"][0]
    assert sorted(Path(n).stem for n in theme["interviews"]) == sorted(SPREADSHEET)
    out = tmp_path / "reel"
    res = CliRunner().invoke(main, ["export", str(five), "--reel", theme["id"], "--format",
                                    "fcpxml,premiere,edl,clips", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    files = json.loads(res.stdout)["files"]
    return five, theme, {Path(f).suffix: Path(f) for f in files}


def expected_clips(five, theme):
    out = []
    for q in theme["quotes"]:
        rec = five / q["interview"]
        dur = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                                    "csv=p=0", str(rec)], capture_output=True, text=True).stdout)
        out.append((rec.resolve(), max(0.0, q["start"] - 2.0), min(dur, q["end"] + 2.0), q))
    return out


def check(timeline, five, theme, check_urls=True):
    clips = list(timeline.find_clips())
    want = expected_clips(five, theme)
    assert len(clips) == len(want) == 3
    for clip, (rec, a, b, q) in zip(clips, want):
        r = clip.source_range
        assert abs(r.start_time.to_seconds() - a) <= FRAME, (clip.name, r, a)
        assert abs(r.end_time_exclusive().to_seconds() - b) <= FRAME, (clip.name, r, b)
        if check_urls:
            assert url_path(clip.media_reference.target_url) == rec
        assert rec.name in clip.name
    return clips


def test_premiere_xml_reads_back_with_sources_ranges_and_markers(reel):
    five, theme, files = reel
    tl = otio.adapters.read_from_file(str(files[".xml"]), "fcp_xml")
    clips = check(tl, five, theme)
    for clip, q in zip(clips, theme["quotes"]):
        (marker,) = clip.markers
        assert q["text"].startswith(marker.name.rstrip(".")[:40])
        assert abs(marker.marked_range.start_time.to_seconds() - q["start"]) <= FRAME


def test_fcpxml_reads_back(reel):
    pytest.importorskip("otio_fcpx_xml_adapter")
    five, theme, files = reel
    tl = otio.adapters.read_from_file(str(files[".fcpxml"]), "fcpx_xml")
    clips = check(tl, five, theme)
    for clip, q in zip(clips, theme["quotes"]):
        assert len(clip.markers) == 1 and clip.markers[0].name.rstrip(".")[:30] == q["text"][:30]


def test_edl_reads_back(reel):
    five, theme, files = reel
    tl = otio.adapters.read_from_file(str(files[".edl"]), "cmx_3600", rate=FPS)
    clips = check(tl, five, theme, check_urls=False)  # an EDL names its sources, it has no paths
    assert [c.name for c in clips] == [f"{i:02d} {Path(q['interview']).name}" for i, q in
                                       enumerate(theme["quotes"], start=1)]


def test_clips_is_one_file_as_long_as_the_reel(reel):
    five, theme, files = reel
    media = files[".m4a"]
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type",
                                       "-of", "json", str(media)], capture_output=True, text=True).stdout)
    assert [s["codec_type"] for s in probe["streams"]] == ["audio"]
    want = sum(b - a for _r, a, b, _q in expected_clips(five, theme))
    assert abs(float(probe["format"]["duration"]) - want) < 0.15


def test_reel_query_and_unknown_theme(five, tmp_path):
    res = CliRunner().invoke(main, ["export", str(five), "--reel-query", "expensive", "--format", "edl",
                                    "--out", str(tmp_path / "q"), "--json"])
    assert res.exit_code == 0, res.output
    tl = otio.adapters.read_from_file(json.loads(res.stdout)["files"][0], "cmx_3600", rate=FPS)
    assert [c.name for c in tl.find_clips()] == ["01 2024-03-15 eve.wav"]
    res = CliRunner().invoke(main, ["export", str(five), "--reel", "no such theme", "--format", "edl"])
    assert res.exit_code == 1 and "no theme 'no such theme'" in res.output
    res = CliRunner().invoke(main, ["export", str(five), "--reel", "x", "--format", "srt"])
    assert res.exit_code == 2 and "reel formats are" in res.output
