"""The worker room of the watcher: claim a queued file, process it, write its sidecar or error
file, and tell output trouble (pause, nothing counted) from the file's own errors (retry, fail).

:meth:`Worker.run_job` decides what happens to one claimed job; :meth:`Worker.process` chooses
what to do with one recording, and :mod:`pipeline.produce` (shared with ``ivp process``) turns
it into its sidecar. The pipeline is
made by a factory (the local :class:`~pipeline.runner.Pipeline`, or one bound to a Ray
executor), one per worker thread and settings.
"""
from __future__ import annotations

import sqlite3
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional

from .. import metrics, produce, sidecar
from ..config import Config
from ..errors import OutputError, PipelineError
from ..progress import Cancelled, StopToken
from ..recording import display
from ..recording.outputs import writable
from ..runner import Pipeline
from ..recording.guard import OUTPUT_ERRNOS
from .status import PSEUDO_PREFIX
from .common import (MAX_RETRY_DELAY_S, SIDECARS, Log, Pause,
                     _reason, _remove_quietly, _stat_sig)
from .folder import WatchedFolder
from .ledger import Ledger
from .options import default
from .outcome import Outcomes
from .refresh import Refresh, ledger_warnings

# (settings, progress hook, stop token) -> an object with ``process(path, sha, cache=...)``
PipelineFactory = Callable[[Config, Callable, StopToken], Any]


def pipelines(executor=None) -> PipelineFactory:
    """The pipelines a worker runs: here, or on the cluster with ``ivp watch --ray``."""
    def make(config: Config, hook: Callable, stop: StopToken):
        if executor is not None:
            return executor.bind(config, hook, stop)
        return Pipeline(config, hook, stop)
    return make


@dataclass
class WorkerState:
    """One worker thread's loaded pipelines and the file (and stages) it is on."""
    index: int
    pipelines: dict = field(default_factory=dict)
    rel: Optional[str] = None


