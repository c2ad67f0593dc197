"""The quote bank: every transcript sentence of a folder in SQLite FTS5 (``FOLDER/.ivp/study.db``,
or the user's cache for a read-only folder: :mod:`.state`).

:meth:`Index.sync` brings it up to date with the sidecars: a sidecar whose size and mtime are
unchanged is not read again; one whose bytes changed (sha256) is read and its rows replaced; rows
of sidecars that are gone are dropped. The same database caches sentence embeddings by text hash,
so a rebuild embeds only sentences it has never seen.

Why this long: one database and its one schema: the sync, the search over it (the parsed query
to SQL, the sentences around a hit) and the embedding cache share its tables and transactions.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import multiprocessing
import os
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional

import numpy as np

from .. import sidecar as sidecars
from ..edits import file as edits_file
from ..errors import SidecarError
from ..metrics import tag_key
from ..recording import firsts, guard
from . import corpus, db, state
from .query import Query, QueryError, parse

DB_NAME = "study.db"
SCHEMA_VERSION = 5  # 3: docs carry the interviewer's voice; 4: and the recording's sha256; 5: tags, every hash
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    """CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, mtime_ns INTEGER, size INTEGER, sha TEXT,
    doc TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS sents (
    id INTEGER PRIMARY KEY, doc INTEGER NOT NULL, start REAL, end REAL, role TEXT, speaker TEXT,
    text TEXT NOT NULL, words BLOB NOT NULL, hash TEXT, salience REAL, kind TEXT, tags TEXT)""",
    "CREATE INDEX IF NOT EXISTS sents_doc ON sents (doc)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS sents_fts USING fts5(text, tokenize = 'porter unicode61')",
    "CREATE TABLE IF NOT EXISTS emb (hash TEXT PRIMARY KEY, model TEXT, vec BLOB NOT NULL)",
]
TABLES = ("meta", "docs", "sents", "sents_fts", "emb")
APP_ID = 0x69767073  # "ivps": PRAGMA application_id of ivp's study.db (guard.check_database)
OPEN, CLOSE = "\x01", "\x02"
EMBED_CHUNK = 2048


@dataclass
class SyncResult:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass
class Hit:
    """One sentence that matched: ``time`` is when the first matched word was spoken."""

    doc: str
    recording: str
    time: float
    times: list[float]
    start: float
    end: float
    role: Optional[str]
    speaker: Optional[str]
    text: str
    sentence_id: int
    copies: list[str] = field(default_factory=list)  # the same recording elsewhere in the folder
    tags: list[str] = field(default_factory=list)  # of the highlights over it
    score: Optional[float] = None  # similarity, when found by meaning
    word_match: Optional[bool] = None  # by meaning: the query's words are in it too (ranked higher)
    before: str = ""  # the sentence before it in the same interview ("" at the start)
    after: str = ""  # and the one after
    speaker_name: Optional[str] = None  # the name a person gave the speaker (pipeline.edits)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def db_path(folder: Path) -> Path:
    """The quote bank of ``folder``: in its state folder (:func:`pipeline.study.state.state_dir`),
    never through a link leaving the folder."""
    place = state.state_dir(folder)
    return guard.check(place / DB_NAME, place)


class Index:
    """The quote bank. One writer at a time, and only ivp's own file (``APP_ID``): :mod:`.db`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.db = db.connect(self.path, APP_ID, TABLES)
        if self._ready():  # nothing to write: a full or read-only disk can still be searched
            return
        with self.writing():
            for statement in SCHEMA:
                self.db.execute(statement)
            row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row and row[0] != str(SCHEMA_VERSION):  # an older layout: start again (it is only a cache)
                for table in ("docs", "sents", "sents_fts"):
                    self.db.execute(f"DROP TABLE {table}")
                for statement in SCHEMA:
                    self.db.execute(statement)
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            self.db.execute(f"PRAGMA application_id = {APP_ID}")

    def _ready(self) -> bool:
        """The tables are there, of this layout, and the file is marked as ivp's."""
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            app = self.db.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.OperationalError:
            return False
        return bool(row) and row[0] == str(SCHEMA_VERSION) and app == APP_ID

    def writing(self):
        """One write transaction (:func:`pipeline.study.db.writing`)."""
        return db.writing(self.db, self.path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ sync
    def sync(self, paths: Iterable[Path], root: Path) -> SyncResult:
        """Add, refresh and drop rows so that they match the sidecars ``paths`` (under ``root``).
        Many changed sidecars are read in parallel (one process per core)."""
        result = SyncResult()
        known = {p: (i, m, s, h) for i, p, m, s, h in
                 self.db.execute("SELECT id, path, mtime_ns, size, sha FROM docs")}
        seen, todo = set(), []
        for path in paths:
            key = path_key(Path(path).resolve())
            seen.add(key)
            try:
                st = _Stamp(*edits_file.stamp(Path(path)))  # the sidecar and its edits file
            except OSError as exc:
                result.skipped.append((Path(path), exc.strerror or str(exc)))
                continue
            old = known.get(key)
            if old and old[1] == st.st_mtime_ns and old[2] == st.st_size:
                result.unchanged += 1
            else:
                todo.append((Path(path), key, st, old))
        if not todo and seen.issuperset(known):  # nothing to write: no transaction, no lock
            return result
        jobs = [(str(p), str(root), old[3] if old else None) for p, _k, _s, old in todo]
        read = list(_extract_all(jobs))  # outside the write lock: reading is the slow part
        with self.writing():  # what another ivp wrote meanwhile is seen here, and taken into account
            now = {p: (i, sha) for i, p, sha in self.db.execute("SELECT id, path, sha FROM docs")}
            for (path, key, st, old), (sha, doc, sents, error) in zip(todo, read):
                current = now.get(key)
                if error:
                    result.skipped.append((path, error))
                    continue
                if doc is None and current is None:  # touched, but its row is gone meanwhile: read it again
                    sha, doc, sents, error = extract((str(path), str(root), None))
                    if error:
                        result.skipped.append((path, error))
                        continue
                if current is not None and (doc is None or current[1] == sha):  # the same bytes
                    self.db.execute("UPDATE docs SET mtime_ns=?, size=? WHERE id=?",
                                    (st.st_mtime_ns, st.st_size, current[0]))
                    result.unchanged += 1
                    continue
                if current is not None:
                    self._drop(current[0])
                    result.updated += 1
                else:
                    result.added += 1
                self._insert(key, st, sha, doc, sents)
            for key, (doc_id, _sha) in now.items():
                if key not in seen:
                    self._drop(doc_id)
                    result.removed += 1
        return result

    def _insert(self, key: str, st, sha: str, doc: dict, sents: list[corpus.Sentence]) -> None:
        cur = self.db.execute("INSERT INTO docs (path, mtime_ns, size, sha, doc) VALUES (?, ?, ?, ?, ?)",
                              (key, st.st_mtime_ns, st.st_size, sha, json.dumps(doc)))
        doc_id = cur.lastrowid
        rows = [(doc_id, s.start, s.end, s.role, s.speaker, s.text,
                 s.words if isinstance(s.words, bytes) else pack_words(s.words), s.hash, s.salience, s.kind,
                 " ".join(s.tags))
                for s in sents]
        first = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM sents").fetchone()[0] + 1
        self.db.executemany("INSERT INTO sents (id, doc, start, end, role, speaker, text, words, hash, salience, kind, tags)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [(first + i, *r) for i, r in enumerate(rows)])
        self.db.executemany("INSERT INTO sents_fts (rowid, text) VALUES (?, ?)",
                            [(first + i, s.text) for i, s in enumerate(sents)])

    def _drop(self, doc_id: int) -> None:
        self.db.execute("DELETE FROM sents_fts WHERE rowid IN (SELECT id FROM sents WHERE doc=?)", (doc_id,))
        self.db.execute("DELETE FROM sents WHERE doc=?", (doc_id,))
        self.db.execute("DELETE FROM docs WHERE id=?", (doc_id,))

    # ----------------------------------------------------------------------------------- reads
    def docs(self) -> dict[int, dict]:
        """The interviews by doc id: one per recording. Sidecars of identical copies (the same
        ``sha256``) are one interview, the first by name, its ``copies`` naming the others."""
        every = self._every_doc()
        copies = _copies(every)
        out = {i: d for i, d in every.items() if i not in copies}
        for copy, first in sorted(copies.items(), key=lambda kv: every[kv[0]]["name"]):
            out[first].setdefault("copies", []).append(every[copy]["name"])
        return out

    def _every_doc(self) -> dict[int, dict]:
        return {i: json.loads(d) for i, d in self.db.execute("SELECT id, doc FROM docs ORDER BY id")}

    def not_copies(self) -> str:
        """An SQL condition on ``doc`` leaving out the sentences of copies (doc ids are integers)."""
        copies = _copies(self._every_doc())
        return f"doc NOT IN ({', '.join(str(int(i)) for i in copies)})" if copies else "1"

    def candidates(self, min_salience: float = 1e-9) -> list[tuple]:
        """(id, doc, start, end, role, text, hash, salience, kind) of possible theme quotes."""
        return self.db.execute("SELECT id, doc, start, end, role, text, hash, salience, kind FROM sents "
                               f"WHERE salience >= ? AND {self.not_copies()} ORDER BY doc, start",
                               (min_salience,)).fetchall()

    def sentences(self) -> list[tuple]:
        """(id, doc, start, end, role, text, hash, tags) of every sentence, for the page's quote bank."""
        return self.db.execute("SELECT id, doc, start, end, role, text, hash, tags FROM sents "
                               f"WHERE {self.not_copies()} ORDER BY doc, start").fetchall()

    def speech(self, doc_id: int) -> list[tuple[float, float, Optional[str]]]:
        """(start, end, speaker) of every sentence of one interview, in time order (who spoke when,
        from word times: a reel's clips stop short of other speakers' words)."""
        return self.db.execute("SELECT start, end, speaker FROM sents WHERE doc=? ORDER BY start, end",
                               (doc_id,)).fetchall()

    def sentence(self, sid: int) -> tuple:
        return self.db.execute("SELECT id, doc, start, end, role, speaker, text FROM sents WHERE id=?", (sid,)).fetchone()

    def search(self, query: "str | Query", role: Optional[str] = None, limit: Optional[int] = None,
               within: Optional[set[int]] = None) -> list[Hit]:
        """Sentences that match ``query`` (:mod:`pipeline.study.query`'s syntax; a
        :class:`QueryError` when it cannot be read), in recording and time order. ``within``: the
        sentence ids a ``theme:`` filter allows (the caller reads the study's themes)."""
        q = parse(query) if isinstance(query, str) else query
        role = role or q.role
        match = q.fts()
        if not match and not q.filters and role is None:
            return []
        if q.filters.get("theme") and within is None:
            raise QueryError("theme: filters need the study's themes: search with ivp search or the study page")
        docs = self.docs()
        cols = "s.id, s.doc, s.start, s.end, s.role, s.speaker, s.text, s.words, s.tags"
        if match:
            sql = (f"SELECT {cols}, highlight(sents_fts, 0, '{OPEN}', '{CLOSE}') FROM sents_fts "
                   "JOIN sents s ON s.id = sents_fts.rowid WHERE sents_fts MATCH ?")
            args: list = [match]
        else:
            sql, args = f"SELECT {cols}, NULL FROM sents s WHERE 1", []
        if role:
            sql += " AND s.role = ?"
            args.append(role)
        try:
            rows = self.db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:  # parse() wrote it, so this is unexpected; still one line
            raise QueryError(f"cannot search for {q.fts()!r}: {exc}") from exc
        wanted = {tag_key(t) for t in q.filters.get("tag", [])}
        hits = []
        for sid, doc_id, start, end, r, speaker, text, words, tags, marked in rows:
            if doc_id not in docs:  # a copy of another interview: found there, once
                continue
            if (within is not None and sid not in within) or not wanted <= set((tags or "").split()):
                continue
            times = (_match_times(marked, unpack_words(words)) if marked else []) or [start]
            d = docs[doc_id]
            hits.append(Hit(d.get("name", "?"), d.get("recording", ""), times[0], times, start, end, r, speaker,
                            text, sid, list(d.get("copies", [])), tags=(tags or "").split(),
                            speaker_name=(d.get("names") or {}).get(speaker)))
        hits.sort(key=lambda h: (h.doc, h.time))
        hits = hits[:limit] if limit else hits
        self.context(hits)
        return hits

    def context(self, hits: list[Hit]) -> None:
        """Each hit's sentence before and after, in the same interview (ids follow time within a doc)."""
        want = {i for h in hits for i in (h.sentence_id - 1, h.sentence_id, h.sentence_id + 1)}
        near: dict[int, tuple[int, str]] = {}
        keys = sorted(want)
        for k in range(0, len(keys), 900):
            chunk = keys[k:k + 900]
            for sid, doc, text in self.db.execute(
                    f"SELECT id, doc, text FROM sents WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                near[sid] = (doc, text)
        for h in hits:
            d = near[h.sentence_id][0]
            before, after = near.get(h.sentence_id - 1), near.get(h.sentence_id + 1)
            h.before = before[1] if before and before[0] == d else ""
            h.after = after[1] if after and after[0] == d else ""

    # ------------------------------------------------------------------------------ embeddings
    def cached_embeddings(self, hashes: list[str], model: str) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(hashes), 900):
            chunk = hashes[i:i + 900]
            q = f"SELECT hash, vec FROM emb WHERE model=? AND hash IN ({','.join('?' * len(chunk))})"
            for h, vec in self.db.execute(q, (model, *chunk)):
                out[h] = np.frombuffer(vec, dtype=np.float16).astype(np.float32)
        return out

    def store_embeddings(self, items: dict[str, np.ndarray], model: str) -> None:
        with self.writing():
            self.db.executemany("INSERT OR REPLACE INTO emb (hash, model, vec) VALUES (?, ?, ?)",
                                [(h, model, v.astype(np.float16).tobytes()) for h, v in items.items()])

    def vectors(self, texts: dict[str, str], embedder, model: str) -> tuple[dict[str, np.ndarray], int]:
        """Vectors by hash for ``texts`` ({hash: text}): from the cache, the rest embedded now and
        stored; and how many were embedded."""
        cached = self.cached_embeddings(list(texts), model)
        missing = [h for h in texts if h not in cached]
        for k in range(0, len(missing), EMBED_CHUNK):  # stored as it goes: an interrupted run keeps its work
            part = missing[k:k + EMBED_CHUNK]
            new = dict(zip(part, embedder.embed([texts[h] for h in part])))
            self.store_embeddings(new, model)
            cached.update(new)
        return cached, len(missing)


def _copies(docs: dict[int, dict]) -> dict[int, int]:
    """{doc id of a copy: doc id of the first, by name, with the same recording ``sha256``}."""
    order = sorted(docs, key=lambda i: (docs[i].get("name", ""), i))
    first = firsts(docs[i].get("sha256") for i in order)
    return {order[k]: order[f] for k, f in enumerate(first) if f != k}


def path_key(path: Path) -> str:
    """A path as SQLite text: a name that is not UTF-8 (surrogate escapes) as ``\\xe9``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


PARALLEL_FROM = 16  # changed sidecars; fewer are read in this process


def extract(job: tuple[str, str, Optional[str]]) -> tuple[str, Optional[dict], Optional[list], str]:
    """(sha256, doc, sentences, error) for one sidecar; doc None when its sha is ``job[2]``."""
    path, root, old_sha = job
    try:
        data = Path(path).read_bytes()
        sha = hashlib.sha256(data + edits_file.fingerprint(Path(path))).hexdigest()  # edits are content
        if sha == old_sha:
            return sha, None, None, ""
        iv = sidecars.parse(data, Path(path))  # the one reader: schema, bounds, a newer ivp refused
        sents = corpus.sentences(iv)
        for sent in sents:  # packed here, in the worker, not in the process that writes the index
            sent.words = pack_words(sent.words)
        return sha, corpus.doc(iv, Path(path), Path(root)).to_dict(), sents, ""
    except SidecarError as exc:  # a broken sidecar never stops the study
        return "", None, None, exc.reason
    except Exception as exc:  # nor does anything else in it
        return "", None, None, f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _extract_all(jobs: list) -> Iterator[tuple]:
    """:func:`extract` of each job, in order; results arrive while later ones are still being read."""
    if len(jobs) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        yield from map(extract, jobs)
        return
    done = 0
    try:  # spawn, not fork: the watcher has threads
        with ProcessPoolExecutor(max_workers=min(os.cpu_count() or 2, 8),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            for result in pool.map(extract, jobs, chunksize=2):
                yield result
                done += 1
    except (BrokenProcessPool, OSError):  # no worker processes here (e.g. a __main__ read from stdin)
        yield from map(extract, jobs[done:])


@dataclass
class _Stamp:
    st_mtime_ns: int
    st_size: int


def pack_words(words: list) -> bytes:
    """(start, end, char offset) per word as float64 bytes: compact and exact."""
    return np.asarray(words, dtype=np.float64).tobytes()


def unpack_words(blob: bytes) -> list[list[float]]:
    arr = np.frombuffer(blob, dtype=np.float64).reshape(-1, 3)
    return [[round(float(a), 3), round(float(b), 3), int(c)] for a, b, c in arr]


def _match_times(marked: str, words: list[list[float]]) -> list[float]:
    """The start time of each match that ``highlight()`` marked in the sentence text (the words of
    a phrase come marked one by one: marks with only spaces between are one match)."""
    times, pos, gap = [], 0, None  # gap: the text since the last match ended (None: not just after one)
    offsets = [w[2] for w in words]
    for ch in marked:
        if ch == OPEN:
            if words and not (gap is not None and not gap.strip()):
                times.append(words[max(0, _last_le(offsets, pos))][0])
            gap = None
        elif ch == CLOSE:
            gap = ""
        else:
            pos += 1
            if gap is not None:
                gap += ch
    return times


def _last_le(values: list[float], x: float) -> int:
    return bisect.bisect_right(values, x) - 1
