"""One moment per sentence: moments that point at the same sentence (a spoken bookmark, a
marker-file mark, a highlight, a coaching question) are merged, so an export gets one marker and
one clip for them, with all their kinds (``Moment.also``)."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
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
    order = sorted(range(len(sents)), key=lambda i: sents[i].start)
    starts = [sents[i].start for i in order]

    def covered(m: Moment) -> set[int]:  # the sentences inside the moment (10 ms either side)
        first = bisect_left(starts, m.start - 0.01)
        out = set()
        for k in range(first, bisect_right(starts, m.end + 0.01)):
            if sents[order[k]].end <= m.end + 0.01:
                out.add(order[k])
        return out

    groups: dict[int, tuple[set[int], list[Moment]]] = {}  # by number, in the order first seen
    owner: dict[int, int] = {}  # sentence index -> the group holding it
    for n, m in enumerate(moments):
        cover = covered(m) if m.kind not in run_kinds else set()
        cover_all, members = set(cover), [m]
        for g in sorted({owner[i] for i in cover if i in owner}):
            old_cover, old_members = groups.pop(g)
            cover_all |= old_cover
            members = old_members + members
        groups[n] = (cover_all, members)
        owner.update((i, n) for i in cover_all)
    out = []
    for cover, ms in groups.values():
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
