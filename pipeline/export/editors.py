"""Editor timelines with the moments as markers on the recording: EDL (Resolve), FCPXML (Final Cut
Pro), FCP7 XML (Premiere Pro).

EDL and FCP7 XML are written with OpenTimelineIO's adapters (``otio-cmx3600-adapter``,
``otio-fcp-adapter``). FCPXML is written here: OTIO's FCP X adapter puts an audio-only recording
in the storyline as video, which Final Cut Pro refuses; it is still the reader the tests use.
Frame-based times use the video's frame rate, or 25 fps for audio, and each file says which.
"""
from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ..interview import INTERVIEWER, Moment
from ..text import one_line, shorten
from .base import ExportError, ExportJob, Timebase, Writer, ascii_text, marker_note, register

MARKER_NAME_CHARS = 80
# Marker colours by kind (CMX3600 LOC colour names, also OpenTimelineIO MarkerColor values).
COLORS = {"bookmark": "RED", "marker": "RED", "insight_after_silence": "CYAN"}
COACHING_COLOR, HIGHLIGHT_COLOR = "YELLOW", "GREEN"


def color(m: Moment) -> str:
    if m.kind in COLORS:
        return COLORS[m.kind]
    return COACHING_COLOR if m.role == INTERVIEWER else HIGHLIGHT_COLOR


def load_otio(adapter: str = "", package: str = ""):
    """OpenTimelineIO, with the adapter ``adapter`` (from the pip package ``package``) checked."""
    try:
        import opentimelineio as otio  # lazy: ~40 ms of imports, only the editor exports need it
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ExportError(None, f"OpenTimelineIO is not installed ({exc})") from exc
    if adapter and adapter not in otio.adapters.available_adapter_names():
        raise ExportError(None, f"the OpenTimelineIO adapter {adapter!r} is missing: pip install {package}")
    return otio


def edl_text(timeline, tb: Timebase) -> str:
    """A timeline as a CMX3600 EDL: frames at the real rate, labelled with non-drop-frame
    timecode at the nominal rate (29.97 fps video gets 30-frame NDF timecode, as editors expect)."""
    otio = load_otio("cmx_3600", "otio-cmx3600-adapter")
    lines = otio.adapters.write_to_string(timeline, "cmx_3600", rate=tb.nominal).splitlines()
    lines.insert(1 if lines and lines[0].startswith("TITLE:") else 0, "FCM: NON-DROP FRAME")
    return "\n".join(lines) + "\n"


def xmeml_text(timeline) -> str:
    """A timeline as Final Cut Pro 7 XML (what Premiere Pro imports)."""
    text = load_otio("fcp_xml", "otio-fcp-adapter").adapters.write_to_string(timeline, "fcp_xml")
    return text if text.endswith("\n") else text + "\n"


def _timeline(job: ExportJob, rate, frames, video: bool, audio: bool, sequence_markers: bool = False):
    """A timeline holding the whole recording, one clip per track (a video track, an audio
    track), markers on the first clip. ``rate`` is the OTIO rate; ``frames(t)`` the frame number
    of a time in seconds."""
    otio = load_otio()
    kinds = [kind for kind, wanted in ((otio.schema.TrackKind.Video, video), (otio.schema.TrackKind.Audio, audio))
             if wanted]
    rt = lambda n: otio.opentime.RationalTime(n, rate)  # noqa: E731
    length = max(1, frames(job.duration))
    timeline = otio.schema.Timeline(name=job.title, global_start_time=rt(0))
    markers = []
    for m in job.moments:
        start = frames(m.start)
        span = max(0, frames(m.end) - start)
        markers.append(otio.schema.Marker(
            name=shorten(one_line(m.label), MARKER_NAME_CHARS),
            marked_range=otio.opentime.TimeRange(rt(start), rt(span)),
            color=color(m), metadata={"fcp_xml": {"comment": marker_note(m, job.interview)}}))
    for i, kind in enumerate(kinds):
        reference = otio.schema.ExternalReference(
            target_url=job.recording_url, available_range=otio.opentime.TimeRange(rt(0), rt(length)))
        clip = otio.schema.Clip(name=job.recording_name, media_reference=reference,
                                source_range=otio.opentime.TimeRange(rt(0), rt(length)))
        if i == 0:
            for marker in markers:
                clip.markers.append(marker.clone())
        track = otio.schema.Track(name=f"{kind[0].upper()}1", kind=kind)
        track.append(clip)
        timeline.tracks.append(track)
    if sequence_markers:
        for marker in markers:
            timeline.tracks.markers.append(marker.clone())
    return timeline


@register
class EdlWriter(Writer):
    name, suffix = "edl", ".edl"
    help = ("CMX3600 EDL: one event for the recording with a LOC marker line per moment "
            "(DaVinci Resolve: Timeline markers from EDL).")

    def write(self, job: ExportJob) -> list[Path]:
        tb = job.timebase
        timeline = _timeline(job, tb.nominal, tb.frames, video=True, audio=False)
        clip = next(iter(timeline.find_clips()))
        ascii_markers(timeline)
        clip.metadata["cmx_3600"] = {"reel": "AX", "comments": [f"IVP FRAME RATE: {ascii_text(tb.describe()).upper()}"]}
        return self.save(job, edl_text(timeline, tb))


@register
class PremiereWriter(Writer):
    name, suffix = "premiere", ".premiere.xml"
    help = ("Final Cut Pro 7 XML (xmeml) for Premiere Pro: the recording in a sequence, moments as "
            "sequence markers and as clip markers (File > Import).")

    def write(self, job: ExportJob) -> list[Path]:
        video, tb = bool(job.interview.source.has_video), job.timebase
        text = xmeml_text(_timeline(job, float(tb.rate), tb.frames, video=video, audio=True, sequence_markers=True))
        note = f"<!-- made by ivp; frame rate {_xml_comment(tb.describe())} -->"
        head, sep, body = text.partition("?>")
        return self.save(job, f"{head}{sep}\n{note}{body}" if sep else f"{note}\n{text}")


def _xml_comment(text: str) -> str:
    return text.replace("--", "- -")


# -- FCPXML ---------------------------------------------------------------------------------------

FCPXML_VERSION = "1.8"


def _rational(frames: int, tb: Timebase) -> str:
    """A time in FCPXML's rational seconds, on a frame boundary (``0s``, ``133/25s``, ``5005/30000s``)."""
    if frames == 0:
        return "0s"
    return f"{frames * tb.rate.denominator}/{tb.rate.numerator}s"


def _frame_duration(tb: Timebase) -> str:
    one = 1 / tb.rate
    return f"{one.numerator}/{one.denominator}s"


def video_size(path) -> tuple[int, int]:
    """The video's width and height (1920x1080 when unknown)."""
    if path is not None:
        try:
            proc = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                   "stream=width,height", "-of", "json", "--", str(path)],
                                  capture_output=True, text=True, timeout=60)
            stream = json.loads(proc.stdout or "{}").get("streams", [{}])[0]
            if stream.get("width") and stream.get("height"):
                return int(stream["width"]), int(stream["height"])
        except (OSError, ValueError, IndexError, subprocess.SubprocessError):
            pass
    return 1920, 1080


@dataclass
class FcpAsset:
    """One media file of an FCPXML document."""

    name: str
    src: str  # a URL: absolute (file:///...) or relative to the FCPXML file
    frames: int  # its length
    has_video: bool
    channels: int = 1
    sample_rate: int = 48000


@dataclass
class FcpClip:
    """One asset-clip in the spine: ``start``/``frames`` in the asset, markers at asset frames."""

    name: str
    asset: int  # index into the document's assets
    start: int
    frames: int
    markers: list[tuple[int, str, str]] = field(default_factory=list)  # (frame, value, note)


