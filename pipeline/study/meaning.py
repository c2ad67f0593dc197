"""Search by meaning: sentences ranked by how close their embedding is to the query's (the same
MiniLM vectors the themes use, cached by text hash in the study index), fused with the words
they share with the query (reciprocal rank fusion), so a sentence that says "by hand" outranks
a question that merely sounds alike. The query's filters and ``-words`` hold as in a word search.
"""
from __future__ import annotations

import base64
import io
import re
from typing import Optional

import numpy as np

from ..metrics import tag_key
from ..sidecar import atomic_write_bytes, atomic_write_text
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
            within: Optional[set[int]] = None, floor: float = FLOOR) -> list[Hit]:
    """The sentences closest in meaning to the query's words, best first. Sentences never
    embedded are embedded now (and kept in the index)."""
    q = parse(query) if isinstance(query, str) else query
    role = role or q.role
    text = q.free_text()
    if not text:
        raise QueryError("search by meaning needs words to look for")
    if q.filters.get("theme") and within is None:
        raise QueryError("theme: filters need the study's themes: search with ivp search or the study page")
    wanted = {tag_key(t) for t in q.filters.get("tag", [])}
    left_out = set()
    if q.exclude:
        left_out = {r for (r,) in index.db.execute("SELECT rowid FROM sents_fts WHERE sents_fts MATCH ?",
                                                     (" OR ".join(t.fts() for t in q.exclude),))}
    ids, hashes = sentence_hashes(index, role, wanted)
    keep = [k for k, sid in enumerate(ids) if sid not in left_out and (within is None or sid in within)]
    if len(keep) < len(ids):  # filters first, so that the ranking is over what may be shown
        ids, hashes = ids[keep], [hashes[k] for k in keep]
    if not len(ids):
        return []
    scores = closeness(index, hashes, embedder, embedder.embed([text])[0])
    order = fused(scores, word_ranks(index, text), [int(i) for i in ids])
    docs = index.docs()
    hits: list[Hit] = []
    for i, by_words in order:
        if len(hits) >= limit:
            break
        if scores[i] < floor and not by_words:
            continue
        sid = int(ids[i])
        if sid in left_out or (within is not None and sid not in within):
            continue
        _id, doc_id, start, end, r, speaker, sentence, tags = index.db.execute(
            "SELECT id, doc, start, end, role, speaker, text, tags FROM sents WHERE id=?", (sid,)).fetchone()
        if doc_id not in docs or not wanted <= set((tags or "").split()):
            continue
        d = docs[doc_id]
        hits.append(Hit(d.get("name", "?"), d.get("recording", ""), start, [start], start, end, r, speaker,
                        sentence, sid, list(d.get("copies", [])), tags=(tags or "").split(),
                        score=round(float(scores[i]), 4)))
    index.context(hits)
    return hits


def sentence_hashes(index: Index, role: Optional[str] = None, tags: frozenset = frozenset()) -> tuple[np.ndarray, list[str]]:
    """(sentence ids, their text hashes) of every sentence (copies left out), of ``role`` and
    carrying every one of ``tags`` when given."""
    sql = f"SELECT id, hash FROM sents WHERE hash IS NOT NULL AND hash != '' AND {index.not_copies()}"
    args: list = []
    if role:
        sql, args = sql + " AND role = ?", [role]
    for tag in sorted(tags):
        sql += " AND (' ' || COALESCE(tags, '') || ' ') LIKE ? ESCAPE '\\'"
        args.append("% " + tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %")
    rows = index.db.execute(sql, args).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]


def closeness(index: Index, hashes: list[str], embedder, vector: np.ndarray) -> np.ndarray:
    """The cosine of ``vector`` with each sentence of ``hashes`` (texts never embedded are
    embedded now); every cached vector is scored once, in chunks, from the index's matrix file."""
    model = getattr(embedder, "name", "")
    rows, matrix = embedding_matrix(index, model)
    missing = list(dict.fromkeys(h for h in hashes if h not in rows))
    if missing:
        vectors_of(index, missing, embedder)  # embeds and stores them
        rows, matrix = embedding_matrix(index, model)
    every = np.empty(matrix.shape[0], dtype=np.float32)
    for k in range(0, matrix.shape[0], SCORE_CHUNK):
        every[k:k + SCORE_CHUNK] = np.asarray(matrix[k:k + SCORE_CHUNK], dtype=np.float32) @ vector
    return every[np.fromiter((rows[h] for h in hashes), dtype=np.int64, count=len(hashes))]


def embedding_matrix(index: Index, model: str) -> tuple[dict[str, int], np.ndarray]:
    """Every cached vector of ``model`` as one float16 matrix (memory-mapped) and {hash: row}.
    Kept beside the index (``vectors-<model>.npy`` and ``.keys``) and rebuilt only when
    vectors were added, so a search by meaning over many hours reads one file, not every row."""
    count, top = index.db.execute("SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM emb WHERE model=?",
                                 (model,)).fetchone()
    stamp = f"{count}:{top}"
    base = index.path.parent / f"vectors-{re.sub(r'[^A-Za-z0-9_.-]', '_', model) or 'model'}"
    keys_file, matrix_file = base.with_suffix(".keys"), base.with_suffix(".npy")
    try:
        head, _, body = keys_file.read_text(encoding="utf-8").partition("\n")
        if head == stamp:
            matrix = np.load(matrix_file, mmap_mode="r")
            keys = body.split("\n") if body else []
            if matrix.shape[0] == len(keys) == count:
                return {h: k for k, h in enumerate(keys)}, matrix
    except (OSError, ValueError):
        pass
    rows = index.db.execute("SELECT hash, vec FROM emb WHERE model=? ORDER BY rowid", (model,)).fetchall()
    keys = [h for h, _v in rows]
    dims = len(rows[0][1]) // 2 if rows else 1
    matrix = np.frombuffer(b"".join(v for _h, v in rows), dtype=np.float16).reshape(-1, dims)
    buf = io.BytesIO()
    np.save(buf, matrix)
    try:  # a cache: a folder that cannot hold it still searches
        atomic_write_bytes(matrix_file, buf.getvalue())
        atomic_write_text(keys_file, stamp + "\n" + "\n".join(keys))
    except OSError:
        pass
    return {h: k for k, h in enumerate(keys)}, matrix


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


def fused(scores: np.ndarray, ranks: dict[int, int], ids: list[int]) -> list[tuple[int, bool]]:
    """Row indices best first by reciprocal rank fusion of the meaning ranking and the word
    ranking, each with whether its words matched the query's."""
    by_meaning = np.argsort(-scores, kind="stable")
    score = {int(i): 1.0 / (FUSE_K + rank) for rank, i in enumerate(by_meaning[:FUSE_DEPTH * 5])}
    row_of = {sid: k for k, sid in enumerate(ids)}
    for sid, rank in ranks.items():
        k = row_of.get(sid)
        if k is not None:
            score[k] = score.get(k, 0.0) + 1.0 / (FUSE_K + rank)
    return [(i, ids[i] in ranks) for i in sorted(score, key=lambda i: (-score[i], i))]


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
