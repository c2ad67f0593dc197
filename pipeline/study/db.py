"""Opening and writing the study's SQLite file (``study.db``): ivp's own file only, one writer at a time.

* Opened only when :func:`pipeline.recording.guard.check_database` finds it missing, empty or
  ivp's (its ``application_id``); never another program's SQLite file planted in its place.
* WAL mode, and every write a ``BEGIN IMMEDIATE`` transaction (:func:`writing`): two ``ivp study``
  at once, or one beside the watcher's refresh, take turns, each waiting up to ``BUSY_S``.
* A full or read-only disk is an :class:`~pipeline.errors.OutputError` naming the file (one line).
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import OutputError
from ..recording import guard

BUSY_S = 60.0  # another ivp writing: wait this long


def connect(path: Path, app_id: int, tables: Iterable[str]) -> sqlite3.Connection:
    """The database at ``path`` in WAL mode, without implicit transactions (see :func:`writing`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    guard.check_database(path, app_id, tables)
    try:
        db = sqlite3.connect(str(path), timeout=BUSY_S, isolation_level=None)
        _wal(db)
        db.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.OperationalError as exc:
        raise named(exc, path) from exc
    return db


def _wal(db: sqlite3.Connection) -> None:
    """WAL mode (kept in the file). Switching a new file to it needs it alone, and SQLite answers
    "locked" at once rather than waiting while another ivp switches it: so wait here."""
    deadline = time.monotonic() + BUSY_S
    while db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def writing(db: sqlite3.Connection, path: Path) -> Iterator[None]:
    """One write transaction, taken at once (``BEGIN IMMEDIATE``): committed, or rolled back on error."""
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        raise named(exc, path) from exc


def named(exc: sqlite3.OperationalError, path: Path) -> Exception:
    """A full or read-only disk as one line naming the database; anything else as it was."""
    trouble = guard.trouble(exc)
    return OutputError(str(path), trouble.reason) if trouble else exc
