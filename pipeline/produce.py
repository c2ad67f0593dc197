"""One path from a recording to its sidecar, used by ``ivp process`` (here or on Ray) and the
watcher; the drivers only choose which recordings, and when.

- :func:`fresh`: the sidecar that is already up to date for this content and these settings,
  brought up to date without transcription where that is possible (a marker file edited
  since, ``--interviewer`` alone changed);
- :func:`produce`: run the pipeline and write the result;
- :func:`save`: the write itself, read-modify-write under the sidecar's lock, so that an
  ``ivp roles`` fix made while the recording was processed is kept (and said), and the
  recording's own marker-file moments are the ones in the sidecar;
- :func:`decide_folder_roles`: the folder voice step (roles decided across a folder's sidecars
  by the recurring voice), rewriting a sidecar only under its lock and only if nobody changed
  it since it was read.

The stages decide (``stages.voices``); this module alone reads and rewrites sidecars for them.

Every error is a :class:`~pipeline.errors.PipelineError` (an unwritable sidecar is an
:class:`~pipeline.errors.OutputError`); what a driver does with it is its own business.
"""
from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager, Optional

from . import sidecar
from .config import Config
from .errors import OutputError, SidecarError
from .interview import Interview
from .recording import firsts
from .recording.cache import StageCache
from .stages import moments, relabel, voices
from .stages.diarize.speakers import stored_in


@dataclass
class Produced:
    """A recording's sidecar as written at ``out``."""
    interview: Interview
    out: Path
    kept: Optional[str] = None  # the ``ivp roles`` fix made meanwhile that was kept (its note)


MAX_SIDECAR_BYTES = 512 << 20


def up_to_date(out: Path, sha: str, config: Config) -> Optional[Interview]:
    """The existing sidecar when it was made from the same bytes with the same settings."""
    out = Path(out)
    try:
        if not out.is_file() or out.stat().st_size > MAX_SIDECAR_BYTES:
            return None
        existing = sidecar.read(out, edits=False)  # the edits stay a layer (pipeline.edits)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    fresh = existing.source.sha256 == sha and config.same_settings(existing.pipeline.settings)
    return existing if fresh else None


def fresh(recording: Path, out: Path, sha: str, config: Config) -> Optional[Interview]:
    """The interview in ``out`` when it is up to date for ``sha`` and ``config``, else None.

    Brought up to date on the way without transcription: stored results get a changed
    ``--interviewer``, and moments from a marker file edited since the sidecar was written."""
    existing = up_to_date(out, sha, config)
    if existing is None and config.interviewer:
        with sidecar.locked(out):
            previous = read_quietly(out)
            existing = voices.for_interviewer(previous, sha, config) if previous is not None else None
            if existing is not None:
                _write(existing, out)
    if existing is not None:
        existing = refresh_marks(existing, recording, config, out)
    return existing


def produce(recording: Path, out: Path, config: Config, cache: Optional[StageCache],
            run: Callable[[], Interview],
            settle: Optional[Callable[[Interview], Optional[Path]]] = None,
            hold: ContextManager = nullcontext()) -> Optional[Produced]:
    """Run the pipeline (``run``) on ``recording`` and write its sidecar at ``out``.

    A sidecar written by a newer ivp is left as it is (the error says so). ``settle`` sees the
    interview before the write and returns where to write it (the recording may have moved),
    or None to write nothing (it changed while it was processed). ``hold`` is held around the
    write (the watcher's lock shared with its folder voice step)."""
    newer = sidecar.newer(out)
    if newer is not None:
        raise newer
    previous = read_quietly(out)  # in case the sidecar is gone when the run ends
    interview = run()
    if settle is not None:
        where = settle(interview)
        if where is None:
            return None
        out = where
    with hold:
        return Produced(interview, out, save(interview, out, cache, previous))


def save(interview: Interview, out: Path, cache: Optional[StageCache] = None,
         previous: Optional[Interview] = None, recording: Optional[Path] = None,
         config: Optional[Config] = None) -> Optional[str]:
    """Write ``interview`` at ``out``, keeping an ``ivp roles`` fix found there (or in
    ``previous``) for the same content; returns the kept fix's note, else None.

    With ``recording``: the moments from that recording's own marker files replace the ones
    the interview came with (a result copied to a second name keeps that name's marks)."""
    try:
        with sidecar.locked(out):
            latest = read_quietly(out) or previous
            lookup = (lambda sha: stored_in(cache, sha)) if cache is not None else None
            kept = voices.carry_override(latest, interview, lookup)
            if recording is not None:
                moments.refresh_moments(interview, config or Config(), recording)
            _write(interview, out)
    except OSError as exc:  # the lock file itself
        raise OutputError(str(out), f"cannot write: {exc.strerror or exc}") from exc
    return voices.fixed_note(interview) if kept else None


