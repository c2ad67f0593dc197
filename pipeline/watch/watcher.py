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

Rooms: this module is the loop (start, events, rescans, pause, stop) and the signals; it
owns one of each room and ties them, and holds no rule of its own. :mod:`.options` is every
knob (:class:`WatchOptions`), :mod:`.folder` the paths and settings, :mod:`.lock` the folder
lock, :mod:`.log` the folder's log, :mod:`.intake` finds, settles and records files,
:mod:`.worker` claims and processes them, :mod:`.outcome` writes error files and copies results
to duplicates, :mod:`.refresh` the folder-wide roles and report, :mod:`.ledger` the SQLite
state, :mod:`.status` is ``ivp status``. The rules about a recording (what is one, its
settings, outputs, cache) live in :mod:`pipeline.recording`.

Originals are only ever opened for reading, and only regular files.
"""
from __future__ import annotations

import os
import queue
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Optional

from .. import __version__
from ..config import Config
from ..recording import display
from . import DB_NAME, LOCK_NAME
from .common import MAX_INTERRUPTS, Pause, _reason
from .folder import WatchedFolder
from .intake import Intake
from .ledger import Ledger, open_ledger
from .lock import FolderLock
from .log import FolderLog
from .options import WatchOptions
from .outcome import Outcomes
from .refresh import Refresh
from .settle import SettleTracker, ffprobe_readable
from .worker import Worker, WorkerState, pipelines


class Watcher:
    """Process every recording in ``folder`` (recursively) exactly once, and keep watching.

    ``config``/``overrides`` are the settings (an ``ivp.toml`` in the folder, or in a subfolder,
    applies on top of ``config``; ``overrides`` win over both); ``options`` how it runs.
    ``executor`` (:mod:`pipeline.executors`, Ray) runs the pipeline elsewhere; None: in the
    worker threads here. ``run(stop_event)`` blocks until the event is set (or, with
    ``options.once``, until nothing is left to do).
    """

    def __init__(self, folder: Path | str, config: Optional[Config] = None,
                 overrides: Optional[dict[str, Any]] = None, out_dir: Optional[Path | str] = None,
                 options: Optional[WatchOptions] = None, executor=None):
        self.options = opts = options or WatchOptions()
        self.place = WatchedFolder(folder, config, overrides, out_dir)
        self.folder, self.state_dir, self.out_dir = self.place.root, self.place.state_dir, self.place.out_dir
        self.log = FolderLog(self.state_dir, opts.log_stderr, opts.quiet, opts.verbose)
        self.settle = SettleTracker(opts.settle_s, probe=ffprobe_readable, probe_grace_s=opts.probe_grace_s)
        self.pause = Pause(self.log)
        self.executor = executor
        self.ledger: Optional[Ledger] = None
        self.intake: Optional[Intake] = None  # the rooms: made once the ledger is open
        self.worker: Optional[Worker] = None
        self.refresh: Optional[Refresh] = None
        self._outcomes: Optional[Outcomes] = None
        self.ready = threading.Event()  # set once the first scan is done and events are watched
        self.workers_alive = False  # after run(): True when a worker did not stop in time
        self.counts: dict[str, int] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()  # work was queued: an idle worker looks now
        self._lock = FolderLock(self.state_dir / LOCK_NAME)
        self._threads: list[threading.Thread] = []
        self._old_signals: dict[int, Any] = {}
        self._events_ok = True

    # -- public ---------------------------------------------------------------------------------

    def run(self, stop_event: Optional[threading.Event] = None) -> dict[str, int]:
        """Scan, then watch until ``stop_event`` is set (or SIGINT/SIGTERM). Returns the counts."""
        if stop_event is not None:
            self._stop = stop_event
        self._lock.acquire()  # raises WatcherBusy before anything else is touched
        try:
            self.log.open()
            self._install_signals()
            self.ledger, moved = open_ledger(self.state_dir / DB_NAME, wal=not self.options.poll)
            if moved is not None:
                self.log.warn("ledger", ".", f"the state database was damaged; moved it aside to "
                              f"{display(moved.name)} and rebuilding it from the folder (existing "
                              "sidecars are recognised, nothing is redone)")
            self._open_rooms(self.ledger)
            self._start()
            self._loop()
        finally:
            self._shutdown()
        return self.counts

    def stop(self) -> None:
        self._stop.set()

    # -- start, loop, stop ------------------------------------------------------------------------

    def _open_rooms(self, ledger: Ledger) -> None:
        opts = self.options
        outcomes = Outcomes(self.place, ledger, self.log, self._wake)
        self.refresh = Refresh(self.place, ledger, self.log, opts.report, opts.report_every_s)
        self.intake = Intake(self.place, ledger, self.settle, self.log, outcomes,
                             follow_links=opts.follow_links, wake=self._wake)
        self.worker = Worker(self.place, ledger, self.log, outcomes, self.refresh, self.pause,
                             self._stop, self._wake, max_attempts=opts.max_attempts,
                             retry_delay_s=opts.retry_delay_s, tick_s=opts.tick_s,
                             make_pipeline=pipelines(self.executor))
        self._outcomes = outcomes

    def _start(self) -> None:
        opts = self.options
        requeued, failed = self.ledger.recover(MAX_INTERRUPTS)
        for row in requeued:
            self.log.info("resuming", row["path"], f"was being processed when the watcher stopped "
                          f"(interrupted {row['interrupts']} time(s); that is not a failed attempt)")
        for row in failed:
            self.log.error("failed", row["path"], f"{row['stage'] or 'pipeline'}: {row['last_error']}")
            self._outcomes.write_error(row["sha256"], row["path"], row["stage"] or "pipeline",
                                       row["last_error"], row["attempts"])
        if opts.retry_failed:
            for row in self.ledger.retry_failed():
                self.log.info("queued", row["path"], "retrying a file that failed before")
        mode = "polling" if opts.poll else "events"
        self.log.info("watching", ".", f"{self.folder} ({mode}, {opts.workers} worker(s), settle "
                      f"{opts.settle_s:g}s, outputs {'in ' + str(self.out_dir) if self.out_dir else 'next to recordings'}"
                      f", ivp {__version__})")
        for i in range(opts.workers):
            t = threading.Thread(target=self.worker.loop, args=(WorkerState(i),), daemon=True,
                                 name=f"ivp-watch-{i}")
            t.start()
            self._threads.append(t)

    def _loop(self) -> None:
        opts = self.options
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
                    self.intake.scan(cleanup=True)
                    last_scan = time.monotonic()
                    self.ready.set()
                batch: set = set()
                try:
                    batch |= changes_q.get(timeout=opts.tick_s)
                    while True:  # drain whatever else arrived
                        batch |= changes_q.get_nowait()
                except queue.Empty:
                    pass
                if batch:
                    self.intake.on_changes(batch)
                rescan_s = opts.rescan_s if self._events_ok else min(opts.rescan_s, max(2.0, opts.settle_s))
                if time.monotonic() - last_scan >= rescan_s:  # safety net for missed events
                    self.intake.scan()
                    last_scan = time.monotonic()
                self.intake.tick()
                self.refresh.roles()
                self.refresh.report()
                if opts.once and self._idle():
                    self.log.info("idle", ".", "nothing left to do (--once)")
                    break
                self.pause.resumed()
            except (OSError, sqlite3.Error) as exc:  # disk full, folder gone read-only: wait, go on
                self.ready.set()
                wait = self.pause.pause(f"the folder's state cannot be written ({_reason(exc)})")
                self._stop.wait(wait)
                last_scan = None  # a full scan afterwards finds whatever was dropped meanwhile
        self._stop.set()
        events_thread.join(5)
        self.refresh.roles()
        self.refresh.report(force=True)

    def _events(self, out: "queue.Queue[set]", armed: threading.Event) -> None:
        """File-system events (or polling, with --poll) in their own thread, into a queue.

        The watchfiles generator does not yield while only filtered-out events arrive (the
        watcher's own writes in .ivp/), so the main loop never waits on it directly.
        """
        opts = self.options
        try:
            import watchfiles  # lazy: a Rust extension only the event loop needs

            def wanted(change, path: str) -> bool:
                return self.intake.watchable(Path(path))

            for changes in watchfiles.watch(
                    self.folder, watch_filter=wanted, debounce=max(100, int(opts.tick_s * 1000)),
                    step=50, stop_event=self._stop, rust_timeout=max(50, int(opts.tick_s * 1000)),
                    yield_on_timeout=True, raise_interrupt=False, force_polling=opts.poll,
                    poll_delay_ms=int(opts.poll_interval_s * 1000), recursive=True,
                    ignore_permission_denied=True):
                armed.set()
                if changes:
                    out.put(changes)
        except Exception as exc:  # e.g. the inotify watch limit: rescans still find everything
            self._events_ok = False
            self.log.warn("events", ".", f"file events unavailable ({type(exc).__name__}: {exc}); "
                          f"rescanning every {max(2.0, opts.settle_s):g}s instead")
        finally:
            armed.set()

    def _shutdown(self) -> None:
        self._stop.set()
        self._wake.set()
        interrupted = False
        if self._threads:
            if self.worker.busy():
                interrupted = True
                self.log.info("stopping", ".", f"waiting for {len(self.worker.busy())} file(s) to "
                              "reach a checkpoint")
            deadline = time.monotonic() + self.options.stop_grace_s
            for t in self._threads:
                t.join(max(0.0, deadline - time.monotonic()))
            self.workers_alive = any(t.is_alive() for t in self._threads)
            for sha, rel in self.worker.busy().items():  # still running after the grace time: re-queue
                if self.ledger and self.ledger.requeue(sha, uncount=True):
                    self.log.info("requeued", rel, "stopped before it finished; it resumes on the next start")
        if self.ledger is not None:
            counts = self.counts = self.ledger.counts()
            self.log.info("stopped", ".", ", ".join(f"{v} {k}" for k, v in counts.items())
                          + ("; stage results so far are cached" if interrupted else ""))
            if not self.workers_alive:
                self.ledger.close()
        self._restore_signals()
        self.log.close()
        if not self.workers_alive:  # a worker still writing keeps the folder locked until exit
            self._lock.release()

    def _idle(self) -> bool:
        return not self.worker.busy() and self.intake.idle() and self.ledger.pending() == 0

    # -- signals ----------------------------------------------------------------------------------

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum, frame):
            if self._stop.is_set():  # second signal: stop now (the ledger is crash-safe anyway)
                self.log.warn("stopping", ".", "second signal: exiting immediately")
                os._exit(128 + signum)
            self.log.info("stopping", ".", f"{signal.Signals(signum).name}: finishing the current "
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
