"""One moment per sentence: moments that point at the same sentence (a spoken bookmark, a
marker-file mark, a highlight, a coaching question) are merged, so an export gets one marker and
one clip for them, with all their kinds (``Moment.also``)."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from ..interview import Moment
from ..text import Sentence


def merge_same_sentence(moments: list[Moment], sents: list[Sentence], run_kinds: Iterable[str] = ()) -> list[Moment]:
    """Moments that point at the same sentence become one: a bookmark and a workaround on the
    interviewee's "I do it by hand in a spreadsheet." are one marker and one clip. The merged
    moment spans them all and keeps the best-scored one's kind (bookmarks and marks first), label,
    role and source; the label names the others ("; also workaround (...)") and ``also`` lists
    their kinds. Moments standing for a run of turns or a gap (``run_kinds``: a fast fill, a
    monologue) are never merged."""
    run_kinds = frozenset(run_kinds)

    def covered(m: Moment) -> set[int]:
        return {i for i, s in enumerate(sents) if s.start >= m.start - 0.01 and s.end <= m.end + 0.01}

    groups: list[tuple[set[int], list[Moment]]] = []
    for m in moments:
        cover = covered(m) if m.kind not in run_kinds else set()
        hits = [g for g in groups if cover & g[0]]
        merged = (set(cover), [m])
        for g in hits:
            merged[0].update(g[0])
            merged[1].extend(g[1])
            groups.remove(g)
        groups.append(merged)
    out = []
    for cover, ms in groups:
        if len(ms) == 1:
            out.append(ms[0])
            continue
        ms.sort(key=lambda m: (-m.score, m.source == "detected", m.start, m.kind))
        best, rest = ms[0], ms[1:]
        start, end = min(m.start for m in ms), max(m.end for m in ms)
        text = best.text if best.start == start and best.end == end else \
            " ".join(sents[i].text for i in sorted(cover))
        also = [k for k in dict.fromkeys(m.kind for m in rest) if k != best.kind]
        label = best.label + "".join(f"; also {m.label[:1].lower() + m.label[1:]}" for m in rest
                                     if m.kind != best.kind or m.label != best.label)
        out.append(replace(best, start=start, end=end, text=text, label=label,
                           also=list(dict.fromkeys([*best.also, *also]))))
    return sorted(out, key=lambda m: (m.start, m.end, m.kind, m.label))
