"""What an executor is: it takes recordings (path, SHA-256, effective Config) and gives back interviews.

The caller (``ivp process``, ``ivp watch``) decides what is up to date, and it alone writes sidecars,
error files, exports and the ledger; an executor only computes. ``process`` is blocking and
thread-safe (one call per file being processed); ``each`` runs a per-file function over many files
with as many in flight as the executor has workers, yielding results as they finish.
"""
from __future__ import annotations

import threading
import traceback
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Protocol, TypeVar

from .. import errors
from ..config import Config
from ..errors import PipelineError
from ..interview import Interview
from ..progress import NEVER, ProgressHook, StopToken, null_hook

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Job:
    """One recording to process: where it is, its content hash and the settings that apply to it."""

    path: Path
    sha256: Optional[str]
    config: Config
    cache: Any = None  # a recording.cache.StageCache the local pipeline uses (remote workers do not)
    tracks: tuple[Path, ...] = ()  # a set of per-person files processed as one (``path`` names it)


@dataclass
class Outcome:
    """A processed recording and where it was done (errors are raised, as ``Pipeline.process`` does)."""

    interview: Interview
    node: Optional[str] = None  # None: this process
    seconds: float = 0.0  # wall time seen by the caller, including any transfer
    worker_seconds: float = 0.0  # time the worker spent on the file itself
    sent_bytes: int = 0  # bytes of the recording sent to the worker (0: local or shared file system)
    lost: int = 0  # workers lost while processing this file (it was retried on another)


class Executor(Protocol):
    """Runs the pipeline on recordings; never writes anything next to them."""

    size: int  # how many recordings it processes at the same time

    def process(self, job: Job, hook: ProgressHook = null_hook, stop: StopToken = NEVER) -> Outcome:
        """Process one recording; raise its ``PipelineError`` exactly as the local pipeline does,
        and :class:`~pipeline.progress.Cancelled` once ``stop`` is set."""

    def each(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn`` over ``items``, ``size`` at a time, results in the order they finish."""

    def close(self) -> None: ...


class ExecutorBase:
    """Shared parts: the threaded ``each`` and an abort flag that running calls check."""

    size = 1

    def __init__(self) -> None:
        self.aborting = threading.Event()

    def each(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        if self.size <= 1:
            yield from map(fn, items)
            return
        pool = ThreadPoolExecutor(self.size, thread_name_prefix="ivp-exec")
        pending = {pool.submit(fn, item) for item in items}
        ok = False
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
            ok = True
        finally:
            if not ok:  # an error or Ctrl-C: files not started are dropped, running ones stop
                self.aborting.set()
                for future in pending:
                    future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def bind(self, config: Config, hook: ProgressHook = null_hook, stop: StopToken = NEVER) -> "Bound":
        """A ``runner.Pipeline`` look-alike for one Config (what ``ivp watch`` workers call)."""
        return Bound(self, config, hook, stop)

    def close(self) -> None:
        self.aborting.set()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Bound:
    """``process(path, sha256) -> Interview`` through an executor; ``last`` is the last Outcome."""

    def __init__(self, executor: Executor, config: Config, hook: ProgressHook = null_hook,
                 stop: StopToken = NEVER):
        self.executor, self.config, self.hook, self.stop = executor, config, hook, stop
        self.last: Optional[Outcome] = None

    def process(self, path: Path | str, sha256: Optional[str] = None, cache: Any = None,
                track_files: tuple = ()) -> Interview:
        self.last = self.executor.process(Job(Path(path), sha256, self.config, cache, tuple(track_files)),
                                          self.hook, self.stop)
        return self.last.interview


# -- errors across a process boundary ----------------------------------------------------------------

def error_to_dict(exc: BaseException, path: Optional[str] = None, replace: Optional[str] = None) -> dict[str, Any]:
    """A picklable description of a failure; ``replace`` (a worker's temp path) becomes ``path``."""
    def fix(text: Optional[str]) -> Optional[str]:
        if text is None or not replace or path is None:
            return text
        return text.replace(replace, path)

    if isinstance(exc, PipelineError):
        return {"kind": "pipeline", "cls": type(exc).__name__, "stage": exc.stage,
                "path": fix(exc.path) if exc.path else path, "reason": fix(exc.reason)}
    return {"kind": "internal", "cls": type(exc).__name__, "message": fix(str(exc)),
            "traceback": fix("".join(traceback.format_exception(exc)))}


class RemoteError(Exception):
    """An unexpected exception raised in a worker; its class name is the original one's."""

    remote_traceback = ""


def error_from_dict(data: dict[str, Any]) -> BaseException:
    """The exception described by :func:`error_to_dict` (same class for pipeline errors)."""
    if data.get("kind") == "pipeline":
        cls = getattr(errors, data["cls"], None)
        if not (isinstance(cls, type) and issubclass(cls, PipelineError)):
            cls = PipelineError
        return cls(data.get("path"), data.get("reason", ""), data.get("stage"))
    cls = type(str(data.get("cls") or "Exception"), (RemoteError,), {})
    exc = cls(data.get("message", ""))
    exc.remote_traceback = data.get("traceback", "")
    return exc


class ClusterError(PipelineError):
    """The cluster cannot be used (unreachable, no room for a worker, every worker lost)."""

    stage = "ray"


class WorkerLost(PipelineError):
    """The worker processing a file died every time it was tried (node lost, out of memory)."""

    stage = "ray"


class Aborted(Exception):
    """The batch is stopping (another file's fatal error, Ctrl-C): this file was not finished."""
