"""Build the study of a folder: sync the quote bank, find themes, apply study.toml, write outputs.

Outputs (atomic, in ``FOLDER/ivp-study/`` unless told otherwise): ``study.json`` (interviews,
themes with their quotes, the interviewer's progress, warnings) and ``progress.csv``. The work
is incremental: unchanged sidecars are not read again, known sentences are not embedded again,
and when neither the sidecars nor study.toml changed the previous study.json is kept as it is.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from .. import __version__
from ..recording import display, guard
from ..recording.outputs import atomic_write_text
from ..sidecar import find_sidecars
from . import index as idx
from . import progress, studytoml, themes as th
from .embed import DEFAULT_MODEL, Embedder
from .state import state_dir, writable

DEFAULT_DIRNAME = "ivp-study"
GENERATOR = "ivp study"
ONE_INTERVIEW = "Only one interview so far: themes are what several interviews share, so there is nothing to compare yet."
RULES_VERSION = f"{th.DISTANCE_THRESHOLD}/{th.SMALL_TALK_SIMILARITY}/{th.MIN_INTERVIEWS}/{th.MAX_CANDIDATES}/6"  # 5: copies are one interview; 6: named by key phrases, interviewees only


@dataclass
class Study:
    folder: Path
    out: Path
    data: dict  # what study.json holds
    sync: idx.SyncResult = field(default_factory=idx.SyncResult)
    rebuilt: bool = True
    embedded: int = 0  # sentences embedded in this build (not found in the cache)

    @property
    def json_path(self) -> Path:
        return self.out / "study.json"

    def theme(self, key: str) -> Optional[dict]:
        """A theme by id, else by name (case-insensitive), else the first whose name contains ``key``."""
        items = self.data.get("themes", [])
        k = key.strip().lower()
        for test in (lambda t: t["id"] == key, lambda t: t["name"].lower() == k,
                     lambda t: k in t["name"].lower() or k in " ".join(t["keywords"]).lower()):
            for t in items:
                if test(t):
                    return t
        return None


def default_out(folder: Path) -> Path:
    return Path(folder) / DEFAULT_DIRNAME


def build_study(folder, out_dir=None, embedder=None, force: bool = False) -> Study:
    """The study of every sidecar under ``folder`` (see the module docstring)."""
    folder = Path(folder)
    out = Path(out_dir) if out_dir is not None else default_out(folder)
    root = out if out_dir is not None else folder  # nothing is written through a link leaving it
    if out_dir is None:
        guard.refuse_link(out, folder, "the study")
    paths, _missing = find_sidecars(folder, exclude=out)
    with idx.Index(idx.db_path(folder)) as index:
        sync = index.sync(paths, folder)
        docs = index.docs()
        toml_text = _read(folder / studytoml.FILE_NAME)
        fingerprint = _fingerprint(index, toml_text)
        previous = _load(out / "study.json")
        if not force and previous and previous.get("fingerprint") == fingerprint:
            return Study(folder, out, previous, sync, rebuilt=False)
        warnings = [f"{display(p)}: skipped: {why}" for p, why in sync.skipped]
        found, hidden, embedded, note = [], [], 0, ""
        if len(docs) == 1:
            note = ONE_INTERVIEW
        elif len(docs) > 1:
            try:
                found, embedded = _themes(index, len(docs), embedder)
            except Exception as exc:  # no model: the rest of the study still works
                warnings.append(f"themes: not available: {' '.join(str(exc).split())}")
                found = []
            studytoml.carry_ids(found, state_dir(folder))
            edits, problems = studytoml.read(folder)
            warnings += problems
            hidden = [t.id for t in found if edits.get(t.id, {}).get("hide") is True]
            found, problems = studytoml.apply(found, edits)
            warnings += problems
            if not found and not note:
                note = "No theme is shared by two or more interviews yet."
        table = progress.rows(list(docs.values()))
        who = {r["recording"]: r["interviewer"] for r in table}  # by voice where there is one
        data = {
            "generator": GENERATOR, "version": __version__, "folder": str(folder.resolve()),
            "built": _dt.datetime.now().isoformat(timespec="seconds"), "fingerprint": fingerprint,
            "interviews": [{"id": i, **{k: d[k] for k in ("name", "recording", "date", "duration",
                                                          "has_video", "frame_rate")},
                            "interviewer": who.get(d["name"], d["interviewer"]), "copies": d.get("copies", [])}
                           for i, d in sorted(docs.items(), key=lambda kv: (kv[1]["date"], kv[1]["name"]))],
            "themes": [_theme_dict(t, docs) for t in found], "hidden": hidden, "note": note,
            "progress": table, "warnings": warnings,
        }
    guard.folder(out, root)
    atomic_write_text(guard.check(out / "progress.csv", root), progress.to_csv(table))
    atomic_write_text(guard.check(out / "study.json", root), json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return Study(folder, out, data, sync, rebuilt=True, embedded=embedded)


def refresh(folder, out_dir=None) -> Study:
    """Bring the study of ``folder`` up to date (for the watcher and the report); cheap when nothing
    changed. A read-only folder's study goes beside its state, in the user cache (:mod:`.state`)."""
    if out_dir is None and not writable(folder):
        out_dir = state_dir(folder) / DEFAULT_DIRNAME
    return build_study(folder, out_dir)


