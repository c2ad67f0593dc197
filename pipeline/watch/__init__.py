"""A watched folder: every recording dropped into it is processed exactly once.

``ivp watch DIR`` (see :mod:`pipeline.watch.cli`) runs a :class:`~pipeline.watch.watcher.Watcher`;
its state lives in an SQLite ledger, ``DIR/.ivp/state.db`` (:mod:`pipeline.watch.ledger`), and
files are only picked up once they stopped changing (:mod:`pipeline.watch.settle`).

The constants below are the whole package module: the rooms import them, so it imports none of them.
"""
from __future__ import annotations

STATE_DIR = ".ivp"
DB_NAME = "state.db"
LOG_NAME = "watch.log"
LOCK_NAME = "lock"
CACHE_NAME = "cache"
