"""Build the static HTML report: ``index.html`` (one row per interview) and a page per interview.

Layout of the output folder::

    index.html
    interviews/<name>.html
    assets/report.css, assets/report.js

Everything is rendered here with Jinja2 (autoescaped); the bundled script only adds sorting,
filtering and the link between player, timeline and transcript. No network is needed to view it.
``ivp serve`` renders the same pages on request (:func:`collect`, :func:`render_interview`,
:func:`render_index`, :func:`render_study`) with its editing controls added.

Why this long: the entries, each page's view and their rendering are one set of pages, written
here by ``ivp report`` and served by ``ivp serve``; split, each half would reach into the other.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional, Union

from markupsafe import Markup

from .. import __version__
from ..config import TARGET_BAND
from ..errors import SidecarError
from ..interview import INTERVIEWEE, INTERVIEWER, ROLE_LABELS, Interview
from ..recording.outputs import atomic_write_text
from ..sidecar import SUFFIX, find_sidecars, read
from .. import metrics
from ..recording import href as _href
from .html import GENERATOR, band_text, clock, percent, script_json, seconds_text
from ..recording import firsts, guard, media
from ..recording.dates import recording_date as _date
from ..stages.relabel import fix_command
from ..stages.roles import LOW_CONFIDENCE
from .study_page import render_study_page, write_study_page  # themes, quote bank, progress (pipeline.study)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
ASSETS = HERE / "assets"
DEFAULT_DIRNAME = "ivp-report"
PAGES_DIRNAME = "interviews"

PathLike = Union[str, os.PathLike]


@dataclass
class Entry:
    """One interview as the report shows it."""

    sidecar: Path
    interview: Interview
    name: str  # shown: folder (relative to the report's root) / recording file name
    slug: str  # file name of its page, without .html
    date: str
    media_path: Optional[Path]  # the recording found on disk, if any
    media_href: str  # link to the recording, relative to the interview page
    summary: dict = field(default_factory=dict)
    copies: list[str] = field(default_factory=list)  # the same recording (sha256) elsewhere: shown once


@dataclass
class Skipped:
    path: Path
    reason: str


def default_out_dir(sources: Union[PathLike, Iterable[PathLike]]) -> Path:
    """``<DIR>/ivp-report`` for the first folder given (or the first file's folder)."""
    paths = _as_list(sources)
    if not paths:
        return Path(DEFAULT_DIRNAME)
    first = paths[0]
    return (first if first.is_dir() else first.parent) / DEFAULT_DIRNAME


def build_report(sources: Union[PathLike, Iterable[PathLike]], out_dir: Optional[PathLike] = None,
                 ) -> Path:
    """Write the report for the sidecars under ``sources`` (folders and/or sidecar files) into
    ``out_dir`` (default ``<first folder>/ivp-report``) and return the path of its ``index.html``.

    Safe to call again and again (``ivp watch``): every file is written atomically, and pages of
    interviews whose sidecar has gone are removed.
    """
    return build(sources, out_dir).index


@dataclass
class BuildResult:
    index: Path
    entries: list[Entry]
    skipped: list[Skipped]
    missing: list[Path]


def build(sources: Union[PathLike, Iterable[PathLike]], out_dir: Optional[PathLike] = None,
          ) -> BuildResult:
    """:func:`build_report` with the details (interviews shown, sidecars skipped, missing inputs)."""
    src_list = _as_list(sources)
    out = Path(out_dir) if out_dir is not None else default_out_dir(src_list)
    bound = out if out_dir is not None else out.parent  # nothing is written through a link leaving it
    if out_dir is None:
        guard.refuse_link(out, bound, "the report")
    guard.folder(out, bound)
    pages = guard.folder(out / PAGES_DIRNAME, bound)
    guard.folder(out / "assets", bound)
    result = collect(src_list, out)
    _write_assets(out, bound)
    written = set()
    for e in result.entries:
        page = guard.check(pages / f"{e.slug}.html", bound)
        atomic_write_text(page, render_interview(e))
        written.add(page.name)
    _remove_stale_pages(pages, written, bound)
    atomic_write_text(guard.check(result.index, bound), render_index(result))
    write_study_page(src_list, out, result.entries, _env())
    return result


def collect(sources: Union[PathLike, Iterable[PathLike]], out: Path) -> BuildResult:
    """The interviews a report in ``out`` shows (every sidecar read with its edits), nothing
    written: ``ivp report`` writes them, ``ivp serve`` renders them on request."""
    src_list = _as_list(sources)
    out = Path(out)
    pages = out / PAGES_DIRNAME
    sidecars, missing = find_sidecars(src_list, exclude=out)
    root = _common_root(src_list)

    entries: list[Entry] = []
    skipped: list[Skipped] = []
    used_slugs: set[str] = set()
    for path in sidecars:
        try:
            iv = read(path)
        except SidecarError as exc:  # a broken, foreign or newer sidecar must not stop the whole report
            skipped.append(Skipped(path, exc.reason))
            continue
        entries.append(_entry(path, iv, root, pages, used_slugs))
    entries = one_per_recording(entries)
    entries.sort(key=lambda e: (e.date, e.name), reverse=True)
    return BuildResult(out / "index.html", entries, skipped, missing)


def render_interview(e: Entry, editing: Optional[dict] = None) -> str:
    """An interview's page; ``editing`` (from ``ivp serve``: its token, the folder's tags) adds the
    editing controls, absent from the static report."""
    return _env().get_template("interview.html").render(
        e=e, iv=e.interview, view=_interview_view(e), generator=GENERATOR, version=__version__,
        asset_prefix="../", editing=editing)


def render_study(sources: Union[PathLike, Iterable[PathLike]], out: Path, entries: list[Entry],
                 editing: Optional[dict] = None) -> Optional[str]:
    """The study page (see :mod:`.study_page`) for a report in ``out``."""
    return render_study_page(_as_list(sources), Path(out), entries, _env(), editing)


def render_index(result: BuildResult, editing: Optional[dict] = None) -> str:
    return _env().get_template("index.html").render(
        entries=result.entries, skipped=result.skipped, summary=_overview_summary(result.entries),
        generator=GENERATOR, version=__version__, asset_prefix="", editing=editing,
        generated=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"))


# ---------------------------------------------------------------------------------------- entries

def _entry(path: Path, iv: Interview, root: Optional[Path], pages: Path, used: set[str]) -> Entry:
    rec_name = Path(iv.source.path).name if iv.source and iv.source.path else path.name[:-len(SUFFIX)]
    try:
        folder = path.parent.resolve().relative_to(root) if root else Path()
    except ValueError:
        folder = Path()
    name = (folder / rec_name).as_posix() if str(folder) not in ("", ".") else rec_name
    media = _find_media(iv, path)
    href = _href(media, pages) if media else _href(Path(iv.source.path), pages) if iv.source.path else ""
    e = Entry(sidecar=path, interview=iv, name=name, slug=_slug(name, used), date=_date(iv, path, media),
              media_path=media, media_href=href)
    e.summary = _summary(iv)
    e.summary["roles_check"] = roles_check(iv)
    return e


def one_per_recording(entries: list[Entry]) -> list[Entry]:
    """Identical copies (the same ``source.sha256``) are one interview: the first by name, with
    the others' names in its ``copies``."""
    ordered = sorted(entries, key=lambda e: e.name)
    first = firsts(e.interview.source.sha256 if e.interview.source else None for e in ordered)
    for e, f in zip(ordered, first):
        if ordered[f] is not e:
            ordered[f].copies.append(e.name)
    return [e for k, e in enumerate(ordered) if first[k] == k]


def roles_check(iv: Interview) -> Optional[dict]:
    """Why the roles may be wrong and the command that fixes them, or None when they look sure
    (read from ``roles``: confidence under 0.6 or voice and text disagreeing; never an override)."""
    r = iv.roles
    if r is None or not r.interviewer or r.method in ("override", "single-speaker", "none"):
        return None
    unsure = [(s, side) for s, side in sorted((r.evidence.get("sides") or {}).items())
              if not side.get("fixed") and side.get("confidence", 1.0) < LOW_CONFIDENCE]
    if "disagreement" in r.evidence:
        why = f"voice and text disagree: {r.evidence['disagreement']}"
    elif r.confidence < LOW_CONFIDENCE:
        why = f"roles decided with low confidence ({r.confidence:.2f}, {r.method})"
    elif unsure:
        speaker, side = unsure[0]
        return {"why": f"side uncertain for {speaker} (put on the {side['role']} side, confidence "
                       f"{side['confidence']:.2f})", "command": fix_command(iv, speaker)}
    else:
        return None
    return {"why": why, "command": fix_command(iv)}


def speaker_rows(iv: Interview, sample_words: int = 12) -> list[dict]:
    """Per speaker: id (what ``ivp roles --interviewer`` takes), role, share, the first words and
    the start of the first turn."""
    stats = {s.id: s for s in iv.speakers}
    ids = list(stats) + sorted({t.speaker for t in iv.turns} - set(stats))
    rows = []
    for sid in ids:
        words: list[str] = []
        for seg in sorted(iv.segments, key=lambda s: (s.start, s.end)):
            if seg.speaker == sid and len(words) < sample_words:
                words += [w.word.strip() for w in seg.words if w.word.strip()] or seg.text.split()
        first = min((t.start for t in iv.turns if t.speaker == sid), default=None)
        st = stats.get(sid)
        role = st.role if st else iv.role_of(sid)
        rows.append({"id": sid, "name": iv.name_of(sid), "role": role, "label": ROLE_LABELS.get(role, role or "other"),
                     "share": st.share if st else None,
                     "sample": " ".join(words[:sample_words]) + (" …" if len(words) > sample_words else ""),
                     "first_start": first})
    return rows


def _find_media(iv: Interview, sidecar_path: Path) -> Optional[Path]:
    """The recording to link to (:func:`pipeline.recording.media.recording_of`: the file beside the
    sidecar first; the report links to it and copies nothing)."""
    return media.recording_of(sidecar_path, iv.source.path if iv.source else "", None)


def _slug(name: str, used: set[str]) -> str:
    stem = name[:-len(Path(name).suffix)] if Path(name).suffix else name
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")[:80] or "interview"
    slug, n = base, 2
    while slug.lower() in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug.lower())
    return slug


def _summary(iv: Interview) -> dict:
    long = metrics.long_silences(iv)
    low, high = metrics.target(iv)
    talk = metrics.talk_seconds(iv)
    return {
        "duration": metrics.duration(iv),
        "people": len(iv.speakers),
        "sides": metrics.side_names(iv),
        "people_text": metrics.people_sentence(iv) or "",
        "share": metrics.share(iv),
        "target": [low, high],
        "verdict": metrics.verdict(iv),
        "long_silences": len(long),
        "long_broken_by_interviewee": metrics.broken_by_interviewee(long),
        "fast_fills": len(iv.fast_fills),
        "highlights": len(metrics.highlights(iv)),
        "moments": len(iv.moments),
        "warnings": list(iv.warnings),
        "edit_notes": list(iv.edit_notes),  # edits that no longer apply (pipeline.edits), kept in the file
        "questions": metrics.questions_asked(iv),
        "median_wait": metrics.median_wait(iv),
        "talk": talk,
        "longest": metrics.longest_monologue(iv),
    }


def _overview_summary(entries: list[Entry]) -> dict:
    targets = [tuple(e.summary["target"]) for e in entries]
    common = max(set(targets), key=targets.count) if targets else TARGET_BAND
    within = sum(1 for e in entries if e.summary["verdict"] == "within")
    return {"total": len(entries), "within": within, "target_text": band_text(common),
            "below": sum(1 for e in entries if e.summary["verdict"] == "below"),
            "above": sum(1 for e in entries if e.summary["verdict"] == "above"),
            "unknown": sum(1 for e in entries if e.summary["verdict"] == "unknown"),
            "mixed_targets": len(set(targets)) > 1}


# -------------------------------------------------------------------------------- interview page

def _interview_view(e: Entry) -> dict:
    """Positions (in % of the recording) for the timeline, and the transcript lines."""
    iv = e.interview
    dur = e.summary["duration"] or 1.0

    def pct(t: float) -> float:
        return round(max(0.0, min(100.0, 100.0 * t / dur)), 3)

    def span(start: float, end: float) -> dict:
        left = pct(start)
        return {"left": left, "width": round(max(0.15, pct(end) - left), 3)}

    several = metrics.several_on_a_side(iv)
    talk = {sp.id: sp.talk_s for sp in iv.speakers}
    order = {INTERVIEWER: 0, INTERVIEWEE: 1}

    def who(speaker: Optional[str], role: Optional[str]) -> str:
        label = ROLE_LABELS.get(role, speaker or "Unknown")
        label = f"{label} {speaker}" if several and role in order and speaker else label
        name = iv.name_of(speaker)  # a person named them (pipeline.edits)
        return f"{name} ({label})" if name else label

    lanes = []  # one per person, the interviewer side first (two people: one per role, as before)
    people = sorted({t.speaker for t in iv.turns},
                    key=lambda s: (order.get(iv.role_of(s), 2), -talk.get(s, 0.0), s))
    for speaker in people:
        role = iv.role_of(speaker)
        turns = [t for t in iv.turns if t.speaker == speaker]
        lanes.append({"key": role if role in order else "other", "speaker": speaker,
                      "label": who(speaker, role) if role in order else f"Other ({speaker})",
                      "turns": [dict(span(t.start, t.end), start=t.start, end=t.end) for t in turns]})
    silences = [dict(span(s.start, s.end), start=s.start, end=s.end, duration=s.duration, kind=s.kind,
                     broken_by=s.broken_by, long=s.duration >= metrics.LONG_SILENCE_S - 1e-9
                     and s.kind not in metrics.EDGE_KINDS) for s in iv.silences]
    fills = [dict(left=pct(h.end), start=h.start, end=h.end, gap=h.gap) for h in iv.fast_fills]
    moments = [dict(left=pct(m.start), start=m.start, end=m.end, kind=m.kind, label=m.label,
                    text=m.text, role=m.role, group="coaching" if metrics.is_coaching(m) else "highlight",
                    source=m.source, tags=list(m.tags), note=m.note, id=m.id)
               for m in sorted(iv.moments, key=lambda m: (m.start, m.end))]
    lines = []
    for seg in sorted(iv.segments, key=lambda s: (s.start, s.end)):
        role = metrics.segment_role(iv, seg)
        lines.append({"start": seg.start, "end": seg.end, "text": seg.text.strip(),
                      "role": role or "other", "who": who(seg.speaker, role), "speaker": seg.speaker})
    return {"duration": dur, "lanes": lanes, "silences": silences, "fills": fills, "moments": moments,
            "ticks": [{"left": pct(t), "label": clock(t)} for t in _ticks(dur)],
            "lines": lines, "speakers": speaker_rows(iv), "media_kind": "video" if iv.source and iv.source.has_video else "audio",
            "data_json": script_json({"duration": dur, "title": e.name})}


def _ticks(duration: float, most: int = 10) -> list[float]:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if duration / step <= most:
            break
    n = int(duration // step)
    return [i * step for i in range(n + 1)]


@lru_cache(maxsize=1)
def _env():
    import jinja2  # lazy: ~25 ms of imports; every ivp command imports this module, only a report needs Jinja

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(clock=clock, secs=seconds_text, pct=percent, band=band_text,
                       num=lambda v, nd=3: "" if v is None else f"{float(v):.{nd}f}")
    env.globals.update(role_labels=ROLE_LABELS, INTERVIEWER=INTERVIEWER, INTERVIEWEE=INTERVIEWEE)
    env.filters["script_json"] = lambda data: Markup(script_json(data))
    return env


def _write_assets(out: Path, root: Path) -> None:
    for src in sorted(ASSETS.iterdir()):
        if src.is_file() and not src.name.startswith("."):
            dst = guard.check(out / "assets" / src.name, root)
            text = src.read_text(encoding="utf-8")
            try:
                if dst.read_text(encoding="utf-8") == text:
                    continue
            except OSError:
                pass
            atomic_write_text(dst, text)


def _remove_stale_pages(pages: Path, keep: set[str], root: Path) -> None:
    """Remove pages this tool wrote earlier for sidecars that are gone (nothing else, and nothing
    through a link: :func:`pipeline.recording.guard.remove`)."""
    if not pages.is_dir():
        return
    for page in pages.glob("*.html"):
        if page.name not in keep:
            guard.remove(page, root, ours=_generated)


def _generated(page: Path) -> bool:
    """A page this tool wrote: its head names the generator."""
    try:
        with open(page, encoding="utf-8", errors="replace") as fh:
            return f'<meta name="generator" content="{GENERATOR}' in fh.read(2000)
    except OSError:
        return False


def _as_list(sources) -> list[Path]:
    if isinstance(sources, (str, os.PathLike)):
        return [Path(sources)]
    return [Path(s) for s in sources]


def _common_root(paths: list[Path]) -> Optional[Path]:
    dirs = [str((p if p.is_dir() else p.parent).resolve()) for p in paths if p.exists()]
    if not dirs:
        return None
    try:
        return Path(os.path.commonpath(dirs))
    except ValueError:
        return None
