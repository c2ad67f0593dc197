"""Highlight reels: one timeline of what interviewees said, a clip per passage, each from its own recording.

1. **Balanced.** Quotes are taken in rounds, one interview after another (each interview's first
   quote, then each one's second ...), and ``--top N`` keeps the first N of that order: a reel
   holds as many interviews as match before it holds a second quote of any.
2. **The speaker's own words.** A clip runs from ``HANDLE_S`` before its quote to ``HANDLE_S``
   after it, but never into anyone else's words: it starts no earlier than the last word another
   speaker said before the quote ended, plus ``min(EDGE_S, half the pause)``, and ends as early
   before the next word of another speaker (word times and speakers of the study's sentences).
3. **Never the same audio twice.** Clips of one recording that overlap or touch are one clip
   (with a marker per quote), placed where the first of them was.
4. **Media by relative path.** Timelines reference each recording relative to the reel's own
   folder (``../../interview.wav``), so a folder moved, copied or zipped with its reels still opens.

Formats: ``edl`` (CMX3600, Resolve) and ``premiere`` (FCP7 XML) through the export writers'
OpenTimelineIO helpers, ``fcpxml`` (Final Cut Pro) through the export writers' FCPXML builder,
and ``clips``: the reel cut and joined into one media file with ffmpeg (argument lists only).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ..export.base import ExportError, Timebase, slug, video_timebase
from ..text import one_line, shorten
from ..export.editors import (MARKER_NAME_CHARS, FcpAsset, FcpClip, ascii_markers, edl_text, fcpxml_text,
                               load_otio, xmeml_text)
from ..recording import display, guard, href
from ..recording.outputs import atomic_write_text
from ..stages.decode import local_input
from ..timefmt import clock

HANDLE_S = 2.0
EDGE_S = 0.3  # at most this much of a pause before another speaker's words stays in a clip
TOUCH_S = 0.05  # clips of one recording closer than this are one
FORMATS = ("fcpxml", "premiere", "edl", "clips")
SUFFIXES = {"fcpxml": ".fcpxml", "premiere": ".premiere.xml", "edl": ".edl", "clips": ""}


@dataclass
class ReelQuote:
    start: float
    end: float
    text: str


@dataclass
class ReelClip:
    recording: Path
    name: str  # the interview's name in the study
    source_in: float
    source_out: float
    quotes: list[ReelQuote]
    duration: float  # of the recording
    has_video: bool = False
    frame_rate: Optional[float] = None

    @property
    def start(self) -> float:
        return self.quotes[0].start

    @property
    def text(self) -> str:
        return " ".join(q.text for q in self.quotes)


@dataclass
class Speech:
    """Who said what when in one recording: (start, end, speaker) of every sentence."""

    sentences: list[tuple[float, float, Optional[str]]] = field(default_factory=list)

    def speaker_at(self, start: float, end: float) -> Optional[str]:
        best = max(self.sentences, key=lambda s: min(end, s[1]) - max(start, s[0]), default=None)
        return best[2] if best and min(end, best[1]) > max(start, best[0]) else None

    def bounds(self, start: float, end: float, duration: float, handle: float = HANDLE_S) -> tuple[float, float]:
        """The quote's in and out points: ``handle`` s around it, within the recording, and short of
        any other speaker's words (see the module docstring)."""
        own = self.speaker_at(start, end)
        lo, hi = max(0.0, start - handle), end + handle
        if duration:
            hi = min(hi, duration)
        for a, b, who in self.sentences:
            if own is not None and who == own:
                continue
            if b <= start + 1e-6:  # before the quote
                lo = max(lo, b + min(EDGE_S, (start - b) / 2))
            elif a >= end - 1e-6:  # after it
                hi = min(hi, a - min(EDGE_S, (a - end) / 2))
            else:  # said over the quote: keep the quote, no handle on that side
                lo, hi = (max(lo, start), hi) if a <= start else (lo, min(hi, end))
        return round(min(lo, start), 3), round(max(hi, end), 3)


def balance(quotes: list[dict], top: Optional[int] = None) -> list[dict]:
    """``quotes`` in rounds over interviews (in the order each first appears), the first ``top``."""
    by_doc: dict[str, list[dict]] = {}
    for q in quotes:
        by_doc.setdefault(q.get("interview") or q.get("doc") or "", []).append(q)
    lists, out = list(by_doc.values()), []
    for rank in range(max((len(v) for v in lists), default=0)):
        out += [v[rank] for v in lists if rank < len(v)]
    return out[:top] if top else out


def plan(quotes: list[dict], interviews: list[dict], speech: Callable[[str], Speech],
         top: Optional[int] = None) -> list[ReelClip]:
    """The reel's clips for study quotes (``study.json`` theme quotes or search hits as dicts):
    balanced, trimmed to the speaker's own words, overlaps merged (see the module docstring).
    ``speech(name)`` gives the sentences of the interview called ``name``."""
    by_name = {d["name"]: d for d in interviews}
    clips: list[ReelClip] = []
    for q in balance(quotes, top):
        name = q.get("interview") or q.get("doc") or ""
        d = by_name.get(name, {})
        duration = float(d.get("duration") or 0.0)
        a, b = speech(name).bounds(float(q["start"]), float(q["end"]), duration)
        clips.append(ReelClip(Path(q.get("recording") or d.get("recording", "")), d.get("name", name or "?"), a, b,
                              [ReelQuote(float(q["start"]), float(q["end"]), q["text"])], duration,
                              bool(d.get("has_video")), d.get("frame_rate")))
    return merge(clips)


def merge(clips: list[ReelClip]) -> list[ReelClip]:
    """Clips of one recording that overlap or touch as one, where the first of them stood."""
    out: list[ReelClip] = []
    for c in clips:
        into = next((o for o in out if o.recording == c.recording and c.source_in <= o.source_out + TOUCH_S
                     and o.source_in <= c.source_out + TOUCH_S), None)
        if into is None:
            out.append(ReelClip(c.recording, c.name, c.source_in, c.source_out, list(c.quotes), c.duration,
                                c.has_video, c.frame_rate))
            continue
        into.source_in, into.source_out = min(into.source_in, c.source_in), max(into.source_out, c.source_out)
        into.quotes = sorted(into.quotes + c.quotes, key=lambda q: q.start)
        out = merge(out) if len(out) > 1 else out  # the wider clip may now reach another
    return out


def timebase(clips: list[ReelClip]) -> Timebase:
    """The videos' common timecode rate (as the export writers snap it), else 25 fps."""
    rates = {c.frame_rate for c in clips if c.has_video and c.frame_rate}
    if clips and all(c.has_video for c in clips) and len(rates) == 1:
        return video_timebase(rates.pop(), True)
    return video_timebase(None, False)


def _range(c: ReelClip, tb: Timebase) -> tuple[int, int]:
    a = tb.frames(c.source_in)
    return a, max(a + 1, tb.frames(c.source_out))


def _note(c: ReelClip, q: ReelQuote) -> str:
    return f"{c.name} {clock(q.start, floor=True)}: {one_line(q.text)}"


def timeline(clips: list[ReelClip], title: str, tb: Timebase, base: Path, video: bool = False):
    """The OpenTimelineIO timeline of the reel: clips end to end on one track (two with video),
    media relative to ``base``."""
    otio = load_otio()
    rt = lambda n: otio.opentime.RationalTime(n, float(tb.rate))  # noqa: E731
    tl = otio.schema.Timeline(name=title, global_start_time=rt(0))
    kinds = [otio.schema.TrackKind.Video] if video else []
    kinds.append(otio.schema.TrackKind.Audio)
    for k, kind in enumerate(kinds):
        track = otio.schema.Track(name=f"{kind[0]}1", kind=kind)
        for i, c in enumerate(clips, start=1):
            a, b = _range(c, tb)
            ref = otio.schema.ExternalReference(
                target_url=href(c.recording, base),
                available_range=otio.opentime.TimeRange(rt(0), rt(max(b, tb.frames(c.duration)))))
            clip = otio.schema.Clip(name=f"{i:02d} {display(c.recording.name)}", media_reference=ref,
                                    source_range=otio.opentime.TimeRange(rt(a), rt(b - a)))
            if k == 0:
                for q in c.quotes:
                    qa = tb.frames(q.start)
                    clip.markers.append(otio.schema.Marker(
                        name=shorten(one_line(q.text), MARKER_NAME_CHARS),
                        marked_range=otio.opentime.TimeRange(rt(qa), rt(max(0, tb.frames(q.end) - qa))),
                        color="GREEN", metadata={"fcp_xml": {"comment": _note(c, q)}}))
            track.append(clip)
        tl.tracks.append(track)
    return tl


def fcpxml(clips: list[ReelClip], title: str, tb: Timebase, base: Path) -> str:
    """FCPXML: an asset per recording (relative to ``base``), an asset-clip per clip, a marker per quote."""
    assets: list[FcpAsset] = []
    index: dict[Path, int] = {}
    spine = []
    for i, c in enumerate(clips, start=1):
        if c.recording not in index:
            index[c.recording] = len(assets)
            assets.append(FcpAsset(display(c.recording.name), href(c.recording, base),
                                   max(1, tb.frames(c.duration)), c.has_video))
        a, b = _range(c, tb)
        spine.append(FcpClip(f"{i:02d} {display(c.recording.name)}", index[c.recording], a, b - a,
                             [(tb.frames(q.start), shorten(one_line(q.text), MARKER_NAME_CHARS), _note(c, q))
                              for q in c.quotes]))
    return fcpxml_text(title, tb, assets, spine, made_by="ivp study")


def write_reel(clips: list[ReelClip], title: str, out_dir: Path, formats) -> list[Path]:
    """Write the reel in each of ``formats`` into ``out_dir`` as ``reel-<title slug><suffix>``."""
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
            tl = timeline(clips, title, tb, out_dir, video=True)
            tl.tracks[:] = [tl.tracks[0]]
            for c in tl.find_clips():
                c.metadata["cmx_3600"] = {"reel": f"R{c.name[:2]}"}
            ascii_markers(tl)
            atomic_write_text(path, edl_text(tl, tb))
        elif fmt == "premiere":
            atomic_write_text(path, xmeml_text(timeline(clips, title, tb, out_dir, video)))
        elif fmt == "fcpxml":
            atomic_write_text(path, fcpxml(clips, title, tb, out_dir))
        else:
            path = render(clips, out_dir / f"{stem}{'.mp4' if video else '.m4a'}", video)
        written.append(path)
    return written


def render(clips: list[ReelClip], target: Path, video: bool) -> Path:
    """The reel as one file: each clip cut, re-encoded and joined with ffmpeg's concat filter."""
    if shutil.which("ffmpeg") is None:
        raise ExportError(None, "reel: ffmpeg not found on PATH")
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]
    for c in clips:
        if not c.recording.is_file():
            raise ExportError(str(c.recording), "reel: recording not found")
        args += ["-ss", f"{c.source_in:.3f}", "-t", f"{c.source_out - c.source_in:.3f}", *local_input(c.recording)]
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
