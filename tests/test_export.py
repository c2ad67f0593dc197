"""Exports, each read back by an independent reader: OpenTimelineIO adapters (EDL, FCP XML, FCPXML),
``srt`` and ``webvtt-py``, the Audacity and YouTube rules, csv, ffprobe for clips."""
from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
import srt
import webvtt
from click.testing import CliRunner

from pipeline import sidecar
from pipeline.export import (WRITERS, ExportError, select_moments, timebase, write_exports)
from pipeline.export.text import subtitle_cues
from pipeline.interview import (INTERVIEWEE, INTERVIEWER, Interview, Moment, PipelineInfo, Recording,
                                RoleAssignment)

from kit import sha, spoken

ER, EE = INTERVIEWER, INTERVIEWEE
SCRIPT = [
    (ER, 0.52, 4.1, "Hi, thanks for joining. Can you tell me about your role?"),
    (EE, 4.9, 19.37, "I run finance for a small agency & every Friday I export everything to a spreadsheet, "
                     "which takes most of an afternoon <honestly>."),
    (ER, 19.9, 21.2, "Let me mark that."),
    (EE, 22.0, 40.0, "I wish it could build the reports for me, it would save so much time every week."),
    (ER, 41.0, 44.5, "Wouldn't it be great if it did?"),
    (EE, 45.3, 61.0, "The last time I tried, the numbers were wrong and I was really frustrated about it."),
]
MOMENTS = [
    Moment(4.9, 19.37, "bookmark", "Bookmark: I run finance", EE, "I run finance ...", 1.0, "spoken"),
    Moment(7.333, 12.08, "workaround", 'Workaround ("every friday i")', EE, "every Friday I export", 0.75, "detected"),
    Moment(22.0, 40.0, "wish", 'Wish ("i wish")', EE, "I wish it could build the reports", 0.85, "detected"),
    Moment(33.21, 38.7, "marker", "Caf\u00e9 quote: \u201cnaive\u201d \u2014 A/B, C:D <x> & 'y'", EE, "", 1.0,
           "marker_file"),
    Moment(41.0, 44.5, "leading_question", 'Leading question ("wouldn\'t it be great")', ER,
           "Wouldn't it be great if it did?", 0.7, "detected"),
    Moment(45.3, 61.0, "story", 'Story ("the last time")', EE, "The last time I tried", 0.65, "detected"),
]
DURATION = 66.4


def make_interview(path="/nonexistent/talk.wav", has_video=False, frame_rate=None, duration=DURATION,
                   script=SCRIPT, moments=MOMENTS) -> Interview:
    segments, turns = spoken(script, word_gap=0.04)
    return Interview(
        source=Recording(str(path), "0" * 64, duration, 2, 48000, "aac", has_video, frame_rate),
        pipeline=PipelineInfo("test", "tiny.en", "test", "cpu", "int8"),
        segments=segments, turns=turns, roles=RoleAssignment("S1", "S2", 1.0, "override"),
        moments=[Moment(**m.__dict__) for m in moments])


def export(tmp_path, fmt, interview=None, **kwargs) -> list[Path]:
    interview = interview or make_interview()
    side = tmp_path / "talk.interview.json"
    sidecar.write(interview, side)
    return write_exports(interview, side, fmt, **kwargs)


def vtt_seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


FRAME = 1 / 25


# -- transcript subtitles -------------------------------------------------------------------------

def test_srt_parsed_back(tmp_path):
    [path] = export(tmp_path, "srt")
    assert path.name == "talk.srt"
    subs = list(srt.parse(path.read_text(encoding="utf-8")))
    cues = subtitle_cues(make_interview())
    assert len(subs) == len(cues) > len(SCRIPT)  # the long answer is cut into several cues
    for sub, cue in zip(subs, cues):
        assert sub.start.total_seconds() == pytest.approx(cue.start, abs=0.001)
        assert sub.end.total_seconds() == pytest.approx(cue.end, abs=0.001)
        assert all(len(line) <= 42 for line in sub.content.split("\n")[1:])
    firsts = [s for s in subs if re.match(r"(Interviewer|Interviewee): ", s.content)]
    assert len(firsts) == len(SCRIPT)  # the role on each change of speaker
    for sub, (role, start, _, text) in zip(firsts, SCRIPT):
        assert sub.start.total_seconds() == pytest.approx(start, abs=0.001)
        assert sub.content.startswith(role.capitalize())
    words = " ".join(s.content.replace("\n", " ") for s in subs)
    assert "every Friday I export" in words and "<honestly>." in words


def test_vtt_voice_tags_parsed_back(tmp_path):
    [path] = export(tmp_path, "vtt")
    captions = webvtt.from_string(path.read_text(encoding="utf-8")).captions
    cues = subtitle_cues(make_interview())
    assert len(captions) == len(cues)
    for cap, cue in zip(captions, cues):
        assert vtt_seconds(cap.start) == pytest.approx(cue.start, abs=0.001)
        assert vtt_seconds(cap.end) == pytest.approx(cue.end, abs=0.001)
        assert cap.voice == cue.voice and cap.raw_text.startswith(f"<v {cue.voice}>")
    assert [c.voice for c in captions][:2] == ["interviewer", "interviewer"] or captions[0].voice == "interviewer"
    assert {c.voice for c in captions} == {"interviewer", "interviewee"}
    assert "&lt;honestly&gt;" in path.read_text() and "&amp;" in path.read_text()


# -- chapters ---------------------------------------------------------------------------------------

def test_webvtt_chapters(tmp_path):
    [path] = export(tmp_path, "chapters", kinds="all")
    assert path.name == "talk.chapters.vtt"
    caps = webvtt.from_string(path.read_text(encoding="utf-8")).captions
    starts = [vtt_seconds(c.start) for c in caps]
    assert starts[0] == 0.0 and caps[0].text == "Start"
    assert starts == sorted(starts)
    for a, b in zip(caps, caps[1:]):
        assert a.end == b.start  # chapters follow each other
    assert vtt_seconds(caps[-1].end) == pytest.approx(DURATION, abs=0.001)
    for m in MOMENTS:
        assert any(abs(s - m.start) <= FRAME for s in starts), m


def test_chapters_default_to_bookmarks_and_highlights(tmp_path):
    [path] = export(tmp_path, "chapters")
    text = path.read_text()
    assert "Leading question" not in text and "Wish: I wish" in text


def check_youtube(text: str, duration: float) -> list[tuple[int, str]]:
    """YouTube's rules: first at 0:00, at least three, ascending, each at least 10 s long."""
    chapters = []
    for line in text.strip().splitlines():
        m = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d{2}) (\S.*)", line)
        assert m, line
        h, mi, s = int(m.group(1) or 0), int(m.group(2)), int(m.group(3))
        assert s < 60 and (m.group(1) is None or mi < 60)
        chapters.append((h * 3600 + mi * 60 + s, m.group(4)))
    assert chapters[0][0] == 0 and text.startswith("0:00 ")
    assert len(chapters) >= 3
    times = [t for t, _ in chapters] + [math.floor(duration)]
    assert all(b - a >= 10 for a, b in zip(times, times[1:])), times
    return chapters


def test_youtube_chapters(tmp_path):
    [path] = export(tmp_path, "youtube")
    chapters = check_youtube(path.read_text(encoding="utf-8"), DURATION)
    chosen = select_moments(MOMENTS, ("bookmarks", "highlights"))
    for t, title in chapters[1:]:
        assert any(t == math.floor(m.start) for m in chosen), (t, title)
    assert any(title.startswith("Wish: I wish") for _, title in chapters)


def test_youtube_fills_up_to_three_chapters_and_refuses_short_videos(tmp_path):
    only = [MOMENTS[2]]
    iv = make_interview(moments=only)
    [path] = export(tmp_path, "youtube", interview=iv)
    chapters = check_youtube(path.read_text(), DURATION)
    assert (22, "Wish: I wish it could build the reports") in chapters
    iv = make_interview(moments=[], duration=200.0)
    [path] = export(tmp_path, "youtube", interview=iv)
    check_youtube(path.read_text(), 200.0)
    short = make_interview(duration=25.0, script=SCRIPT[:2], moments=MOMENTS[:1])
    with pytest.raises(ExportError, match="at least 30 s"):
        export(tmp_path, "youtube", interview=short)


# -- labels and tables ------------------------------------------------------------------------------

def test_audacity_labels(tmp_path):
    [path] = export(tmp_path, "audacity")
    assert path.name == "talk.labels.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(MOMENTS)
    for line, m in zip(lines, MOMENTS):
        start, end, label = line.split("\t")  # exactly three tab-separated fields
        assert float(start) == pytest.approx(m.start, abs=1e-6)
        assert float(end) == pytest.approx(m.end, abs=1e-6)
        assert float(start) <= float(end) and label == m.label


def test_csv_rows(tmp_path):
    [path] = export(tmp_path, "csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    assert [(float(r["start"]), float(r["end"]), r["kind"], r["source"], r["label"]) for r in rows] == \
        [(m.start, m.end, m.kind, m.source, m.label) for m in MOMENTS]
    assert rows[3]["start_tc"] == "00:00:33.210" and rows[0]["recording"] == "talk.wav"


def test_kinds_and_top_select_moments(tmp_path):
    [path] = export(tmp_path, "csv", kinds="bookmarks,story")
    assert [r["kind"] for r in csv.DictReader(path.open())] == ["bookmark", "marker", "story"]
    [path] = export(tmp_path, "csv", top=2)
    assert [r["kind"] for r in csv.DictReader(path.open())] == ["bookmark", "marker"]  # best two, time order
    with pytest.raises(ExportError, match="unknown moment kind"):
        export(tmp_path, "csv", kinds="nonsense")
    with pytest.raises(ExportError, match="unknown export format"):
        export(tmp_path, "srt,pdf")


# -- transcripts as documents ---------------------------------------------------------------------

def sentences_of(script) -> list[str]:
    from pipeline.text import sentences
    return [s for _role, _a, _b, text in script for s in sentences(text)]


def test_docx_opens_with_python_docx_and_holds_every_sentence(tmp_path):
    import docx
    [path] = export(tmp_path, "docx")
    assert path.name == "talk.transcript.docx"
    doc = docx.Document(str(path))
    paras = [p.text for p in doc.paragraphs]
    assert paras[0] == "talk.wav" and paras[1].startswith("Recorded ")
    body = paras[2:]
    # one paragraph per turn (the script alternates speakers), time and speaker first, in order
    assert len(body) == len(SCRIPT)
    for para, (role, start, _end, text) in zip(body, SCRIPT):
        label = "Interviewer" if role == ER else "Interviewee"
        assert re.match(rf"\[0:\d\d\] {label}: ", para), para
        assert para.endswith(text)
    everything = "\n".join(body)
    assert all(s in everything for s in sentences_of(SCRIPT))
    assert doc.paragraphs[2].runs[1].bold  # the speaker stands out


def test_txt_transcript_with_speakers_and_times(tmp_path):
    [path] = export(tmp_path, "txt")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert lines[0] == "talk.wav"
    body = lines[2:]
    assert len(body) == len(SCRIPT)
    for line, (role, start, _end, text) in zip(body, SCRIPT):
        stamp, rest = line.split("] ", 1)
        assert rest == f"{'Interviewer' if role == ER else 'Interviewee'}: {text}"
        m, sec = stamp.lstrip("[").split(":")
        assert abs(int(m) * 60 + int(sec) - start) < 1.0  # the turn's first word, to the second


# -- editor timelines ---------------------------------------------------------------------------------

def test_edl_markers_for_resolve(tmp_path):
    [path] = export(tmp_path, "edl")
    text = path.read_text(encoding="ascii")  # plain ASCII
    assert text.splitlines()[:2] == ["TITLE: talk", "FCM: NON-DROP FRAME"]
    assert "* IVP FRAME RATE: 25 FPS (DEFAULT: THE RECORDING HAS NO VIDEO)" in text
    assert len(re.findall(r"^\* LOC: \d\d:\d\d:\d\d:\d\d ", text, re.M)) == len(MOMENTS)
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=25)
    [clip] = list(timeline.find_clips())
    assert clip.source_range.duration.to_seconds() == pytest.approx(DURATION, abs=FRAME)
    assert len(clip.markers) == len(MOMENTS)
    for marker, m in zip(clip.markers, MOMENTS):
        assert abs(marker.marked_range.start_time.to_seconds() - m.start) <= FRAME / 2 + 1e-9
    assert clip.markers[0].color == "RED" and clip.markers[1].color == "GREEN"
    assert clip.markers[4].color == "YELLOW"
    assert clip.markers[3].name.startswith("CAFE QUOTE")


