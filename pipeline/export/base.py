"""What every export writer shares: the job, the writer base class and registry, time helpers."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from fractions import Fraction
from pathlib import Path
from typing import ClassVar, Iterable, Optional, Union

from ..errors import PipelineError
from ..recording import display, guard, media
from ..interview import Interview, Moment
from ..sidecar import SUFFIX as SIDECAR_SUFFIX
from ..recording.outputs import atomic_write_bytes, atomic_write_text
from ..stages.moments import GROUPS, KINDS
from ..config import comma_list
from ..text import one_line

DEFAULT_FPS = 25
# Timecode rates editors accept; a source's rate snaps to the nearest within 1 %.
TIMECODE_RATES = (Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
                  Fraction(48), Fraction(50), Fraction(60000, 1001), Fraction(60))


class ExportError(PipelineError):
    stage = "export"


@dataclass(frozen=True)
class Timebase:
    """The frame rate of frame-based exports: the video's, or ``DEFAULT_FPS`` for audio."""

    rate: Fraction
    from_video: bool
    note: str = ""

    @property
    def fps(self) -> float:
        return float(self.rate)

    @property
    def nominal(self) -> int:
        """The timecode base: 30 for 29.97 (non-drop-frame timecode counts 30 a second)."""
        return round(self.fps)

    @property
    def ntsc(self) -> bool:
        return self.rate.denominator == 1001

    def frames(self, seconds: float) -> int:
        return int(round(Fraction(seconds).limit_denominator(1_000_000) * self.rate))

    def seconds(self, frames: int) -> float:
        return float(frames / self.rate)

    def describe(self) -> str:
        rate = f"{self.fps:.3f}".rstrip("0").rstrip(".")
        why = "the video's frame rate" if self.from_video else "default: the recording has no video"
        return f"{rate} fps ({why}{'; ' + self.note if self.note else ''})"


def video_timebase(frame_rate: Optional[float], has_video: bool) -> Timebase:
    """The timebase of a video at ``frame_rate`` (snapped to the nearest timecode rate within 1 %),
    else ``DEFAULT_FPS``; the single-recording exports and the study's reels both ask it."""
    if has_video and frame_rate:
        nearest = min(TIMECODE_RATES, key=lambda r: abs(float(r) - frame_rate))
        if abs(float(nearest) - frame_rate) <= 0.01 * frame_rate:
            return Timebase(nearest, True)
        return Timebase(Fraction(DEFAULT_FPS), False, f"the video's {frame_rate} fps is not a timecode rate")
    return Timebase(Fraction(DEFAULT_FPS), False)


def timebase(interview: Interview) -> Timebase:
    src = interview.source
    return video_timebase(src.frame_rate if src is not None else None, bool(src is not None and src.has_video))


@dataclass
class ExportJob:
    """One sidecar's interview, the moments chosen for export, and where outputs go."""

    interview: Interview
    sidecar: Path
    out_dir: Path
    moments: list[Moment] = field(default_factory=list)
    root: Optional[Path] = None  # no output leaves it (default: out_dir)
    tree: Optional[Path] = None  # the folder exported: media are read only from inside it (default: the sidecar's)

    @property
    def stem(self) -> str:
        name = self.sidecar.name
        return name[: -len(SIDECAR_SUFFIX)] if name.endswith(SIDECAR_SUFFIX) else self.sidecar.stem

    @property
    def title(self) -> str:
        """The stem as text inside a file (a timeline's name): a name that is not UTF-8 escaped."""
        return display(self.stem)

    def output(self, suffix: str) -> Path:
        """Where this format's output goes; :class:`~pipeline.errors.OutputError` when a link there
        leaves the root."""
        return guard.check(self.out_dir / f"{self.stem}{suffix}", self.root or self.out_dir)

    @cached_property
    def recording(self) -> Optional[Path]:
        """The recording to cut from or point at: the file beside the sidecar, else ``source.path``
        when inside the folder exported or proven the same bytes (:mod:`pipeline.recording.media`)."""
        src = self.interview.source
        found = media.recording_of(self.sidecar, src.path, self.tree or self.sidecar.parent, src.sha256)
        return found.resolve() if found else None

    @property
    def recording_name(self) -> str:
        """The recording's file name as text inside a file (escaped as :func:`display` does)."""
        return display(Path(self.interview.source.path).name)

    @property
    def recording_url(self) -> str:
        path = self.recording or Path(self.interview.source.path).absolute()
        return path.as_uri()

    @property
    def duration(self) -> float:
        ends = [m.end for m in self.moments] + [s.end for s in self.interview.segments]
        return max([self.interview.source.duration_s or 0.0] + ends)

    @property
    def timebase(self) -> Timebase:
        return timebase(self.interview)


