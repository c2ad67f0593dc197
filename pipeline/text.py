"""What a sentence, a question (open / closed / leading) and a snippet are: decided here, once.

Roles, moments, the exports, the report and the study all read the transcript through this
module, so "questions asked" is one number everywhere.

* A **sentence** ends at a word that ends in ``.``, ``?`` or ``!`` (closing quotes and brackets
  allowed); :func:`sentences` cuts plain text by that rule and :func:`timed_sentences` cuts an
  interview's segments by it, keeping word times.
* A **question** is a sentence that ends with ``?`` or opens like one ("what", "how", "can you",
  "tell me" ...): :func:`is_question`. Its kind (:func:`question_kind`) is *leading* when it
  suggests the answer ("wouldn't it be great ...", "don't you think"), *closed* when it opens
  with an auxiliary verb and wants a yes or no ("Do you ...?", but not "Can you tell me ...?"),
  else *open*.
* A **snippet** is the first words of a text, cut at a word, with "..." (:func:`shorten`).

Cue phrases ("let me mark that") are :mod:`pipeline.cues`'s, re-exported here
(``DEFAULT_CUES``, ``CueMatcher``): the cue rules need the sound-alike matching that lives there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from .cues import DEFAULT_CUES, CueMatcher  # noqa: F401  (re-exported: the cue phrases)
from .interview import INTERVIEWER, Interview

QUESTION_OPENINGS = re.compile(
    r"^(what|how|why|when|where|who|whom|which|whose|can you|could you|would you|will you|"
    r"do you|did you|does|have you|has|had you|is there|is it|are you|were you|was it|"
    r"tell me|walk me through|describe|talk me through|say more|anything else)\b", re.I)

# Questions that suggest their answer (matched anywhere in the question, lower case).
LEADING_PATTERNS: tuple[str, ...] = (
    r"wouldn'?t it be (great|nice|better|good|easier|cool|useful)", r"don'?t you think",
    r"wouldn'?t you (agree|say)", r"isn'?t it (true|fair|better|easier)", r"you'?d agree",
    r"surely", r"i'?m guessing you", r"i bet you", r"so you'?(d|ll| would| will)\b.*\bright ?\?$",
    r"you (must|probably) (hate|love|find|want)",
)
# Questions that want a yes or no: an auxiliary verb first (after fillers) and a "?" at the end.
CLOSED_PATTERNS: tuple[str, ...] = (
    r"^((so|and|but|okay|ok|um|uh|well|right|now),? )*(do|does|did|is|are|was|were|can|could|would|"
    r"will|have|has|had|should|shall|may|might|am|isn'?t|aren'?t|don'?t|doesn'?t|didn'?t|won'?t|"
    r"wouldn'?t|can'?t|couldn'?t|haven'?t|hasn'?t)\b[^?]*\?$",
)
CLOSED_UNLESS: tuple[str, ...] = (  # polite open invitations: "Can you tell me about ...?"
    r"(can|could|would|will) you (please )?(tell|walk|talk|take) (me|us)",
    r"(can|could|would) you (describe|explain|share|show)",
    r"(can|could) you say more",
)
QUESTION_KINDS = ("open", "closed", "leading")

_SENTENCE_END = re.compile(r"[.?!][\"')\]]*$")


def compile_patterns(patterns: Iterable[str]) -> re.Pattern:
    """One regular expression for a table row: each pattern matched as whole words
    (a pattern starting with ``^`` is anchored at the sentence start instead)."""
    return re.compile("|".join(rf"(?:{p}(?!\w))" if p.startswith("^") else rf"(?:\b{p}(?!\w))"
                               for p in patterns))


_LEADING = compile_patterns(LEADING_PATTERNS)
_CLOSED = compile_patterns(CLOSED_PATTERNS)
_CLOSED_UNLESS = compile_patterns(CLOSED_UNLESS)


def plain(text: str) -> str:
    """Typographic quotes made plain."""
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


def norm(word: str) -> str:
    """A word for matching: lower case, plain apostrophes, no punctuation around it."""
    return re.sub(r"^[^\w']+|[^\w']+$", "", plain(word).lower()).strip("'")


def ends_sentence(word: str) -> bool:
    return bool(_SENTENCE_END.search(word))


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences (the words kept as they are, joined by one space)."""
    out: list[str] = []
    current: list[str] = []
    for word in text.split():
        current.append(word)
        if ends_sentence(word):
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return out


