"""Highlight reels over three constructed recordings, read back with OpenTimelineIO's own adapters
and ffprobe; balance, merging and trimming on their own. Real speech: tests/test_study_reel_audio.py."""
from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse

import opentimelineio as otio
import pytest
from click.testing import CliRunner

from pipeline import sidecar
from pipeline.cli import main
from pipeline.interview import INTERVIEWEE as EE

from test_study import SPREADSHEET, five  # noqa: F401

FPS = 25
FRAME = 1 / FPS


def media(url: str, reel_dir: Path) -> Path:
    """Where a timeline's media URL points, read as an editor does: relative to the timeline's folder."""
    parsed = urlparse(url)
    assert parsed.scheme == "" and not url.startswith("/"), f"not a relative reference: {url}"
    return (reel_dir / unquote(parsed.path)).resolve()


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


def others(five: Path, name: str) -> list[tuple[float, float]]:
    """When anyone but the interviewee spoke in one constructed interview (from its sidecar)."""
    iv = sidecar.read(sidecar.sidecar_path(five / name))
    return [(s.start, s.end) for s in iv.segments if s.role != EE]


def check(timeline, five, theme, reel_dir=None):
    """One clip per quote, in the theme's order: the quote, up to 2 s of handle, none of the
    interviewer's words; the media resolve relative to the timeline."""
    clips = list(timeline.find_clips())
    assert len(clips) == len(theme["quotes"]) == 3
    for clip, q in zip(clips, theme["quotes"]):
        r = clip.source_range
        a, b = r.start_time.to_seconds(), r.end_time_exclusive().to_seconds()
        assert q["start"] - 2.0 - FRAME <= a <= q["start"] + FRAME and q["end"] - FRAME <= b <= q["end"] + 2.0 + FRAME
        before = max(e for s, e in others(five, q["interview"]) if e <= q["start"])
        after = min(s for s, e in others(five, q["interview"]) if s >= q["end"])
        assert before < a and b < after, (clip.name, a, b, before, after)  # the interviewee only
        if reel_dir is not None:
            assert media(clip.media_reference.target_url, reel_dir) == (five / q["interview"]).resolve()
        assert Path(q["interview"]).name in clip.name
    return clips


def test_premiere_xml_reads_back_with_sources_ranges_and_markers(reel):
    five, theme, files = reel
    tl = otio.adapters.read_from_file(str(files[".xml"]), "fcp_xml")
    clips = check(tl, five, theme, files[".xml"].parent)
    for clip, q in zip(clips, theme["quotes"]):
        (marker,) = clip.markers
        assert q["text"].startswith(marker.name.rstrip(".")[:40])
        assert abs(marker.marked_range.start_time.to_seconds() - q["start"]) <= FRAME


def test_fcpxml_reads_back(reel):
    pytest.importorskip("otio_fcpx_xml_adapter")
    five, theme, files = reel
    tl = otio.adapters.read_from_file(str(files[".fcpxml"]), "fcpx_xml")
    clips = check(tl, five, theme)
    srcs = [a.get("src") for a in ET.parse(files[".fcpxml"]).iter("asset")]
    assert sorted(media(s, files[".fcpxml"].parent) for s in srcs) == sorted(
        (five / q["interview"]).resolve() for q in theme["quotes"])
    for clip, q in zip(clips, theme["quotes"]):
        assert len(clip.markers) == 1 and clip.markers[0].name.rstrip(".")[:30] == q["text"][:30]


def test_edl_reads_back(reel):
    five, theme, files = reel
    tl = otio.adapters.read_from_file(str(files[".edl"]), "cmx_3600", rate=FPS)
    clips = check(tl, five, theme)  # an EDL names its sources, it has no paths
    assert [c.name for c in clips] == [f"{i:02d} {Path(q['interview']).name}" for i, q in
                                       enumerate(theme["quotes"], start=1)]


def test_clips_is_one_file_as_long_as_the_reel(reel):
    five, theme, files = reel
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type",
                                       "-of", "json", str(files[".m4a"])], capture_output=True, text=True).stdout)
    assert [s["codec_type"] for s in probe["streams"]] == ["audio"]
    tl = otio.adapters.read_from_file(str(files[".xml"]), "fcp_xml")
    want = sum(c.source_range.duration.to_seconds() for c in tl.find_clips())
    assert abs(float(probe["format"]["duration"]) - want) < 0.15


