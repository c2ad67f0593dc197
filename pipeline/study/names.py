"""Theme names: key phrases a person would write, taken from the theme's own quotes.

1. **Phrases.** scikit-learn's ``CountVectorizer`` splits each sentence into words (a contraction
   such as ``isn't`` stays one word) and counts phrases of one to three consecutive words that
   neither start nor end with a stop word (scikit-learn's English list, the study's fillers such as
   ``yeah`` or ``kind of``, and any word with an apostrophe), with only an article, a preposition
   or ``and`` inside (``fix the totals``, ``totals by hand``), and never across punctuation
   (``too expensive, the subscription`` gives no phrase). Words are counted by their lemma
   (simplemma), so ``spreadsheets`` and ``spreadsheet`` are one phrase, shown as it was said most.
2. **c-TF-IDF** (class-based TF-IDF, as BERTopic): a phrase scores by the share of the theme's
   sentences that use it, times ``log(1 + average sentences per group / sentences using it
   anywhere)``, times how many of the theme's interviews use it (half weight).
3. **Meaning and diversity** (as KeyBERT): the best candidates said in two interviews or more
   (all of them when none is) are re-ranked by how close each
   phrase is in meaning to the theme's centre (the study's sentence embeddings), then chosen by
   maximal marginal relevance, so that the phrases of one name say different things: a phrase
   said only in sentences that the chosen ones already cover adds nothing and is left out.

The name is the first two phrases (``Spreadsheet · fix the totals``); ``keywords`` holds up to three.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Optional, Sequence

import numpy as np

from .corpus import STOPWORDS

TOP_CANDIDATES = 15  # per theme, by c-TF-IDF, before the meaning re-rank
KEYWORDS = 3
NAME_PHRASES = 2
MAX_WORDS = 3
MMR_LAMBDA = 0.6  # relevance against difference from the phrases already chosen
TOKEN_PATTERN = r"(?u)\b[^\W\d_](?:(?:[^\W\d_]|')*[^\W\d_])?\b"  # words of letters (one too), apostrophes inside
INSIDE = frozenset("a an the of for by to in on with and from per".split())  # allowed within a phrase
CLAUSE = re.compile(r"[,.;:!?()\[\]\"\u201c\u201d\u2013\u2014]|\s-\s|'(?!\w)|(?<!\w)'")  # a phrase never spans these


@lru_cache(maxsize=1)
def _tools() -> tuple[Callable[[str], list[str]], frozenset]:
    """The vectorizer's preprocessor + tokenizer, and the stop words."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer  # lazy: scikit-learn
    cv = CountVectorizer(token_pattern=TOKEN_PATTERN, lowercase=True, strip_accents="unicode")
    pre, tok = cv.build_preprocessor(), cv.build_tokenizer()
    return (lambda text: tok(pre(text.replace("\u2019", "'")))), frozenset(ENGLISH_STOP_WORDS) | STOPWORDS


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    import simplemma  # lazy: loads its English dictionary on first use
    return simplemma.lemmatize(word, lang="en").lower()


def phrases(text: str) -> list[tuple[str, str]]:
    """(lemma key, words as said) of every candidate phrase of one sentence, in order."""
    tokenize, stop = _tools()
    out = []
    for clause in CLAUSE.split(text.replace("\u2019", "'")):
        words = tokenize(clause)
        lemmas = [lemma(w) for w in words]
        edge = [w in stop or "'" in w or lm in stop or len(w) < 3 for w, lm in zip(words, lemmas)]
        for n in range(1, MAX_WORDS + 1):
            for i in range(len(words) - n + 1):
                j = i + n - 1
                if edge[i] or edge[j] or any(edge[k] and words[k] not in INSIDE for k in range(i + 1, j)):
                    continue
                out.append((" ".join(lemmas[i:j + 1]), " ".join(words[i:j + 1])))
    return out