def fcpxml_text(title: str, tb: Timebase, assets: list[FcpAsset], clips: list[FcpClip], made_by: str = "ivp",
                size: tuple[int, int] = (1920, 1080)) -> str:
    """FCPXML 1.8: a format, an asset per media file, one project whose spine holds ``clips`` end
    to end (the single-recording export and the study's reels both write through this)."""
    width, height = size
    video = any(a.has_video for a in assets)
    root = ET.Element("fcpxml", version=FCPXML_VERSION)
    resources = ET.SubElement(root, "resources")
    rate_name = f"{tb.fps:.2f}".rstrip("0").rstrip(".").replace(".", "")
    ET.SubElement(resources, "format", id="r1", name=f"FFVideoFormat{height}p{rate_name}",
                  frameDuration=_frame_duration(tb), width=str(width), height=str(height))
    for i, a in enumerate(assets):
        attrs = {"id": f"r{i + 2}", "name": a.name, "src": a.src, "start": "0s",
                 "duration": _rational(max(1, a.frames), tb), "hasVideo": "1" if a.has_video else "0",
                 "hasAudio": "1", "audioSources": "1", "audioChannels": str(a.channels or 1),
                 "audioRate": str(a.sample_rate or 48000)}
        if a.has_video:
            attrs["format"] = "r1"
        ET.SubElement(resources, "asset", attrs)
    event = ET.SubElement(ET.SubElement(root, "library"), "event", name="ivp")
    total = sum(max(1, c.frames) for c in clips)
    stereo = any((a.channels or 1) > 1 for a in assets)
    sequence = ET.SubElement(ET.SubElement(event, "project", name=title), "sequence", format="r1",
                             duration=_rational(total, tb), tcStart="0s", tcFormat="NDF",
                             audioLayout="stereo" if stereo else "mono", audioRate="48k")
    spine = ET.SubElement(sequence, "spine")
    offset = 0
    for c in clips:
        n = max(1, c.frames)
        clip = ET.SubElement(spine, "asset-clip", name=c.name, ref=f"r{c.asset + 2}", offset=_rational(offset, tb),
                             duration=_rational(n, tb), start=_rational(c.start, tb), tcFormat="NDF",
                             audioRole="dialogue")
        if video and assets[c.asset].has_video:
            clip.set("format", "r1")
        for frame, value, note in c.markers:
            ET.SubElement(clip, "marker", start=_rational(frame, tb), duration=_rational(1, tb), value=value, note=note)
        offset += n
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n'
            f"<!-- made by {_xml_comment(made_by)}; frame rate {_xml_comment(tb.describe())} -->\n{body}\n")


def ascii_markers(timeline) -> None:
    """Marker names as an EDL's LOC lines hold them: plain ASCII, upper case."""
    for clip in timeline.find_clips():
        for marker in clip.markers:
            marker.name = ascii_text(marker.name).upper()


@register
class FcpxmlWriter(Writer):
    name, suffix = "fcpxml", ".fcpxml"
    help = ("Final Cut Pro XML: a project holding the recording, one marker per moment on its clip "
            "(File > Import > XML).")

    def write(self, job: ExportJob) -> list[Path]:
        src, tb = job.interview.source, job.timebase
        length = max(1, tb.frames(job.duration))
        size = video_size(job.recording) if src.has_video else (1920, 1080)
        asset = FcpAsset(job.recording_name, job.recording_url, length, bool(src.has_video), src.channels or 1,
                         src.sample_rate or 48000)
        markers = [(min(tb.frames(m.start), length - 1), shorten(one_line(m.label), MARKER_NAME_CHARS), marker_note(m, job.interview))
                   for m in job.moments]
        clip = FcpClip(job.recording_name, 0, 0, length, markers)
        return self.save(job, fcpxml_text(job.title, tb, [asset], [clip], size=size))


__all__ = ["EdlWriter", "PremiereWriter", "FcpxmlWriter"]