def refresh_marks(interview: Interview, recording: Path, config: Config, out: Path) -> Interview:
    """An up-to-date sidecar still picks up a marker file edited since (no re-transcription);
    returns the interview as written (read again under the lock: a fix made meanwhile stays)."""
    if not moments.marker_files(recording) and not any(m.source == "marker_file" for m in interview.moments):
        return interview
    with sidecar.locked(out):
        interview = read_quietly(out) or interview
        before = (list(interview.moments), list(interview.warnings))
        moments.refresh_moments(interview, config, recording)
        if (interview.moments, interview.warnings) != before:
            _write(interview, out)
    return interview


def read_quietly(path: Path) -> Optional[Interview]:
    """The sidecar at ``path`` if it is there and readable, else None (it is about to be replaced)."""
    try:
        return sidecar.read(path, edits=False) if Path(path).is_file() else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def decide_batch(sidecars: list[Path]) -> list[dict[str, Any]]:
    """After a batch: decide by voice within each folder that got sidecars (with the sidecars
    already there from earlier runs); returns the changes made (see :func:`decide_folder_roles`)."""
    changes = []
    for folder in sorted({Path(p).parent for p in sidecars}):
        changes += decide_folder_roles(sorted(folder.glob(f"*{sidecar.SUFFIX}")))
    return changes


def decide_folder_roles(sidecars: list[Path], skipped: Optional[list] = None) -> list[dict[str, Any]]:
    """Decide roles across ``sidecars`` by voice and rewrite those whose roles change.

    Returns one entry per rewritten sidecar: ``{"sidecar", "before", "after", "method",
    "confidence", "interview", "sides"}`` (for the CLI and the watcher's log; ``sides``: each other
    speaker whose side moved, ``{speaker: {"before", "after", "why"}}``). First the lead of each
    recording (its words and the recurring voice), then the research team: a voice heard with the
    lead beside different participants puts its speaker on the interviewer side
    (``voices.folder_team``). Unreadable sidecars
    (damaged, or from a newer ivp) are left out of the decision and never rewritten; ``skipped``
    gets their ``SidecarError``. A sidecar changed since it was read (an ``ivp roles`` fix, a
    run finishing) is left as it is now."""
    loaded: list[tuple[Path, Interview, Optional[tuple]]] = []
    for path in sidecars:
        try:
            seen = _version(Path(path))
            loaded.append((Path(path), sidecar.read(Path(path), edits=False), seen))
        except SidecarError as exc:
            if skipped is not None:
                skipped.append(exc)
    first = firsts(iv.source.sha256 for _, iv, _ in loaded)  # identical copies: one recording
    unique = sorted(set(first))
    items = [(Path(loaded[k][1].source.path).name or loaded[k][0].name, loaded[k][1].voices) for k in unique]
    lead_voices = voices.decide_folder(items)
    by_lead = {k: voices.reassess(loaded[k][1], v) for k, v in zip(unique, lead_voices)}  # each lead first
    teams = voices.folder_team(items, [by_lead[k].interviewer for k in unique])
    decided = dict(zip(unique, zip(lead_voices, teams)))
    changes = []
    for k, ((path, iv, seen), (voice, team)) in enumerate(zip(loaded, [decided[f] for f in first])):
        new = by_lead[k] if k in by_lead and not team else voices.reassess(iv, voice, team)
        old = iv.roles
        if old is not None and _decision(old) == _decision(new):
            continue
        with sidecar.locked(path):
            if seen is None or _version(path) != seen:
                continue  # changed since it was read: what is there now stands
            before = old.interviewer if old else None
            relabel.apply(iv, new)
            _write(iv, path)
        moved = {s: (old.role_of(s) if old else None, role) for s, role in new.by_speaker.items()
                 if s != new.interviewer and (old.role_of(s) if old else None) != role}
        changes.append({"sidecar": str(path), "before": before, "after": new.interviewer,
                        "method": new.method, "confidence": new.confidence, "interview": iv,
                        "sides": {s: {"before": b, "after": a, "why": new.evidence.get("sides", {}).get(s, {})
                                      .get("summary")} for s, (b, a) in moved.items()}})
    return changes


def _decision(r) -> tuple:
    """What a folder decision may change: who leads, every speaker's side, the voice evidence."""
    sides = {s: (side.get("role"), (side.get("voice") or {}).get("describe"))
             for s, side in (r.evidence.get("sides") or {}).items()}
    return (r.interviewer, r.interviewee, r.method, r.confidence, r.evidence.get("voice"),
            dict(r.by_speaker or {}), sides)


def _version(path: Path) -> Optional[tuple]:
    """Which file is at ``path`` now (every write replaces it: a new inode and time)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _write(interview: Interview, out: Path) -> None:
    try:
        sidecar.write(interview, out)
    except OSError as exc:
        raise OutputError(str(out), f"cannot write: {exc.strerror or exc}") from exc
