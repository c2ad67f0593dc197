"""What the watcher's rooms share: limits, the pause (output trouble), small helpers."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Optional, Protocol

from ..recording import display

LOGGER_NAME = "ivp.watch"
MAX_RETRY_DELAY_S = 600.0
MAX_INTERRUPTS = 20  # restarts while one file was in flight before it is given up (a file that
# kills the process every time); an interrupted attempt never counts as a failed one
PAUSE_S = (2.0, 60.0)  # output or disk trouble: wait this long, doubling up to the second figure


# Sidecar writes and the folder-wide roles pass never interleave (the pass rewrites sidecars).
SIDECARS = threading.Lock()


class Log(Protocol):
    """What a room needs of :class:`~pipeline.watch.log.FolderLog`."""

    def debug(self, event: str, rel: str, detail: str = "") -> None: ...
    def info(self, event: str, rel: str, detail: str = "") -> None: ...
    def warn(self, event: str, rel: str, detail: str = "") -> None: ...
    def error(self, event: str, rel: str, detail: str = "") -> None: ...


class Pause:
    """Output or disk trouble: stop claiming work for a while, the wait doubling each time
    (``PAUSE_S``) until writing works again. Thread-safe (workers and the loop share one)."""

    def __init__(self, log: Log, limits: tuple[float, float] = PAUSE_S,
                 clock: Callable[[], float] = time.monotonic):
        self.log, self.limits, self.clock = log, limits, clock
        self._until = 0.0
        self._wait = limits[0]
        self._lock = threading.Lock()

    def pause(self, why: str) -> float:
        """Start (or keep) pausing; returns the seconds left to wait."""
        with self._lock:
            now = self.clock()
            if now < self._until:
                return self._until - now
            wait = self._wait
            self._wait = min(self._wait * 2, self.limits[1])
            self._until = now + wait
        self.log.warn("paused", ".", f"{why}; nothing is lost, retrying in {wait:g}s")
        return wait

    def active(self) -> bool:
        with self._lock:
            return self.clock() < self._until

    def resumed(self) -> bool:
        """After a pause that is over: log it once and start the next pause short again."""
        with self._lock:
            if self._wait == self.limits[0] or self.clock() < self._until:
                return False
            self._wait = self.limits[0]
        self.log.info("resumed", ".", "writing works again")
        return True


# -- helpers --------------------------------------------------------------------------------------

def _stat_sig(path: Path) -> Optional[tuple[int, int]]:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


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


