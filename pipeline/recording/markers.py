"""A recording's marker files: ``<stem>.marks.txt`` or ``<stem>.marks.csv`` beside it.

One mark a line: a time (``hh:mm:ss``, ``mm:ss``, ``hh:mm:ss.mmm`` or seconds) then an
optional label. Bad lines are reported (a problem each, at most :data:`MAX_PROBLEMS`) and
skipped, never fatal: a time must be under :data:`MAX_TIME_S`, a line under
:data:`MAX_LINE_CHARS`, a label is cut at :data:`MAX_LABEL_CHARS`, and only the first
:data:`MAX_FILE_BYTES` of a file are read. Only regular files are read.
"""
from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from .outputs import atomic_write_text
from ..timefmt import stamp
from . import guard
from .discover import open_regular

MARK_SUFFIXES = (".marks.txt", ".marks.csv")
WARNING_PREFIX = "marker file "
MAX_FILE_BYTES = 1 << 20
MAX_LINE_CHARS = 2000
MAX_LABEL_CHARS = 200
MAX_MARKS = 2000
MAX_PROBLEMS = 20
MAX_TIME_S = 7 * 24 * 3600.0  # a week: longer than any recording


@dataclass(frozen=True)
class Mark:
    seconds: float
    label: str
    line: int = 0
    path: str = ""


@dataclass(frozen=True)
class MarkProblem:
    path: str
    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"{WARNING_PREFIX}{Path(self.path).name} line {self.line}: {self.reason} ({text!r}); skipped"


_TIME = re.compile(r"^(?:(?:(\d{1,6}):)?(\d{1,6}):)?(\d{1,9}(?:\.\d{1,9})?)$")


def parse_time(text: str) -> float:
    """Seconds from ``hh:mm:ss``, ``mm:ss``, ``hh:mm:ss.mmm``, ``mm:ss.mmm`` or plain seconds.
    Raises ``ValueError`` with a plain reason."""
    value = text.strip()
    if not value:
        raise ValueError("no time")
    if value.startswith("-"):
        raise ValueError("negative time")
    if value.count(":") > 2:
        raise ValueError("too many ':' (frame timecode hh:mm:ss:ff is not supported; use hh:mm:ss.mmm)")
    if len(value) > 32:
        raise ValueError("not a time (too many digits)")
    m = _TIME.match(value)
    if not m:
        raise ValueError("not a time (use hh:mm:ss, mm:ss, hh:mm:ss.mmm or seconds)")
    hours, minutes, seconds = m.group(1), m.group(2), m.group(3)
    if minutes is not None and float(seconds) >= 60:
        raise ValueError("seconds must be below 60")
    if hours is not None and int(minutes) >= 60:
        raise ValueError("minutes must be below 60")
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds)
    if total > MAX_TIME_S:
        raise ValueError("time too large")
    return round(total, 3)


def format_time(seconds: float) -> str:
    """``hh:mm:ss.mmm``."""
    return stamp(seconds)


_TXT_LINE = re.compile(r"^(?P<time>\S+?)(?:\s*[,;|\t\u2013\u2014]\s*|\s+-\s+|\s+|$)(?P<label>.*)$")


def parse_marks(text: str, path: str = "", is_csv: Optional[bool] = None) -> tuple[list[Mark], list[MarkProblem]]:
    """Marks and the lines that could not be read (blank lines and ``#`` comments are ignored;
    a first CSV row that is a header, like ``time,label``, is skipped)."""
    if is_csv is None:
        is_csv = str(path).lower().endswith(".csv")
    marks: list[Mark] = []
    problems: list[MarkProblem] = []
    lines = text.lstrip("\ufeff").splitlines()
    for number, line in enumerate(lines, start=1):  # over-long lines never reach the parsers
        if len(line) > MAX_LINE_CHARS:
            problems.append(MarkProblem(str(path), number, line[:60], f"line too long ({len(line)} characters)"))
            lines[number - 1] = ""
    try:
        for number, raw, time_text, label in _mark_lines(lines, is_csv):
            try:
                seconds = parse_time(time_text)
            except ValueError as exc:
                if is_csv and not marks and not problems and re.fullmatch(r"[A-Za-z _]+", time_text):
                    continue  # a header row such as "time,label"
                problems.append(MarkProblem(str(path), number, raw, str(exc)))
                continue
            if len(marks) >= MAX_MARKS:
                problems.append(MarkProblem(str(path), number, raw, f"more than {MAX_MARKS} marks"))
                break
            marks.append(Mark(seconds, bound_label(label), number, str(path)))
    except csv.Error as exc:
        problems.append(MarkProblem(str(path), 0, "", f"cannot read as CSV: {exc}"))
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS] + [MarkProblem(str(path), problems[MAX_PROBLEMS].line, "",
                                                          f"and {more} more bad line(s)")]
    return marks, problems


