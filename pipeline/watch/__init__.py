"""A watched folder: every recording dropped into it is processed exactly once.

``ivp watch DIR`` (see :mod:`pipeline.watch.cli`) runs a :class:`~pipeline.watch.watcher.Watcher`;
its state lives in an SQLite ledger, ``DIR/.ivp/state.db`` (:mod:`pipeline.watch.ledger`), and
files are only picked up once they stopped changing (:mod:`pipeline.watch.settle`).

This package is imported when the CLI starts, so it imports nothing heavy at module level.
"""
from __future__ import annotations

STATE_DIR = ".ivp"
DB_NAME = "state.db"
LOG_NAME = "watch.log"
LOCK_NAME = "lock"
CACHE_NAME = "cache"


def __getattr__(name: str):  # lazy: ``from pipeline.watch import Watcher``
    if name in ("Watcher", "WatcherBusy"):
        from . import watcher
        return getattr(watcher, name)
    if name == "Ledger":
        from .ledger import Ledger
        return Ledger
    raise AttributeError(name)


__all__ = ["Watcher", "WatcherBusy", "Ledger", "STATE_DIR"]
