"""One media file per moment, cut from the recording with ffmpeg (argument lists only, never a shell).

Each clip runs from 2 s before the moment to 2 s after it (within the recording) and is re-encoded,
so it starts and ends where asked rather than at the nearest keyframe: H.264 + AAC in ``.mp4`` when
the recording has video, AAC in ``.m4a`` otherwise. Names are ``NN_00h01m08s_label-words.ext``:
ASCII letters, digits, ``_`` and ``-`` only, short, safe on every filesystem.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..stages.decode import local_input
from ..interview import Moment
from ..recording import guard
from ..recording.discover import CLIP_NAME
from ..timefmt import name_stamp
from .base import ExportError, ExportJob, Writer, register, slug

PADDING_S = 2.0


def clip_name(index: int, m: Moment, has_video: bool) -> str:
    return f"{index:02d}_{name_stamp(m.start)}_{slug(m.label)}{'.mp4' if has_video else '.m4a'}"


def clip_range(m: Moment, duration: float) -> tuple[float, float]:
    start = max(0.0, m.start - PADDING_S)
    end = m.end + PADDING_S
    if duration > 0:
        end = min(end, duration)
    return round(start, 3), round(max(end, start + 0.1), 3)


def ffmpeg_args(source: Path, target: Path, start: float, end: float, has_video: bool) -> list[str]:
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
            "-ss", f"{start:.3f}", *local_input(source), "-t", f"{end - start:.3f}"]
    if has_video:
        args += ["-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                 "-pix_fmt", "yuv420p"]
    else:
        args += ["-map", "0:a:0", "-vn"]
    args += ["-sn", "-dn", "-c:a", "aac", "-b:a", "160k", "-movflags", "+faststart", "-f", "mp4",
             "file:" + os.path.abspath(target)]
    return args


@register
class ClipsWriter(Writer):
    name, suffix = "clips", "_clips"
    help = "A folder with one clip per moment (2 s padding), cut with ffmpeg; video kept when there is video."
    default_kinds = ("bookmarks", "highlights")

    def write(self, job: ExportJob) -> list[Path]:
        source = job.recording
        if source is None:
            raise ExportError(str(job.sidecar), f"clips: recording not found beside the sidecar, and "
                              f"{job.interview.source.path} is not inside the folder exported (nor the same "
                              "bytes): nothing is cut from outside it")
        if shutil.which("ffmpeg") is None:
            raise ExportError(str(job.sidecar), "clips: ffmpeg not found on PATH")
        has_video = bool(job.interview.source.has_video)
        folder = job.output(self.suffix)  # refused when a link there leaves the output
        root = job.root or job.out_dir
        if not job.moments:  # nothing to cut: no folder (and none left from an earlier export)
            if folder.is_dir():
                _remove_clips(folder, set(), root)
            return []
        guard.folder(folder, root)
        written: list[Path] = []
        for index, m in enumerate(job.moments, start=1):
            target = guard.check(folder / clip_name(index, m, has_video), root)
            start, end = clip_range(m, job.interview.source.duration_s)
            tmp = guard.check(folder / f".{target.name}.part", root)
            proc = subprocess.run(ffmpeg_args(source, tmp, start, end, has_video), capture_output=True,
                                  text=True, errors="replace")
            if proc.returncode != 0 or not tmp.is_file():
                tmp.unlink(missing_ok=True)
                last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
                raise ExportError(str(job.sidecar), f"clips: ffmpeg failed on {target.name}: {last}")
            os.replace(tmp, target)
            written.append(target)
        _remove_clips(folder, {p.name for p in written}, root)
        return written


def _remove_clips(folder: Path, keep: set[str], root: Path) -> None:
    """Clips left by an earlier export with other moments (only our clip names, never through a
    link: :func:`pipeline.recording.guard.remove`); the folder too when that leaves it empty."""
    for old in folder.iterdir():
        if old.name not in keep:
            guard.remove(old, root, ours=lambda p: bool(CLIP_NAME.match(p.name)))
    if not keep and not any(folder.iterdir()):
        guard.remove_empty(folder, root)
