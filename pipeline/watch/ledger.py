"""The watcher's state: an SQLite database inside the watched folder (``.ivp/state.db``).

Two tables:

``files``
    one row per *content* (keyed by SHA-256): its state (``queued``, ``running``, ``done``,
    ``failed``), attempts, the last error, where its outputs went and a few results for
    ``ivp status``. A file that cannot be read at all (so cannot be hashed) is keyed
    ``path:<relative path>`` instead.
``paths``
    one row per file name (relative to the folder, POSIX separators) with the content key and
    the size and mtime it had when hashed, so an unchanged file is never hashed again, a changed
    file under the same name gets a new content row, and a second name for the same content is
    a duplicate.

Every change is a short transaction (``BEGIN IMMEDIATE``), so a watcher killed at any moment
leaves a consistent ledger: at worst a row stays ``running`` and is re-queued by :meth:`recover`.
Such an interrupted attempt is counted in ``interrupts``, never in ``attempts`` (only a file's
own errors are failed attempts).

A damaged database (garbage, a corrupted page, a foreign file) is detected when it is opened:
:func:`open_ledger` moves it aside (``state.db.damaged-<time>``) and starts a new one, which the
watcher fills again from the folder (existing sidecars are recognised, nothing is redone).
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

SCHEMA_VERSION = 2
STATES = ("queued", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (
    sha256            TEXT PRIMARY KEY,
    path              TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    interrupts        INTEGER NOT NULL DEFAULT 0,
    stage             TEXT,
    last_error        TEXT,
    output            TEXT,
    error_output      TEXT,
    duration_s        REAL,
    interviewee_share REAL,
    verdict           TEXT,
    warnings          TEXT,
    settings          TEXT,
    next_try          REAL NOT NULL DEFAULT 0,
    created           REAL NOT NULL,
    started           REAL,
    finished          REAL,
    updated           REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_state ON files (state, next_try);
CREATE TABLE IF NOT EXISTS paths (
    path     TEXT PRIMARY KEY,
    sha256   TEXT NOT NULL,
    size     INTEGER,
    mtime_ns INTEGER,
    output   TEXT,
    seen     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS paths_sha ON paths (sha256);
"""


def _stored(args: tuple) -> tuple:
    """Arguments as SQLite takes them: a text holding a file name that is not UTF-8 (surrogate
    escapes, ``os.fsdecode``) goes in as its bytes (a BLOB: the same name always compares equal)."""
    return tuple(_as_bytes(a) if isinstance(a, str) and _SURROGATE.search(a) else a for a in args)


def _as_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file name decodes to: kept readable
        return text.encode("utf-8", "backslashreplace")


def _read_back(row: sqlite3.Row) -> dict[str, Any]:
    """A row as a dict, such bytes decoded back to the same text (no column is a BLOB otherwise)."""
    return {k: row[k].decode("utf-8", "surrogateescape") if isinstance(row[k], bytes) else row[k]
            for k in row.keys()}


_SURROGATE = re.compile("[\ud800-\udfff]")