def bound_label(label: str) -> str:
    """One line of at most :data:`MAX_LABEL_CHARS` characters."""
    label = " ".join(label.split())
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 3].rstrip() + "..."


def _mark_lines(lines: list[str], is_csv: bool) -> Iterable[tuple[int, str, str, str]]:
    """(line number, the line, time text, label) for each line that is not blank or a comment."""
    if is_csv:
        reader = csv.reader(io.StringIO("\n".join(lines)))
        number = 1
        for fields in reader:
            raw = " ".join(lines[number - 1:reader.line_num]).strip()
            first, number = number, reader.line_num + 1
            fields = [f.strip() for f in fields]
            if not any(fields) or fields[0].startswith("#"):
                continue
            yield first, raw, fields[0], ", ".join(f for f in fields[1:] if f)
        return
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _TXT_LINE.match(line)
        yield number, line, m.group("time"), m.group("label")


def marker_files(recording: Path) -> list[Path]:
    """The marker files beside a recording that exist (regular files only, never through a link
    leaving its folder: :mod:`.guard`), ``.marks.txt`` first."""
    recording = Path(recording)
    return [p for p in _candidates(recording) if guard.why_not_read(p, recording.parent) is None]


def _candidates(recording: Path) -> list[Path]:
    """The names a recording's marker files have (a name too long is simply absent)."""
    return [recording.with_name(recording.stem + s) for s in MARK_SUFFIXES]


def read_marks(recording: Path) -> tuple[list[Mark], list[MarkProblem]]:
    marks: list[Mark] = []
    problems: list[MarkProblem] = []
    for path in _candidates(Path(recording)):  # a marker file linked out of the folder: said, never read
        if os.path.islink(path) and guard.leaves(path, Path(recording).parent):
            problems.append(MarkProblem(str(path), 0, "", "a symbolic link that leaves the folder: not read"))
    for path in marker_files(recording):
        try:
            with open_regular(path) as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            problems.append(MarkProblem(str(path), 0, "", f"cannot read: {exc.strerror or exc}"))
            continue
        if len(data) > MAX_FILE_BYTES:
            data = data[:MAX_FILE_BYTES]
            problems.append(MarkProblem(str(path), 0, "", f"larger than {MAX_FILE_BYTES >> 20} MB: "
                                                          "only the start was read"))
        text = data.decode("utf-8-sig", errors="replace")
        m, p = parse_marks(text, str(path))
        marks += m
        problems += p
    return marks, problems


def append_mark(recording: Path, seconds: float, label: str = "") -> Path:
    """Add one mark to the recording's marker file (the ``.csv`` one if only that exists); atomic."""
    existing = marker_files(recording)
    path = existing[0] if existing else Path(recording).with_name(Path(recording).stem + MARK_SUFFIXES[0])
    path = guard.check(path, Path(recording).parent)  # never through a link leaving the folder, even a new one
    old = path.read_text(encoding="utf-8-sig") if path.is_file() else ""
    label = bound_label(label)
    if path.suffix.lower() == ".csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([format_time(seconds)] + ([label] if label else []))
        line = buf.getvalue()
    else:
        line = f"{format_time(seconds)} {label}".rstrip() + "\n"
    if old and not old.endswith(("\n", "\r")):
        old += "\n"
    atomic_write_text(path, old + line)
    return path
