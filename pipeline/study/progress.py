"""The interviewer's progress across interviews: rows per interview in date order, and a CSV.

Per interviewer (the folder the interviews are in, until voices are recognised across
interviews): the interviewee's share against the target band, open / closed / leading question
rates, long silences the interviewer held (the interviewee broke them) vs filled, and fast fills.
The numbers come from each sidecar's own analysis (:func:`pipeline.study.corpus.interviewer_stats`).
"""
from __future__ import annotations

import csv
import io
from typing import Optional

COLUMNS = ("interviewer", "date", "recording", "duration_s", "interviewee_share", "band_low", "band_high",
           "verdict", "questions", "open", "closed", "leading", "open_rate", "closed_rate", "leading_rate",
           "silences_held", "silences_filled", "fast_fills")


def _rate(n: int, total: int) -> Optional[float]:
    return round(n / total, 4) if total else None


def rows(docs: list[dict]) -> list[dict]:
    """One row per interview, grouped by interviewer, each group in date order."""
    out = []
    for d in sorted(docs, key=lambda d: (d["interviewer"], d["date"], d["name"])):
        s = d.get("stats", {})
        q = int(s.get("questions", 0))
        low, high = s.get("target", [0.7, 0.8])
        out.append({
            "interviewer": d["interviewer"], "date": d["date"], "recording": d["name"],
            "duration_s": d["duration"], "interviewee_share": s.get("share"), "band_low": low, "band_high": high,
            "verdict": s.get("verdict", "unknown"), "questions": q, "open": s.get("open", 0),
            "closed": s.get("closed", 0), "leading": s.get("leading", 0),
            "open_rate": _rate(s.get("open", 0), q), "closed_rate": _rate(s.get("closed", 0), q),
            "leading_rate": _rate(s.get("leading", 0), q), "silences_held": s.get("silences_held", 0),
            "silences_filled": s.get("silences_filled", 0), "fast_fills": s.get("fast_fills", 0)})
    return out


def by_interviewer(table: list[dict]) -> dict[str, dict]:
    """Per interviewer: their rows and totals (held share of long silences, in-band interviews)."""
    groups: dict[str, dict] = {}
    for r in table:
        g = groups.setdefault(r["interviewer"], {"rows": [], "within": 0, "held": 0, "filled": 0,
                                                   "questions": 0, "open": 0, "closed": 0, "leading": 0,
                                                   "fast_fills": 0})
        g["rows"].append(r)
        g["within"] += r["verdict"] == "within"
        for k in ("questions", "open", "closed", "leading", "fast_fills"):
            g[k] += r[k]
        g["held"] += r["silences_held"]
        g["filled"] += r["silences_filled"]
    for g in groups.values():
        g["held_rate"] = _rate(g["held"], g["held"] + g["filled"])
        g["open_rate"] = _rate(g["open"], g["questions"])
    return groups


def to_csv(table: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in table:
        writer.writerow({k: "" if r[k] is None else r[k] for k in COLUMNS})
    return buf.getvalue()
