"""How a stage reports progress and learns it should stop (as pyannote.audio's hooks do).

A hook is called as ``hook(stage, completed=..., total=..., file=..., seconds=...)``.
``completed`` and ``total`` are in seconds of audio (or steps) and may be None when unknown.
:func:`timed` is the one place a step is timed: it reports ``completed=0, total=None`` when the
step starts and ``completed == total`` with ``seconds`` (its wall time) when it ends; displays
and logs print that figure and never time anything themselves. ``Hooks(a, b)`` calls several
hooks in turn. A hook only observes: it never raises to stop.

Stopping is a :class:`StopToken` handed to the stages, which call ``stop.check()`` between
chunks (transcription) or batches of windows (diarization); it raises :class:`Cancelled`.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator, Optional, Protocol


class ProgressHook(Protocol):
    def __call__(self, stage: str, *, completed: Optional[float] = None,
                 total: Optional[float] = None, file: Optional[str] = None,
                 seconds: Optional[float] = None) -> None: ...


def null_hook(stage: str, *, completed: Optional[float] = None,
              total: Optional[float] = None, file: Optional[str] = None,
              seconds: Optional[float] = None) -> None:
    """A hook that ignores everything."""


class Timing:
    """What :func:`timed` measured: ``seconds`` once the step has ended."""
    seconds: Optional[float] = None


@contextmanager
def timed(hook: "ProgressHook", stage: str, file: Optional[str] = None) -> Iterator[Timing]:
    """Time one step and tell ``hook`` when it starts and, with its seconds, when it ends
    (not when it raises: a step that failed or stopped has no duration to show)."""
    timing = Timing()
    started = time.perf_counter()
    hook(stage, completed=0.0, total=None, file=file)
    yield timing
    timing.seconds = round(time.perf_counter() - started, 3)
    hook(stage, completed=1.0, total=1.0, file=file, seconds=timing.seconds)


class Hooks:
    """Several hooks as one: ``Hooks(bar.hook, log_hook)`` calls each in order."""

    def __init__(self, *hooks: Optional[ProgressHook]):
        self.hooks = [h for h in hooks if h is not None]

    def __call__(self, stage: str, *, completed: Optional[float] = None,
                 total: Optional[float] = None, file: Optional[str] = None,
                 seconds: Optional[float] = None) -> None:
        for hook in self.hooks:
            hook(stage, completed=completed, total=total, file=file, seconds=seconds)


class Cancelled(BaseException):
    """A stage stopped because its :class:`StopToken` was set (not an error of the file).

    A BaseException, like KeyboardInterrupt, so that no stage's ``except Exception`` turns a
    requested stop into a failure of the recording."""


class StopToken:
    """Asks running stages to stop at their next checkpoint; wraps a ``threading.Event``."""

    def __init__(self, event: Optional[threading.Event] = None):
        self.event = event if event is not None else threading.Event()

    def stop(self) -> None:
        self.event.set()

    @property
    def stopped(self) -> bool:
        return self.event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` when a stop was asked for."""
        if self.event.is_set():
            raise Cancelled()


class _Never(StopToken):
    def stop(self) -> None:
        raise RuntimeError("NEVER cannot be stopped: pass your own StopToken")


NEVER: StopToken = _Never()  # the default token of every stage: nobody can set it