def test_a_moved_folder_still_opens_its_reels(five, tmp_path):
    res = CliRunner().invoke(main, ["export", str(five), "--reel-query", "the", "--format", "premiere,fcpxml",
                                    "--json"])
    assert res.exit_code == 0, res.output
    moved = tmp_path / "elsewhere" / "shared study"
    moved.parent.mkdir()
    shutil.move(str(five), str(moved))
    reels = moved / "ivp-study" / "reels"
    xml, fcpxml = sorted(reels.glob("reel-the.premiere.xml")), sorted(reels.glob("reel-the.fcpxml"))
    assert xml and fcpxml
    urls = [c.media_reference.target_url for c in otio.adapters.read_from_file(str(xml[0]), "fcp_xml").find_clips()]
    urls += [a.get("src") for a in ET.parse(fcpxml[0]).iter("asset")]
    assert urls and all(media(u, reels).is_file() and media(u, reels).parent == moved.resolve() for u in urls)
    assert str(five) not in xml[0].read_text() and str(five) not in fcpxml[0].read_text()


def quote(name: str, start: float, text: str = "words") -> dict:
    return {"interview": name, "recording": f"/r/{name}", "start": start, "end": start + 2.0, "text": text}


def test_quotes_are_balanced_across_interviews_and_overlaps_merged():
    from pipeline.study import reel
    interviews = [{"name": n, "duration": 100.0} for n in ("a", "b", "c")]
    quotes = [quote("a", 10), quote("a", 12.5), quote("a", 40), quote("b", 20), quote("c", 30)]
    top3 = reel.plan(quotes, interviews, lambda name: reel.Speech(), top=3)
    assert [c.name for c in top3] == ["a", "b", "c"]  # one per interview before a second from any
    every = reel.plan(quotes, interviews, lambda name: reel.Speech())
    assert [c.name for c in every] == ["a", "b", "c", "a"]
    first = every[0]  # 10-12 and 12.5-14.5 with 2 s handles overlap: one clip, two markers
    assert (first.source_in, first.source_out) == (8.0, 16.5) and len(first.quotes) == 2
    spans = sorted((c.source_in, c.source_out) for c in every if c.name == "a")
    assert all(x[1] < y[0] for x, y in zip(spans, spans[1:]))  # no audio twice


def test_handles_stop_short_of_another_speakers_words():
    from pipeline.study import reel
    speech = reel.Speech([(5.0, 9.4, "S1"), (10.0, 12.0, "S2"), (12.2, 13.0, "S1"), (20.0, 22.0, "S2")])
    assert speech.bounds(10.0, 12.0, 100.0) == (9.7, 12.1)  # 0.3 s into the pause; half of a short one
    assert speech.bounds(20.0, 22.0, 23.0) == (18.0, 23.0)  # nobody near: full handles, within the file
    overlapped = reel.Speech([(9.0, 10.5, "S1"), (10.0, 12.0, "S2")])
    assert overlapped.bounds(10.0, 12.0, 100.0) == (10.0, 14.0)  # talked over its start: no handle there


def test_reel_query_and_unknown_theme(five, tmp_path):
    res = CliRunner().invoke(main, ["export", str(five), "--reel-query", "expensive", "--format", "edl",
                                    "--out", str(tmp_path / "q"), "--json"])
    assert res.exit_code == 0, res.output
    tl = otio.adapters.read_from_file(json.loads(res.stdout)["files"][0], "cmx_3600", rate=FPS)
    assert [c.name for c in tl.find_clips()] == ["01 2024-03-15 eve.wav"]
    res = CliRunner().invoke(main, ["export", str(five), "--reel-query", "hardest", "--format", "edl"])
    assert res.exit_code == 1 and "no interviewee sentence matches" in res.output  # only the interviewer said it
    res = CliRunner().invoke(main, ["export", str(five), "--reel", "no such theme", "--format", "edl"])
    assert res.exit_code == 1 and "no theme 'no such theme'" in res.output
    res = CliRunner().invoke(main, ["export", str(five), "--reel", "x", "--format", "srt"])
    assert res.exit_code == 2 and "reel formats are" in res.output
