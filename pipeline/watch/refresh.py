"""The folder-wide passes after new sidecars: roles decided again across a folder by the
recurring voice, and the HTML report (``ivp-report/``) rebuilt at most every few seconds.

The worker marks what changed (:meth:`Refresh.changed`); the watcher's loop runs the passes.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Optional

from .. import metrics, produce, sidecar
from ..recording import display, guard
from ..report import build_report
from ..stages import voices
from .common import SIDECARS, Log
from .folder import WatchedFolder
from .ledger import Ledger


class Refresh:
    """Pending folder-wide work; ``report=False`` never writes the report."""

    def __init__(self, place: WatchedFolder, ledger: Ledger, log: Log, report: bool = True,
                 report_every_s: float = 10.0):
        self.place, self.ledger, self.log = place, ledger, log
        self.report_on, self.report_every_s = report, report_every_s
        self._report_dirty = threading.Event()
        self._roles_dirty: set[Path] = set()  # output folders whose roles are decided again by voice
        self._lock = threading.Lock()
        self._built = 0.0

    def changed(self, voices_in: Optional[Path] = None) -> None:
        """A sidecar changed; ``voices_in``: its folder got a new voiceprint."""
        self._report_dirty.set()
        if voices_in is not None:
            with self._lock:
                self._roles_dirty.add(voices_in)

    def roles(self) -> None:
        """Decide roles across each folder that got new voiceprints (the recurring voice) and
        rewrite the sidecars whose roles change; each change is logged with what decided it."""
        while True:
            with self._lock:
                if not self._roles_dirty:
                    return
                folder = self._roles_dirty.pop()
            try:
                with SIDECARS:
                    changes = produce.decide_folder_roles(sorted(folder.glob(f"*{sidecar.SUFFIX}")))
            except Exception as exc:  # the per-file roles stand
                self.log.warn("roles", ".", f"roles across {self.place.display(folder)} not decided: {exc}")
                continue
            for change in changes:
                iv = change["interview"]
                ratio = iv.talk_ratio
                self.ledger.set_result(iv.source.sha256, ratio.interviewee_share if ratio else None,
                                       ratio.verdict if ratio else None, ledger_warnings(iv))
                sentence = metrics.roles_change_sentence(change)
                if sentence:
                    self.log.info("roles", self.place.display(Path(change["sidecar"])), sentence)
                self._report_dirty.set()

    def report(self, force: bool = False) -> None:
        """Rebuild the HTML report after new sidecars, at most every ``report_every_s``."""
        if not self.report_on or not self._report_dirty.is_set():
            return
        if not force and time.monotonic() - self._built < self.report_every_s:
            return
        self._report_dirty.clear()
        self._built = time.monotonic()
        root = self.place.out_dir or self.place.root
        target = root / "ivp-report"
        if guard.leaves(target, root):
            self.log.warn("report", ".", f"not writing the report: {display(target)} is a symbolic "
                          "link (remove it to get the report back)")
            return
        try:
            index = build_report(root, root / "ivp-report")
            self.log.debug("report", ".", f"updated {self.place.display(index)}")
        except Exception as exc:  # a report problem must never stop the watcher
            self.log.warn("report", ".", f"could not update the report: {exc}")


def ledger_warnings(interview) -> list[str]:
    """What ``ivp status`` shows for a done file: a roles fix by hand first, then the warnings."""
    return [n for n in (voices.fixed_note(interview), *interview.warnings) if n]
