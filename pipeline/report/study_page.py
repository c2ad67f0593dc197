"""The report's study page (``study.html``): themes, the quote bank searched in the browser, and
small inline-SVG charts of the interviewer's progress. Data comes from :mod:`pipeline.study`.

The quote bank is embedded in the page as JSON (no network, no server needed); a click on a quote
or a search hit loads its recording into the page's player at that moment.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from markupsafe import Markup, escape

from .. import __version__
from ..config import TARGET_BAND
from ..recording.outputs import atomic_write_text
from ..study import index as idx
from ..study import meaning, refresh
from ..study.embed import Embedder
from ..recording import href as _href
from .html import GENERATOR, clock, script_json

W, H, PAD = 320, 110, 22  # chart size and left/bottom padding, px
ROLE_CODES = {"interviewee": "e", "interviewer": "r"}  # the quote bank's role column, kept short
COLORS = {"open": "#2e7d32", "closed": "#b26a00", "leading": "#b23c17", "held": "#2b7bd9", "filled": "#d9822b"}


def write_study_page(sources: list[Path], out: Path, entries: list, env) -> Optional[Path]:
    """Build (or refresh) the study of the first folder and write ``out/study.html``."""
    text = render_study_page(sources, out, entries, env)
    if text is None:
        return None
    page = out / "study.html"
    atomic_write_text(page, text)
    return page


def render_study_page(sources: list[Path], out: Path, entries: list, env, editing: Optional[dict] = None
                      ) -> Optional[str]:
    """The study page's HTML (None without a folder or interviews); ``editing``: ``ivp serve``'s."""
    folder = next((p for p in sources if Path(p).is_dir()), None)
    if folder is None or not entries:
        return None
    try:
        study = refresh(folder)
        with idx.Index(idx.db_path(folder)) as index:
            bank = index.sentences()
            docs = index.docs()
            doc_ids = {d["name"]: i for i, d in docs.items()}
            vectors = _meaning(index, bank, doc_ids, study.data)
            named = _speaker_names(study.data, index, docs)
        view = _view(study.data, bank, doc_ids, entries, out, vectors, named)
        error = ""
    except Exception as exc:  # the study must never break the report
        view, error = None, f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    return env.get_template("study.html").render(view=view, error=error, generator=GENERATOR, version=__version__,
                                                 asset_prefix="", editing=editing)


def _speaker_names(data: dict, index, docs: dict) -> dict:
    """sentence id -> the name a person gave its speaker (pipeline.edits), for the themes' quotes."""
    named = {}
    for t in data.get("themes", []):
        for q in t["quotes"]:
            row = index.sentence(q.get("sentence_id", -1))
            if row is not None:
                name = (docs.get(row[1], {}).get("names") or {}).get(row[5])
                if name:
                    named[q["sentence_id"]] = name
    return named


def _meaning(index, bank: list[tuple], doc_ids: dict, data: dict) -> Optional[dict]:
    """The vectors of the page's search by meaning, or None (no model, or too many sentences)."""
    known = set(doc_ids.get(d["name"], -1) for d in data["interviews"])
    try:
        return meaning.page_vectors(index, [r for r in bank if r[1] in known], Embedder())
    except Exception:  # no model: the page still searches by words
        return None


def _view(data: dict, bank: list[tuple], doc_ids: dict, entries: list, out: Path,
          vectors: Optional[dict] = None, named: Optional[dict] = None) -> dict:
    by_media = {str(Path(e.media_path).resolve()) if e.media_path else "": e for e in entries}
    docs, index_of = [], {}
    for d in data["interviews"]:
        e = by_media.get(str(Path(d["recording"]).resolve()))
        rec = Path(d["recording"])
        index_of[doc_ids.get(d["name"], -1)] = len(docs)
        docs.append({"name": d["name"], "date": d["date"], "video": bool(d["has_video"]),
                     "href": _href(rec, out) if rec.is_file() else "",
                     "page": f"interviews/{e.slug}.html" if e else ""})
    doc_of_name = {d["name"]: i for i, d in enumerate(docs)}
    themes = []
    for t in data["themes"]:
        quotes = [dict(q, doc=doc_of_name.get(q["interview"], -1), clock=clock(q["start"]),
                       name=(named or {}).get(q.get("sentence_id"), "")) for q in t["quotes"]]
        themes.append(dict(t, quotes=quotes))
    rows = [[index_of.get(doc, -1), round(start, 2), ROLE_CODES.get(role or "", ""), text, (tags or "").split()]
            for _sid, doc, start, _end, role, text, _hash, tags in bank if doc in index_of]
    theme_quotes = [{"id": t["id"], "name": t["name"], "keywords": t.get("keywords", []),
                     "quotes": [[q["doc"], round(q["start"], 2)] for q in t["quotes"]]} for t in themes]
    return {"themes": themes, "docs": docs, "note": data.get("note", ""), "warnings": data.get("warnings", []),
            "n": len(docs), "hidden": data.get("hidden", []), "progress": _progress(data["progress"]),
            "meaning": bool(vectors),
            "data_json": script_json({"docs": docs, "bank": rows, "themes": theme_quotes, "meaning": vectors})}


