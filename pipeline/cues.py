"""Spoken bookmark cues ("let me mark that"), found through the slips of speech recognition.

The one list of cue phrases is :data:`DEFAULT_CUES` (``bookmark_cues`` in ``ivp.toml`` replaces
it). :class:`CueMatcher` finds a cue in one sentence's words, normalised (lower case, no
punctuation or apostrophes, "book mark" joined). It accepts a sentence

* with the cue word for word, where the cue closes a clause ("Let me mark that." but not
  "Note that the price went up."), or
* with one slip, when the cue fills its clause (only fillers such as "okay", or a clause ending
  in a comma, before it; a tail word such as "one", or a comma, after it): one word mis-heard as a similar-sounding one ("let me mark Matt":
  the Metaphone keys differ by at most one sound, or both are pointing words such as this/that;
  in a two-word cue only the latter, or the action word),
  one filler inserted ("let me just mark that") or one short word dropped. The cue's action
  word (mark, flag, note ...) may only slip to a like-sounding word that is not a common one
  ("star" heard as "start", but not "note" as "not").

A cue in a question ("Did you mark that?") is never one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import jellyfish

DEFAULT_CUES: tuple[str, ...] = (
    "mark that", "let me mark that", "mark that one", "mark this", "let me mark this",
    "mark that as a highlight", "bookmark that", "bookmark this", "let's bookmark that",
    "let's bookmark that one", "let me bookmark that", "flag that", "let me flag that",
    "flag that as a highlight", "i'm flagging that", "i'm flagging that as a highlight",
    "note that", "note that down", "let me note that down", "make a note of that",
    "that's a highlight", "that is a highlight", "highlight that", "star that", "clip that",
    "let me clip that",
)
LANGUAGES = ("en",)  # the cue phrases (and the moment rules) are English

# The word in a cue that says what to do; it may only slip to a word that sounds the same.
ACTION_WORDS = frozenset("mark marking bookmark bookmarking flag flagging note noting highlight "
                         "star starring clip clipping".split())
POINTING_WORDS = frozenset("that this it those these the a".split())
# Said before a cue without changing it ("Okay, so, let me mark that.").
FILLERS = frozenset("okay ok so right great good alright oh well yeah yes and um uh hmm wow "
                    "perfect nice interesting cool".split())
COMMON_WORDS = frozenset("not no now know knew new market marked mac max flat flack black slack "
                         "clap clips stop stay stack".split())  # never heard for an action word
INSERTABLE = frozenset("just quickly quick actually also really go ahead and".split())
DROPPABLE = frozenset("me a that's let's".split())
TAIL_WORDS = frozenset("one down please now there here too again".split())
# Words that, right after a word-for-word cue, show a clause goes on ("note that the price ...").
CLAUSE_STARTS = frozenset("the a an it its this these those that we you i they he she there theres "
                          "your our my his her their in on at of for to from with about by as and "
                          "but or when if because all some so which who where what how".split())


def normalise(word: str) -> str:
    """Lower case without punctuation or apostrophes: "That's," -> "thats"."""
    word = word.replace("\u2019", "'").replace("\u2018", "'").lower()
    return re.sub(r"[^\w]+", "", word)


@dataclass(frozen=True)
class CueHit:
    first: int  # index of the sentence word where the cue starts
    last: int  # index of its last word
    cue: str
    slips: int  # 0: word for word; 1: one slip


def sound_key(word: str) -> str:
    """The Metaphone key of a normalised word (numbers stay as they are)."""
    return jellyfish.metaphone(word) if word.isalpha() else word


class CueMatcher:
    """Finds one of ``cues`` in a sentence's words (as Whisper wrote them, punctuation and all)."""

    def __init__(self, cues: Iterable[str] = DEFAULT_CUES):
        phrases = {tuple(normalise(w) for w in c.split() if normalise(w)) for c in cues}
        self.cues = sorted((p for p in phrases if p), key=len, reverse=True)
        self.vocabulary = {w for cue in self.cues for w in cue}

    def find(self, words: Sequence[str]) -> Optional[CueHit]:
        """The first cue in the sentence ``words``, word for word before one with a slip."""
        if not words:
            return None
        norms, index = self._join([normalise(w) for w in words])
        keep = [i for i, n in enumerate(norms) if n]
        norms, index = [norms[i] for i in keep], [index[i] for i in keep]
        raw = [words[i] for i in index]
        for j in range(len(norms)):
            for cue in self.cues:
                k = j + len(cue)
                if tuple(norms[j:k]) == cue and self._closes_clause(raw, norms, k) and not _asks(raw, k):
                    return CueHit(index[j], index[k - 1], " ".join(cue), 0)
        for j in range(len(norms)):
            if not self._lead_in(raw, norms, j):
                continue
            for cue in self.cues:
                for size in (len(cue), len(cue) + 1, len(cue) - 1):
                    k = j + size
                    if size < 2 or k > len(norms) or not self._tail(raw, norms, k) or _asks(raw, k):
                        continue
                    if _one_slip(cue, norms[j:k]):
                        return CueHit(index[j], index[k - 1], " ".join(cue), 1)
        return None

    def _join(self, norms: list[str]) -> tuple[list[str], list[int]]:
        """Join word pairs that together make a cue word ("book mark" -> "bookmark")."""
        out, index, i = [], [], 0
        while i < len(norms):
            if i + 1 < len(norms) and norms[i] + norms[i + 1] in self.vocabulary and norms[i + 1]:
                out.append(norms[i] + norms[i + 1])
                index.append(i)
                i += 2
            else:
                out.append(norms[i])
                index.append(i)
                i += 1
        return out, index

    @staticmethod
    def _closes_clause(raw: list[str], norms: list[str], k: int) -> bool:
        rest = norms[k:]
        return (not rest or bool(re.search(r"[.,;:!\-\u2014]$", raw[k - 1]))
                or (len(rest) <= 3 and rest[0] not in CLAUSE_STARTS))

    @staticmethod
    def _lead_in(raw: list[str], norms: list[str], j: int) -> bool:
        """Only fillers, or a clause closed by a comma, come before word ``j``."""
        if j == 0 or re.search(r"[,;:\-\u2014]$", raw[j - 1]):
            return True
        return all(n in FILLERS for n in norms[:j])

    @staticmethod
    def _tail(raw: list[str], norms: list[str], k: int) -> bool:
        """Nothing but a tail word ("one", "please") follows, or the clause ends with the cue."""
        rest = norms[k:]
        if len(rest) <= 1 and all(n in TAIL_WORDS for n in rest):
            return True
        return bool(re.search(r"[.,;:!\-\u2014]$", raw[k - 1]))