def test_fcpxml_markers_for_final_cut(tmp_path):
    [path] = export(tmp_path, "fcpxml")
    text = path.read_text(encoding="utf-8")
    assert 'frameDuration="1/25s"' in text and "25 fps (default: the recording has no video)" in text
    collection = otio.adapters.read_from_string(text, "fcpx_xml")
    [clip] = list(collection.find_clips())
    assert clip.media_reference.target_url == "file:///nonexistent/talk.wav"
    assert len(clip.markers) == len(MOMENTS)
    for marker, m in zip(clip.markers, MOMENTS):
        assert abs(marker.marked_range.start_time.to_seconds() - m.start) <= FRAME
        assert marker.name == m.label
    assert 'hasVideo="0"' in text and 'hasAudio="1"' in text


def test_premiere_xmeml_markers(tmp_path):
    [path] = export(tmp_path, "premiere")
    assert path.name == "talk.premiere.xml"
    timeline = otio.adapters.read_from_string(path.read_text(encoding="utf-8"), "fcp_xml")
    [clip] = list(timeline.find_clips())
    for markers in (timeline.tracks.markers, clip.markers):  # sequence markers and clip markers
        assert len(markers) == len(MOMENTS)
        for marker, m in zip(markers, MOMENTS):
            r = marker.marked_range
            assert abs(r.start_time.to_seconds() - m.start) <= FRAME / 2 + 1e-9
            assert abs(r.end_time_exclusive().to_seconds() - m.end) <= FRAME
            assert marker.name == m.label
    assert timeline.tracks[0].kind == "Audio" and len(timeline.tracks) == 1
    assert "<comment>I wish it could build the reports [wish, detected, score 0.85]</comment>" in path.read_text()


