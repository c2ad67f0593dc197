"""Text exports: subtitles (srt, vtt: written through the ``srt`` and ``webvtt-py`` libraries),
chapters (WebVTT, YouTube), Audacity labels and CSV."""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

import srt
import webvtt

from ..interview import INTERVIEWER, ROLE_LABELS, Interview, Moment, Segment
from ..stages.moments import KINDS
from ..text import questions
from ..timefmt import clock
from ..text import cell, one_line, shorten
from ..timefmt import stamp
from .base import ExportError, ExportJob, Writer, register, voice

MAX_CUE_CHARS = 84  # two lines of 42, the usual subtitle limit
MAX_LINE_CHARS = 42
MAX_CUE_S = 7.0
MIN_CUE_S = 0.5
YOUTUBE_MIN_S = 10  # YouTube: the first chapter at 0:00, at least three, each at least 10 s
YOUTUBE_MIN_CHAPTERS = 3
CHAPTER_TITLE_CHARS = 80


# -- subtitles ------------------------------------------------------------------------------------

@dataclass
class Cue:
    start: float
    end: float
    text: str
    voice: str


def subtitle_cues(interview: Interview) -> list[Cue]:
    """Each segment cut at word boundaries into cues of at most 84 characters and 7 s."""
    cues: list[Cue] = []
    for seg in sorted(interview.segments, key=lambda s: (s.start, s.end)):
        who = voice(interview, seg.role, seg.speaker)
        for start, end, text in _chunks(seg):
            if text:
                cues.append(Cue(round(start, 3), round(max(end, start + MIN_CUE_S), 3), text, who))
    return cues


def _chunks(seg: Segment) -> list[tuple[float, float, str]]:
    words = [w for w in seg.words if w.word.strip()]
    if not words:
        return [(seg.start, seg.end, one_line(seg.text))]
    out, current = [], []
    for w in words:
        text = one_line(" ".join(x.word.strip() for x in current + [w]))
        if current and (len(text) > MAX_CUE_CHARS or w.end - current[0].start > MAX_CUE_S):
            out.append(current)
            current = []
        current.append(w)
    if current:
        out.append(current)
    return [(c[0].start, c[-1].end, one_line(" ".join(x.word.strip() for x in c))) for c in out]


def wrap(text: str) -> str:
    """At most two lines, split at the space nearest the middle when longer than 42 characters."""
    if len(text) <= MAX_LINE_CHARS or " " not in text:
        return text
    middle = len(text) // 2
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - middle))
    return text[:cut] + "\n" + text[cut + 1:]


@register
class SrtWriter(Writer):
    name, suffix = "srt", ".srt"
    help = "SubRip subtitles of the transcript; the speaker's role starts each change of speaker."

    def write(self, job: ExportJob) -> list[Path]:
        subs, last = [], None
        for n, cue in enumerate(subtitle_cues(job.interview), start=1):
            text = cue.text if cue.voice == last else f"{ROLE_LABELS.get(cue.voice, cue.voice)}: {cue.text}"
            last = cue.voice
            subs.append(srt.Subtitle(n, timedelta(seconds=cue.start), timedelta(seconds=cue.end), wrap(text)))
        return self.save(job, srt.compose(subs, reindex=False))


def vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@register
class VttWriter(Writer):
    name, suffix = "vtt", ".vtt"
    help = "WebVTT subtitles of the transcript, each cue with a <v interviewer>/<v interviewee> voice tag."

    def write(self, job: ExportJob) -> list[Path]:
        captions = [webvtt.Caption(stamp(cue.start), stamp(cue.end),
                                   f"<v {vtt_escape(one_line(cue.voice))}>{wrap(vtt_escape(cue.text))}</v>")
                    for cue in subtitle_cues(job.interview)]
        doc = webvtt.WebVTT(captions=captions, header_comments=[
            f"Transcript of {vtt_escape(job.recording_name)} made by ivp;\n"
            "voices are the speakers' roles (or speaker ids where roles are unknown)."])
        return self.save(job, doc.content)


# -- chapters -------------------------------------------------------------------------------------

def chapter_title(m: Moment) -> str:
    """Marks and bookmarks keep their label; a detected moment is named by its kind and first words."""
    if m.source in ("marker_file", "spoken") or not m.text:
        return shorten(m.label, CHAPTER_TITLE_CHARS)
    return shorten(f"{KINDS.get(m.kind, m.kind)}: {m.text}", CHAPTER_TITLE_CHARS)


def chapter_points(moments: list[Moment], duration: float, min_len: float = 0.0,
                   time: Callable[[float], float] = lambda t: t) -> list[tuple[float, str]]:
    """(start, title), from 0, in order. With ``min_len``, every chapter lasts at least that long:
    moments are taken best score first and one too close to a taken one is left out; one in the
    first ``min_len`` seconds becomes the first chapter, at 0."""
    taken: list[tuple[float, str]] = []
    for m in sorted(moments, key=lambda m: (-m.score, m.start, m.kind)):
        t = time(m.start)
        if min_len:
            t = 0.0 if t < min_len else t
            if duration - t < min_len or any(abs(t - a) < min_len for a, _ in taken):
                continue
        elif any(abs(t - a) < 0.001 for a, _ in taken):
            continue
        taken.append((t, chapter_title(m)))
    if not any(a == 0.0 for a, _ in taken):
        taken.append((0.0, "Start"))
    return sorted(taken)


