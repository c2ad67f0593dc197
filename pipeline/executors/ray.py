"""Process recordings on a Ray cluster: a pool of actors, each loading the models once.

The driver (this process) connects to a running cluster (``ray start`` is the user's), starts
one :class:`~pipeline.executors.ray_actor.RecordingWorker` per slot of
:func:`~pipeline.executors.plan.plan_workers`, sends each recording's bytes (or, with a shared
file system, its path) and gets the interview back as a dict. It writes nothing itself: the
caller writes sidecars, errors, exports and the ledger.

A worker that dies mid-file (killed, out of memory, node lost) fails only that attempt: the
file is sent to another worker, up to ``retries`` more times, and the dead actor comes back
(Ray restarts it) to rejoin the pool. A file that fails on its own account raises its
``PipelineError`` exactly as locally.
"""
from __future__ import annotations

import hashlib
import logging
import os
import queue
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

# RAY_USAGE_STATS_ENABLED=0 is set by pipeline/__init__.py with the other no-network variables

import ray  # noqa: E402  (this module is imported only with --ray)
from ray import exceptions as rex  # noqa: E402
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy  # noqa: E402

from ..errors import InputError  # noqa: E402
from ..interview import Interview  # noqa: E402
from ..progress import NEVER, ProgressHook, StopToken, null_hook, timed  # noqa: E402
from ..stages import moments  # noqa: E402
from ..stages.decode import check_readable  # noqa: E402
from .base import (Aborted, ClusterError, ExecutorBase, Job, Outcome, WorkerLost,  # noqa: E402
                   error_from_dict)
from .plan import plan_workers  # noqa: E402
from .ray_actor import RecordingWorker  # noqa: E402

MAX_RESTARTS = 3  # Ray restarts a dead actor this many times before it leaves the pool
LOST = (rex.RayActorError, rex.WorkerCrashedError, rex.NodeDiedError, rex.ObjectLostError,
        rex.OutOfMemoryError, rex.LocalRayletDiedError)
TICK_S = 0.5


