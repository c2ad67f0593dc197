"""A sentence's words corrected: ``old`` words (as heard) become ``new`` ones, each change found
in the transcript by its words, so it survives reprocessing where those words are still there.

The change is cut into pieces with :class:`difflib.SequenceMatcher` over the normalised tokens
(``text.norm``): each replaced, inserted or deleted run of words is found again by the old words
around it (one word of context each side), nearest the correction's time. A piece already applied
(its new words stand there) is left alone, so applying twice changes nothing. New words take the
time of the old words they replace, shared out by length; an inserted word sits between its
neighbours. A piece whose old words are no longer there is not applied and is reported."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Optional

from ..interview import Interview, Segment, Word
from ..text import norm, spread

WINDOW_S = 3.0  # how far from the saved time the words may have moved


@dataclass
class _Place:
    seg: Segment
    index: int  # first word of the match (of the anchor) in seg.words
    distance: float


def tokens(text: str) -> list[str]:
    return text.split()


def correct(iv: Interview, start: float, end: float, old: str, new: str) -> list[str]:
    """Apply one correction to ``iv``; the old words of the pieces that no longer align."""
    old_raw, new_raw = tokens(old), tokens(new)
    old_n, new_n = [norm(w) for w in old_raw], [norm(w) for w in new_raw]
    missing = []
    ops = [op for op in difflib.SequenceMatcher(None, old_n, new_n, autojunk=False).get_opcodes() if op[0] != "equal"]
    if not ops and old_raw != new_raw:  # punctuation or case only: the whole run is the piece
        ops = [("replace", 0, len(old_raw), 0, len(new_raw))]
    for _tag, i1, i2, j1, j2 in ops:
        lo, hi = max(0, i1 - 1), min(len(old_raw), i2 + 1)
        before, after = old_raw[lo:i1], old_raw[i2:hi]
        done = _find(iv, [*map(norm, before), *new_n[j1:j2], *map(norm, after)], start, end,
                     exact=[*before, *new_raw[j1:j2], *after])
        if done is not None:
            continue  # already applied
        place = _find(iv, old_n[lo:hi], start, end)
        if place is None:
            missing.append(" ".join(old_raw[i1:i2]) or f"(before {' '.join(after) or 'the end'})")
            continue
        first = place.index + (i1 - lo)
        _replace(place.seg, first, first + (i2 - i1), new_raw[j1:j2])
    return missing


def _words(seg: Segment) -> list[Word]:
    """The segment's words; a segment without them gets them from its text (times shared out)."""
    if not seg.words and seg.text.strip():
        seg.words = [Word(t.start, t.end, (" " if k else "") + t.text) for k, t in
                     enumerate(spread(seg.start, seg.end, seg.text))]
    return seg.words


def _find(iv: Interview, wanted: list[str], start: float, end: float,
          exact: Optional[list[str]] = None) -> Optional[_Place]:
    """Where the run ``wanted`` (normalised words) stands nearest ``start``-``end``."""
    if not wanted:
        return None
    best: Optional[_Place] = None
    for seg in iv.segments:
        if seg.end < start - WINDOW_S or seg.start > end + WINDOW_S:
            continue
        words = _words(seg)
        norms = [norm(w.word) for w in words]
        n = len(wanted)
        for k in range(len(words) - n + 1):
            if norms[k:k + n] != wanted:
                continue
            if exact is not None and [w.word.strip() for w in words[k:k + n]] != exact:
                continue
            t0, t1 = words[k].start, words[k + n - 1].end
            if t1 < start - WINDOW_S or t0 > end + WINDOW_S:
                continue
            distance = abs(t0 - start)
            if best is None or distance < best.distance:
                best = _Place(seg, k, distance)
    return best


def _replace(seg: Segment, a: int, b: int, new: list[str]) -> None:
    """seg.words[a:b] become ``new``, timed from the words they replace; seg.text follows."""
    words = seg.words
    if a < b:
        t0, t1 = words[a].start, words[b - 1].end
    else:  # an insertion: between the neighbours
        t0 = words[a - 1].end if a > 0 else seg.start
        t1 = words[a].start if a < len(words) else seg.end
        t1 = max(t0, t1)
    total = sum(len(w) + 1 for w in new) or 1
    made, t = [], t0
    lead = " " if (words and words[0].word.startswith(" ")) or a > 0 else ""
    for k, w in enumerate(new):
        d = (t1 - t0) * (len(w) + 1) / total
        made.append(Word(round(t, 3), round(t + d, 3), (lead if k == 0 else " ") + w, 1.0))
        t += d
    if made and a == 0 and b < len(words) and not words[b].word.startswith(" "):
        words[b].word = " " + words[b].word
    seg.words = words[:a] + made + words[b:]
    text = "".join(w.word for w in seg.words)
    seg.text = text if seg.text.startswith(" ") else text.strip()