def test_frame_rate_follows_the_video(tmp_path):
    iv = make_interview(path=tmp_path / "talk.mov", has_video=True, frame_rate=29.97)
    tb = timebase(iv)
    assert tb.nominal == 30 and tb.ntsc and tb.from_video
    edl, fcpxml, premiere = export(tmp_path, "edl,fcpxml,premiere", interview=iv)
    frame = 1001 / 30000
    text = edl.read_text()
    assert "IVP FRAME RATE: 29.97 FPS (THE VIDEO'S FRAME RATE)" in text and ";" not in text  # NDF timecode
    clip = otio.adapters.read_from_string(text, "cmx_3600", rate=30000 / 1001).find_clips()[0]
    for marker, m in zip(clip.markers, MOMENTS):
        assert abs(marker.marked_range.start_time.to_seconds() - m.start) <= frame
    assert 'frameDuration="1001/30000s"' in fcpxml.read_text() and 'hasVideo="1"' in fcpxml.read_text()
    # OTIO's FCPXML reader counts 29.97 fps as 29 and truncates: allow one of its frames more
    clip = otio.adapters.read_from_string(fcpxml.read_text(), "fcpx_xml").find_clips()[0]
    for marker, m in zip(clip.markers, MOMENTS):
        assert abs(marker.marked_range.start_time.to_seconds() - m.start) <= frame / 2 + 1 / 29
    # ... and exactly, from the rational times: whole frames of 1001/30000 s, within half a frame
    markers = ET.fromstring(fcpxml.read_text().split("-->", 1)[1]).iter("marker")
    for marker, m in zip(markers, MOMENTS):
        start = Fraction(marker.get("start").rstrip("s"))
        assert (start / Fraction(1001, 30000)).denominator == 1
        assert abs(float(start) - m.start) <= frame / 2
    timeline = otio.adapters.read_from_string(premiere.read_text(), "fcp_xml")
    assert [t.kind for t in timeline.tracks] == ["Video", "Audio"]
    for marker, m in zip(timeline.tracks.markers, MOMENTS):
        assert abs(marker.marked_range.start_time.to_seconds() - m.start) <= frame


def test_odd_frame_rate_falls_back_to_the_default():
    tb = timebase(make_interview(has_video=True, frame_rate=12.5))
    assert tb.fps == 25 and not tb.from_video and "12.5" in tb.describe()
    assert timebase(make_interview(has_video=True, frame_rate=23.976)).nominal == 24


# -- clips ------------------------------------------------------------------------------------------

def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    audio, video = folder / "talk.wav", folder / "talk.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", f"sine=frequency=300:duration={DURATION}",
                    "-ar", "16000", str(audio)], check=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=25:duration=30",
                    "-f", "lavfi", "-i", "sine=frequency=300:duration=30", "-shortest", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(video)], check=True)
    return {"audio": audio, "video": video}


CLIP_NAME = re.compile(r"^\d{2}_\d{2}h\d{2}m\d{2}s_[a-z0-9-]{1,40}\.(m4a|mp4)$")


def of(path: Path, iv: Interview) -> Interview:
    """``iv`` as ivp writes it for the recording ``path`` kept elsewhere (``ivp process --out``): its
    ``sha256`` is the file's, which lets clips be cut from it outside the folder exported."""
    iv.source.sha256 = sha(path)
    return iv


@pytest.mark.slow
def test_audio_clips_have_the_expected_durations(tmp_path, media):
    iv = of(media["audio"], make_interview(path=media["audio"]))
    written = export(tmp_path, "clips", interview=iv, kinds="all")
    assert len(written) == len(MOMENTS)
    assert {p.parent.name for p in written} == {"talk_clips"}
    for path, m in zip(written, MOMENTS):
        assert CLIP_NAME.match(path.name), path.name
        info = ffprobe(path)
        expected = min(m.end + 2, DURATION) - max(m.start - 2, 0)
        assert float(info["format"]["duration"]) == pytest.approx(expected, abs=0.1)
        assert [s["codec_type"] for s in info["streams"]] == ["audio"]
    assert written[3].name == "04_00h00m33s_cafe-quote-naive-a-b-c-d-x-y.m4a"
    assert not list(written[0].parent.glob(".*"))  # no temp files left
    again = export(tmp_path, "clips", interview=iv, top=1)  # an earlier run's other clips go
    assert sorted(p.name for p in again[0].parent.iterdir()) == [again[0].name]


def test_video_clips_keep_the_video(tmp_path, media):
    moment = Moment(12.5, 15.25, "marker", "CON: aux/../nul?", EE, "", 1.0, "marker_file")
    iv = of(media["video"], make_interview(path=media["video"], has_video=True, frame_rate=25.0, duration=30.0,
                                          moments=[moment]))
    [path] = export(tmp_path, "clips", interview=iv)
    assert path.name == "01_00h00m12s_con-aux-nul.mp4"
    info = ffprobe(path)
    assert sorted(s["codec_type"] for s in info["streams"]) == ["audio", "video"]
    assert float(info["format"]["duration"]) == pytest.approx(15.25 + 2 - 10.5, abs=0.1)


