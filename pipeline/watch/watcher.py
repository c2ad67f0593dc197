"""The watched folder: scan, watch for events, wait for copies to settle, process, retry, log.

Exactly-once design
-------------------
* One watcher per folder: an exclusive ``flock`` on ``DIR/.ivp/lock`` (released by the kernel
  when the process dies, even on SIGKILL).
* Work is claimed in an SQLite transaction (``queued`` -> ``running``), the sidecar is written
  atomically (temp file + fsync + rename), and only then is the row marked ``done``.
* On start, rows left ``running`` by a killed watcher are re-queued; the interrupted attempt is
  counted apart (``interrupts``), never as a failed one, and only a file in flight at
  ``MAX_INTERRUPTS`` restarts is given up. Before processing a row the worker checks whether an up-to-date sidecar already exists (killed between the rename and the
  ``done`` mark) and then just marks it done. Stale temp files of ours are removed.
* The expensive stage results (transcript, diarization) are cached per content hash in
  ``DIR/.ivp/cache`` by the runner, so a restart resumes instead of starting over.
* SIGINT/SIGTERM: no new work is claimed; a file being processed stops at its next progress
  checkpoint (stage results finished so far are cached), goes back to the queue without
  counting an attempt, and the watcher exits.

* Output trouble (disk full, read-only output, a ledger write that fails) pauses the watcher
  with a message and counts nothing; it carries on when writing works again.

Rooms: this module holds the loop (start, events, rescans, pause, stop), settings and paths,
and signals; :mod:`.log` writes the folder's log, :mod:`.intake` finds and records files, :mod:`.worker` processes them,
:mod:`.status` is ``ivp status``, :mod:`.lock` the folder lock. The rules about a recording
(what is one, its settings, outputs, cache) live in :mod:`pipeline.recording`.

Originals are only ever opened for reading, and only regular files.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import signal
import threading
import time
from pathlib import Path
from typing import Any, Optional

from .. import __version__, sidecar
from ..config import Config
from ..errors import PipelineError
from ..recording import display
from ..recording.outputs import OutputPlan
from ..recording.settings import Settings
from . import DB_NAME, LOCK_NAME, STATE_DIR
from .common import LOGGER_NAME, MAX_INTERRUPTS, PAUSE_S, _clean, _reason, _WorkerState
from .common import PSEUDO_PREFIX, error_record  # noqa: F401  (re-exported)
from .intake import IntakeRoom
from .ledger import Ledger, open_ledger
from .lock import FolderLock, WatcherBusy  # noqa: F401  (re-exported)
from .log import LogRoom
from .settle import SettleTracker, ffprobe_readable
from .status import folder_status  # noqa: F401  (re-exported)
from .worker import WorkerRoom


class Watcher(IntakeRoom, WorkerRoom, LogRoom):
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
                 follow_links: bool = False, executor=None):
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
        self._roles_dirty: set[Path] = set()  # output folders whose roles are decided again by voice
        self._report_built = 0.0
        self.executor = executor  # pipeline.executors (Ray); None: the pipeline runs in the workers here

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
                self._refresh_roles()
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
        self._refresh_roles()
        self._refresh_report(force=True)

    def _events(self, out: "queue.Queue[set]", armed: threading.Event) -> None:
        """File-system events (or polling, with --poll) in their own thread, into a queue.

        The watchfiles generator does not yield while only filtered-out events arrive (the
        watcher's own writes in .ivp/), so the main loop never waits on it directly.
        """
        try:
            import watchfiles  # lazy: a Rust extension only the event loop needs

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
