"""The watched folder: scan, watch for events, wait for copies to settle, process, retry, log.

Exactly-once design
-------------------
* One watcher per folder: an exclusive ``flock`` on ``DIR/.ivp/lock`` (released by the kernel
  when the process dies, even on SIGKILL).
* Work is claimed in an SQLite transaction (``queued`` -> ``running``), the sidecar is written
  atomically (temp file + fsync + rename), and only then is the row marked ``done``.
* On start, rows left ``running`` by a killed watcher are re-queued (the attempt counts, so a
  file that kills the process every time still ends up ``failed``); before processing a row the
  worker checks whether an up-to-date sidecar already exists (killed between the rename and the
  ``done`` mark) and then just marks it done. Stale temp files of ours are removed.
* The expensive stage results (transcript, diarization) are cached per content hash in
  ``DIR/.ivp/cache`` by the runner, so a restart resumes instead of starting over.
* SIGINT/SIGTERM: no new work is claimed; a file being processed stops at its next progress
  checkpoint (stage results finished so far are cached), goes back to the queue without
  counting an attempt, and the watcher exits.

Originals are only ever opened for reading.
"""
from __future__ import annotations

import json
import logging
import logging.handlers
import os
import queue
import sqlite3
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

from .. import __version__, sidecar
from ..config import Config
from ..errors import OutputError, PipelineError
from ..recording import discover, display
from ..recording.cache import StageCache
from ..recording.freshness import up_to_date
from ..recording.outputs import OutputPlan, is_own_temp, writable
from ..recording.settings import Settings
from ..stages.decode import sha256_file
from . import CACHE_NAME, DB_NAME, LOCK_NAME, LOG_NAME, STATE_DIR
from .ledger import Ledger, LedgerDamaged, check as check_ledger, open_ledger
from .lock import FolderLock, WatcherBusy  # noqa: F401  (re-exported)
from .settle import SettleTracker, ffprobe_readable, is_recording_path

LOGGER_NAME = "ivp.watch"
PSEUDO_PREFIX = "path:"  # ledger key of a file that could not be read (so not hashed)
MAX_RETRY_DELAY_S = 600.0
MAX_INTERRUPTS = 20  # restarts while one file was in flight before it is given up (a file that
# kills the process every time); an interrupted attempt never counts as a failed one
PAUSE_S = (2.0, 60.0)  # output or disk trouble: wait this long, doubling up to the second figure
OUTPUT_ERRNOS = {28, 30, 122, 13, 1}  # ENOSPC, EROFS, EDQUOT, EACCES, EPERM while writing outputs


class _Interrupted(BaseException):
    """Raised from the progress hook when the watcher is stopping (not an error of the file)."""


# -- the watcher ----------------------------------------------------------------------------------

@dataclass
class _WorkerState:
    index: int
    pipelines: dict = field(default_factory=dict)
    rel: Optional[str] = None
    stage_started: dict = field(default_factory=dict)
    stages_done: set = field(default_factory=set)


