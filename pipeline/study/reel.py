"""Highlight reels: one timeline with a clip per quote, each from its own recording.

Every clip references its recording (an absolute file URL) at the quote's in/out points widened by
``HANDLE_S`` handles (within the recording), and carries a marker over the quote with its words.
Formats: ``edl`` (CMX3600, Resolve), ``premiere`` (FCP7 XML) through OpenTimelineIO's adapters,
``fcpxml`` (Final Cut Pro, written here as the single-recording export does), and ``clips``: the
reel cut and joined into one media file with ffmpeg (argument lists only).
"""
from __future__ import annotations

import os
import subprocess
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Optional

from ..export.base import DEFAULT_FPS, TIMECODE_RATES, ExportError, Timebase, ascii_text, one_line, shorten, slug
from ..export.editors import (FCPXML_VERSION, MARKER_NAME_CHARS, _frame_duration, _rational, edl_text,
                               load_otio, xmeml_text)
from ..recording import display, guard
from ..report.html import clock
from ..sidecar import atomic_write_text

HANDLE_S = 2.0
FORMATS = ("fcpxml", "premiere", "edl", "clips")
SUFFIXES = {"fcpxml": ".fcpxml", "premiere": ".premiere.xml", "edl": ".edl", "clips": ""}


@dataclass
class ReelClip:
    recording: Path
    name: str  # the interview's name in the study
    start: float  # the quote
    end: float
    text: str
    duration: float  # of the recording
    has_video: bool = False
    frame_rate: Optional[float] = None

    @property
    def source_in(self) -> float:
        return max(0.0, self.start - HANDLE_S)

    @property
    def source_out(self) -> float:
        end = self.end + HANDLE_S
        return min(end, self.duration) if self.duration else end


def clips_from_quotes(quotes: list[dict], interviews: list[dict]) -> list[ReelClip]:
    """Reel clips for study quotes (``study.json`` theme quotes or search hits as dicts)."""
    by_name = {d["name"]: d for d in interviews}
    out = []
    for q in quotes:
        d = by_name.get(q.get("interview") or q.get("doc"), {})
        out.append(ReelClip(Path(q.get("recording") or d.get("recording", "")), d.get("name", "?"),
                            float(q["start"]), float(q["end"]), q["text"], float(d.get("duration") or 0.0),
                            bool(d.get("has_video")), d.get("frame_rate")))
    return out


def timebase(clips: list[ReelClip]) -> Timebase:
    """The videos' common timecode rate, else 25 fps."""
    rates = {c.frame_rate for c in clips if c.has_video and c.frame_rate}
    if clips and all(c.has_video for c in clips) and len(rates) == 1:
        rate = rates.pop()
        nearest = min(TIMECODE_RATES, key=lambda r: abs(float(r) - rate))
        if abs(float(nearest) - rate) <= 0.01 * rate:
            return Timebase(nearest, True)
    return Timebase(Fraction(DEFAULT_FPS), False)


def timeline(clips: list[ReelClip], title: str, tb: Timebase, video: bool = False):
    """The OpenTimelineIO timeline of the reel: clips end to end on one track (two with video)."""
    otio = load_otio()
    rt = lambda n: otio.opentime.RationalTime(n, float(tb.rate))  # noqa: E731
    tl = otio.schema.Timeline(name=title, global_start_time=rt(0))
    kinds = [otio.schema.TrackKind.Video] if video else []
    kinds.append(otio.schema.TrackKind.Audio)
    for k, kind in enumerate(kinds):
        track = otio.schema.Track(name=f"{kind[0]}1", kind=kind)
        for i, c in enumerate(clips, start=1):
            a, b = tb.frames(c.source_in), max(tb.frames(c.source_in) + 1, tb.frames(c.source_out))
            ref = otio.schema.ExternalReference(
                target_url=c.recording.resolve().as_uri() if c.recording.exists() else c.recording.absolute().as_uri(),
                available_range=otio.opentime.TimeRange(rt(0), rt(max(b, tb.frames(c.duration)))))
            clip = otio.schema.Clip(name=f"{i:02d} {display(c.recording.name)}", media_reference=ref,
                                    source_range=otio.opentime.TimeRange(rt(a), rt(b - a)))
            if k == 0:
                qa = tb.frames(c.start)
                clip.markers.append(otio.schema.Marker(
                    name=shorten(one_line(c.text), MARKER_NAME_CHARS),
                    marked_range=otio.opentime.TimeRange(rt(qa), rt(max(0, tb.frames(c.end) - qa))),
                    color="GREEN", metadata={"fcp_xml": {"comment": f"{c.name} {clock(c.start)}: {one_line(c.text)}"}}))
            track.append(clip)
        tl.tracks.append(track)
    return tl


