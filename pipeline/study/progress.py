"""The interviewer's progress across interviews: rows per interview in date order, and a CSV.

Per interviewer (their voice where the sidecars carry one: an enrolled voice, or the voiceprint
heard in two interviews or more; else the folder the interviews are in): the interviewee's share against the target band, open / closed / leading question
rates, long silences the interviewer held (the interviewee broke them) vs filled, and fast fills.
The numbers come from each sidecar's own analysis (:func:`pipeline.study.corpus.interviewer_stats`).
"""
from __future__ import annotations

import csv
import io
from typing import Optional

from ..config import TARGET_BAND
from ..voiceprint import decode as from_b64, unit
from ..stages.voices import LINK
from ..text import cell

TEXT_COLUMNS = frozenset({"interviewer", "date", "recording", "verdict"})
COLUMNS = ("interviewer", "date", "recording", "duration_s", "interviewee_share", "band_low", "band_high",
           "verdict", "questions", "open", "closed", "leading", "open_rate", "closed_rate", "leading_rate",
           "silences_held", "silences_filled", "fast_fills")


def _rate(n: int, total: int) -> Optional[float]:
    return round(n / total, 4) if total else None


def group_by_voice(docs: list[dict]) -> None:
    """Name each interview's interviewer by voice where the sidecars allow it: an enrolled voice by
    its name; voiceprints linked across interviews (cosine >= voices.LINK to a group's mean, in
    date order) as "voice 1", "voice 2"... when heard in two interviews or more. The others keep
    their folder's name."""
    groups: list[dict] = []
    for d in sorted(docs, key=lambda d: (d["date"], d["name"])):
        v = d.get("interviewer_voice") or {}
        if v.get("name"):
            d["interviewer"] = f"voice {v['name']}"
        elif v.get("vector"):
            x = unit(from_b64(v["vector"]))
            sims = [float(x @ unit(g["sum"])) for g in groups]
            best = max(range(len(groups)), key=sims.__getitem__, default=None)
            if best is not None and sims[best] >= LINK:
                groups[best]["sum"] += x
                groups[best]["docs"].append(d)
            else:
                groups.append({"sum": x.copy(), "docs": [d]})
    for number, g in enumerate((g for g in groups if len(g["docs"]) >= 2), 1):
        for d in g["docs"]:
            d["interviewer"] = f"voice {number}"


def rows(docs: list[dict]) -> list[dict]:
    """One row per interview, grouped by interviewer (see :func:`group_by_voice`), each group in
    date order."""
    docs = [dict(d) for d in docs]
    group_by_voice(docs)
    out = []
    for d in sorted(docs, key=lambda d: (d["interviewer"], d["date"], d["name"])):
        s = d.get("stats", {})
        q = int(s.get("questions", 0))
        low, high = s.get("target", TARGET_BAND)
        out.append({
            "interviewer": d["interviewer"], "date": d["date"], "recording": d["name"],
            "duration_s": d["duration"], "interviewee_share": s.get("share"), "band_low": low, "band_high": high,
            "verdict": s.get("verdict", "unknown"), "questions": q, "open": s.get("open", 0),
            "closed": s.get("closed", 0), "leading": s.get("leading", 0),
            "open_rate": _rate(s.get("open", 0), q), "closed_rate": _rate(s.get("closed", 0), q),
            "leading_rate": _rate(s.get("leading", 0), q), "silences_held": s.get("silences_held", 0),
            "silences_filled": s.get("silences_filled", 0), "fast_fills": s.get("fast_fills", 0)})
    return out


def to_csv(table: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in table:  # names come from files and folders: never a formula
        writer.writerow({k: "" if r[k] is None else cell(r[k]) if k in TEXT_COLUMNS else r[k] for k in COLUMNS})
    return buf.getvalue()
