"""The worker room of the watcher: claim a queued file, process it, write its sidecar or error
file, and tell output trouble (pause, nothing counted) from the file's own errors (retry, fail).

``_process`` holds the single place the watcher turns a recording into an Interview or an error.
"""
from __future__ import annotations

import sqlite3
import threading
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Optional

from .. import metrics, sidecar
from ..config import Config
from ..errors import OutputError, PipelineError
from ..progress import Cancelled, StopToken
from ..recording import discover, display
from ..recording.cache import StageCache
from ..recording.freshness import up_to_date
from ..recording.outputs import writable
from ..report import build_report
from ..runner import Pipeline
from ..stages import voices
from . import CACHE_NAME
from .common import (MAX_RETRY_DELAY_S, OUTPUT_ERRNOS, PSEUDO_PREFIX, _reason,
                     _remove_quietly, _stat_sig, _WorkerState, error_record)


# Sidecar writes and the folder-wide roles pass never interleave (the pass rewrites sidecars).
_SIDECARS = threading.Lock()


class WorkerRoom:
    """Mixed into :class:`~pipeline.watch.watcher.Watcher` (uses its attributes)."""

    # -- processing -------------------------------------------------------------------------------

    def _worker(self, ws: _WorkerState) -> None:
        while not self._stop.is_set():
            try:
                job = self.ledger.claim()
            except Exception as exc:  # a full disk or locked database must not kill the worker
                self._stop.wait(self._pause(f"the state database cannot be written ({_reason(exc)})"))
                continue
            if job is None or self._is_paused():
                if job is not None:  # output trouble: leave it queued, uncounted
                    self.ledger.requeue(job["sha256"], uncount=True)
                if self._wake.wait(self.tick_s):
                    self._wake.clear()
                continue
            with self._inflight_lock:
                self._inflight[job["sha256"]] = job["path"]
            try:
                self._process(ws, job)
            except Cancelled:  # the stop token was set: not the file's fault
                self.ledger.requeue(job["sha256"], uncount=True)
                self._info("interrupted", job["path"], "the watcher is stopping; it resumes on the "
                           "next start from the cached stage results")
            except (OutputError, sqlite3.Error) as exc:  # the output or the disk, not the file
                reason = exc.reason if isinstance(exc, OutputError) else _reason(exc)
                self._requeue_quietly(job["sha256"])
                self._pause(f"output problem while writing the result of {display(job['path'])}: {reason}")
            except OSError as exc:
                if exc.errno in OUTPUT_ERRNOS:
                    self._requeue_quietly(job["sha256"])
                    self._pause(f"output problem for {display(job['path'])}: {_reason(exc)}")
                else:
                    self._debug("traceback", job["path"], traceback.format_exc().replace("\n", " | "))
                    self._failed(job, "internal", f"internal error: {type(exc).__name__}: {_reason(exc)}")
            except BaseException as exc:  # noqa: BLE001 - the worker must survive anything
                self._debug("traceback", job["path"], traceback.format_exc().replace("\n", " | "))
                self._failed(job, "internal", f"internal error: {type(exc).__name__}: "
                             f"{' '.join(str(exc).split())}")
            finally:
                ws.rel = None
                with self._inflight_lock:
                    self._inflight.pop(job["sha256"], None)

    def _process(self, ws: _WorkerState, job: dict) -> None:
        sha, rel = job["sha256"], job["path"]
        real = not sha.startswith(PSEUDO_PREFIX)
        path = self.folder / rel
        if not path.exists():
            alive = [p for p in self.ledger.paths_of(sha) if (self.folder / p["path"]).exists()]
            if not alive:
                self.ledger.drop(sha)
                self._warn("skipped", rel, "deleted or moved away before it was processed")
                return
            rel = alive[0]["path"]
            path = self.folder / rel
            self.ledger.set_primary(sha, rel)
        entry = self.ledger.path(rel)
        sig = _stat_sig(path)
        if real and entry and sig and (entry["size"], entry["mtime_ns"]) != sig:
            self.ledger.drop(sha)  # the new content is waiting to settle and gets its own row
            self._info("superseded", rel, "changed before it was processed; the new version is next")
            return
        try:
            config = self._config_for(path.parent)
        except PipelineError as exc:  # names the ivp.toml, the key and what is allowed
            self._failed(job, exc.stage, f"{exc.path}: {exc.reason}" if exc.path else exc.reason, path=path)
            return
        try:
            out = self._output_for(path, check=True)
        except OutputError as exc:  # a planted link: this file's problem, never retried
            self._failed(job, exc.stage, exc.reason, path=path)
            return
        problem = writable(out.parent)
        if problem:  # read-only or full: pause, try again later, count nothing
            raise OutputError(str(out.parent), f"cannot write: {problem}")
        if real and up_to_date(out, sha, config) is not None:  # killed after the write last time
            self._finished(job, rel, path, config, sidecar.read(out), out, resumed=True)
            return
        ws.rel, ws.stage_started, ws.stages_done = rel, {}, set()
        cache = self._cache(config)
        cached = cache.stages(sha) if real else []
        self._info("started", rel, f"attempt {job['attempts']}/{self.max_attempts}"
                   + (f"; resuming from cached {', '.join(cached)}" if cached else ""))
        started = time.monotonic()
        pipeline = self._pipeline(ws, config)
        previous = voices.previous_sidecar(out)  # to keep an `ivp roles` fix
        try:
            interview = pipeline.process(path, sha if real else None, cache=cache)
        except OutputError:
            raise
        except PipelineError as exc:
            self._failed(job, exc.stage, exc.reason, path=path)
            return
        if real and _stat_sig(path) is None:  # renamed or moved while processed: follow it
            moved = [p for p in self.ledger.paths_of(sha)
                     if p["path"] != rel and (self.folder / p["path"]).exists()]
            if moved:
                rel, path = moved[0]["path"], self.folder / moved[0]["path"]
                sig = (moved[0]["size"], moved[0]["mtime_ns"])
                self.ledger.set_primary(sha, rel)
                interview.source.path = str(path)
                out = self._output_for(path)
        if real and _stat_sig(path) != sig:
            self.ledger.drop(sha)
            self._info("superseded", rel, "changed or moved while it was processed; the new "
                       "version is picked up when it settles")
            return
        try:
            with _SIDECARS:
                if voices.carry_override(previous, interview):
                    self._info("roles", rel, f"kept the fix from ivp roles: interviewer "
                               f"{interview.roles.interviewer}")
                sidecar.write(interview, out)
        except OSError as exc:
            raise OutputError(str(out), f"cannot write: {_reason(exc)}") from exc
        self._finished(job, rel, path, config, interview, out, seconds=time.monotonic() - started)

    def _finished(self, job: dict, rel: str, path: Path, config: Config, interview, out: Path,
                  seconds: float = 0.0, resumed: bool = False) -> None:
        sha = job["sha256"]
        _remove_quietly(self._output_for(path, sidecar.ERROR_SUFFIX))
        ratio = interview.talk_ratio
        share = ratio.interviewee_share if ratio else None
        with self.ledger.tx():
            self.ledger.finish(sha, self._store(out), config.signature(), interview.source.duration_s,
                               share, ratio.verdict if ratio else None, _ledger_warnings(interview))
            self.ledger.set_path_output(rel, self._store(out))
        row = self.ledger.get(sha)
        if resumed:
            self._info("finished", rel, "its sidecar was already up to date (written before a "
                       "restart, or by an earlier run)")
        else:
            self._info("finished", rel, f"{metrics.finished_sentence(interview, seconds)} "
                       f"-> {self._display(out)}")
            for warning in interview.warnings:
                self._warn("warning", rel, warning)
        self._report_dirty.set()
        if not resumed and interview.voices:
            self._roles_dirty.add(out.parent)
        for other in self.ledger.paths_of(sha):  # duplicates waiting for this result
            if other["path"] != rel and (self.folder / other["path"]).exists():
                self._copy_outcome(row, other["path"])

    def _refresh_roles(self) -> None:
        """Decide roles across each folder that got new voiceprints (the recurring voice) and
        rewrite the sidecars whose roles change; each change is logged with what decided it."""
        while self._roles_dirty:
            folder = self._roles_dirty.pop()
            try:
                with _SIDECARS:
                    changes = voices.refresh_folder(sorted(folder.glob(f"*{sidecar.SUFFIX}")))
            except Exception as exc:  # the per-file roles stand
                self._warn("roles", ".", f"roles across {self._display(folder)} not decided: {exc}")
                continue
            for change in changes:
                iv = change["interview"]
                ratio = iv.talk_ratio
                self.ledger.set_result(iv.source.sha256, ratio.interviewee_share if ratio else None,
                                       ratio.verdict if ratio else None, _ledger_warnings(iv))
                self._info("roles", self._display(Path(change["sidecar"])), metrics.roles_change_sentence(change))
                self._report_dirty.set()

    def _refresh_report(self, force: bool = False) -> None:
        """Rebuild the HTML report after new sidecars, at most every ``report_every_s``."""
        if not self.report or not self._report_dirty.is_set():
            return
        if not force and time.monotonic() - self._report_built < self.report_every_s:
            return
        self._report_dirty.clear()
        self._report_built = time.monotonic()
        root = self.out_dir or self.folder
        target = root / "ivp-report"
        if target.is_symlink() or (target.exists() and not discover.inside(target, root)):
            self._warn("report", ".", f"not writing the report: {display(target)} is a symbolic link "
                       "(remove it to get the report back)")
            return
        try:
            index = build_report(root, root / "ivp-report")
            self._debug("report", ".", f"updated {self._display(index)}")
        except Exception as exc:  # a report problem must never stop the watcher
            self._warn("report", ".", f"could not update the report: {exc}")

    def _failed(self, job: dict, stage: str, reason: str, path: Optional[Path] = None) -> None:
        sha, rel, attempts = job["sha256"], job["path"], job["attempts"]
        if attempts < self.max_attempts and stage not in ("config", "output"):  # fixed by a person
            delay = min(self.retry_delay_s * 2 ** (attempts - 1), MAX_RETRY_DELAY_S)
            self.ledger.retry_later(sha, stage, reason, time.time() + delay)
            self._warn("retry", rel, f"{stage}: {reason} (attempt {attempts}/{self.max_attempts}; "
                       f"trying again in {delay:g}s)")
            return
        error_out = self._write_error(sha, rel, stage, reason, attempts)
        self.ledger.fail(sha, stage, reason, self._store(error_out) if error_out else None)
        if error_out:
            self.ledger.set_path_output(rel, self._store(error_out))
        self._error("failed", rel, f"{stage}: {reason} (after {attempts} attempt(s))"
                    + (f" -> {self._display(error_out)}" if error_out else ""))
        for other in self.ledger.paths_of(sha):
            if other["path"] != rel and (self.folder / other["path"]).exists():
                self._copy_outcome(self.ledger.get(sha), other["path"])

    def _write_error(self, sha: str, rel: str, stage: str, reason: str, attempts: int) -> Optional[Path]:
        path = self.folder / rel
        try:
            out = self._output_for(path, sidecar.ERROR_SUFFIX, check=True)
            sidecar.atomic_write_text(out, sidecar.dumps(error_record(
                path, stage, reason, attempts, None if sha.startswith(PSEUDO_PREFIX) else sha)))
        except OutputError as exc:
            self._error("failed", rel, f"output: {exc.reason}")
            return None
        except OSError as exc:
            self._error("failed", rel, f"output: cannot write its error file: {_reason(exc)}")
            return None
        return out

    def _copy_outcome(self, row: dict, rel: str) -> None:
        """Give a duplicate name the result of its content: a copy of the sidecar or error file."""
        path = self.folder / rel
        try:
            if row["state"] == "done":
                src = self._abs(row["output"]) if row["output"] else None
                if src is None or not src.is_file():
                    self.ledger.enqueue(row["sha256"], row["path"])
                    self._info("queued", row["path"], "its sidecar is missing")
                    self._wake.set()
                    return
                interview = sidecar.read(src)
                interview.source.path = str(path)
                out = self._output_for(path, check=True)
                if out != src:
                    sidecar.write(interview, out)
                _remove_quietly(self._output_for(path, sidecar.ERROR_SUFFIX))
                self.ledger.set_path_output(rel, self._store(out))
            elif row["state"] == "failed":
                out = self._write_error(row["sha256"], rel, row["stage"] or "pipeline",
                                        row["last_error"] or "failed", row["attempts"])
                self.ledger.set_path_output(rel, self._store(out) if out else None)
        except (OSError, ValueError, KeyError, TypeError, PipelineError) as exc:
            self._error("failed", rel, f"cannot copy the result of {row['path']}: {exc}")

    def _pipeline(self, ws: _WorkerState, config: Config):
        """The worker's loaded models for these settings (the cache is given per call)."""
        key = replace(config, cache_dir=None)
        if key not in ws.pipelines:  # the stages check the watcher's stop event between steps
            stop = StopToken(self._stop)
            if self.executor is not None:  # ivp watch --ray: the pipeline runs on the cluster
                ws.pipelines[key] = self.executor.bind(key, self._hook(ws), stop)
            else:
                ws.pipelines[key] = Pipeline(key, self._hook(ws), stop)
        return ws.pipelines[key]

    def _cache(self, config: Config) -> StageCache:
        return StageCache(Path(config.cache_dir) if config.cache_dir else self.state_dir / CACHE_NAME)

    def _is_paused(self) -> bool:
        with self._pause_lock:
            return time.monotonic() < self._paused_until

    def _requeue_quietly(self, sha: str) -> None:
        try:
            self.ledger.requeue(sha, uncount=True)
        except sqlite3.Error:
            pass  # the row stays "running": the next start re-queues it, uncounted

    def _hook(self, ws: _WorkerState):
        def hook(stage, *, completed=None, total=None, file=None):
            finishing = completed is not None and total is not None and completed >= total
            if ws.rel is None:
                return
            now = time.monotonic()
            ws.stage_started.setdefault(stage, now)
            if finishing and stage not in ws.stages_done:
                ws.stages_done.add(stage)
                self._info("stage", ws.rel, f"{stage} done in {now - ws.stage_started[stage]:.1f}s")
        return hook


def _ledger_warnings(interview) -> list[str]:
    """What ``ivp status`` shows for a done file: a roles fix by hand first, then the warnings."""
    return [n for n in (voices.fixed_note(interview), *interview.warnings) if n]