def write_reel(clips: list[ReelClip], title: str, out_dir: Path, formats) -> list[Path]:
    """Write the reel in each of ``formats`` into ``out_dir`` as ``<title slug><suffix>``."""
    if not clips:
        raise ExportError(None, "reel: no quotes to put in it")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"reel-{slug(title)}"
    tb = timebase(clips)
    video = all(c.has_video for c in clips)
    written = []
    for fmt in formats:
        if fmt not in FORMATS:
            raise ExportError(None, f"reel: unknown format {fmt!r} (known: {', '.join(FORMATS)})")
        path = out_dir / f"{stem}{SUFFIXES[fmt]}"
        if fmt == "edl":
            tl = timeline(clips, title, tb, video=True)
            tl.tracks[:] = [tl.tracks[0]]
            for c in tl.find_clips():
                c.metadata["cmx_3600"] = {"reel": f"R{c.name[:2]}"}
                for m in c.markers:
                    m.name = ascii_text(m.name).upper()
            atomic_write_text(path, edl_text(tl, tb))
        elif fmt == "premiere":
            atomic_write_text(path, xmeml_text(timeline(clips, title, tb, video)))
        elif fmt == "fcpxml":
            atomic_write_text(path, fcpxml(clips, title, tb, video))
        else:
            path = render(clips, out_dir / f"{stem}{'.mp4' if video else '.m4a'}", video)
        written.append(path)
    return written


def fcpxml(clips: list[ReelClip], title: str, tb: Timebase, video: bool) -> str:
    """FCPXML 1.8: an asset per recording, an asset-clip per quote in the spine, a marker on each."""
    root = ET.Element("fcpxml", version=FCPXML_VERSION)
    resources = ET.SubElement(root, "resources")
    rate_name = f"{tb.fps:.2f}".rstrip("0").rstrip(".").replace(".", "")
    ET.SubElement(resources, "format", id="r1", name=f"FFVideoFormat1080p{rate_name}",
                  frameDuration=_frame_duration(tb), width="1920", height="1080")
    assets: dict[Path, str] = {}
    for c in clips:
        if c.recording in assets:
            continue
        rid = f"r{len(assets) + 2}"
        assets[c.recording] = rid
        attrs = {"id": rid, "name": display(c.recording.name), "src": c.recording.absolute().as_uri(), "start": "0s",
                 "duration": _rational(max(1, tb.frames(c.duration)), tb), "hasVideo": "1" if c.has_video else "0",
                 "hasAudio": "1", "audioSources": "1", "audioChannels": "1", "audioRate": "48000"}
        if c.has_video:
            attrs["format"] = "r1"
        ET.SubElement(resources, "asset", attrs)
    event = ET.SubElement(ET.SubElement(root, "library"), "event", name="ivp")
    total = sum(max(1, tb.frames(c.source_out) - tb.frames(c.source_in)) for c in clips)
    sequence = ET.SubElement(ET.SubElement(event, "project", name=title), "sequence", format="r1",
                             duration=_rational(total, tb), tcStart="0s", tcFormat="NDF", audioLayout="mono",
                             audioRate="48k")
    spine = ET.SubElement(sequence, "spine")
    offset = 0
    for i, c in enumerate(clips, start=1):
        a = tb.frames(c.source_in)
        n = max(1, tb.frames(c.source_out) - a)
        clip = ET.SubElement(spine, "asset-clip", name=f"{i:02d} {display(c.recording.name)}", ref=assets[c.recording],
                             offset=_rational(offset, tb), duration=_rational(n, tb), start=_rational(a, tb),
                             tcFormat="NDF", audioRole="dialogue")
        if video and c.has_video:
            clip.set("format", "r1")
        ET.SubElement(clip, "marker", start=_rational(tb.frames(c.start), tb), duration=_rational(1, tb),
                      value=shorten(one_line(c.text), MARKER_NAME_CHARS),
                      note=f"{c.name} {clock(c.start)}: {one_line(c.text)}")
        offset += n
    ET.indent(root, space="    ")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n'
            f"<!-- made by ivp study; frame rate {tb.describe()} -->\n{ET.tostring(root, encoding='unicode')}\n")


def render(clips: list[ReelClip], target: Path, video: bool) -> Path:
    """The reel as one file: each clip cut (with handles), re-encoded and joined with ffmpeg's concat filter."""
    if shutil.which("ffmpeg") is None:
        raise ExportError(None, "reel: ffmpeg not found on PATH")
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]
    for c in clips:
        if not c.recording.is_file():
            raise ExportError(str(c.recording), "reel: recording not found")
        args += ["-ss", f"{c.source_in:.3f}", "-t", f"{c.source_out - c.source_in:.3f}", "-i", str(c.recording)]
    parts = []
    for i in range(len(clips)):
        if video:
            parts.append(f"[{i}:v:0]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,"
                         f"setsar=1,fps=25,format=yuv420p[v{i}];")
        parts.append(f"[{i}:a:0]aresample=48000,aformat=channel_layouts=mono[a{i}];")
    joined = "".join(f"[v{i}][a{i}]" if video else f"[a{i}]" for i in range(len(clips)))
    graph = "".join(parts) + f"{joined}concat=n={len(clips)}:v={1 if video else 0}:a=1" + ("[v][a]" if video else "[a]")
    args += ["-filter_complex", graph]
    args += ["-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20"] if video else []
    tmp = guard.check(target.with_name(f".{target.name}.part"), target.parent)  # ffmpeg never writes through a link
    args += ["-map", "[a]", "-c:a", "aac", "-b:a", "160k", "-movflags", "+faststart", "-f", "mp4", str(tmp)]
    proc = subprocess.run(args, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise ExportError(str(target), f"reel: ffmpeg failed: {last}")
    os.replace(tmp, target)
    return target