def candidates(groups: dict[int, list[tuple[str, int]]], top: int = TOP_CANDIDATES,
               wanted: Optional[Sequence[int]] = None) -> dict[int, list[tuple]]:
    """The ``top`` phrases of each group of (sentence, interview) by c-TF-IDF (see the module
    docstring), best first: (the phrase as said, its score, how many of the group's interviews say
    it, which of the group's sentences say it). Only the groups in ``wanted`` (default: all) are
    ranked; every group counts as the contrast."""
    from scipy import sparse  # lazy: with scikit-learn
    from sklearn.feature_extraction.text import CountVectorizer  # lazy: scikit-learn
    labels = list(groups)
    texts = [t for label in labels for t, _doc in groups[label]]
    if not texts:
        return {label: [] for label in labels}
    said: dict[str, dict[str, int]] = {}

    def analyse(text: str) -> list[str]:
        keys = []
        for key, surface in phrases(text):
            forms = said.setdefault(key, {})
            forms[surface] = forms.get(surface, 0) + 1
            keys.append(key)
        return keys

    cv = CountVectorizer(analyzer=analyse, binary=True)
    try:
        matrix = cv.fit_transform(texts).tocsr()
    except ValueError:  # no phrase at all (every word a stop word)
        return {label: [] for label in labels}
    vocab = cv.get_feature_names_out()
    rows, start = {}, 0
    for label in labels:
        rows[label] = (start, start + len(groups[label]))
        start += len(groups[label])
    overall = np.asarray(matrix.sum(axis=0)).ravel()
    average = len(texts) / max(1, len(labels))
    idf = np.log1p(average / np.maximum(overall, 1))
    out = {}
    for label in (labels if wanted is None else [w for w in wanted if w in rows]):
        a, b = rows[label]
        part = matrix[a:b]
        share = np.asarray(part.sum(axis=0)).ravel() / max(1, b - a)
        docs = np.array([d for _t, d in groups[label]])
        kinds = np.unique(docs)
        by_doc = sparse.csr_matrix((np.ones(len(docs)), (np.searchsorted(kinds, docs), np.arange(len(docs)))),
                                   shape=(len(kinds), len(docs)))
        users = np.asarray(((by_doc @ part) > 0).sum(axis=0)).ravel()  # how many of its interviews say it
        score = share * idf * (0.5 + 0.5 * users / len(kinds))
        best = [c for c in np.argsort(-score, kind="stable")[:top] if score[c] > 0]
        out[label] = [(_as_said(said[vocab[c]]), round(float(score[c]), 6), int(users[c]),
                       frozenset(part[:, c].nonzero()[0].tolist())) for c in best]
    return out


def _as_said(forms: dict[str, int]) -> str:
    """The form of a phrase said most often (the shorter, then the first alphabetically, on ties)."""
    return min(forms, key=lambda f: (-forms[f], len(f), f))


def choose(ranked: Sequence[tuple], centre: np.ndarray, vectors: dict[str, np.ndarray],
           top: int = KEYWORDS, diversity: float = 1 - MMR_LAMBDA) -> list[str]:
    """Up to ``top`` phrases of ``ranked`` (see :func:`candidates`): only phrases said in two
    interviews or more when there are any (one person's turn of phrase is no name for what several
    said); relevance is the c-TF-IDF (scaled to the best) plus the cosine to ``centre``; each next
    phrase by maximal marginal relevance, never one sharing a word (lemma) with one chosen, nor one
    said only in sentences that the chosen phrases already cover (it would add no one's words).
    When no phrase is said twice, one phrase only."""
    shared = [r for r in ranked if r[2] >= 2]
    if not shared:  # nothing said twice: the one phrase closest to what the theme means
        top, shared = min(top, 1), list(ranked)
    if not shared:
        return []
    best = max(r[1] for r in shared) or 1.0
    rel = {r[0]: 0.5 * r[1] / best + (float(vectors[r[0]] @ centre) if r[0] in vectors else 0.0) for r in shared}
    rows = {r[0]: r[3] for r in shared}
    chosen: list[str] = []
    used: set[str] = set()
    covered: frozenset = frozenset()
    pool = list(rel)

    def mmr(p: str) -> float:
        near = max((float(vectors[p] @ vectors[c]) for c in chosen if p in vectors and c in vectors), default=0.0)
        return (1 - diversity) * rel[p] - diversity * near

    while pool and len(chosen) < top:
        pick = max(pool, key=lambda p: (mmr(p), -len(p), p))
        pool.remove(pick)
        keys = {lemma(w) for w in pick.split()}
        if keys & used or (chosen and rows[pick] <= covered):
            continue
        chosen.append(pick)
        used |= keys
        covered |= rows[pick]
    return chosen


def name(keywords: Sequence[str], fallback: str = "") -> str:
    """What a person reads: the first phrases, the first letter capitalised."""
    text = " · ".join(keywords[:NAME_PHRASES]) or fallback
    return text[:1].upper() + text[1:]


def describe(groups: dict[int, list[tuple[str, int]]], centres: dict[int, np.ndarray],
             embed: Optional[Callable[[list[str]], dict[str, np.ndarray]]] = None) -> dict[int, list[str]]:
    """The keywords of each group in ``centres`` (a subset of ``groups``; the others are the contrast)."""
    ranked = candidates(groups, wanted=list(centres))
    wanted = sorted({r[0] for label in centres for r in ranked.get(label, [])})
    vectors = embed(wanted) if (embed and wanted) else {}
    return {label: choose(ranked.get(label, []), centre, vectors) for label, centre in centres.items()}
