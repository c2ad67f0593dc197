"""The log room of the watcher: one line per event, to ``DIR/.ivp/watch.log`` and to stderr."""
from __future__ import annotations

import logging
import logging.handlers

from . import LOG_NAME
from .common import _clean


class LogRoom:
    """Mixed into :class:`~pipeline.watch.watcher.Watcher` (uses ``log``, ``state_dir``,
    ``log_stderr``, ``quiet``, ``verbose`` and ``_handlers``)."""

    def _setup_logging(self) -> None:
        self.log.setLevel(logging.DEBUG)
        fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(message)s")
        file_handler = _LogFile(
            self.state_dir / LOG_NAME, maxBytes=5 << 20, backupCount=3, encoding="utf-8")
        file_handler.setFormatter(fmt)
        file_handler.setLevel(logging.DEBUG)
        self._handlers.append(file_handler)
        if self.log_stderr:
            err = logging.StreamHandler()
            err.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
            err.setLevel(logging.DEBUG if self.verbose else logging.WARNING if self.quiet else logging.INFO)
            self._handlers.append(err)
            self.log.propagate = False
        for h in self._handlers:
            self.log.addHandler(h)

    def _teardown_logging(self) -> None:
        for h in self._handlers:
            self.log.removeHandler(h)
            h.close()
        self._handlers.clear()
        self.log.propagate = True

    def _emit(self, level: int, event: str, rel: str, detail: str) -> None:
        message = f"{event:<10} {_clean(rel)}" + (f": {_clean(detail)}" if detail else "")
        self.log.log(level, message)

    def _debug(self, event: str, rel: str, detail: str = "") -> None:
        self._emit(logging.DEBUG, event, rel, detail)

    def _info(self, event: str, rel: str, detail: str = "") -> None:
        self._emit(logging.INFO, event, rel, detail)

    def _warn(self, event: str, rel: str, detail: str = "") -> None:
        self._emit(logging.WARNING, event, rel, detail)

    def _error(self, event: str, rel: str, detail: str = "") -> None:
        self._emit(logging.ERROR, event, rel, detail)


class _LogFile(logging.handlers.RotatingFileHandler):
    """The folder's log; a line that cannot be written (disk full) is dropped quietly, since
    stderr carries it too, instead of printing a logging traceback."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass
