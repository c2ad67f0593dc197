"""``ivp export RECORDING --moment T``: one moment as a self-contained HTML page to send to
someone without the folder: the sentence said at T (who said it, by name where a person named
them), the sentences around it, and those seconds of the recording (audio, or MP4 video for a
video) inside the page as a base64 data URI, cut with ffmpeg (argument lists, never a shell)."""
from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from .. import __version__
from ..interview import ROLE_LABELS, Interview
from ..recording import guard
from ..recording.dates import recording_date
from ..recording.outputs import TEMP_PREFIX, TEMP_SUFFIX
from ..recording.outputs import atomic_write_text
from ..text import Sentence, timed_sentences
from ..timefmt import clock
from .base import ExportError, ExportJob
from .clips import ffmpeg_args

CONTEXT_S = 8.0  # sentences this close around the moment come along
PAD_S = 1.0
MAX_S = 90.0  # a moment page never carries more of the recording than this
SUFFIX = ".moment-{stamp}.html"


def sentence_at(interview: Interview, t: float) -> Optional[Sentence]:
    """The sentence being said at ``t``, else the nearest one."""
    sents = timed_sentences(interview)
    if not sents:
        return None
    inside = [s for s in sents if s.start - 0.05 <= t <= s.end + 0.05]
    return inside[0] if inside else min(sents, key=lambda s: min(abs(s.start - t), abs(s.end - t)))


def who(interview: Interview, s: Sentence) -> str:
    name = interview.name_of(s.speaker)
    role = ROLE_LABELS.get(s.role or "", s.speaker or "someone")
    return f"{name} ({role})" if name else role


def write_moment(job: ExportJob, t: float) -> Path:
    """Write the page for the moment at ``t`` seconds beside the sidecar (or in the job's folder)."""
    iv = job.interview
    here = sentence_at(iv, t)
    if here is None:
        raise ExportError(str(job.sidecar), "moment: no speech in this recording")
    source = job.recording
    if source is None:
        raise ExportError(str(job.sidecar), f"moment: recording not found: {iv.source.path}")
    if shutil.which("ffmpeg") is None:
        raise ExportError(str(job.sidecar), "moment: ffmpeg not found on PATH")
    around = [s for s in timed_sentences(iv) if s.end >= here.start - CONTEXT_S and s.start <= here.end + CONTEXT_S]
    start = max(0.0, min(s.start for s in around) - PAD_S)
    end = min(max(s.end for s in around) + PAD_S, start + MAX_S, iv.source.duration_s or 1e9)
    video = bool(iv.source.has_video)
    media = _cut(job, source, start, end, video)
    quote = here.text
    tags = sorted({tag for m in iv.moments if m.start <= here.end and m.end >= here.start for tag in m.tags})
    from jinja2 import Environment, FileSystemLoader  # lazy: Jinja only for pages
    env = Environment(loader=FileSystemLoader(str(Path(__file__).parent)), autoescape=True)
    text = env.get_template("moment.html").render(
        version=__version__, recording=job.recording_name, at=clock(here.start), date=recording_date(iv, job.sidecar, source),
        quote=quote, quote_short=quote if len(quote) <= 60 else quote[:57] + "…", who=who(iv, here), tags=tags,
        video=video, media=media, clip_from=clock(start), clip_to=clock(end),
        lines=[{"clock": clock(s.start), "who": who(iv, s), "text": s.text, "here": s is here} for s in around])
    stamp = f"{int(here.start // 60):02d}m{here.start % 60:04.1f}s".replace(".", "_")
    target = job.output(SUFFIX.format(stamp=stamp))
    atomic_write_text(target, text)
    return target


def _cut(job: ExportJob, source: Path, start: float, end: float, video: bool) -> str:
    """Those seconds of the recording as base64 MP4 (AAC audio; H.264 video when there is video)."""
    root = job.root or job.out_dir
    guard.folder(job.out_dir, root)  # never made or written through a link leaving it
    tmp = guard.check(job.out_dir / f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}", root)
    try:
        proc = subprocess.run(ffmpeg_args(source, tmp, start, end, video), capture_output=True, text=True,
                              errors="replace")
        if proc.returncode != 0 or not tmp.is_file():
            last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise ExportError(str(job.sidecar), f"moment: ffmpeg failed: {last}")
        return base64.b64encode(tmp.read_bytes()).decode("ascii")
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