class Worker:
    """Processes the ledger's queued files; one instance shared by the worker threads."""

    def __init__(self, place: WatchedFolder, ledger: Ledger, log: Log, outcomes: Outcomes,
                 refresh: Refresh, pause: Pause, stop: threading.Event,
                 wake: Optional[threading.Event] = None, *, max_attempts: int = default("max_attempts"),
                 retry_delay_s: float = default("retry_delay_s"), tick_s: float = default("tick_s"),
                 make_pipeline: Optional[PipelineFactory] = None):
        self.place, self.ledger, self.log = place, ledger, log
        self.outcomes, self.refresh, self.pause = outcomes, refresh, pause
        self.stop, self.wake = stop, wake or threading.Event()
        self.max_attempts, self.retry_delay_s, self.tick_s = max_attempts, retry_delay_s, tick_s
        self.make_pipeline = make_pipeline or pipelines()
        self._inflight: dict[str, str] = {}  # sha -> rel path, files being processed
        self._inflight_lock = threading.Lock()

    def busy(self) -> dict[str, str]:
        """The files being processed now (content key -> name)."""
        with self._inflight_lock:
            return dict(self._inflight)

    # -- the thread -------------------------------------------------------------------------------

    def loop(self, ws: WorkerState) -> None:
        """A worker thread: claim and run jobs until ``stop`` is set; idle while paused."""
        while not self.stop.is_set():
            try:
                job = self.ledger.claim()
            except Exception as exc:  # a full disk or locked database must not kill the worker
                self.stop.wait(self.pause.pause(f"the state database cannot be written ({_reason(exc)})"))
                continue
            if job is None or self.pause.active():
                if job is not None:  # output trouble: leave it queued, uncounted
                    self.ledger.requeue(job["sha256"], uncount=True)
                if self.wake.wait(self.tick_s):
                    self.wake.clear()
                continue
            self.run_job(ws, job)

    def run_job(self, ws: WorkerState, job: dict) -> None:
        """One claimed job. A stop (``Cancelled``) requeues it uncounted; output or disk trouble
        requeues it uncounted and pauses; anything else is the file's: retry, then fail."""
        with self._inflight_lock:
            self._inflight[job["sha256"]] = job["path"]
        try:
            self.process(ws, job)
        except Cancelled:  # the stop token was set: not the file's fault
            self.ledger.requeue(job["sha256"], uncount=True)
            self.log.info("interrupted", job["path"], "the watcher is stopping; it resumes on the "
                          "next start from the cached stage results")
        except (OutputError, sqlite3.Error) as exc:  # the output or the disk, not the file
            reason = exc.reason if isinstance(exc, OutputError) else _reason(exc)
            self._requeue_quietly(job["sha256"])
            self.pause.pause(f"output problem while writing the result of {display(job['path'])}: {reason}")
        except OSError as exc:
            if exc.errno in OUTPUT_ERRNOS:
                self._requeue_quietly(job["sha256"])
                self.pause.pause(f"output problem for {display(job['path'])}: {_reason(exc)}")
            else:
                self.log.debug("traceback", job["path"], traceback.format_exc().replace("\n", " | "))
                self.failed(job, "internal", f"internal error: {type(exc).__name__}: {_reason(exc)}")
        except BaseException as exc:  # noqa: BLE001 - the worker must survive anything
            self.log.debug("traceback", job["path"], traceback.format_exc().replace("\n", " | "))
            self.failed(job, "internal", f"internal error: {type(exc).__name__}: "
                        f"{' '.join(str(exc).split())}")
        finally:
            ws.rel = None
            with self._inflight_lock:
                self._inflight.pop(job["sha256"], None)

    # -- one file ---------------------------------------------------------------------------------

    def process(self, ws: WorkerState, job: dict) -> None:
        root = self.place.root
        sha, rel = job["sha256"], job["path"]
        real = not sha.startswith(PSEUDO_PREFIX)
        path = root / rel
        if not path.exists():
            alive = [p for p in self.ledger.paths_of(sha) if (root / p["path"]).exists()]
            if not alive:
                self.ledger.drop(sha)
                self.log.warn("skipped", rel, "deleted or moved away before it was processed")
                return
            rel = alive[0]["path"]
            path = root / rel
            self.ledger.set_primary(sha, rel)
        entry = self.ledger.path(rel)
        sig = _stat_sig(path)
        if real and entry and sig and (entry["size"], entry["mtime_ns"]) != sig:
            self.ledger.drop(sha)  # the new content is waiting to settle and gets its own row
            self.log.info("superseded", rel, "changed before it was processed; the new version is next")
            return
        try:
            config = self.place.config_for(path.parent)
        except PipelineError as exc:  # names the ivp.toml, the key and what is allowed
            self.failed(job, exc.stage, f"{exc.path}: {exc.reason}" if exc.path else exc.reason)
            return
        try:
            out = self.place.output_for(path, check=True)
        except OutputError as exc:  # a planted link: this file's problem, never retried
            self.failed(job, exc.stage, exc.reason)
            return
        problem = writable(out.parent)
        if problem:  # read-only or full: pause, try again later, count nothing
            raise OutputError(str(out.parent), f"cannot write: {problem}")
        existing = produce.fresh(path, out, sha, config) if real else None
        if existing is not None:  # killed after the write last time, or fresh after a rebuild
            self.finished(job, rel, path, config, existing, out, resumed=True)
            return
        ws.rel = rel
        cache = self.place.cache(config)
        cached = cache.stages(sha) if real else []
        self.log.info("started", rel, f"attempt {job['attempts']}/{self.max_attempts}"
                      + (f"; resuming from cached {', '.join(cached)}" if cached else ""))
        started = time.monotonic()
        pipeline = self._pipeline(ws, config)
        moved: dict[str, Any] = {}

        def settle(interview) -> Optional[Path]:
            """Where the result goes: the recording may have been renamed or changed meanwhile."""
            nonlocal rel, path
            if real and _stat_sig(path) is None:  # renamed or moved while processed: follow it
                others = [p for p in self.ledger.paths_of(sha)
                          if p["path"] != rel and (root / p["path"]).exists()]
                if others:
                    rel, path = others[0]["path"], root / others[0]["path"]
                    moved["sig"] = (others[0]["size"], others[0]["mtime_ns"])
                    self.ledger.set_primary(sha, rel)
                    interview.source.path = str(path)
            if real and _stat_sig(path) != moved.get("sig", sig):
                self.ledger.drop(sha)
                self.log.info("superseded", rel, "changed or moved while it was processed; the new "
                              "version is picked up when it settles")
                return None
            return self.place.output_for(path)

        try:
            tracks = self.place.track_set(path) or []  # a declared set of per-person tracks
            done = produce.produce(path, out, config, cache,
                                   lambda: pipeline.process(path, sha if real else None, cache=cache,
                                                            track_files=tuple(tracks)),
                                   settle, hold=SIDECARS)
        except OutputError:
            raise
        except PipelineError as exc:  # the file's own error (or a sidecar from a newer ivp)
            self.failed(job, exc.stage, exc.reason)
            return
        if done is None:
            return
        if done.kept:
            self.log.info("roles", rel, f"kept the fix from ivp roles: {done.kept.split(': ', 1)[-1]}")
        self.finished(job, rel, path, config, done.interview, done.out, seconds=time.monotonic() - started)

    def finished(self, job: dict, rel: str, path: Path, config: Config, interview, out: Path,
                 seconds: float = 0.0, resumed: bool = False) -> None:
        """Mark the content done (its sidecar ``out`` is written); duplicates get a copy."""
        sha = job["sha256"]
        _remove_quietly(self.place.output_for(path, sidecar.ERROR_SUFFIX))
        ratio = interview.talk_ratio
        share = ratio.interviewee_share if ratio else None
        with self.ledger.tx():
            self.ledger.finish(sha, self.place.store(out), config.signature(), interview.source.duration_s,
                               share, ratio.verdict if ratio else None, ledger_warnings(interview))
            self.ledger.set_path_output(rel, self.place.store(out))
        if resumed:
            self.log.info("finished", rel, "its sidecar was already up to date (written before a "
                          "restart, or by an earlier run)")
        else:
            self.log.info("finished", rel, f"{metrics.finished_sentence(interview, seconds)} "
                          f"-> {self.place.display(out)}")
            for warning in interview.warnings:
                self.log.warn("warning", rel, warning)
        self.refresh.changed(out.parent if not resumed and interview.voices else None)
        self.outcomes.copy_to_duplicates(sha, rel)

    def failed(self, job: dict, stage: str, reason: str) -> None:
        """The file's own error: retry later (doubling the delay) until ``max_attempts``, then
        mark it failed with an error file; config and output problems wait for a person."""
        sha, rel, attempts = job["sha256"], job["path"], job["attempts"]
        if attempts < self.max_attempts and stage not in ("config", "output"):  # fixed by a person
            delay = min(self.retry_delay_s * 2 ** (attempts - 1), MAX_RETRY_DELAY_S)
            self.ledger.retry_later(sha, stage, reason, time.time() + delay)
            self.log.warn("retry", rel, f"{stage}: {reason} (attempt {attempts}/{self.max_attempts}; "
                          f"trying again in {delay:g}s)")
            return
        error_out = self.outcomes.write_error(sha, rel, stage, reason, attempts)
        self.ledger.fail(sha, stage, reason, self.place.store(error_out) if error_out else None)
        if error_out:
            self.ledger.set_path_output(rel, self.place.store(error_out))
        self.log.error("failed", rel, f"{stage}: {reason} (after {attempts} attempt(s))"
                       + (f" -> {self.place.display(error_out)}" if error_out else ""))
        self.outcomes.copy_to_duplicates(sha, rel)

    # -- helpers ----------------------------------------------------------------------------------

    def _pipeline(self, ws: WorkerState, config: Config):
        """The worker's loaded models for these settings (the cache is given per call)."""
        key = replace(config, cache_dir=None)
        if key not in ws.pipelines:  # the stages check the watcher's stop event between steps
            ws.pipelines[key] = self.make_pipeline(key, self._hook(ws), StopToken(self.stop))
        return ws.pipelines[key]

    def _requeue_quietly(self, sha: str) -> None:
        try:
            self.ledger.requeue(sha, uncount=True)
        except sqlite3.Error:
            pass  # the row stays "running": the next start re-queues it, uncounted

    def _hook(self, ws: WorkerState):
        def hook(stage, *, completed=None, total=None, file=None, seconds=None):
            if ws.rel is not None and seconds is not None:  # timed once, by progress.timed
                self.log.info("stage", ws.rel, f"{stage} done in {seconds:.1f}s")
        return hook
