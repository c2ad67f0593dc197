"""Wait until a file has finished copying before it is touched.

A file is *settled* when its size and modification time have not changed for ``settle_s``
seconds (any change restarts the wait) and ffprobe can read it. A file ffprobe still cannot
read after a further ``probe_grace_s`` of no change is released anyway, so that the pipeline
reports it as broken instead of it waiting forever.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ..recording.discover import not_regular
from ..stages.decode import local_input


def ffprobe_readable(path: Path, timeout: float = 30.0) -> bool:
    """True when ffprobe can open the file and finds at least one stream."""
    if shutil.which("ffprobe") is None or not_regular(path) is not None:
        return True  # the pipeline reports the missing tool or the odd file with a clear error
    try:
        proc = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
             *local_input(path)],
            capture_output=True, text=True, errors="replace", timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and bool(proc.stdout.strip())


@dataclass
class _Entry:
    signature: tuple[int, int]
    changed_at: float
    found_at: float
    growing: bool = False  # seen changing at least once (announced as "still copying")
    probed: Optional[tuple[tuple[int, int], float, bool]] = None  # (signature, when, readable)


@dataclass
class SettleReport:
    ready: list[Path] = field(default_factory=list)  # settled (or released after the grace time)
    gone: list[Path] = field(default_factory=list)  # disappeared while waiting
    copying: list[Path] = field(default_factory=list)  # seen changing for the first time
    unreadable: list[Path] = field(default_factory=list)  # released although ffprobe can't read them


PROBES_PER_POLL = 16  # ffprobe runs per poll (~50 ms each): the first files start within a tick


class SettleTracker:
    """Tracks candidate files until they stop changing. Not thread-safe (one owner thread)."""

    def __init__(self, settle_s: float = 5.0, probe: Optional[Callable[[Path], bool]] = ffprobe_readable,
                 probe_grace_s: Optional[float] = None, clock: Callable[[], float] = time.monotonic,
                 probes_per_poll: int = PROBES_PER_POLL):
        self.settle_s = max(0.0, float(settle_s))
        self.probes_per_poll = max(1, int(probes_per_poll))
        self._probes_left = self.probes_per_poll
        self.probe = probe
        self.probe_grace_s = (max(2.0 * self.settle_s, 2.0) if probe_grace_s is None
                              else max(0.0, probe_grace_s))
        self.clock = clock
        self._entries: dict[Path, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def add(self, path: Path) -> bool:
        """Start (or keep) waiting on ``path``; False when it was already tracked or is gone."""
        path = Path(path)
        if path in self._entries:
            return False
        sig = _signature(path)
        if sig is None:
            return False
        now = self.clock()
        self._entries[path] = _Entry(sig, now, now)
        return True

    def discard(self, path: Path) -> None:
        self._entries.pop(Path(path), None)

    def poll(self) -> SettleReport:
        """Stat every tracked file once; settled ones leave the tracker in ``ready``.

        At most ``probes_per_poll`` files are probed per poll (oldest first), so that with
        a thousand files dropped at once the first ones are handed on at once instead of
        after every file has been probed."""
        report = SettleReport()
        now = self.clock()
        self._probes_left = self.probes_per_poll
        for path, entry in list(self._entries.items()):
            sig = _signature(path)
            if sig is None:
                del self._entries[path]
                report.gone.append(path)
                continue
            if sig != entry.signature:
                entry.signature, entry.changed_at = sig, now
                if not entry.growing:
                    entry.growing = True
                    report.copying.append(path)
                continue
            quiet = now - entry.changed_at
            if quiet < self.settle_s:
                continue
            readable = self._readable(path, entry, now)
            if readable is None:  # this poll's probes are spent: next poll
                continue
            if readable:
                del self._entries[path]
                report.ready.append(path)
            elif quiet >= self.settle_s + self.probe_grace_s:
                del self._entries[path]
                report.ready.append(path)
                report.unreadable.append(path)
        return report

    def _readable(self, path: Path, entry: _Entry, now: float) -> Optional[bool]:
        """True/False once probed; None when a probe is due but this poll has none left."""
        if self.probe is None:
            return True
        if entry.probed and entry.probed[0] == entry.signature and entry.probed[2]:
            return True
        # probe at most about once a second per unchanged file
        if entry.probed and entry.probed[0] == entry.signature and now - entry.probed[1] < 1.0:
            return False
        if self._probes_left <= 0:
            return None
        self._probes_left -= 1
        ok = bool(self.probe(path))
        entry.probed = (entry.signature, now, ok)
        return ok


def _signature(path: Path) -> Optional[tuple[int, int]]:
    try:
        st = os.stat(path)
    except OSError:  # gone (or its folder is): nothing to wait for
        return None
    return (st.st_size, st.st_mtime_ns)