# ---------------------------------------------------------------------------------------- charts

def _progress(rows: list[dict]) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["interviewer"], []).append(r)
    return [{"interviewer": who, "rows": rs, "share_svg": share_chart(rs), "questions_svg": questions_chart(rs),
             "silences_svg": silences_chart(rs)} for who, rs in groups.items()]


def _x(i: int, n: int) -> float:
    return PAD + (W - PAD - 6) * (i + 0.5) / max(1, n)


def _svg(body: str, label: str) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
                  f'aria-label="{escape(label)}">{body}</svg>')


def _y(v: float) -> float:
    return round(6 + (H - PAD - 6) * (1 - max(0.0, min(1.0, v))), 2)


def _axis(n: int, rows: list[dict], top: str = "100%") -> str:
    ticks = "".join(f'<text x="{_x(i, n):.1f}" y="{H - 6}" class="c-tick">{escape(r["date"][5:] or i + 1)}</text>'
                    for i, r in enumerate(rows) if n <= 12 or i % max(1, n // 12) == 0)
    return (f'<line x1="{PAD}" y1="{_y(0)}" x2="{W}" y2="{_y(0)}" class="c-axis"/>'
            f'<text x="2" y="{_y(1) + 4}" class="c-tick">{escape(top)}</text><text x="2" y="{_y(0)}" class="c-tick">0</text>{ticks}')


def share_chart(rows: list[dict]) -> Markup:
    """The interviewee's share per interview (date order) against the target band."""
    n = len(rows)
    low, high = (rows[0]["band_low"], rows[0]["band_high"]) if rows else TARGET_BAND
    body = (f'<rect x="{PAD}" y="{_y(high)}" width="{W - PAD}" height="{_y(low) - _y(high):.2f}" class="c-band">'
            f'<title>target {100 * low:.0f}-{100 * high:.0f} %</title></rect>')
    pts = [(_x(i, n), _y(r["interviewee_share"])) for i, r in enumerate(rows) if r["interviewee_share"] is not None]
    if len(pts) > 1:
        body += '<polyline class="c-line" points="' + " ".join(f"{x:.1f},{y}" for x, y in pts) + '"/>'
    for i, r in enumerate(rows):
        if r["interviewee_share"] is not None:
            body += (f'<circle cx="{_x(i, n):.1f}" cy="{_y(r["interviewee_share"])}" r="3.5" class="c-dot c-{escape(r["verdict"])}">'
                     f'<title>{escape(r["recording"])}: {100 * r["interviewee_share"]:.0f} % ({escape(r["verdict"])})</title></circle>')
    return _svg(body + _axis(n, rows), "interviewee share per interview against the target band")


def _bars(rows: list[dict], keys: tuple[str, ...], stacked: bool, label: str) -> Markup:
    n = len(rows)
    width = max(3.0, (W - PAD - 6) / max(1, n) * 0.7)
    body, most = "", max([1] + [r[k] for r in rows for k in keys])
    for i, r in enumerate(rows):
        total = sum(r[k] for k in keys)
        base = 0.0
        for j, k in enumerate(keys):
            frac = (r[k] / total if total else 0.0) if stacked else r[k] / most
            x = _x(i, n) - width / 2 + (0 if stacked else j * width / len(keys))
            w = width if stacked else width / len(keys)
            top = _y(base + frac) if stacked else _y(frac)
            bottom = _y(base) if stacked else _y(0)
            body += (f'<rect x="{x:.1f}" y="{top}" width="{w:.1f}" height="{max(0.0, bottom - top):.2f}" fill="{COLORS[k]}">'
                     f'<title>{escape(r["recording"])}: {r[k]} {k}</title></rect>')
            base += frac if stacked else 0
    return _svg(body + _axis(n, rows, "100%" if stacked else str(most)), label)


def questions_chart(rows: list[dict]) -> Markup:
    return _bars(rows, ("open", "closed", "leading"), True, "open, closed and leading questions per interview")


def silences_chart(rows: list[dict]) -> Markup:
    rows = [dict(r, held=r["silences_held"], filled=r["silences_filled"]) for r in rows]
    return _bars(rows, ("held", "filled"), False, "long silences held vs filled per interview")