def _asks(raw: list[str], k: int) -> bool:
    """The clause holding the cue (which ends at word ``k - 1``) is a question."""
    for word in raw[k - 1:]:
        mark = re.search(r"[.,;:!?\-\u2014][\"')\]]*$", word)
        if mark:
            return mark.group()[0] == "?"
    return False


def _one_slip(cue: tuple[str, ...], heard: list[str]) -> bool:
    """``heard`` is ``cue`` with exactly one slip (a similar word, a filler added, a word dropped)."""
    if len(heard) == len(cue):
        diff = [i for i, (a, b) in enumerate(zip(cue, heard)) if a != b]
        if len(diff) != 1:
            return False
        said, got = cue[diff[0]], heard[diff[0]]
        if len(cue) == 2 and said not in ACTION_WORDS and not (said in POINTING_WORDS and got in POINTING_WORDS):
            return False  # two words with one mis-heard are too little evidence ("Mark said.")
        return _sounds_like(said, got)
    if len(heard) == len(cue) + 1:
        return any(heard[:i] + heard[i + 1:] == list(cue) and heard[i] in INSERTABLE
                   for i in range(len(heard)))
    if len(heard) == len(cue) - 1 and len(cue) >= 3:
        return any(list(cue[:i] + cue[i + 1:]) == heard and cue[i] in DROPPABLE for i in range(len(cue)))
    return False


def _sounds_like(said: str, heard: str) -> bool:
    a, b = sound_key(said), sound_key(heard)
    if said in ACTION_WORDS:  # "star" heard as "start", not "note" as "not"
        return (heard not in COMMON_WORDS and len(heard) > 2 and a[:1] == b[:1]
                and jellyfish.levenshtein_distance(a, b) <= 1)
    if said in POINTING_WORDS and heard in POINTING_WORDS:
        return True
    return len(a) >= 2 and len(b) >= 1 and jellyfish.levenshtein_distance(a, b) <= 1 and a[-1] == b[-1]


__all__ = ["DEFAULT_CUES", "LANGUAGES", "CueMatcher", "CueHit", "normalise", "sound_key"]
