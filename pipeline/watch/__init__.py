"""A watched folder: every recording dropped into it is processed exactly once.

``ivp watch DIR`` (see :mod:`pipeline.watch.cli`) runs a :class:`~pipeline.watch.watcher.Watcher`;
its state lives in an SQLite ledger, ``DIR/.ivp/state.db`` (:mod:`pipeline.watch.ledger`), and
files are only picked up once they stopped changing (:mod:`pipeline.watch.settle`).

The constants below are the whole package module: the rooms import them, so it imports none of them.
The state folder ``.ivp`` and its ``cache`` are :mod:`pipeline.recording`'s (``discover.STATE_DIR``,
``cache.CACHE_NAME``): the stage cache and the study live there too.
"""
from __future__ import annotations

DB_NAME = "state.db"
LOG_NAME = "watch.log"
LOCK_NAME = "lock"
