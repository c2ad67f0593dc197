"""How a watcher runs: every knob of ``ivp watch`` in one frozen dataclass.

:mod:`pipeline.watch.cli` builds one :class:`WatchOptions` from the command line; the
:class:`~pipeline.watch.watcher.Watcher` hands each room only the fields it needs. Values out of
range (:data:`RANGES`) are clamped in ``__post_init__``; the CLI refuses them, its ranges and
defaults built from :data:`RANGES` and :func:`default` (``tests/test_cli_options.py`` checks).
"""
from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any, Optional

# the lowest and highest value of each numeric knob (None: no upper bound)
RANGES: dict[str, tuple[float, Optional[float]]] = {
    "workers": (1, 64),
    "max_attempts": (1, None),
    "settle_s": (0.0, None),
    "probe_grace_s": (0.0, None),
    "retry_delay_s": (0.0, None),
    "stop_grace_s": (0.0, None),
    "tick_s": (0.01, None),
    "poll_interval_s": (0.01, None),
    "rescan_s": (1.0, None),
    "report_every_s": (0.0, None),
}


@dataclass(frozen=True)
class WatchOptions:
    """Options of one watcher run (times in seconds)."""

    workers: int = 1
    """Files processed at the same time (each worker loads its own models); at least 1."""
    settle_s: float = 5.0
    """How long a file's size and mtime must stay unchanged before it is taken in."""
    probe_grace_s: Optional[float] = None
    """After settling, how long a file ffprobe cannot read still waits before it is handed to
    the pipeline anyway (for a proper error); ``None``: twice ``settle_s``, at least 2 s."""
    poll: bool = False
    """Poll the folder instead of file-system events (network shares, WSL); also no SQLite WAL."""
    poll_interval_s: float = 1.0
    """With ``poll``: seconds between two looks at the folder."""
    rescan_s: float = 60.0
    """Seconds between full rescans, the safety net for missed events."""
    tick_s: float = 0.5
    """The loop's step: how often settling files are looked at and idle workers look for work."""
    max_attempts: int = 3
    """Tries per file (its own errors only) before it is marked failed; at least 1."""
    retry_delay_s: float = 10.0
    """Wait before the first retry, doubling after each (capped at ten minutes)."""
    retry_failed: bool = False
    """On start, queue the files that failed before again."""
    stop_grace_s: float = 30.0
    """On stop, how long the workers get to reach a checkpoint before their files are requeued."""
    once: bool = False
    """Process what is there (and settles), then return instead of watching."""
    follow_links: bool = False
    """Also take symbolic links that point outside the folder."""
    report: bool = True
    """Keep ``ivp-report/`` in the output folder up to date."""
    report_every_s: float = 10.0
    """Rebuild the report at most this often."""
    log_stderr: bool = True
    """Log to stderr too (the folder's log ``.ivp/watch.log`` is always written)."""
    quiet: bool = False
    """Only warnings and errors on stderr."""
    verbose: bool = False
    """Debug lines on stderr too (wins over ``quiet``)."""

    def __post_init__(self) -> None:
        for name, (low, high) in RANGES.items():
            value = getattr(self, name)
            if value is None:  # probe_grace_s: derived from settle_s
                continue
            kind = int if isinstance(low, int) else float
            value = max(kind(low), kind(value))
            if high is not None:
                value = min(kind(high), value)
            object.__setattr__(self, name, value)  # frozen: set once, here


def default(name: str) -> Any:
    """The default of the option ``name`` (the one place it is written: the field above)."""
    value = next(f.default for f in fields(WatchOptions) if f.name == name)
    if value is MISSING:
        raise KeyError(name)
    return value
