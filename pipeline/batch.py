"""Process many recordings: find them, skip the up-to-date ones, isolate failures, write sidecars."""
from __future__ import annotations

import os
import traceback as tb
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from . import metrics, produce, sidecar
from .config import Config
from .errors import InputError, ModelError, OutputError, PipelineError
from .interview import Interview
from .recording import discover, display
from .recording.cache import StageCache, default_dir as cache_dir_for
from .recording.outputs import OutputPlan, writable
from .progress_bar import BatchProgress
from .recording.settings import Settings
from .executors import Job, LocalExecutor
from .stages.decode import check_readable, sha256_file, tracks_sha
from .watch.lock import watcher_of


@dataclass
class BatchResult:
    path: Path
    sidecar: Optional[Path] = None
    interview: Optional[Interview] = None
    error: Optional[str] = None
    skipped: bool = False
    traceback: Optional[str] = None
    note: Optional[str] = None  # why it was skipped without a result
    node: Optional[str] = None  # where it was processed, when not here (ivp process --ray)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        ratio = self.interview.talk_ratio if self.interview else None
        return {"path": str(self.path), "ok": self.ok, "skipped": self.skipped,
                "sidecar": str(self.sidecar) if self.sidecar else None,
                "interviewee_share": ratio.interviewee_share if ratio else None,
                "verdict": ratio.verdict if ratio else None,
                "warnings": self.interview.warnings if self.interview else [],
                "error": self.error, "note": self.note}

    def summary(self) -> str:
        """A few human lines about one processed recording."""
        iv = self.interview
        name = display(self.path.name)
        if iv is None:
            return f"{name}: {self.note or ('up to date' if self.skipped else 'no result')}"
        lines = metrics.summary_lines(iv, name)
        if self.skipped:
            lines[0] += "  [up to date, skipped]"
        if self.node:
            lines.append(f"  processed on {self.node}")
        if self.sidecar:
            lines.append(f"  -> {display(self.sidecar)}")
        return "\n".join(lines)


