"""What the watcher's rooms share: limits, the worker's state, small helpers."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..recording import display
from .status import PSEUDO_PREFIX, error_record  # noqa: F401  (shared by the rooms)

LOGGER_NAME = "ivp.watch"
MAX_RETRY_DELAY_S = 600.0
MAX_INTERRUPTS = 20  # restarts while one file was in flight before it is given up (a file that
# kills the process every time); an interrupted attempt never counts as a failed one
PAUSE_S = (2.0, 60.0)  # output or disk trouble: wait this long, doubling up to the second figure
OUTPUT_ERRNOS = {28, 30, 122, 13, 1}  # ENOSPC, EROFS, EDQUOT, EACCES, EPERM while writing outputs


@dataclass
class _WorkerState:
    index: int
    pipelines: dict = field(default_factory=dict)
    rel: Optional[str] = None
    stage_started: dict = field(default_factory=dict)
    stages_done: set = field(default_factory=set)


# -- helpers --------------------------------------------------------------------------------------

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