def is_question(sentence: str) -> bool:
    """Ends with "?" or opens like a question ("what ...", "can you ...", "tell me ...")."""
    s = sentence.strip()
    return s.endswith("?") or bool(QUESTION_OPENINGS.match(s.lstrip("\"'- ").lower()))


def question_kind(sentence: str) -> Optional[str]:
    """``"leading"``, ``"closed"`` or ``"open"`` for a question; None for any other sentence."""
    if not is_question(sentence):
        return None
    lower = plain(sentence.strip()).lower()
    if _LEADING.search(lower):
        return "leading"
    if _CLOSED.search(lower) and not _CLOSED_UNLESS.search(lower):
        return "closed"
    return "open"


def leading_phrase(sentence: str) -> Optional[str]:
    """The words that make a question leading (for a label), or None."""
    m = _LEADING.search(plain(sentence.strip()).lower()) if is_question(sentence) else None
    return m.group(0).strip() if m else None


def closed_phrase(sentence: str) -> Optional[str]:
    """The words that make a question closed (for a label), or None."""
    if question_kind(sentence) != "closed":
        return None
    return _CLOSED.search(plain(sentence.strip()).lower()).group(0).strip()  # type: ignore[union-attr]


# -- timed sentences: the unit moments, exports and the report read --------------------------------

@dataclass
class Token:
    start: float
    end: float
    text: str
    norm: str


@dataclass
class Sentence:
    start: float
    end: float
    tokens: list[Token]
    role: Optional[str]
    speaker: Optional[str]

    @property
    def text(self) -> str:
        return " ".join(t.text for t in self.tokens).strip()

    @property
    def lower(self) -> str:
        return plain(self.text).lower()

    @property
    def question(self) -> Optional[str]:
        """Its question kind (open / closed / leading), None when it is not a question."""
        return question_kind(self.text)


def timed_sentences(interview: Interview) -> list[Sentence]:
    """Every segment cut at sentence ends, in time order, with word times (without words: the
    segment's time shared out by character count)."""
    out: list[Sentence] = []
    for seg in sorted(interview.segments, key=lambda s: (s.start, s.end)):
        role = seg.role or interview.role_of(seg.speaker)
        if seg.words:
            tokens = [Token(w.start, w.end, w.word.strip(), norm(w.word)) for w in seg.words if w.word.strip()]
        else:
            tokens = spread(seg.start, seg.end, seg.text)
        current: list[Token] = []
        for tok in tokens:
            current.append(tok)
            if ends_sentence(tok.text):
                out.append(Sentence(current[0].start, current[-1].end, current, role, seg.speaker))
                current = []
        if current:
            out.append(Sentence(current[0].start, current[-1].end, current, role, seg.speaker))
    return out


def spread(start: float, end: float, text: str) -> list[Token]:
    """Words without times: share the segment's time out by character count."""
    words = text.split()
    total = sum(len(w) + 1 for w in words) or 1
    tokens, t = [], start
    for w in words:
        d = (end - start) * (len(w) + 1) / total
        tokens.append(Token(round(t, 3), round(t + d, 3), w, norm(w)))
        t += d
    return tokens


def questions(interview: Interview, role: str = INTERVIEWER,
              sents: Optional[list[Sentence]] = None) -> list[Sentence]:
    """The questions ``role`` asked (the interviewer's by default), in time order."""
    return [s for s in (sents if sents is not None else timed_sentences(interview))
            if s.role == role and is_question(s.text)]


def question_counts(interview: Interview, role: str = INTERVIEWER) -> dict[str, int]:
    """``{"questions": n, "open": .., "closed": .., "leading": ..}`` for ``role``."""
    kinds = [question_kind(s.text) for s in questions(interview, role)]
    return {"questions": len(kinds), **{k: kinds.count(k) for k in QUESTION_KINDS}}


# -- snippets ---------------------------------------------------------------------------------------

def one_line(text: str) -> str:
    return " ".join(str(text).split())


def shorten(text: str, width: int) -> str:
    """``text`` on one line, at most ``width`` characters, cut at a word and ended with "..."."""
    text = one_line(text)
    if len(text) <= width:
        return text
    cut = text[:width - 3]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return cut.rstrip(",;:.- ") + "..."


def snippet(text: str, width: int = 48) -> str:
    """The first words of ``text``, at most ``width`` characters."""
    return shorten(text, width)