def find_recordings(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Files named directly, plus regular media files under folders (recursively; hidden folders,
    ``ivp-report`` and exported clips skipped). Returns (recordings, missing inputs)."""
    found, missing = discover.find_recordings(paths)
    return [p for p, _ in found], missing


def process_batch(files: list[Path], overrides: dict[str, Any], out_dir: Optional[Path] = None,
                  force: bool = False, progress: bool | str = False,
                  on_result: Optional[Callable[[BatchResult], None]] = None,
                  inputs: Optional[Iterable[Path]] = None, executor=None,
                  summaries: bool = False, tracks: Optional[dict[Path, list[Path]]] = None) -> list[BatchResult]:
    """Process each file; one file's failure never stops the others.

    ``executor`` (pipeline.executors) runs the pipeline: here by default, or on a Ray cluster,
    several files at a time; the outputs are written here either way, results in ``files`` order.
    ``progress``: "bars", "lines" or "off" (True: bars), see :mod:`pipeline.progress_bar` (lines
    when several files are in flight); ``summaries``: print each processed file's summary
    through that display (errors are left to the caller).

    ``tracks`` maps an entry of ``files`` to a set of per-person track files processed as one
    interview (``ivp process --tracks``): the entry names the sidecar, the tracks are the audio.

    ``inputs`` are the files and folders named on the command line: the settings cascade
    (every ``ivp.toml`` from an input folder down) and the ``--out`` mirror start there.
    Raises :class:`ConfigError` for bad flags and :class:`OutputError` when no output folder
    can be written, before anything is transcribed.
    """
    executor = executor or LocalExecutor()
    _WATCHED.clear()
    Config().with_overrides(**overrides).validate()  # a bad flag stops the batch before any work
    roots = _roots(files, inputs)
    plan = OutputPlan(out_dir, set(roots.values()))
    unwritable = _check_outputs(files, plan)
    settings = {root: Settings(root, overrides=overrides) for root in dict.fromkeys(roots.values())}
    results = []
    mode = {True: "bars", False: "off"}.get(progress, progress)  # type: ignore[call-overload]
    if mode == "bars" and executor.size > 1:
        mode = "lines"  # bars follow one file at a time
    with BatchProgress(len(files), mode=str(mode)) as bar:
        def one(path: Path) -> BatchResult:
            root = roots[path]
            return _process_one(path, root, settings[root], plan, unwritable, executor, bar.hook, force,
                                (tracks or {}).get(path, []))

        for result in executor.each(one, files):
            bar.file_done(result.path)
            results.append(result)
            if summaries and not result.error:
                bar.print(result.summary())
            if on_result:
                on_result(result)
    _decide_by_voice(results, on_result or summaries)
    order = {path: i for i, path in enumerate(files)}
    return sorted(results, key=lambda r: order[r.path])


def _decide_by_voice(results: list[BatchResult], say) -> None:
    """Roles decided across each folder by the recurring voice; changed sidecars are rewritten."""
    by_path = {str(r.sidecar): r for r in results if r.ok and r.sidecar and r.interview}
    try:
        changes = produce.decide_batch([Path(p) for p in by_path])
    except Exception as exc:  # the per-file roles stand; say why the folder pass failed
        changes = []
        for r in by_path.values():
            r.interview.warnings.append(f"roles across the folder not decided: {type(exc).__name__}: {exc}")
    for change in changes:
        r = by_path.get(change["sidecar"])
        if r is not None:
            r.interview = change["interview"]
        sentence = metrics.roles_change_sentence(change)
        if say and sentence:
            print(f"{display(Path(change['sidecar']).name)}: {sentence}")


def _process_one(path: Path, root: Path, settings: Settings, plan: OutputPlan,
                 unwritable: dict[Path, str], executor, hook, force: bool,
                 tracks: list[Path]) -> BatchResult:
    """One recording (or a set of ``tracks`` named ``path``): its settings, output, freshness,
    the stage cache, then the pipeline.

    The recording -> sidecar path itself is :mod:`pipeline.produce` (shared with the watcher).
    """
    result = BatchResult(path)
    shown = display(path)
    try:
        folder = plan.folder(path)
        if folder in unwritable:
            raise OutputError(str(folder), f"cannot write here: {unwritable[folder]}")
        config = settings.for_recording(path)
        out = plan.sidecar(path, sidecar.SUFFIX)
        result.sidecar = out
        sha = _sha(path, tracks)
        existing = None if force else produce.fresh(path, out, sha, config)
        if existing is not None:
            result.interview, result.skipped = existing, True
            return result
        watched = _watched(path)
        if watched is not None:
            result.sidecar, result.skipped = None, True
            result.note = (f"skipped: the watcher (pid {watched[1]}) processes "
                           f"{display(watched[0])}; see ivp status")
            return result
        cache = StageCache(Path(config.cache_dir) if config.cache_dir
                           else cache_dir_for(plan.out or root))

        def run() -> Interview:
            done = executor.process(Job(path, sha, replace(config, cache_dir=None), cache, tuple(tracks)), hook)
            result.node = done.node
            return done.interview

        result.interview = produce.produce(path, out, config, cache, run).interview
    except ModelError:
        raise  # the models, not this file: every other file would fail the same way
    except PipelineError as exc:
        if exc.path is None:
            exc.path = str(path)
        exc.path = display(exc.path)
        result.error, result.sidecar = exc.line(), None
    except Exception as exc:  # never let one file stop the batch
        result.error = f"{shown}: internal error: {type(exc).__name__}: {display(' '.join(str(exc).split()))}"
        result.sidecar, result.traceback = None, tb.format_exc()
    return result


def _roots(files: list[Path], inputs: Optional[Iterable[Path]]) -> dict[Path, Path]:
    """Each file's root: the deepest input folder holding it, else its own folder."""
    folders = sorted({Path(os.path.abspath(p)) for p in (inputs or []) if Path(p).is_dir()},
                     key=lambda p: len(p.parts), reverse=True)
    roots = {}
    for f in files:
        absolute = Path(os.path.abspath(f))
        roots[f] = next((d for d in folders if absolute.is_relative_to(d)), absolute.parent)
    return roots


def _check_outputs(files: list[Path], plan: OutputPlan) -> dict[Path, str]:
    """Output folders that cannot be written (checked once, up front); raises when none can."""
    folders = {plan.folder(f) for f in files}
    bad = {}
    for folder in folders:
        problem = writable(folder)
        if problem:
            bad[folder] = problem
    if folders and len(bad) == len(folders):
        folder, problem = sorted(bad.items())[0]
        raise OutputError(display(folder), f"cannot write the outputs here: {problem}")
    return bad


_WATCHED: dict[Path, Optional[tuple[Path, int]]] = {}


def _watched(path: Path) -> Optional[tuple[Path, int]]:
    """A live watcher owning the folder of ``path`` (``ivp process`` leaves its files to it)."""
    folder = Path(os.path.abspath(path)).parent
    if folder not in _WATCHED:
        _WATCHED[folder] = watcher_of(folder)
    return _WATCHED[folder]


def _sha(path: Path, tracks: list[Path]) -> str:
    for track in tracks or [path]:
        check_readable(track)
    try:
        return tracks_sha(tracks) if tracks else sha256_file(path)
    except OSError as exc:
        raise InputError(str(path), exc.strerror or str(exc)) from exc

