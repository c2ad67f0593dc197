"""Transcripts as documents people read and pass around: plain text (``txt``) and Word (``docx``,
through python-docx). One paragraph per turn (consecutive sentences of one speaker), each
opening with its time and the speaker; the REFI-QDA project (:mod:`pipeline.study.qdpx`) lays
its transcripts out the same way (:func:`transcript`).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from ..interview import ROLE_LABELS, Interview
from ..recording.dates import recording_date
from ..text import timed_sentences
from ..timefmt import clock
from .base import ExportJob, Writer, register, voice


@dataclass
class Paragraph:
    start: float
    end: float
    speaker: str  # as people read it: the role's label (ROLE_LABELS), else the speaker id
    sentences: list[tuple[float, float, str]] = field(default_factory=list)  # (start, end, text)

    @property
    def head(self) -> str:
        return f"[{clock(self.start)}] {self.speaker}: "

    @property
    def text(self) -> str:
        return " ".join(t for _s, _e, t in self.sentences)


def paragraphs(interview: Interview) -> list[Paragraph]:
    """The transcript's turns in time order: consecutive sentences of one speaker together."""
    out: list[Paragraph] = []
    for s in timed_sentences(interview):
        if not s.text:
            continue
        who = voice(interview, s.role, s.speaker)
        label = ROLE_LABELS.get(who, who)
        if not out or out[-1].speaker != label:
            out.append(Paragraph(s.start, s.end, label))
        out[-1].sentences.append((s.start, s.end, s.text))
        out[-1].end = s.end
    return out


@dataclass
class Transcript:
    """The plain text of a transcript and where each sentence sits in it (character offsets)."""

    text: str
    spans: list[tuple[float, float, int, int, str]]  # (start s, end s, first char, end char, speaker)
    turns: list[tuple[float, int]]  # (start s, first char) of each paragraph


def transcript(interview: Interview, title: str = "") -> Transcript:
    """The transcript as text: an optional title line, then one line per paragraph."""
    parts, spans, turns, pos = [], [], [], 0
    if title:
        parts.append(title + "\n\n")
        pos += len(parts[-1])
    for p in paragraphs(interview):
        turns.append((p.start, pos))
        parts.append(p.head)
        pos += len(p.head)
        for k, (start, end, text) in enumerate(p.sentences):
            if k:
                parts.append(" ")
                pos += 1
            spans.append((start, end, pos, pos + len(text), p.speaker))
            parts.append(text)
            pos += len(text)
        parts.append("\n\n")
        pos += 2
    return Transcript("".join(parts), spans, turns)


def heading(job: ExportJob) -> tuple[str, str]:
    """(title, the line under it): the recording's name; its date, length and where it came from."""
    iv = job.interview
    date = recording_date(iv, job.sidecar, job.recording)
    length = clock(iv.source.duration_s if iv.source else 0.0)
    return job.recording_name, f"Recorded {date} · {length} long · transcribed by ivp"


@register
class TxtWriter(Writer):
    name, suffix = "txt", ".transcript.txt"
    help = "The transcript as plain text: one paragraph per turn, with its time and the speaker."

    def write(self, job: ExportJob) -> list[Path]:
        title, sub = heading(job)
        body = "".join(f"{p.head}{p.text}\n\n" for p in paragraphs(job.interview))
        return self.save(job, f"{title}\n{sub}\n\n{body}")


@register
class DocxWriter(Writer):
    name, suffix = "docx", ".transcript.docx"
    help = "The transcript as a Word document (python-docx): one paragraph per turn, time and speaker first."

    def write(self, job: ExportJob) -> list[Path]:
        from docx import Document  # lazy: python-docx and lxml, only for this format
        from docx.shared import RGBColor

        doc = Document()
        title, sub = heading(job)
        doc.core_properties.title = title
        doc.add_heading(title, level=1)
        doc.add_paragraph().add_run(sub).italic = True
        for p in paragraphs(job.interview):
            para = doc.add_paragraph()
            when = para.add_run(f"[{clock(p.start)}] ")
            when.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
            para.add_run(f"{p.speaker}: ").bold = True
            para.add_run(p.text)
        buf = io.BytesIO()
        doc.save(buf)
        return self.save_bytes(job, buf.getvalue())