class Watcher:
    """Process every recording in ``folder`` (recursively) exactly once, and keep watching.

    ``config``/``overrides`` are the settings (an ``ivp.toml`` in the folder, or in a subfolder,
    applies on top of ``config``; ``overrides`` win over both). ``run(stop_event)`` blocks until
    the event is set (or, with ``once=True``, until nothing is left to do).
    """

    def __init__(self, folder: Path | str, config: Optional[Config] = None,
                 overrides: Optional[dict[str, Any]] = None, out_dir: Optional[Path | str] = None,
                 workers: int = 1, settle_s: float = 5.0, poll: bool = False, max_attempts: int = 3,
                 retry_delay_s: float = 10.0, rescan_s: float = 60.0,
                 probe_grace_s: Optional[float] = None, stop_grace_s: float = 30.0,
                 tick_s: float = 0.5, poll_interval_s: float = 1.0, once: bool = False,
                 retry_failed: bool = False, log_stderr: bool = True, verbose: bool = False,
                 quiet: bool = False, report: bool = True, report_every_s: float = 10.0,
                 follow_links: bool = False):
        self.folder = Path(folder).resolve()
        if not self.folder.is_dir():
            raise NotADirectoryError(f"{folder}: not a folder")
        self.state_dir = self.folder / STATE_DIR
        self.out_dir = Path(out_dir).resolve() if out_dir else None
        self.base_config = config or Config()
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        self.workers = max(1, int(workers))
        self.settle_s = settle_s
        self.poll = poll
        self.max_attempts = max(1, int(max_attempts))
        self.retry_delay_s = max(0.0, retry_delay_s)
        self.rescan_s = rescan_s
        self.stop_grace_s = stop_grace_s
        self.tick_s = tick_s
        self.poll_interval_s = poll_interval_s
        self.once = once
        self.retry_failed = retry_failed
        self.log_stderr = log_stderr
        self.verbose = verbose
        self.quiet = quiet
        self.settle = SettleTracker(settle_s, probe=ffprobe_readable, probe_grace_s=probe_grace_s)
        self.log = logging.getLogger(LOGGER_NAME)
        self.ledger: Optional[Ledger] = None
        self.ready = threading.Event()  # set once the first scan is done and events are watched
        self.workers_alive = False  # after run(): True when a worker did not stop in time
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._inflight: dict[str, str] = {}  # sha -> rel path, files being processed
        self._inflight_lock = threading.Lock()
        self.follow_links = follow_links  # follow symlinks that leave the folder
        self._refused: set[Path] = set()
        self.settings = Settings(self.folder, self.base_config, self.overrides)
        self.outputs = OutputPlan(self.out_dir, [self.folder])
        self._paused_until = 0.0
        self._pause_s = PAUSE_S[0]
        self._pause_lock = threading.Lock()
        self._lock = FolderLock(self.state_dir / LOCK_NAME)
        self._handlers: list[logging.Handler] = []
        self._threads: list[threading.Thread] = []
        self._old_signals: dict[int, Any] = {}
        self.counts: dict[str, int] = {}
        self._events_ok = True
        self.report = report  # keep <out or folder>/ivp-report/ up to date
        self.report_every_s = report_every_s
        self._report_dirty = threading.Event()
        self._report_built = 0.0

    # -- public ---------------------------------------------------------------------------------

    def run(self, stop_event: Optional[threading.Event] = None) -> dict[str, int]:
        """Scan, then watch until ``stop_event`` is set (or SIGINT/SIGTERM). Returns the counts."""
        if stop_event is not None:
            self._stop = stop_event
        self._lock.acquire()  # raises WatcherBusy before anything else is touched
        try:
            self._setup_logging()
            self._install_signals()
            self.ledger, moved = open_ledger(self.state_dir / DB_NAME, wal=not self.poll)
            if moved is not None:
                self._warn("ledger", ".", f"the state database was damaged; moved it aside to "
                           f"{display(moved.name)} and rebuilding it from the folder (existing "
                           "sidecars are recognised, nothing is redone)")
            self._start()
            self._loop()
        finally:
            self._shutdown()
        return self.counts

    def stop(self) -> None:
        self._stop.set()

    def scan_once(self, cleanup: bool = False) -> int:
        """Walk the folder: new or changed recordings start waiting to settle. Returns how many."""
        found = 0
        seen: set[str] = set()
        self.settings.clear()
        for path in self._walk(self.folder, cleanup=cleanup):
            rel = self._rel(path)
            seen.add(rel)
            found += self._consider(path, rel, full=True)
        if cleanup:
            if self.out_dir and self.out_dir.is_dir():
                for _ in self._walk(self.out_dir, cleanup=True, recordings=False):
                    pass
            self._cleanup_cache()
        for row in self.ledger.all_paths():
            if row["path"] not in seen and not (self.folder / row["path"]).exists():
                self.ledger.forget_path(row["path"])
        return found

    # -- start, loop, stop ------------------------------------------------------------------------

    def _start(self) -> None:
        requeued, failed = self.ledger.recover(MAX_INTERRUPTS)
        for row in requeued:
            self._info("resuming", row["path"], f"was being processed when the watcher stopped "
                       f"(interrupted {row['interrupts']} time(s); that is not a failed attempt)")
        for row in failed:
            self._error("failed", row["path"], f"{row['stage'] or 'pipeline'}: {row['last_error']}")
            self._write_error(row["sha256"], row["path"], row["stage"] or "pipeline",
                              row["last_error"], row["attempts"])
        if self.retry_failed:
            for row in self.ledger.retry_failed():
                self._info("queued", row["path"], "retrying a file that failed before")
        mode = "polling" if self.poll else "events"
        self._info("watching", ".", f"{self.folder} ({mode}, {self.workers} worker(s), settle "
                   f"{self.settle_s:g}s, outputs {'in ' + str(self.out_dir) if self.out_dir else 'next to recordings'}"
                   f", ivp {__version__})")
        for i in range(self.workers):
            t = threading.Thread(target=self._worker, args=(_WorkerState(i),), daemon=True,
                                 name=f"ivp-watch-{i}")
            t.start()
            self._threads.append(t)

    def _loop(self) -> None:
        changes_q: "queue.Queue[set]" = queue.Queue()
        armed = threading.Event()
        events_thread = threading.Thread(target=self._events, args=(changes_q, armed), daemon=True,
                                         name="ivp-watch-events")
        events_thread.start()
        armed.wait(30)  # the event watcher is set up: nothing dropped from now on can be missed
        last_scan = None
        while not self._stop.is_set():
            try:
                if last_scan is None:  # the first full scan (again after a pause)
                    self.scan_once(cleanup=True)
                    last_scan = time.monotonic()
                    self.ready.set()
                batch: set = set()
                try:
                    batch |= changes_q.get(timeout=self.tick_s)
                    while True:  # drain whatever else arrived
                        batch |= changes_q.get_nowait()
                except queue.Empty:
                    pass
                if batch:
                    self._on_changes(batch)
                rescan_s = self.rescan_s if self._events_ok else min(self.rescan_s, max(2.0, self.settle_s))
                if time.monotonic() - last_scan >= rescan_s:  # safety net for missed events
                    self.scan_once()
                    last_scan = time.monotonic()
                self._tick()
                self._refresh_report()
                if self.once and self._idle():
                    self._info("idle", ".", "nothing left to do (--once)")
                    break
                self._resumed()
            except (OSError, sqlite3.Error) as exc:  # disk full, folder gone read-only: wait, go on
                self.ready.set()
                wait = self._pause(f"the folder's state cannot be written ({_reason(exc)})")
                self._stop.wait(wait)
                last_scan = None  # a full scan afterwards finds whatever was dropped meanwhile
        self._stop.set()
        events_thread.join(5)
        self._refresh_report(force=True)

    def _events(self, out: "queue.Queue[set]", armed: threading.Event) -> None:
        """File-system events (or polling, with --poll) in their own thread, into a queue.

        The watchfiles generator does not yield while only filtered-out events arrive (the
        watcher's own writes in .ivp/), so the main loop never waits on it directly.
        """
        try:
            import watchfiles

            def wanted(change, path: str) -> bool:
                return self._watchable(Path(path))

            for changes in watchfiles.watch(
                    self.folder, watch_filter=wanted, debounce=max(100, int(self.tick_s * 1000)),
                    step=50, stop_event=self._stop, rust_timeout=max(50, int(self.tick_s * 1000)),
                    yield_on_timeout=True, raise_interrupt=False, force_polling=self.poll,
                    poll_delay_ms=int(self.poll_interval_s * 1000), recursive=True,
                    ignore_permission_denied=True):
                armed.set()
                if changes:
                    out.put(changes)
        except Exception as exc:  # e.g. the inotify watch limit: rescans still find everything
            self._events_ok = False
            self._warn("events", ".", f"file events unavailable ({type(exc).__name__}: {exc}); "
                       f"rescanning every {max(2.0, self.settle_s):g}s instead")
        finally:
            armed.set()

    def _shutdown(self) -> None:
        self._stop.set()
        self._wake.set()
        interrupted = False
        if self._threads:
            with self._inflight_lock:
                busy = dict(self._inflight)
            if busy:
                interrupted = True
                self._info("stopping", ".", f"waiting for {len(busy)} file(s) to reach a checkpoint")
            deadline = time.monotonic() + self.stop_grace_s
            for t in self._threads:
                t.join(max(0.0, deadline - time.monotonic()))
            self.workers_alive = any(t.is_alive() for t in self._threads)
            with self._inflight_lock:
                busy = dict(self._inflight)
            for sha, rel in busy.items():  # still running after the grace time: re-queue
                if self.ledger and self.ledger.requeue(sha, uncount=True):
                    self._info("requeued", rel, "stopped before it finished; it resumes on the next start")
        if self.ledger is not None:
            counts = self.counts = self.ledger.counts()
            self._info("stopped", ".", ", ".join(f"{v} {k}" for k, v in counts.items())
                       + ("; stage results so far are cached" if interrupted else ""))
            if not self.workers_alive:
                self.ledger.close()
        self._restore_signals()
        self._teardown_logging()
        if not self.workers_alive:  # a worker still writing keeps the folder locked until exit
            self._lock.release()

    def _pause(self, why: str) -> float:
        """Stop claiming work for a while (output or disk trouble); returns the wait in seconds."""
        with self._pause_lock:
            now = time.monotonic()
            if now < self._paused_until:
                return self._paused_until - now
            wait = self._pause_s
            self._pause_s = min(self._pause_s * 2, PAUSE_S[1])
            self._paused_until = now + wait
        self._warn("paused", ".", f"{why}; nothing is lost, retrying in {wait:g}s")
        return wait

    def _resumed(self) -> None:
        with self._pause_lock:
            if self._pause_s == PAUSE_S[0] or time.monotonic() < self._paused_until:
                return
            self._pause_s = PAUSE_S[0]
        self._info("resumed", ".", "writing works again")

    def _idle(self) -> bool:
        with self._inflight_lock:
            busy = bool(self._inflight)
        return not busy and len(self.settle) == 0 and self.ledger.pending() == 0

    # -- finding files ----------------------------------------------------------------------------

    def _walk(self, root: Path, cleanup: bool = False, recordings: bool = True) -> Iterable[Path]:
        """Recordings under ``root`` (hidden folders and the output folder skipped)."""
        for dirpath, dirnames, filenames in os.walk(root, onerror=self._walk_error):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and not (recordings and self._is_out(here / d)))
            for name in sorted(filenames):
                path = here / name
                if cleanup and is_own_temp(name):
                    self._remove_stale_temp(path)
                elif recordings and is_recording_path(path) and self._regular(path):
                    yield path

    def _regular(self, path: Path) -> bool:
        """Only regular files are candidates (a FIFO or a link to a device is never opened)."""
        problem = discover.not_regular(path, self.folder, self.follow_links)
        if problem is None:
            return True
        if path not in self._refused:
            self._refused.add(path)
            self._warn("skipped", self._rel(path), problem)
        return False

    def _cleanup_cache(self) -> None:
        cache = self.state_dir / CACHE_NAME
        if cache.is_dir():
            for path in cache.rglob(".ivp-tmp-*.tmp"):
                if is_own_temp(path.name):
                    self._remove_stale_temp(path)

    def _walk_error(self, exc: OSError) -> None:
        self._warn("unreadable", self._rel(Path(exc.filename or self.folder)),
                   f"cannot list folder: {exc.strerror or exc}")

    def _remove_stale_temp(self, path: Path) -> None:
        try:
            path.unlink()
            self._info("cleaned", self._rel(path), "removed a temp file left by an interrupted write")
        except OSError:
            pass

    def _watchable(self, path: Path) -> bool:
        try:
            rel = path.relative_to(self.folder)
        except ValueError:
            return False
        if any(part.startswith(".") for part in rel.parts[:-1]) or self._is_out(path):
            return False
        return path.is_dir() or is_recording_path(path) or not path.exists()

    def _is_out(self, path: Path) -> bool:
        return bool(self.out_dir) and _inside(path, self.out_dir)

    def _on_changes(self, changes: set) -> None:
        import watchfiles
        for change, raw in sorted(changes, key=lambda c: (c[1], int(c[0]))):
            path = Path(raw)
            if change == watchfiles.Change.deleted:
                if not path.exists() and path not in self.settle and is_recording_path(path):
                    rel = self._rel(path)
                    if self.ledger.path(rel):
                        self.ledger.forget_path(rel)
                        self._info("removed", rel, "no longer in the folder")
                continue
            if path.is_dir():
                for child in self._walk(path):
                    self._consider(child, self._rel(child))
            elif is_recording_path(path) and path.exists() and self._regular(path):
                self._consider(path, self._rel(path))

    def _consider(self, path: Path, rel: str, full: bool = False) -> int:
        """A recording was seen: skip it when already handled, else start waiting for it."""
        if path in self.settle:
            return 0
        try:
            st = path.stat()
        except OSError:
            return 0
        known = self.ledger.path(rel)
        if known and known["size"] == st.st_size and known["mtime_ns"] == st.st_mtime_ns:
            row = self.ledger.get(known["sha256"])
            unreadable_before = known["sha256"].startswith(PSEUDO_PREFIX)
            if row is not None and not (unreadable_before and os.access(path, os.R_OK)):
                if full:
                    self._check_done(path, rel, row)
                return 0
        if self.settle.add(path):
            self._info("found", rel, _size(st.st_size))
            return 1
        return 0

    def _check_done(self, path: Path, rel: str, row: dict) -> None:
        """On a full scan: a done file whose output disappeared or whose settings changed reruns;
        a file that failed on its settings is tried again once they load."""
        if row["state"] == "failed" and row["stage"] == "config" and row["path"] == rel:
            if self._settings_for(path) is not None:
                self.ledger.enqueue(row["sha256"], rel)
                self._info("queued", rel, "its settings load now")
                self._wake.set()
            return
        if row["state"] != "done":
            return
        if row["path"] != rel:  # a duplicate name: its copy of the sidecar must exist
            entry = self.ledger.path(rel)
            if not (entry and entry["output"] and self._abs(entry["output"]).is_file()):
                self._copy_outcome(row, rel)
            return
        settings = self._settings_for(path)
        if settings is not None and row["settings"] is not None and settings != row["settings"]:
            self.ledger.enqueue(row["sha256"], rel)
            self._info("queued", rel, "settings changed since it was processed")
            self._wake.set()
        elif not self._output_for(path).is_file():
            if row["output"] and self._abs(row["output"]).is_file():
                self._copy_outcome(row, rel)
            else:
                self.ledger.enqueue(row["sha256"], rel)
                self._info("queued", rel, "its sidecar is missing")
                self._wake.set()

    def _tick(self) -> None:
        report = self.settle.poll()
        for path in report.copying:
            self._info("waiting", self._rel(path), "still being written; waiting for the copy to finish")
        for path in report.gone:
            rel = self._rel(path)
            self._warn("skipped", rel, "deleted or moved away before it finished copying")
            if self.ledger.path(rel):
                self.ledger.forget_path(rel)
        for path in report.ready:
            if path in report.unreadable:
                self._info("settled", self._rel(path), "unchanged, but ffprobe cannot read it; "
                           "handing it to the pipeline for a proper error")
            self._intake(path)

    def _intake(self, path: Path) -> None:
        """A settled file: hash it and record it in the ledger (queued, duplicate or known)."""
        rel = self._rel(path)
        key: Optional[str] = None
        if not self._regular(path):
            return
        try:
            before = path.stat()
            if os.access(path, os.R_OK):
                try:
                    key = sha256_file(path)
                except FileNotFoundError:
                    raise
                except OSError:  # unreadable after all: the pipeline reports why
                    key = None
            after = path.stat()
        except FileNotFoundError:
            self._warn("skipped", rel, "deleted or moved away before it could be read")
            return
        except OSError as exc:
            self._warn("skipped", rel, f"cannot stat it: {exc.strerror or exc}")
            return
        key = key or PSEUDO_PREFIX + rel
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            self.settle.add(path)  # changed while hashing: wait again
            return
        self._register(path, rel, key, after.st_size, after.st_mtime_ns)

    def _register(self, path: Path, rel: str, key: str, size: int, mtime_ns: int) -> None:
        copy_from: Optional[dict] = None
        with self.ledger.tx():
            previous = self.ledger.path(rel)
            self.ledger.set_path(rel, key, size, mtime_ns)
            row = self.ledger.get(key)
            if row is None:
                self.ledger.enqueue(key, rel)
                note = ""
                if previous is not None and previous["sha256"] != key:
                    note = ("readable now" if previous["sha256"].startswith(PSEUDO_PREFIX)
                            else "changed since it was processed")
                self._info("queued", rel, note)
                self._wake.set()
                return
            primary = self.ledger.path(row["path"]) if row["path"] != rel else None
            if primary and primary["sha256"] == key and (self.folder / row["path"]).exists():
                what = {"done": "recorded, not re-transcribed", "failed": "it failed before",
                        }.get(row["state"], "its result will be copied when it finishes")
                self._info("duplicate", rel, f"same content as {row['path']}; {what}")
                if row["state"] in ("done", "failed"):
                    copy_from = row
            else:  # this name is (now) the content's main name
                if row["path"] != rel:
                    self.ledger.set_primary(key, rel)
                    row["path"] = rel
                if row["state"] == "done":
                    if self._output_for(path).is_file():
                        self._debug("unchanged", rel, "already processed")
                    else:
                        copy_from = row
                elif row["state"] == "failed":
                    self._info("known", rel, f"failed before ({row['stage']}: {row['last_error']}); "
                               "change the file or use --retry-failed to try again")
                    if not self._output_for(path, sidecar.ERROR_SUFFIX).exists():
                        copy_from = row
        if copy_from is not None:
            self._copy_outcome(copy_from, rel)

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
            except _Interrupted:
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
                               share, ratio.verdict if ratio else None, list(interview.warnings))
            self.ledger.set_path_output(rel, self._store(out))
        row = self.ledger.get(sha)
        if resumed:
            self._info("finished", rel, "its sidecar was already up to date (written before a "
                       "restart, or by an earlier run)")
        else:
            if share is not None:
                low, high = ratio.target
                result = (f"interviewee {share:.0%} of speech ({ratio.verdict} the "
                          f"{low:.0%}-{high:.0%} target)")
            else:
                result = "no interviewee share (" + ("no speech" if not interview.turns
                                                     else "roles unknown") + ")"
            self._info("finished", rel, f"{_clock(interview.source.duration_s)} in {seconds:.1f}s: "
                       f"{result} -> {self._display(out)}")
            for warning in interview.warnings:
                self._warn("warning", rel, warning)
        self._report_dirty.set()
        for other in self.ledger.paths_of(sha):  # duplicates waiting for this result
            if other["path"] != rel and (self.folder / other["path"]).exists():
                self._copy_outcome(row, other["path"])

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
            from ..report import build_report
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
        from dataclasses import replace
        key = replace(config, cache_dir=None)
        if key not in ws.pipelines:
            from ..runner import Pipeline
            ws.pipelines[key] = Pipeline(key, self._hook(ws))
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
            if self._stop.is_set() and not finishing:
                raise _Interrupted()  # at a checkpoint: stage results finished so far are cached
            if ws.rel is None:
                return
            now = time.monotonic()
            ws.stage_started.setdefault(stage, now)
            if finishing and stage not in ws.stages_done:
                ws.stages_done.add(stage)
                self._info("stage", ws.rel, f"{stage} done in {now - ws.stage_started[stage]:.1f}s")
        return hook

    # -- settings and paths -----------------------------------------------------------------------

    def _config_for(self, folder: Path) -> Config:
        """Base config, then every ivp.toml from the watched folder down to ``folder``, then flags."""
        return self.settings.for_folder(folder)

    def _settings_for(self, path: Path) -> Optional[str]:
        try:
            return json.dumps(self._config_for(path.parent).signature(), sort_keys=True)
        except PipelineError:
            return None

    def _out_folder(self, path: Path) -> Optional[Path]:
        return None if self.out_dir is None else self.outputs.folder(path)

    def _output_for(self, path: Path, suffix: str = sidecar.SUFFIX, check: bool = False) -> Path:
        """Where an output of ``path`` goes; ``check`` before writing (refuses leaving the output)."""
        return self.outputs.sidecar(path, suffix, check)

    def _rel(self, path: Path) -> str:
        try:
            return Path(path).relative_to(self.folder).as_posix()
        except ValueError:
            return str(path)

    def _store(self, path: Optional[Path]) -> Optional[str]:
        if path is None:
            return None
        return self._rel(path)

    def _abs(self, stored: str) -> Path:
        p = Path(stored)
        return p if p.is_absolute() else self.folder / p

    def _display(self, path: Path) -> str:
        return _clean(self._rel(path))

    # -- logging ----------------------------------------------------------------------------------

    def _setup_logging(self) -> None:
        self.log.setLevel(logging.DEBUG)
        fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(message)s")
        file_handler = _LogFile(
            self.state_dir / LOG_NAME, maxBytes=5 << 20, backupCount=3, encoding="utf-8")
        file_handler.setFormatter(fmt)
        file_handler.setLevel(logging.DEBUG)
        self._handlers.append(file_handler)
        if self.log_stderr:
            err = logging.StreamHandler()
            err.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
            err.setLevel(logging.DEBUG if self.verbose else logging.WARNING if self.quiet else logging.INFO)
            self._handlers.append(err)
            self.log.propagate = False
        for h in self._handlers:
            self.log.addHandler(h)

    def _teardown_logging(self) -> None:
        for h in self._handlers:
            self.log.removeHandler(h)
            h.close()
        self._handlers.clear()
        self.log.propagate = True

    def _emit(self, level: int, event: str, rel: str, detail: str) -> None:
        message = f"{event:<10} {_clean(rel)}" + (f": {_clean(detail)}" if detail else "")
        self.log.log(level, message)

    def _debug(self, event: str, rel: str, detail: str = "") -> None:
        self._emit(logging.DEBUG, event, rel, detail)

    def _info(self, event: str, rel: str, detail: str = "") -> None:
        self._emit(logging.INFO, event, rel, detail)

    def _warn(self, event: str, rel: str, detail: str = "") -> None:
        self._emit(logging.WARNING, event, rel, detail)

    def _error(self, event: str, rel: str, detail: str = "") -> None:
        self._emit(logging.ERROR, event, rel, detail)

    # -- signals ----------------------------------------------------------------------------------

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum, frame):
            if self._stop.is_set():  # second signal: stop now (the ledger is crash-safe anyway)
                self._warn("stopping", ".", "second signal: exiting immediately")
                os._exit(128 + signum)
            self._info("stopping", ".", f"{signal.Signals(signum).name}: finishing the current "
                       "stage checkpoint, then exiting (send it again to exit immediately)")
            self._stop.set()
            self._wake.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old_signals[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):
                pass

    def _restore_signals(self) -> None:
        for sig, old in self._old_signals.items():
            try:
                signal.signal(sig, old)
            except (ValueError, OSError, TypeError):
                pass
        self._old_signals.clear()