class Writer:
    """One export format. Subclasses set the class attributes and implement ``write``."""

    name: ClassVar[str] = ""
    suffix: ClassVar[str] = ""  # added to the recording's stem
    help: ClassVar[str] = ""
    default_kinds: ClassVar[Optional[tuple[str, ...]]] = None  # without --kinds: None is every kind

    def write(self, job: ExportJob) -> list[Path]:
        raise NotImplementedError

    def save(self, job: ExportJob, text: str) -> list[Path]:
        """Write ``text`` atomically as this format's file for ``job``; ``write``'s return value."""
        path = job.output(self.suffix)
        atomic_write_text(path, text)
        return [path]

    def save_bytes(self, job: ExportJob, data: bytes) -> list[Path]:
        """:meth:`save` for a binary format (DOCX)."""
        path = job.output(self.suffix)
        atomic_write_bytes(path, data)
        return [path]


WRITERS: dict[str, type[Writer]] = {}


def register(cls: type[Writer]) -> type[Writer]:
    WRITERS[cls.name] = cls
    return cls


def get_writer(name: str) -> Writer:
    try:
        return WRITERS[name.strip().lower()]()
    except KeyError:
        raise ExportError(None, f"unknown export format {name!r} (known: {', '.join(WRITERS)})") from None


def parse_formats(formats: Union[str, Iterable[str]]) -> list[str]:
    """``"srt,edl"`` or ``["srt", "edl"]`` to known format names, in order, without repeats."""
    names = comma_list(formats, lower=True)
    if not names:
        raise ExportError(None, f"no export format given (known: {', '.join(WRITERS)})")
    for n in names:
        get_writer(n)
    return list(dict.fromkeys(names))


def parse_kinds(kinds: Union[None, str, Iterable[str]]) -> Optional[set[str]]:
    """Kind names and group names (``bookmarks``, ``highlights``, ``coaching``, ``all``) to kinds."""
    if kinds is None:
        return None
    names = comma_list(kinds, lower=True)
    out: set[str] = set()
    for n in names:
        if n in GROUPS:
            out.update(GROUPS[n])
        elif n in KINDS:
            out.add(n)
        else:
            raise ExportError(None, f"unknown moment kind {n!r} (known: {', '.join([*GROUPS, *KINDS])})")
    return out or None


def select_moments(moments: list[Moment], kinds=None, top: Optional[int] = None) -> list[Moment]:
    """The moments of ``kinds``; with ``top``, the best ``top`` by score (earlier first on ties);
    always returned in time order."""
    wanted = parse_kinds(kinds)
    chosen = [m for m in moments if wanted is None or m.kind in wanted or wanted.intersection(m.also)]
    if top is not None:
        if top < 1:
            raise ExportError(None, "--top must be 1 or more")
        chosen = sorted(chosen, key=lambda m: (-m.score, m.start, m.end, m.kind))[:top]
    return sorted(chosen, key=lambda m: (m.start, m.end, m.kind, m.label))


# -- text helpers ---------------------------------------------------------------------------------

def ascii_text(text: str) -> str:
    """Plain ASCII on one line (for EDL comments and file names)."""
    text = unicodedata.normalize("NFKD", str(text).replace("\u2019", "'").replace("\u2014", "-"))
    return one_line(text.encode("ascii", "ignore").decode("ascii"))


def voice(interview: Interview, role: Optional[str], speaker: Optional[str]) -> str:
    """The name of whoever speaks: the name a person gave them (``pipeline.edits``), else the
    role, else the speaker id, else ``unknown``."""
    return interview.name_of(speaker) or role or interview.role_of(speaker) or speaker or "unknown"


def marker_note(m: Moment, interview: Optional[Interview] = None) -> str:
    """A longer text for marker notes: who said it (their name where a person gave one), the words
    spoken, the tags and note a person added, and where it came from."""
    who = ""
    if interview is not None:
        speaker = next((s.speaker for s in interview.segments if s.start - 0.05 <= m.start <= s.end), None)
        who = f"{interview.name_of(speaker)}: " if interview.name_of(speaker) else ""
    extra = "".join(f" #{t}" for t in m.tags) + (f" ({m.note})" if m.note else "")
    where = f"[{m.kind}, {m.source}, score {m.score:.2f}]"
    return one_line(f"{who}{m.text}{extra} {where}" if m.text or who or extra else where)


def slug(text: str, width: int = 40) -> str:
    """Lower-case ASCII letters, digits and hyphens: safe in a file name on every filesystem."""
    words = re.findall(r"[a-z0-9]+", ascii_text(text).lower())
    out = ""
    for w in words:
        if len(out) + len(w) + (1 if out else 0) > width:
            break
        out = f"{out}-{w}" if out else w
    return out or "moment"


