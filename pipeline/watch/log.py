"""The log room of the watcher: one line per event, to ``DIR/.ivp/watch.log`` and to stderr.

Every room logs through a :class:`FolderLog` (``debug``/``info``/``warn``/``error`` with an
event word, the file's name relative to the folder and a detail). Until :meth:`FolderLog.open`
is called the lines only go to the ``ivp.watch`` logger (what a unit test reads with ``caplog``).
"""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from . import LOG_NAME
from .common import LOGGER_NAME, _clean


class FolderLog:
    """The folder's log in ``state_dir``; stderr too with ``stderr``, at the level ``quiet`` /
    ``verbose`` ask for (the file always gets everything)."""

    def __init__(self, state_dir: Path, stderr: bool = True, quiet: bool = False, verbose: bool = False):
        self.state_dir = Path(state_dir)
        self.stderr, self.quiet, self.verbose = stderr, quiet, verbose
        self.logger = logging.getLogger(LOGGER_NAME)
        self._handlers: list[logging.Handler] = []

    def open(self) -> None:
        self.logger.setLevel(logging.DEBUG)
        fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(message)s")
        file_handler = _LogFile(
            self.state_dir / LOG_NAME, maxBytes=5 << 20, backupCount=3, encoding="utf-8")
        file_handler.setFormatter(fmt)
        file_handler.setLevel(logging.DEBUG)
        self._handlers.append(file_handler)
        if self.stderr:
            err = logging.StreamHandler()
            err.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
            err.setLevel(logging.DEBUG if self.verbose else logging.WARNING if self.quiet else logging.INFO)
            self._handlers.append(err)
            self.logger.propagate = False
        for h in self._handlers:
            self.logger.addHandler(h)

    def close(self) -> None:
        for h in self._handlers:
            self.logger.removeHandler(h)
            h.close()
        self._handlers.clear()
        self.logger.propagate = True

    def emit(self, level: int, event: str, rel: str, detail: str) -> None:
        message = f"{event:<10} {_clean(rel)}" + (f": {_clean(detail)}" if detail else "")
        self.logger.log(level, message)

    def debug(self, event: str, rel: str, detail: str = "") -> None:
        self.emit(logging.DEBUG, event, rel, detail)

    def info(self, event: str, rel: str, detail: str = "") -> None:
        self.emit(logging.INFO, event, rel, detail)

    def warn(self, event: str, rel: str, detail: str = "") -> None:
        self.emit(logging.WARNING, event, rel, detail)

    def error(self, event: str, rel: str, detail: str = "") -> None:
        self.emit(logging.ERROR, event, rel, detail)


class _LogFile(logging.handlers.RotatingFileHandler):
    """The folder's log; a line that cannot be written (disk full) is dropped quietly, since
    stderr carries it too, instead of printing a logging traceback."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass
