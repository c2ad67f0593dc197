"""Themes: the interviewee's salient sentences from every interview, grouped by meaning.

1. Candidates: the interviewee's sentences ranked by ``salience`` (highlights first, then content);
   at most ``max_per_interview`` from each, so that a long interview cannot drown the others.
2. Small talk out: a sentence close in meaning to a greeting, the weather, a weekend or an audio
   check (``SMALL_TALK_PROTOTYPES``) is dropped, whatever its words.
3. Clusters: scikit-learn's agglomerative clustering, average linkage on cosine distance with a
   fixed threshold (deterministic: no random start), over sentences in a fixed order.
4. A theme is a cluster heard in at least ``min_interviews`` interviews (a cluster from one
   interview is never a theme); it is named by key phrases (:mod:`.names`: c-TF-IDF over the
   clusters with scikit-learn's vectorizer, re-ranked by meaning with diversity) and themes are
   sorted by how many interviews mention them, then by quotes.

Only the interviewee's sentences feed themes: the interviewer's never do, nor sentences whose
speaker has no role.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

from ..interview import INTERVIEWEE
from . import names

DISTANCE_THRESHOLD = 0.62  # average cosine distance inside a theme (similarity above 0.38)
SMALL_TALK_SIMILARITY = 0.45
MIN_INTERVIEWS = 2
MAX_CANDIDATES = 6000  # over the whole study; agglomerative clustering is quadratic
SMALL_TALK_PROTOTYPES = (
    "The weather has been really nice this week.", "It has been raining all day here.",
    "How was your weekend?", "We went away for the weekend with the kids.", "Thanks for having me.",
    "Nice to meet you.", "Can you hear me okay?", "Sorry, I was on mute.", "I just got back from lunch.",
    "Traffic was terrible this morning.", "I am doing well, thank you, how are you?",
    "Let me grab a coffee first.", "My pleasure, happy to help.", "Have a great rest of your day.",
)


@dataclass
class Quote:
    sentence_id: int
    doc: int
    start: float
    end: float
    role: Optional[str]
    text: str
    hash: str
    kind: str = ""
    similarity: float = 0.0  # to the theme's centre


@dataclass
class Theme:
    id: str
    name: str
    keywords: list[str]
    docs: list[int]
    quotes: list[Quote] = field(default_factory=list)
    members: list[str] = field(default_factory=list)  # sentence hashes: the theme's identity
    edited: dict = field(default_factory=dict)


def pick_candidates(rows: Sequence[tuple], n_docs: int, max_total: int = MAX_CANDIDATES) -> list[Quote]:
    """The interviewee's best rows (see :meth:`Index.candidates`) of each interview, in (doc, start) order."""
    per_doc = max(8, min(80, max_total // max(1, n_docs)))
    by_doc: dict[int, list[tuple]] = {}
    for r in rows:
        if r[4] != INTERVIEWEE:
            continue
        by_doc.setdefault(r[1], []).append(r)
    chosen = []
    for doc_id in sorted(by_doc):
        best = sorted(by_doc[doc_id], key=lambda r: (-r[7], r[2]))[:per_doc]
        chosen += sorted(best, key=lambda r: r[2])
    return [Quote(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[8] or "") for r in chosen]


def cluster(vectors: np.ndarray, threshold: float = DISTANCE_THRESHOLD) -> np.ndarray:
    """Cluster labels for unit vectors (agglomerative, average linkage, cosine distance)."""
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.zeros(1, dtype=int)
    from sklearn.cluster import AgglomerativeClustering  # lazy: scikit-learn, a second or more of imports
    v = vectors.astype(np.float32)
    distances = np.clip(1.0 - v @ v.T, 0.0, 2.0)  # cosine distance of unit vectors, one BLAS call
    np.fill_diagonal(distances, 0.0)
    model = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                    distance_threshold=threshold)
    return model.fit_predict(distances.astype(np.float64))


def small_talk_mask(vectors: np.ndarray, prototypes: np.ndarray,
                    limit: float = SMALL_TALK_SIMILARITY) -> np.ndarray:
    """True where a sentence is close in meaning to any small-talk prototype."""
    if len(vectors) == 0:
        return np.zeros(0, dtype=bool)
    return (vectors @ prototypes.T).max(axis=1) >= limit


def find_themes(quotes: list[Quote], vectors: np.ndarray, prototypes: np.ndarray,
                embed_terms: Optional[Callable[[list[str]], dict[str, np.ndarray]]] = None,
                min_interviews: int = MIN_INTERVIEWS, threshold: float = DISTANCE_THRESHOLD) -> list[Theme]:
    """Group ``quotes`` (with their unit ``vectors``) into themes heard in ``min_interviews`` or more.
    ``embed_terms`` (terms -> unit vectors) lets names prefer the terms closest to a theme's meaning."""
    keep = ~small_talk_mask(vectors, prototypes)
    quotes = [q for q, k in zip(quotes, keep) if k]
    vectors = vectors[keep]
    labels = cluster(vectors, threshold)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    chosen = {}
    for label, idx in groups.items():
        docs = sorted({quotes[i].doc for i in idx})
        hashes = sorted({quotes[i].hash for i in idx})
        if len(docs) >= min_interviews and len(hashes) >= 2:  # one sentence said everywhere is a phrase
            chosen[label] = (idx, docs, hashes)
    centres = {}
    for label, (idx, _docs, _hashes) in chosen.items():
        centre = vectors[idx].mean(axis=0)
        centres[label] = centre / (np.linalg.norm(centre) or 1.0)
    words = names.describe({label: [(quotes[i].text, quotes[i].doc) for i in idx] for label, idx in groups.items()},
                           centres, embed_terms)
    themes = []
    for label, (idx, docs, hashes) in chosen.items():
        members = []
        for i in idx:
            q = quotes[i]
            q.similarity = round(float(vectors[i] @ centres[label]), 4)
            members.append(q)
        members = spread(sorted(members, key=lambda q: (-q.similarity, q.doc, q.start)))
        themes.append(Theme(id=theme_id(hashes), name=names.name(words[label], members[0].text[:40]),
                            keywords=words[label], docs=docs, quotes=members, members=hashes))
    return sort_themes(themes)


def spread(quotes: list[Quote]) -> list[Quote]:
    """Quotes in rounds, one per interview each round (most typical first), so that the first few
    quotes of a theme come from different interviews."""
    by_doc: dict[int, list[Quote]] = {}
    for q in quotes:
        by_doc.setdefault(q.doc, []).append(q)
    out, lists = [], list(by_doc.values())
    for rank in range(max((len(v) for v in lists), default=0)):
        out += [v[rank] for v in lists if rank < len(v)]
    return out


def sort_themes(themes: list[Theme]) -> list[Theme]:
    return sorted(themes, key=lambda t: (-len(t.docs), -len(t.quotes), t.name, t.id))


def theme_id(member_hashes: Sequence[str]) -> str:
    return "t" + hashlib.sha1("|".join(sorted(member_hashes)).encode()).hexdigest()[:8]