def test_clips_need_the_recording(tmp_path):
    with pytest.raises(ExportError, match="recording not found"):
        export(tmp_path, "clips")


# -- the command line -------------------------------------------------------------------------------

def test_ivp_export_command(tmp_path):
    from pipeline.cli import main
    sides = []
    for name in ("one", "two"):
        side = tmp_path / f"{name}.interview.json"
        sidecar.write(make_interview(path=f"/nonexistent/{name}.wav"), side)
        sides.append(str(side))
    out = tmp_path / "exports"
    result = CliRunner().invoke(main, ["export", *sides, "--format", "edl,srt", "-f", "audacity",
                                       "--kinds", "highlights", "--top", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{n}.{ext}" for n in ("one", "two") for ext in ("edl", "srt", "labels.txt"))
    assert [line.split("\t")[2] for line in (out / "one.labels.txt").read_text().splitlines()] == \
        ['Workaround ("every friday i")', 'Wish ("i wish")']
    result = CliRunner().invoke(main, ["export", str(tmp_path), "--format", "csv", "--json"])
    assert result.exit_code == 0 and len(json.loads(result.output)) == 2  # a folder of sidecars
    assert CliRunner().invoke(main, ["export", sides[0], "--format", "pdf"]).exit_code == 2
    assert CliRunner().invoke(main, ["export", sides[0], "-f", "csv", "--kinds", "jokes"]).exit_code == 2
    result = CliRunner().invoke(main, ["export", sides[0], str(tmp_path / "gone.interview.json"), "-f", "csv"])
    assert result.exit_code == 1 and "gone.interview.json" in result.output


def test_every_format_is_registered():
    assert set(WRITERS) == {"srt", "vtt", "chapters", "edl", "fcpxml", "premiere", "audacity", "youtube",
                            "csv", "clips", "txt", "docx"}
    assert all(cls.help for cls in WRITERS.values())


# -- the bundled sample -------------------------------------------------------------------------------

@pytest.mark.slow
def test_sample_exports_parse_back(sample_sidecar, sample_truth, tmp_path):
    iv = sidecar.read(sample_sidecar)
    names = [n for n in WRITERS if n != "clips"]
    written = write_exports(iv, sample_sidecar, names, out_dir=tmp_path)
    assert len(written) == len(names)
    [truth] = sample_truth["bookmarks"]
    [bookmark] = [m for m in iv.moments if m.kind == "bookmark"]
    edl = otio.adapters.read_from_string((tmp_path / "interview.edl").read_text(), "cmx_3600", rate=25)
    starts = [mk.marked_range.start_time.to_seconds() for mk in edl.find_clips()[0].markers]
    assert len(starts) == len(iv.moments)
    assert any(abs(s - bookmark.start) <= FRAME / 2 + 1e-9 for s in starts)
    assert any(abs(s - truth["moment_start"]) <= 1.0 for s in starts)
    fcpx = otio.adapters.read_from_string((tmp_path / "interview.fcpxml").read_text(), "fcpx_xml")
    assert len(fcpx.find_clips()[0].markers) == len(iv.moments)
    subs = list(srt.parse((tmp_path / "interview.srt").read_text()))
    assert subs and subs[0].start.total_seconds() == pytest.approx(iv.segments[0].words[0].start, abs=0.001)
    check_youtube((tmp_path / "interview.youtube.txt").read_text(), iv.source.duration_s)

    [clip] = write_exports(iv, sample_sidecar, "clips", out_dir=tmp_path, kinds="bookmarks")
    expected = min(bookmark.end + 2, iv.source.duration_s) - max(bookmark.start - 2, 0)
    assert float(ffprobe(clip)["format"]["duration"]) == pytest.approx(expected, abs=0.1)
