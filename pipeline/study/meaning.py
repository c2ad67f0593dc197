"""Search by meaning: sentences ranked by how close their embedding is to the query's (the same
MiniLM vectors the themes use, cached by text hash in the study index), fused with the words
they share with the query (reciprocal rank fusion), so a sentence that says "by hand" outranks
a question that merely sounds alike. The query's filters and ``-words`` hold as in a word search.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
from typing import Callable, Optional

import numpy as np

from ..metrics import tag_key
from ..recording.outputs import atomic_write_bytes, atomic_write_text
from . import corpus
from .index import Hit, Index
from .query import Query, QueryError, parse

FLOOR = 0.3  # cosine below which a sentence sharing no word with the query is not shown
PAGE_DIMS = 64  # the study page's vectors: reduced by PCA to this many dimensions, one byte each
PAGE_MAX_SENTENCES = 50_000  # more than this and the page leaves search by meaning to ivp search
# a page query is the mean of single words' vectors, whose cosines run lower than a sentence's:
# a sentence shows when its cosine is at least PAGE_FLOOR and PAGE_RELATIVE of the best one
PAGE_FLOOR, PAGE_RELATIVE = 0.1, 0.4
SCORE_CHUNK = 65536  # rows of the vector matrix scored at a time
FUSE_K, FUSE_DEPTH = 60, 200  # reciprocal rank fusion: its constant, and how deep each ranking is read


def nearest(index: Index, query: "str | Query", embedder, role: Optional[str] = None, limit: int = 20,
            within: Optional[set[int]] = None, floor: float = FLOOR,
            note: Optional[Callable[[str], None]] = None) -> list[Hit]:
    """The sentences closest in meaning to the query's words, best first. Sentences never
    embedded are embedded now (and kept in the index); ``note`` hears how many first."""
    q = parse(query) if isinstance(query, str) else query
    role = role or q.role
    text = q.free_text()
    if not text:
        raise QueryError("search by meaning needs words to look for")
    if q.filters.get("theme") and within is None:
        raise QueryError("theme: filters need the study's themes: search with ivp search or the study page")
    ids, matrix = sentence_matrix(index, embedder, note)
    if not len(ids):
        return []
    scores = _scores(matrix, embedder.embed([text])[0])
    allowed = _allowed(index, q, role, within)
    if allowed is not None:  # filters first, so that the ranking is over what may be shown
        scores[~np.isin(ids, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))] = -np.inf
    docs = index.docs()
    hits: list[Hit] = []
    for i, by_words in fused(scores, word_ranks(index, text), ids):
        if len(hits) >= limit:
            break
        if not np.isfinite(scores[i]) or (scores[i] < floor and not by_words):
            continue
        _id, doc_id, start, end, r, speaker, sentence, tags = index.db.execute(
            "SELECT id, doc, start, end, role, speaker, text, tags FROM sents WHERE id=?", (int(ids[i]),)).fetchone()
        if doc_id not in docs:  # a copy: found in its first
            continue
        d = docs[doc_id]
        hits.append(Hit(d.get("name", "?"), d.get("recording", ""), start, [start], start, end, r, speaker,
                        sentence, int(ids[i]), list(d.get("copies", [])), tags=(tags or "").split(),
                        score=round(float(scores[i]), 4), word_match=by_words))
    index.context(hits)
    return hits


def _scores(matrix: tuple[np.ndarray, np.ndarray], vector: np.ndarray) -> np.ndarray:
    """The cosine of ``vector`` with every row of an int8 matrix with a scale per row, read in
    chunks (the matrix is memory-mapped)."""
    rows, scale = matrix
    out = np.empty(rows.shape[0], dtype=np.float32)
    for k in range(0, rows.shape[0], SCORE_CHUNK):
        out[k:k + SCORE_CHUNK] = np.asarray(rows[k:k + SCORE_CHUNK], dtype=np.float32) @ vector
    return out / scale


def _allowed(index: Index, q: Query, role: Optional[str], within: Optional[set[int]]) -> Optional[set[int]]:
    """The sentence ids the filters and ``-words`` allow, None when nothing is filtered."""
    tags = sorted({tag_key(t) for t in q.filters.get("tag", [])})
    copies = index.not_copies()
    if not (role or tags or within is not None or q.exclude or copies != "1"):
        return None
    sql, args = f"SELECT id FROM sents WHERE {copies}", []
    if role:
        sql, args = sql + " AND role = ?", [role]
    for tag in tags:
        sql += " AND (' ' || COALESCE(tags, '') || ' ') LIKE ? ESCAPE '\\'"
        args.append("% " + tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %")
    if q.exclude:
        sql += " AND id NOT IN (SELECT rowid FROM sents_fts WHERE sents_fts MATCH ?)"
        args.append(" OR ".join(t.fts() for t in q.exclude))
    allowed = {r for (r,) in index.db.execute(sql, args)}
    return allowed & within if within is not None else allowed


def sentence_matrix(index: Index, embedder, note: Optional[Callable[[str], None]] = None
                    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(every sentence id, ascending; (its unit vector as an int8 row, memory-mapped, and the
    row's scale)). Kept beside the index (``vectors-<model>.ids.npy``, ``.npy``, ``.scale.npy``
    and ``.stamp``) and rebuilt only when sentences or vectors changed, so a search by meaning
    over many hours reads one small file; sentences never embedded are embedded (and stored)
    when it is rebuilt. Each row is scaled so its largest component is 127: cosines keep three
    decimals."""
    model = getattr(embedder, "name", "")
    base = index.path.parent / f"vectors-{re.sub(r'[^A-Za-z0-9_.-]', '_', model) or 'model'}"
    files = {k: base.with_name(base.name + k) for k in (".ids.npy", ".npy", ".scale.npy", ".stamp")}

    def stamp() -> str:
        """The state of the sentences (each interview's path and sha, the last id) and of the
        vectors (the last row: rows are only ever added, a replaced one gets a new rowid)."""
        h = hashlib.sha1()
        for path, sha in index.db.execute("SELECT path, sha FROM docs ORDER BY id"):
            h.update(f"{path}\x1f{sha}\x1e".encode("utf-8", "backslashreplace"))
        top = index.db.execute("SELECT COALESCE(MAX(id), 0) FROM sents").fetchone()[0]
        etop = index.db.execute("SELECT COALESCE(MAX(rowid), 0) FROM emb").fetchone()[0]
        return f"{h.hexdigest()}:{top}:{etop}"

    now = stamp()
    try:
        if files[".stamp"].read_text(encoding="utf-8") == now:
            ids, rows = np.load(files[".ids.npy"]), np.load(files[".npy"], mmap_mode="r")
            scale = np.load(files[".scale.npy"])
            if len(ids) == rows.shape[0] == len(scale):
                return ids, (rows, scale)
    except (OSError, ValueError):
        pass
    rows = index.db.execute("SELECT id, hash, text FROM sents WHERE hash IS NOT NULL AND hash != '' ORDER BY id").fetchall()
    texts = {h: t for _i, h, t in rows}
    cached = dict(index.db.execute("SELECT hash, vec FROM emb WHERE model=?", (model,)).fetchall())
    missing = {h: t for h, t in texts.items() if h not in cached}
    if missing:
        if note:
            note(f"embedding {len(missing)} sentence{'' if len(missing) == 1 else 's'} not searched by meaning before "
                 "(kept for the next search)")
        index.vectors(missing, embedder, model)  # embeds and stores them
        cached = dict(index.db.execute("SELECT hash, vec FROM emb WHERE model=?", (model,)).fetchall())
    ids = np.array([i for i, _h, _t in rows], dtype=np.int64)
    dims = len(next(iter(cached.values()))) // 2 if cached else 1
    matrix = np.frombuffer(b"".join(cached[h] for _i, h, _t in rows), dtype=np.float16).reshape(-1, dims)
    scale = (127.0 / np.maximum(np.abs(matrix).max(axis=1).astype(np.float32), 1e-6)) if len(matrix) else np.ones(0)
    quantized = np.round(matrix.astype(np.float32) * scale[:, None]).astype(np.int8)
    try:  # a cache: a folder that cannot hold it still searches
        for suffix, array in ((".ids.npy", ids), (".npy", quantized), (".scale.npy", scale.astype(np.float32))):
            buf = io.BytesIO()
            np.save(buf, array)
            atomic_write_bytes(files[suffix], buf.getvalue())
        atomic_write_text(files[".stamp"], stamp())
    except OSError:
        pass
    return ids, (quantized, scale.astype(np.float32))


