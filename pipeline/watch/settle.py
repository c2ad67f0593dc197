"""Wait until a file has finished copying before it is touched.

A file is *settled* when its size and modification time have not changed for ``settle_s``
seconds (any change restarts the wait) and ffprobe can read it. A file ffprobe still cannot
read after a further ``probe_grace_s`` of no change is released anyway, so that the pipeline
reports it as broken instead of it waiting forever.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ..batch import PARTIAL_SUFFIXES
from ..stages.decode import is_media_file

# Names that are never recordings: partial downloads, editor/office temp files, dot-files.
IGNORED_SUFFIXES = tuple(sorted(set(PARTIAL_SUFFIXES) | {".part", ".crdownload", ".tmp",
                                                          ".download", ".partial", ".filepart",
                                                          ".opdownload", ".!qb", ".swp"}))
IGNORED_PREFIXES = (".", "~$")
# The temp files ``sidecar.atomic_write_text`` makes (``.<name>.<random>.tmp``); a crash can
# leave one behind, and the watcher removes them when it starts. Only these, never user files.
OUR_TEMP = re.compile(r"^\..+\.json\.[A-Za-z0-9_]+\.tmp$")


def is_ignored_name(name: str) -> bool:
    """Partial, temporary and hidden names that must never be picked up."""
    lower = name.lower()
    return name.startswith(IGNORED_PREFIXES) or lower.endswith(IGNORED_SUFFIXES)


def is_recording_name(name: str) -> bool:
    return not is_ignored_name(name) and is_media_file(Path(name))


# ``ivp export --format clips`` writes ``<stem>_clips/NN_00h01m08s_label.m4a``: media files, but ours.
CLIP_NAME = re.compile(r"^\d{2,}_\d{2}h\d{2}m\d{2}s_[a-z0-9-]+\.(mp4|m4a)$")


def is_recording_path(path: Path) -> bool:
    """A recording to process: a media name that is not partial, hidden or one of our outputs."""
    path = Path(path)
    if not is_recording_name(path.name):
        return False
    return not (path.parent.name.endswith("_clips") and CLIP_NAME.match(path.name))


def ffprobe_readable(path: Path, timeout: float = 30.0) -> bool:
    """True when ffprobe can open the file and finds at least one stream."""
    if shutil.which("ffprobe") is None:
        return True  # the pipeline reports the missing tool with a clear error
    try:
        proc = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
             "--", str(path)],
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


class SettleTracker:
    """Tracks candidate files until they stop changing. Not thread-safe (one owner thread)."""

    def __init__(self, settle_s: float = 5.0, probe: Optional[Callable[[Path], bool]] = ffprobe_readable,
                 probe_grace_s: Optional[float] = None, clock: Callable[[], float] = time.monotonic):
        self.settle_s = max(0.0, float(settle_s))
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
        """Stat every tracked file once; settled ones leave the tracker in ``ready``."""
        report = SettleReport()
        now = self.clock()
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
            if self._readable(path, entry, now):
                del self._entries[path]
                report.ready.append(path)
            elif quiet >= self.settle_s + self.probe_grace_s:
                del self._entries[path]
                report.ready.append(path)
                report.unreadable.append(path)
        return report

    def _readable(self, path: Path, entry: _Entry, now: float) -> bool:
        if self.probe is None:
            return True
        if entry.probed and entry.probed[0] == entry.signature and entry.probed[2]:
            return True
        # probe at most about once a second per unchanged file
        if entry.probed and entry.probed[0] == entry.signature and now - entry.probed[1] < 1.0:
            return False
        ok = bool(self.probe(path))
        entry.probed = (entry.signature, now, ok)
        return ok


def _signature(path: Path) -> Optional[tuple[int, int]]:
    try:
        st = os.stat(path)
    except OSError:  # gone (or its folder is): nothing to wait for
        return None
    return (st.st_size, st.st_mtime_ns)