class _LogFile(logging.handlers.RotatingFileHandler):
    """The folder's log; a line that cannot be written (disk full) is dropped quietly, since
    stderr carries it too, instead of printing a logging traceback."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


# -- status ---------------------------------------------------------------------------------------

def folder_status(folder: Path | str) -> dict[str, Any]:
    """What ``ivp status`` shows: the watcher's pid, counts and one entry per recording."""
    folder = Path(folder).resolve()
    state_dir = folder / STATE_DIR
    pid = FolderLock.holder(state_dir / LOCK_NAME)
    result: dict[str, Any] = {"folder": str(folder), "watcher": {"running": pid is not None, "pid": pid},
                              "counts": {}, "files": []}
    db = state_dir / DB_NAME
    if not db.is_file():
        return result
    try:
        check_ledger(db)
        ledger = Ledger(db, readonly=True)
        try:
            files = {row["sha256"]: row for row in ledger.all_files()}
            paths = ledger.all_paths()
        finally:
            ledger.close()
    except (LedgerDamaged, sqlite3.Error) as exc:
        result["damaged"] = (f"{' '.join(str(exc).split())}; the next `ivp watch` moves it aside "
                             "and rebuilds it from the sidecars")
        return result
    counts = {k: 0 for k in ("done", "duplicate", "queued", "retrying", "running", "interrupted",
                             "failed")}
    for p in paths:
        row = files.get(p["sha256"])
        if row is None:
            continue
        state = row["state"]
        duplicate_of = row["path"] if row["path"] != p["path"] else None
        if state == "running" and pid is None:
            state = "interrupted"
        elif state == "queued" and row["attempts"] and row["last_error"]:
            state = "retrying"
        elif state == "done" and duplicate_of:
            state = "duplicate"
        counts[state] = counts.get(state, 0) + 1
        result["files"].append({
            "path": p["path"], "state": state, "duplicate_of": duplicate_of,
            "sha256": None if p["sha256"].startswith(PSEUDO_PREFIX) else p["sha256"],
            "attempts": row["attempts"], "duration_s": row["duration_s"],
            "interviewee_share": row["interviewee_share"], "verdict": row["verdict"],
            "stage": row["stage"], "error": row["last_error"] if row["state"] != "done" else None,
            "output": p["output"] or (row["output"] if not duplicate_of else None),
            "warnings": json.loads(row["warnings"]) if row["warnings"] else [],
        })
    result["counts"] = {"files": len(result["files"]), **counts}
    return result


# -- helpers --------------------------------------------------------------------------------------

def error_record(path: Path, stage: str, reason: str, attempts: Optional[int] = None,
                 sha256: Optional[str] = None) -> dict[str, Any]:
    """The content of ``<name>.error.json``: what failed, where, why (one line), tool and time."""
    reason = " ".join(str(reason).split())
    return {"file": str(path), "stage": stage, "reason": reason,
            "error": f"{path}: {stage}: {reason}", "tool": "ivp", "version": __version__,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "attempts": attempts, "sha256": sha256}


def _stat_sig(path: Path) -> Optional[tuple[int, int]]:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def _remove_quietly(path: Path) -> None:
    try:
        Path(path).unlink()
    except OSError:
        pass


_clean = display  # one log line whatever the file name holds


def _reason(exc: BaseException) -> str:
    return " ".join(str(getattr(exc, "strerror", None) or exc).split())


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n}"


def _clock(seconds: Optional[float]) -> str:
    seconds = int(round(seconds or 0))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