def question_moments(interview: Interview) -> list[Moment]:
    """The interviewer's questions (:func:`pipeline.text.questions`), as stand-in chapter points
    (score 0: used only to fill up)."""
    return [Moment(s.start, s.end, "question", f"Q: {s.text}", INTERVIEWER, "", 0.0, "detected")
            for s in questions(interview)]


def youtube_chapters(job: ExportJob) -> list[tuple[float, str]]:
    """Chapters that follow YouTube's rules; the interviewer's questions, then equal parts, fill up
    when the moments alone give fewer than three."""
    duration = math.floor(job.duration)
    if duration < YOUTUBE_MIN_S * YOUTUBE_MIN_CHAPTERS:
        raise ExportError(str(job.sidecar), f"YouTube chapters need a video of at least "
                          f"{YOUTUBE_MIN_S * YOUTUBE_MIN_CHAPTERS} s; this one is {job.duration:.1f} s")
    points = chapter_points(job.moments, duration, YOUTUBE_MIN_S, time=lambda t: float(math.floor(t)))
    if len(points) < YOUTUBE_MIN_CHAPTERS:
        extra = [Moment(m.start, m.end, m.kind, m.label, m.role, m.text, -1.0, m.source)
                 for m in question_moments(job.interview)]
        points = chapter_points(job.moments + extra, duration, YOUTUBE_MIN_S, time=lambda t: float(math.floor(t)))
    while len(points) < YOUTUBE_MIN_CHAPTERS:
        gaps = [(b - a, a) for (a, _), (b, _) in zip(points, points[1:] + [(duration, "")])]
        length, start = max(gaps)
        if length < 2 * YOUTUBE_MIN_S:  # no room left between the moments: equal parts instead
            step = duration // YOUTUBE_MIN_CHAPTERS
            points = [(0.0, points[0][1])] + [(float(step * k), "") for k in range(1, YOUTUBE_MIN_CHAPTERS)]
            break
        points = sorted(points + [(float(start + math.floor(length / 2)), "")])
    return [(t, title or f"Part {n}") for n, (t, title) in enumerate(points, start=1)]


def youtube_stamp(seconds: float, hours: bool) -> str:
    return clock(seconds, hours=hours, floor=True)


@register
class YoutubeWriter(Writer):
    name, suffix = "youtube", ".youtube.txt"
    help = "A chapter list to paste into a YouTube description (0:00 first, three or more, 10 s or longer)."
    default_kinds = ("bookmarks", "highlights")

    def write(self, job: ExportJob) -> list[Path]:
        points = youtube_chapters(job)
        hours = job.duration >= 3600
        lines = [f"{youtube_stamp(t, hours)} {title}" for t, title in points]
        return self.save(job, "\n".join(lines) + "\n")


@register
class ChaptersWriter(Writer):
    name, suffix = "chapters", ".chapters.vtt"
    help = "A WebVTT chapters track: one chapter from each moment's start (and one from 0)."
    default_kinds = ("bookmarks", "highlights")

    def write(self, job: ExportJob) -> list[Path]:
        points = chapter_points(job.moments, job.duration)
        out = ["WEBVTT", "", "NOTE", f"Chapters of {vtt_escape(job.recording_name)} made by ivp from its moments.", ""]
        ends = [t for t, _ in points[1:]] + [job.duration]
        for n, ((start, title), end) in enumerate(zip(points, ends), start=1):
            out += [str(n), f"{stamp(start)} --> {stamp(max(end, start + 0.001))}", vtt_escape(one_line(title)), ""]
        return self.save(job, "\n".join(out))


# -- labels and tables ----------------------------------------------------------------------------

@register
class AudacityWriter(Writer):
    name, suffix = "audacity", ".labels.txt"
    help = "An Audacity label track: start, end and label in seconds, tab-separated (File > Import > Labels)."

    def write(self, job: ExportJob) -> list[Path]:
        lines = [f"{m.start:.6f}\t{max(m.end, m.start):.6f}\t{cell(m.label)}" for m in job.moments]
        return self.save(job, "".join(line + "\n" for line in lines))


CSV_COLUMNS = ("recording", "start", "end", "duration", "start_tc", "end_tc", "kind", "source", "role",
               "score", "label", "text")


@register
class CsvWriter(Writer):
    name, suffix = "csv", ".moments.csv"
    help = "One row per moment: times in seconds and hh:mm:ss.mmm, kind, source, role, score, label, text."

    def write(self, job: ExportJob) -> list[Path]:
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(CSV_COLUMNS)
        for m in job.moments:
            out.writerow([cell(job.recording_name), f"{m.start:.3f}", f"{m.end:.3f}", f"{m.end - m.start:.3f}",
                          stamp(m.start), stamp(m.end), m.kind, m.source, m.role or "", f"{m.score:.3f}",
                          cell(m.label), cell(m.text)])
        return self.save(job, buf.getvalue())