class Ledger:
    """Thread-safe access to one state database (one connection guarded by a lock)."""

    def __init__(self, db_path: Path | str, wal: bool = True, readonly: bool = False):
        self.db_path = Path(db_path)
        self._lock = threading.RLock()
        self._depth = 0
        if readonly:
            uri = f"{self.db_path.resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                                       timeout=10)
        else:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.db_path), isolation_level=None, check_same_thread=False,
                                       timeout=30)
            # WAL lets ``ivp status`` read while the watcher writes; it needs shared memory, so
            # on network shares (``--poll``) the classic rollback journal is used instead.
            self._db.execute(f"PRAGMA journal_mode={'WAL' if wal else 'DELETE'}")
            self._db.execute("PRAGMA synchronous=FULL")
        self._db.row_factory = sqlite3.Row
        if not readonly:
            with self.tx():
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)
                columns = {r[1] for r in self._db.execute("PRAGMA table_info(files)")}
                if "interrupts" not in columns:  # a version 1 ledger
                    self._db.execute("ALTER TABLE files ADD COLUMN interrupts INTEGER NOT NULL DEFAULT 0")
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                                 (str(SCHEMA_VERSION),))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def tx(self) -> Iterator["Ledger"]:
        """One ``BEGIN IMMEDIATE`` transaction (re-entrant within a thread)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self._db.execute("ROLLBACK")
                raise
            self._depth = 0
            self._db.execute("COMMIT")

    def _exec(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, _stored(args))

    def _one(self, sql: str, args: tuple = ()) -> Optional[dict[str, Any]]:
        with self._lock:
            row = self._db.execute(sql, _stored(args)).fetchone()
        return _read_back(row) if row else None

    def _all(self, sql: str, args: tuple = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [_read_back(r) for r in self._db.execute(sql, _stored(args)).fetchall()]

    # -- paths --------------------------------------------------------------------------------

    def path(self, rel: str) -> Optional[dict[str, Any]]:
        return self._one("SELECT * FROM paths WHERE path = ?", (rel,))

    def set_path(self, rel: str, sha: str, size: Optional[int], mtime_ns: Optional[int],
                 output: Optional[str] = None) -> None:
        now = time.time()
        with self.tx():
            old = self.path(rel)
            if old and old["sha256"] == sha and output is None:
                output = old["output"]
            self._exec("INSERT OR REPLACE INTO paths (path, sha256, size, mtime_ns, output, seen) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (rel, sha, size, mtime_ns, output, now))

    def set_path_output(self, rel: str, output: Optional[str]) -> None:
        self._exec("UPDATE paths SET output = ? WHERE path = ?", (output, rel))

    def paths_of(self, sha: str) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM paths WHERE sha256 = ? ORDER BY path", (sha,))

    def all_paths(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM paths ORDER BY path")

    def forget_path(self, rel: str) -> None:
        """The file is gone: drop its name; the content row stays (history, outputs, cache)."""
        with self.tx():
            row = self.path(rel)
            self._exec("DELETE FROM paths WHERE path = ?", (rel,))
            if row:
                self._promote(row["sha256"], rel)

    def _promote(self, sha: str, gone: str) -> None:
        """When a content's primary name disappears, another name with the same content takes over."""
        f = self.get(sha)
        if f and f["path"] == gone:
            others = self.paths_of(sha)
            if others:
                self._exec("UPDATE files SET path = ?, updated = ? WHERE sha256 = ?",
                           (others[0]["path"], time.time(), sha))

    # -- files --------------------------------------------------------------------------------

    def get(self, sha: str) -> Optional[dict[str, Any]]:
        return self._one("SELECT * FROM files WHERE sha256 = ?", (sha,))

    def all_files(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM files ORDER BY path")

    def enqueue(self, sha: str, rel: str, settings: Optional[dict] = None, reset: bool = True) -> None:
        """Insert a new content row, or put an existing one back in the queue."""
        now = time.time()
        settings_json = json.dumps(settings, sort_keys=True) if settings is not None else None
        with self.tx():
            if self.get(sha) is None:
                self._exec("INSERT INTO files (sha256, path, state, settings, created, updated) "
                           "VALUES (?, ?, 'queued', ?, ?, ?)", (sha, rel, settings_json, now, now))
            else:
                extra = ", attempts = 0, stage = NULL, last_error = NULL" if reset else ""
                self._exec(f"UPDATE files SET state = 'queued', path = ?, next_try = 0, created = ?, "
                           f"updated = ?{extra} WHERE sha256 = ?", (rel, now, now, sha))

    def set_primary(self, sha: str, rel: str) -> None:
        self._exec("UPDATE files SET path = ?, updated = ? WHERE sha256 = ?", (rel, time.time(), sha))

    def claim(self, now: Optional[float] = None) -> Optional[dict[str, Any]]:
        """Atomically take the oldest queued row that is due: it becomes ``running``."""
        now = time.time() if now is None else now
        with self.tx():
            row = self._one("SELECT * FROM files WHERE state = 'queued' AND next_try <= ? "
                            "ORDER BY next_try, created LIMIT 1", (now,))
            if row is None:
                return None
            self._exec("UPDATE files SET state = 'running', attempts = attempts + 1, started = ?, "
                       "updated = ? WHERE sha256 = ? AND state = 'queued'", (now, now, row["sha256"]))
            row.update(state="running", attempts=row["attempts"] + 1, started=now)
            return row

    def finish(self, sha: str, output: str, settings: Optional[dict], duration_s: Optional[float],
               share: Optional[float], verdict: Optional[str], warnings: list[str]) -> None:
        now = time.time()
        self._exec("UPDATE files SET state = 'done', interrupts = 0, output = ?, error_output = NULL, stage = NULL, "
                   "last_error = NULL, settings = ?, duration_s = ?, interviewee_share = ?, "
                   "verdict = ?, warnings = ?, finished = ?, updated = ? WHERE sha256 = ?",
                   (output, json.dumps(settings, sort_keys=True) if settings is not None else None,
                    duration_s, share, verdict, json.dumps(warnings), now, now, sha))

    def set_result(self, sha: str, share: Optional[float], verdict: Optional[str], warnings: list[str]) -> None:
        """A done file's numbers after its sidecar was rewritten (roles re-decided across the folder)."""
        self._exec("UPDATE files SET interviewee_share = ?, verdict = ?, warnings = ?, updated = ? "
                   "WHERE sha256 = ? AND state = 'done'", (share, verdict, json.dumps(warnings), time.time(), sha))

    def retry_later(self, sha: str, stage: str, reason: str, when: float) -> None:
        self._exec("UPDATE files SET state = 'queued', stage = ?, last_error = ?, next_try = ?, "
                   "updated = ? WHERE sha256 = ?", (stage, reason, when, time.time(), sha))

    def fail(self, sha: str, stage: str, reason: str, error_output: Optional[str]) -> None:
        now = time.time()
        self._exec("UPDATE files SET state = 'failed', stage = ?, last_error = ?, error_output = ?, "
                   "finished = ?, updated = ? WHERE sha256 = ?",
                   (stage, reason, error_output, now, now, sha))

    def requeue(self, sha: str, uncount: bool = True) -> bool:
        """A running row goes back to the queue (``uncount``: the attempt does not count)."""
        dec = ", attempts = MAX(attempts - 1, 0)" if uncount else ""
        cur = self._exec(f"UPDATE files SET state = 'queued', next_try = 0, updated = ?{dec} "
                         f"WHERE sha256 = ? AND state = 'running'", (time.time(), sha))
        return cur.rowcount > 0

    def drop(self, sha: str) -> None:
        """Forget a content row (its file vanished or changed before it was processed)."""
        with self.tx():
            self._exec("DELETE FROM files WHERE sha256 = ?", (sha,))

    def recover(self, max_interrupts: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """After a crash: ``running`` rows go back to the queue, their attempt uncounted.

        Returns (requeued, failed). A restart (SIGKILL, OOM kill, power loss) is not the file's
        failure, so it is counted apart, in ``interrupts``; only a file that was in flight at
        ``max_interrupts`` restarts in a row (one that kills the process every time) is given up.
        """
        with self.tx():
            rows = self._all("SELECT * FROM files WHERE state = 'running'")
            requeued, failed = [], []
            for row in rows:
                interrupts = row["interrupts"] + 1
                attempts = max(row["attempts"] - 1, 0)
                row.update(interrupts=interrupts, attempts=attempts)
                if interrupts >= max_interrupts:
                    reason = (f"the watcher stopped while processing it {interrupts} times "
                              f"(crash or kill); giving up")
                    self._exec("UPDATE files SET interrupts = ?, attempts = ? WHERE sha256 = ?",
                               (interrupts, attempts, row["sha256"]))
                    self.fail(row["sha256"], row["stage"] or "pipeline", reason, None)
                    row.update(state="failed", last_error=reason)
                    failed.append(row)
                else:
                    self._exec("UPDATE files SET state = 'queued', next_try = 0, interrupts = ?, "
                               "attempts = ?, updated = ? WHERE sha256 = ?",
                               (interrupts, attempts, time.time(), row["sha256"]))
                    requeued.append(row)
            return requeued, failed

    def retry_failed(self) -> list[dict[str, Any]]:
        with self.tx():
            rows = self._all("SELECT * FROM files WHERE state = 'failed'")
            for row in rows:
                self.enqueue(row["sha256"], row["path"], reset=True)
            return rows

    def pending(self) -> int:
        """Rows still to do (queued, including those waiting to be retried, and running)."""
        row = self._one("SELECT COUNT(*) AS n FROM files WHERE state IN ('queued', 'running')")
        return int(row["n"]) if row else 0

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATES}
        for row in self._all("SELECT state, COUNT(*) AS n FROM files GROUP BY state"):
            out[row["state"]] = row["n"]
        return out


class LedgerDamaged(Exception):
    """The state database cannot be read (garbage, a corrupted page, not a database)."""


def check(db_path: Path) -> None:
    """Raise :class:`LedgerDamaged` when ``db_path`` exists but is not a sound ledger."""
    db_path = Path(db_path)
    if not db_path.exists() or db_path.stat().st_size == 0:
        return
    try:
        db = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            result = db.execute("PRAGMA quick_check").fetchone()
            db.execute("SELECT COUNT(*) FROM files").fetchone()
            db.execute("SELECT COUNT(*) FROM paths").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise LedgerDamaged(f"{db_path}: state database damaged ({exc})") from exc
    if not result or result[0] != "ok":
        raise LedgerDamaged(f"{db_path}: state database damaged ({result[0] if result else 'no answer'})")


def open_ledger(db_path: Path, wal: bool = True) -> tuple[Ledger, Optional[Path]]:
    """The ledger at ``db_path``; a damaged one is first moved aside. Returns (ledger, moved to)."""
    db_path = Path(db_path)
    moved = None
    try:
        check(db_path)
    except LedgerDamaged:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        moved = db_path.with_name(f"{db_path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm", "-journal"):
            part = Path(str(db_path) + suffix)
            if part.exists():
                os.replace(part, Path(str(moved) + suffix))
    return Ledger(db_path, wal=wal), moved