class RayExecutor(ExecutorBase):
    """``size`` actors on the cluster at ``address`` (``auto`` or ``HOST:PORT``)."""

    def __init__(self, address: str, workers: Optional[int] = None, shared_fs: bool = False,
                 device: Optional[str] = None, retries: int = 2, start_timeout_s: float = 180.0,
                 log: Optional[Callable[[str], None]] = None):
        super().__init__()
        self.address = address
        self.shared_fs = shared_fs
        self.retries = retries
        self.log = log or logging.getLogger("ivp.ray").warning
        _connect(address)
        try:
            specs = plan_workers(ray.nodes(), workers, device)
        except ClusterError as exc:
            ray.shutdown()
            exc.path = address
            raise
        remote = ray.remote(RecordingWorker)
        self._actors: dict[str, Any] = {}
        self._node: dict[str, str] = {}
        self._failures: dict[str, int] = {}
        self._pending: dict[Any, tuple[str, str]] = {}  # ObjectRef -> (actor id, "ready" | "drain")
        self._idle: "queue.Queue[str]" = queue.Queue()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._last_error = ""
        for spec in specs:
            strategy = None
            if spec.node_id:
                strategy = NodeAffinitySchedulingStrategy(spec.node_id, soft=True)
            actor = remote.options(num_cpus=spec.num_cpus, num_gpus=spec.num_gpus,
                                   max_restarts=MAX_RESTARTS, max_task_retries=0,
                                   scheduling_strategy=strategy).remote(spec.device, spec.threads)
            aid = actor._actor_id.hex()
            self._actors[aid] = actor
            self._failures[aid] = 0
            self._pending[actor.ready.remote()] = (aid, "ready")
        self.size = len(self._actors)
        self.specs = specs
        self._keeper = threading.Thread(target=self._keep, daemon=True, name="ivp-ray-keeper")
        self._keeper.start()
        deadline = time.monotonic() + start_timeout_s
        while self._idle.qsize() == 0 and not self._closed.is_set():
            if time.monotonic() > deadline or not self._actors:
                need = max(s.num_cpus for s in specs)
                self.close()
                if self._last_error:  # e.g. ivp not installed on the workers
                    hint = ("; install ivp (pip install 'ivp[ray]') on every node"
                            if "ModuleNotFoundError" in self._last_error else "")
                    raise ClusterError(address, f"no Ray worker could start: {self._last_error}{hint}")
                raise ClusterError(address, f"no Ray worker started within {start_timeout_s:g}s "
                                   f"(each asks for {need:g} CPU; see `ray status`)")
            time.sleep(0.1)

    # -- the executor API ---------------------------------------------------------------------

    def process(self, job: Job, hook: ProgressHook = null_hook, stop: StopToken = NEVER) -> Outcome:
        started = time.perf_counter()
        path = Path(job.path)
        if job.tracks:
            raise InputError(str(path), "a set of tracks is processed here, not on Ray (run it without --ray)")
        check_readable(path)  # unreadable files fail here, with the local error line
        sha, data_ref, sent = job.sha256, None, 0
        if not self.shared_fs:
            data = _read(path)
            digest = hashlib.sha256(data).hexdigest()
            if sha and digest != sha:
                raise InputError(str(path), "changed while it was being read; try again when it "
                                 "stops changing")
            sha, sent = digest, len(data)
            data_ref = ray.put(data)
            del data
        payload = {"path": str(path), "sha256": sha, "config": job.config,
                   "open": str(path.resolve()) if self.shared_fs else None}
        lost = 0
        while True:
            aid = self._acquire(hook, path, stop)
            actor, node = self._actors.get(aid), self._node.get(aid, "?")
            if actor is None:  # left the pool since it was idle
                continue
            ref = actor.process.remote(payload, data_ref)
            try:
                reply = self._await(ref, hook, path, f"ray@{node}", stop)
            except LOST as exc:
                lost += 1
                self._revive(aid)
                if lost > self.retries:
                    raise WorkerLost(str(path), f"the Ray worker processing it was lost {lost} "
                                     f"times (last on {node}: {type(exc).__name__})") from exc
                self.log(f"{path}: the worker on {node} was lost ({type(exc).__name__}); "
                         f"retrying on another worker ({lost}/{self.retries})")
                continue
            except BaseException:
                self._drain(aid, ref)  # stopping: the actor rejoins the pool when it is done
                raise
            self._idle.put(aid)
            break
        if not reply.get("ok"):
            error = error_from_dict(reply["error"])
            if reply["error"].get("traceback"):
                raise error from _RemoteTraceback(reply["error"]["traceback"])
            raise error
        interview = Interview.from_dict(reply["interview"])
        if not self.shared_fs:
            _marks_from_driver(interview, job)
        return Outcome(interview, node=f"{reply['node']} [worker pid {reply['pid']}]",
                       seconds=time.perf_counter() - started, worker_seconds=reply["seconds"],
                       sent_bytes=sent, lost=lost)

    def wait_all(self, timeout_s: float = 300.0) -> bool:
        """Wait until every worker has started (the pool may begin with fewer); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while len(self._node) < len(self._actors):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def echo(self, size: int) -> tuple[float, int]:
        """Seconds to send ``size`` bytes to a worker and hear back (the benchmark's overhead)."""
        aid = self._acquire(null_hook, Path("-"))
        try:
            started = time.perf_counter()
            ref = ray.put(os.urandom(size))
            n = ray.get(self._actors[aid].echo.remote(ref))
            return time.perf_counter() - started, n
        finally:
            self._idle.put(aid)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self.aborting.set()
        self._closed.set()
        for actor in list(getattr(self, "_actors", {}).values()):
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # already gone
                pass
        ray.shutdown()

    # -- the pool -----------------------------------------------------------------------------

    def _acquire(self, hook: ProgressHook, path: Path, stop: StopToken = NEVER) -> str:
        while True:
            try:
                aid = self._idle.get(timeout=TICK_S)
                if aid in self._actors:
                    return aid
                continue  # an actor that has left the pool since
            except queue.Empty:
                pass
            if self.aborting.is_set():
                raise Aborted()
            with self._lock:
                if not self._actors:
                    raise ClusterError(self.address, "every Ray worker was lost")
            stop.check()  # the watcher is stopping: give up waiting for a worker
            hook("ray-queue", completed=None, total=None, file=str(path))

    def _await(self, ref, hook: ProgressHook, path: Path, stage: str, stop: StopToken = NEVER) -> dict:
        with timed(hook, stage, str(path)):
            while True:
                ready, _ = ray.wait([ref], timeout=TICK_S)
                if ready:
                    return ray.get(ref)
                if self.aborting.is_set():
                    raise Aborted()
                stop.check()  # the watcher is stopping: the actor finishes and rejoins the pool
                hook(stage, completed=None, total=None, file=str(path))

    def _revive(self, aid: str) -> None:
        """A dead actor: Ray restarts it; it rejoins the pool once it answers again."""
        with self._lock:
            if aid in self._actors:
                self._pending[self._actors[aid].ready.remote()] = (aid, "ready")

    def _drain(self, aid: str, ref) -> None:
        with self._lock:
            self._pending[ref] = (aid, "drain")

    def _keep(self) -> None:
        """Background thread: actors that answered (started, restarted, finished) go back to idle."""
        while not self._closed.is_set():
            with self._lock:
                refs = list(self._pending)
            if not refs:
                self._closed.wait(TICK_S)
                continue
            try:
                done, _ = ray.wait(refs, num_returns=len(refs), timeout=TICK_S)
            except Exception:  # shutting down
                if self._closed.is_set():
                    return
                raise
            for ref in done:
                with self._lock:
                    aid, kind = self._pending.pop(ref)
                try:
                    info = ray.get(ref)
                except LOST as exc:
                    self._lost(aid, exc)
                    continue
                except Exception:  # a drained task that failed otherwise: the actor is fine
                    info = None
                if kind == "ready" and isinstance(info, dict):
                    self._node[aid] = info["node"]
                self._idle.put(aid)

    def _lost(self, aid: str, exc: BaseException) -> None:
        lines = [ln.strip() for ln in str(exc).splitlines() if "Error" in ln and ln.strip()]
        self._last_error = (lines[-1] if lines else type(exc).__name__)[:300]
        with self._lock:
            self._failures[aid] += 1
            if self._failures[aid] > MAX_RESTARTS + 1 or self._closed.is_set():
                self._actors.pop(aid, None)
                left = len(self._actors)
            else:
                self._pending[self._actors[aid].ready.remote()] = (aid, "ready")
                return
        where = f" on {self._node[aid]}" if aid in self._node else ""
        self.log(f"a Ray worker{where} left the pool ({type(exc).__name__}); {left} left")


class _RemoteTraceback(Exception):
    def __str__(self) -> str:
        return "\n" + (self.args[0] if self.args else "")


def _connect(address: str) -> None:
    """Join the running cluster at ``address``; a ``ClusterError`` (one line) when that fails."""
    if ray.is_initialized():
        return
    target = address
    if address != "auto" and not address.startswith("ray://"):
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ClusterError(address, "not a Ray address: give auto or HOST:PORT (e.g. 10.0.0.5:6379)")
        try:
            speaks = _speaks_grpc(host.strip("[]"), int(port))
        except OSError as exc:
            raise ClusterError(address, f"cannot reach the Ray cluster ({exc.strerror or exc}); is "
                               "`ray start --head` running there, and the port open?") from None
        if not speaks:  # ray.init would retry for many minutes
            raise ClusterError(address, "something answers there, but not a Ray cluster (the head's "
                               "port, 6379 by default, is the one to give)")
    try:
        ray.init(address=target, logging_level=logging.ERROR, log_to_driver=False,
                 namespace="ivp", configure_logging=True)
    except Exception as exc:  # ConnectionError, version mismatch, timeouts
        reason = " ".join(str(exc).split())[:300]
        if address == "auto" and isinstance(exc, ConnectionError):
            reason = "no running Ray cluster found on this machine (start one with `ray start --head`, " \
                     "or give HOST:PORT)"
        raise ClusterError(address, f"cannot connect to the Ray cluster: {reason}") from None


def _speaks_grpc(host: str, port: int, timeout_s: float = 5.0) -> bool:
    """Whether ``host:port`` answers an HTTP/2 greeting (Ray's GCS is a gRPC server); OSError when
    nothing can be reached. With TLS (RAY_USE_TLS) the greeting cannot be checked: True."""
    with socket.create_connection((host, port), timeout=timeout_s) as conn:
        if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
            return True
        conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        try:
            head = conn.recv(9)
        except (socket.timeout, ConnectionError):
            return False
        return len(head) >= 4 and head[3] == 0x04  # the server's SETTINGS frame


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), exc.strerror or str(exc)) from exc


def _marks_from_driver(interview: Interview, job: Job) -> None:
    """The worker could not see marker files beside the recording: read them here."""
    if moments.marker_files(Path(job.path)):
        moments.refresh_moments(interview, job.config, Path(job.path))
