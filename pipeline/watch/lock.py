"""One watcher per folder: an exclusive ``flock`` on ``DIR/.ivp/lock`` holding the owner's pid.

The kernel releases it when the process dies, even on SIGKILL. ``ivp process`` reads it too, so
it leaves a folder's files to the watcher that owns it.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Optional

from ..recording.discover import STATE_DIR
from . import LOCK_NAME

try:  # the folder lock: flock on POSIX, msvcrt.locking on Windows
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


class WatcherBusy(RuntimeError):
    """Another watcher already holds the folder's lock."""


class FolderLock:
    """An exclusive advisory lock on ``DIR/.ivp/lock`` holding the owner's pid."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fh = None

    def acquire(self, wait_s: float = 2.0) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")
        deadline = time.monotonic() + wait_s
        while True:
            if _try_lock(fh, exclusive=True):
                break
            if time.monotonic() >= deadline:
                fh.seek(0)
                pid = fh.read().strip()
                fh.close()
                raise WatcherBusy(f"another watcher (pid {pid or '?'}) is already watching "
                                  f"{self.path.parent.parent}")
            time.sleep(0.1)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            _unlock(self._fh)
            self._fh.close()
            self._fh = None

    @staticmethod
    def holder(path: Path) -> Optional[int]:
        """The pid of the process holding the lock (-1 if unknown), or None when nobody does."""
        path = Path(path)
        if not path.exists():
            return None
        try:
            fh = open(path, "r", encoding="utf-8")
        except OSError:
            return None
        with fh:
            if _try_lock(fh, exclusive=False):
                _unlock(fh)
                return None
            try:
                return int(fh.read().strip() or -1)
            except ValueError:
                return -1


def _try_lock(fh, exclusive: bool) -> bool:
    if fcntl is None:  # Windows
        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fh.fileno(), (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _unlock(fh) -> None:
    if fcntl is not None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    else:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)




def watcher_of(path: Path, state_dir: str = STATE_DIR, lock_name: str = LOCK_NAME) -> Optional[tuple[Path, int]]:
    """(watched folder, pid) of a live watcher whose folder holds ``path``, else None."""
    here = Path(os.path.abspath(path))
    for folder in [here, *here.parents]:
        lock = folder / state_dir / lock_name
        if lock.is_file():
            pid = FolderLock.holder(lock)
            if pid is not None:
                return folder, pid
    return None
