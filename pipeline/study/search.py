"""One search over a folder's quote bank, as ``ivp search`` runs it: bring the index up to date,
read the query (:mod:`pipeline.study.query`), resolve ``theme:`` filters through the study's
themes, then find by words (FTS5) or by meaning (sentence embeddings, ``meaning=True``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ..recording import display
from ..sidecar import find_sidecars
from . import index as idx
from . import meaning as meaning_search
from .build import DEFAULT_DIRNAME, build_study
from .embed import Embedder
from .query import Query, QueryError, parse


@dataclass
class Found:
    hits: list[idx.Hit]
    warnings: list[str] = field(default_factory=list)


def find(folder: Path, text: str, role: Optional[str] = None, limit: Optional[int] = None,
         meaning: bool = False, embedder=None, note: Optional[Callable[[str], None]] = None) -> Found:
    """The hits for ``text`` in ``folder``; :class:`QueryError` when the query cannot be read.
    ``note`` hears about slow first steps (sentences embedded for a first search by meaning)."""
    folder = Path(folder)
    query = parse(text)
    if query.empty and role is None:
        raise QueryError("nothing to search for: give a word, a \"phrase\" or a filter such as role:interviewee")
    paths, _ = find_sidecars(folder, exclude=folder / DEFAULT_DIRNAME)
    warnings: list[str] = []
    within = _theme_sentences(folder, query, warnings) if query.filters.get("theme") else None
    with idx.Index(idx.db_path(folder)) as index:
        synced = index.sync(paths, folder)
        warnings = [f"{display(p)}: skipped: {why}" for p, why in synced.skipped] + warnings
        if within is not None:
            within = _ids_of(index, within)
        if not meaning:
            return Found(index.search(query, role=role, limit=limit, within=within), warnings)
        embedder = embedder or Embedder()
        return Found(meaning_search.nearest(index, query, embedder, role=role, limit=limit or 20, within=within,
                                            note=note), warnings)


def _theme_sentences(folder: Path, query: Query, warnings: list[str]) -> set[tuple[str, float]]:
    """(interview name, start) of every quote of the themes the query names (all must hold)."""
    study = build_study(folder)
    warnings += list(study.data.get("warnings", []))
    allowed: Optional[set[tuple[str, float]]] = None
    for key in query.filters["theme"]:
        theme = study.theme(key)
        if theme is None:
            known = "; ".join(f"{t['id']} {t['name']}" for t in study.data.get("themes", [])) or "none yet"
            raise QueryError(f"theme:{key}: no such theme (themes: {known})")
        quotes = {(q["interview"], round(q["start"], 3)) for q in theme["quotes"]}
        allowed = quotes if allowed is None else allowed & quotes
    return allowed or set()


def _ids_of(index: idx.Index, quotes: set[tuple[str, float]]) -> set[int]:
    """The sentence ids of quotes given as (interview name, start)."""
    by_name = {d.get("name"): i for i, d in index.docs().items()}
    out = set()
    for name, start in quotes:
        doc = by_name.get(name)
        if doc is None:
            continue
        row = index.db.execute("SELECT id FROM sents WHERE doc=? AND abs(start - ?) < 0.002 ORDER BY id LIMIT 1",
                               (doc, start)).fetchone()
        if row:
            out.add(row[0])
    return out