def vectors_of(index: Index, hashes: list[str], embedder) -> tuple[list[str], np.ndarray]:
    """(distinct hashes, their unit vectors as rows): cached ones read, the others embedded now."""
    keys = list(dict.fromkeys(hashes))
    model = getattr(embedder, "name", "")
    cached = index.cached_embeddings(keys, model)
    missing = [h for h in keys if h not in cached]
    if missing:
        texts: dict[str, str] = {}
        for k in range(0, len(missing), 900):
            chunk = missing[k:k + 900]
            texts.update(index.db.execute(f"SELECT hash, text FROM sents WHERE hash IN ({','.join('?' * len(chunk))})"
                                          " GROUP BY hash", chunk).fetchall())
        fresh, _n = index.vectors(texts, embedder, model)
        cached.update(fresh)
    return keys, (np.stack([cached[h] for h in keys]) if keys else np.zeros((0, 1), np.float32))


def word_ranks(index: Index, text: str) -> dict[int, int]:
    """{sentence id: rank} of the sentences holding any content word of ``text`` (bm25, best 0)."""
    words = [w for w in re.findall(r"\w+", text.lower()) if w not in corpus.STOPWORDS]
    if not words:
        return {}
    rows = index.db.execute("SELECT rowid FROM sents_fts WHERE sents_fts MATCH ? ORDER BY rank LIMIT ?",
                            (" OR ".join(f'"{w}"' for w in words), FUSE_DEPTH)).fetchall()
    return {r: k for k, (r,) in enumerate(rows)}


