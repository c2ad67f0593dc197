"""One path from a recording to its sidecar, used by ``ivp process`` (here or on Ray) and the
watcher; the drivers only choose which recordings, and when.

- :func:`fresh`: the sidecar that is already up to date for this content and these settings,
  brought up to date without transcription where that is possible (a marker file edited
  since, ``--interviewer`` alone changed);
- :func:`produce`: run the pipeline and write the result;
- :func:`save`: the write itself, read-modify-write under the sidecar's lock, so that an
  ``ivp roles`` fix made while the recording was processed is kept (and said), and the
  recording's own marker-file moments are the ones in the sidecar.

Every error is a :class:`~pipeline.errors.PipelineError` (an unwritable sidecar is an
:class:`~pipeline.errors.OutputError`); what a driver does with it is its own business.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Optional

from . import sidecar
from .config import Config
from .errors import OutputError
from .interview import Interview
from .recording.cache import StageCache
from .recording.freshness import up_to_date
from .stages import moments, voices
from .stages.diarize.speakers import stored_in


@dataclass
class Produced:
    """A recording's sidecar as written at ``out``."""
    interview: Interview
    out: Path
    kept: Optional[str] = None  # the ``ivp roles`` fix made meanwhile that was kept (its note)


def fresh(recording: Path, out: Path, sha: str, config: Config) -> Optional[Interview]:
    """The interview in ``out`` when it is up to date for ``sha`` and ``config``, else None.

    Brought up to date on the way without transcription: stored results get a changed
    ``--interviewer``, and moments from a marker file edited since the sidecar was written."""
    existing = up_to_date(out, sha, config)
    if existing is None:
        with sidecar.locked(out):
            existing = voices.reuse_for_interviewer(out, sha, config)
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
    previous = voices.previous_sidecar(out)  # in case the sidecar is gone when the run ends
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
            latest = voices.previous_sidecar(out) or previous
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
        interview = voices.previous_sidecar(out) or interview
        before = (list(interview.moments), list(interview.warnings))
        moments.refresh_moments(interview, config, recording)
        if (interview.moments, interview.warnings) != before:
            _write(interview, out)
    return interview


def _write(interview: Interview, out: Path) -> None:
    try:
        sidecar.write(interview, out)
    except OSError as exc:
        raise OutputError(str(out), f"cannot write: {exc.strerror or exc}") from exc