def _themes(index: idx.Index, n_docs: int, embedder) -> tuple[list[th.Theme], int]:
    embedder = embedder or Embedder()
    quotes = th.pick_candidates(index.candidates(), n_docs)
    texts = {q.hash: q.text for q in quotes}
    protos = {f"proto:{i}": s for i, s in enumerate(th.SMALL_TALK_PROTOTYPES)}
    vectors, embedded = _embed(index, {**texts, **protos}, embedder, getattr(embedder, "name", DEFAULT_MODEL))
    if not quotes:
        return [], embedded
    matrix = np.stack([vectors[q.hash] for q in quotes])
    prototypes = np.stack([vectors[k] for k in protos])
    model = getattr(embedder, "name", DEFAULT_MODEL)

    def embed_terms(terms: list[str]) -> dict[str, np.ndarray]:
        found, n = _embed(index, {f"term:{t}": t for t in terms}, embedder, model)
        return {k[5:]: v for k, v in found.items()}

    return th.find_themes(quotes, matrix, prototypes, embed_terms), embedded


def _embed(index: idx.Index, texts: dict[str, str], embedder, model: str) -> tuple[dict, int]:
    """Vectors by hash: from the cache, the rest embedded now and stored (:meth:`Index.vectors`)."""
    return index.vectors(texts, embedder, model)


def _theme_dict(t: th.Theme, docs: dict) -> dict:
    return {"id": t.id, "name": t.name, "keywords": t.keywords, "edited": t.edited,
            "interviews": [docs[d]["name"] for d in t.docs], "n_interviews": len(t.docs),
            "quotes": [{"interview": docs[q.doc]["name"], "recording": docs[q.doc]["recording"],
                        "start": q.start, "end": q.end, "role": q.role, "text": q.text, "kind": q.kind,
                        "similarity": q.similarity, "sentence_id": q.sentence_id} for q in t.quotes]}


def _fingerprint(index: idx.Index, toml_text: str) -> str:
    h = hashlib.sha1(f"{__version__}|{RULES_VERSION}|{toml_text}".encode())
    for path, sha in index.db.execute("SELECT path, sha FROM docs ORDER BY path"):
        h.update(f"|{path}:{sha}".encode())
    return h.hexdigest()


def _read(path: Path) -> str:
    """The file's digest for the fingerprint, whatever its encoding (studytoml.read says if it is not UTF-8)."""
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _load(path: Path) -> Optional[dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