def fused(scores: np.ndarray, ranks: dict[int, int], ids: np.ndarray) -> list[tuple[int, bool]]:
    """Row indices best first by reciprocal rank fusion of the meaning ranking and the word
    ranking (``ids``: the sentence id of each row, ascending), each with whether its words
    matched the query's."""
    depth = min(len(scores), FUSE_DEPTH * 5)
    top = np.argpartition(-scores, depth - 1)[:depth] if depth < len(scores) else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    score = {int(i): 1.0 / (FUSE_K + rank) for rank, i in enumerate(top)}
    matched = set()
    for sid, rank in ranks.items():
        k = int(np.searchsorted(ids, sid))
        if k < len(ids) and ids[k] == sid:
            matched.add(k)
            score[k] = score.get(k, 0.0) + 1.0 / (FUSE_K + rank)
    return [(i, i in matched) for i in sorted(score, key=lambda i: (-score[i], i))]


def page_vectors(index: Index, rows: list[tuple], embedder) -> Optional[dict]:
    """What the study page needs to search by meaning without the model: each sentence's vector
    (``rows``: :meth:`Index.sentences`, in the page's order) and a vector for every word the
    interviews use (a query is the mean of its words' vectors), both reduced by PCA to
    :data:`PAGE_DIMS` and stored as int8 in base64. None for a folder too big for a page."""
    from sklearn.decomposition import PCA  # lazy: scikit-learn, only when a study page is built

    if not rows or len(rows) > PAGE_MAX_SENTENCES:
        return None
    hashes = [r[6] for r in rows]
    keys, sents = vectors_of(index, hashes, embedder)
    where = {h: k for k, h in enumerate(keys)}
    sents = sents[[where[h] for h in hashes]]
    words = sorted({w for r in rows for w in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", r[5].lower())
                    if w not in corpus.STOPWORDS and len(w) > 2})
    found, _n = index.vectors({f"word:{w}": w for w in words}, embedder, getattr(embedder, "name", ""))
    lexicon = np.stack([found[f"word:{w}"] for w in words]) if words else np.zeros((0, sents.shape[1]), np.float32)
    both = np.vstack([sents, lexicon])
    dims = max(1, min(PAGE_DIMS, both.shape[0] - 1, both.shape[1]))
    pca = PCA(n_components=dims, svd_solver="full").fit(both)

    def packed(x: np.ndarray) -> str:
        y = pca.transform(x) if len(x) else np.zeros((0, dims))
        y /= np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-9)
        return base64.b64encode(np.clip(np.round(y * 127), -127, 127).astype(np.int8).tobytes()).decode("ascii")

    return {"dims": dims, "sents": packed(sents), "words": words, "wvecs": packed(lexicon),
            "stop": sorted(corpus.STOPWORDS), "floor": PAGE_FLOOR, "relative": PAGE_RELATIVE, "fuse_k": FUSE_K}
