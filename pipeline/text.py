"""What a sentence, a question (open / closed / leading) and a snippet are: decided here, once.

Roles, moments, the exports, the report and the study all read the transcript through this
module, so "questions asked" is one number everywhere.

* A **sentence** ends at a word that ends in ``.``, ``?`` or ``!`` (closing quotes and brackets
  allowed) where pysbd's rules (abbreviations, initials, times, numbers: "Dr.", "p.m.", "e.g.",
  "3.5") also end one: :func:`sentence_ends`. :func:`sentences` cuts plain text by it and
  :func:`timed_sentences` cuts an interview's segments by it, keeping word times.
* A **question** is a sentence that ends with ``?`` or opens like one ("what", "how", "can you",
  "tell me" ...; "erzählen Sie", "cuénteme", "racontez-moi"): :func:`is_question`. A sentence may
  hold several ("What did you do, did you call them?"): :func:`question_parts`.
* A question's **kind** is what a trainer would call it, with the **reason**
  (:func:`classify`, :class:`Asked`): *leading* when it suggests its answer (a tag question
  "..., isn't it?", a negative question "Isn't it annoying ...?", a declarative question "You must
  have been frustrated?", a presupposing one "How much time does that waste you?", an opinion
  offered "don't you think ..."), *closed* when the answer space is fixed (yes / no, a choice, a
  number, a scale "on a scale from one to five"), else *open* (an invitation such as "Is there
  anything else you would like to add?" included). The word tables are per language (en, de, es,
  fr: :mod:`pipeline.question_rules`); a sentence carries its segment's language.
* A **snippet** is the first words of a text, cut at a word, with "..." (:func:`shorten`).

Cue phrases ("let me mark that") are :mod:`pipeline.cues`'s, re-exported here
(``DEFAULT_CUES``, ``CueMatcher``): the cue rules need the sound-alike matching that lives there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional, Sequence

import pysbd

from .interview import INTERVIEWER, Interview

from . import question_rules as qr
from .question_rules import QuestionRules

QUESTION_OPENINGS = re.compile(qr.QUESTION_OPENINGS_EN, re.I)  # English; other languages: question_rules
QUESTION_KINDS = ("open", "closed", "leading")
_SEVERITY = {"open": 0, "closed": 1, "leading": 2}

_SENTENCE_END = re.compile(r"[.?!][\"')\]]*$")


def compile_patterns(patterns: Iterable[str]) -> re.Pattern:
    """One regular expression for a table row: each pattern matched as whole words
    (a pattern starting with ``^`` is anchored at the sentence start instead)."""
    return re.compile("|".join(rf"(?:{p}(?!\w))" if p.startswith("^") else rf"(?:\b{p}(?!\w))"
                               for p in patterns))


def _compile_words(patterns: Iterable[str]) -> re.Pattern:
    """Like :func:`compile_patterns`, for patterns that may start with punctuation (", isn't it")
    or a letter \\b does not know ("¿", "à")."""
    def word_first(p: str) -> bool:
        return (p[1] if p.startswith("(") else p[0]).isalnum()
    return re.compile("|".join(rf"(?:(?<!\w){p}(?!\w))" if word_first(p) else rf"(?:{p}(?!\w))"
                               for p in patterns))


def plain(text: str) -> str:
    """Typographic quotes made plain."""
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


def norm(word: str) -> str:
    """A word for matching: lower case, plain apostrophes, no punctuation around it."""
    return re.sub(r"^[^\w']+|[^\w']+$", "", plain(word).lower()).strip("'")


def ends_sentence(word: str) -> bool:
    return bool(_SENTENCE_END.search(word))


@lru_cache(maxsize=None)
def _segmenter(language: str) -> pysbd.Segmenter:
    try:
        return pysbd.Segmenter(language=language, clean=False, char_span=True)
    except ValueError:  # a language pysbd has no rules for: English ones
        return _segmenter("en")


def sentence_ends(words: Sequence[str], language: Optional[str] = None) -> list[int]:
    """The indices of the words that end a sentence (the last word always does). A word ending
    in ``.?!`` ends one unless pysbd reads it as an abbreviation, an initial, a time or a number
    ("Dr.", "p.m.", "U.S.", "No. 5"); pysbd only ever removes ends, so none appears mid-word."""
    if not words:
        return []
    last = len(words) - 1
    inner = [i for i in range(last) if ends_sentence(words[i])]
    if not inner:
        return [last]
    lang = (language or qr.DEFAULT_LANGUAGE).lower().split("-")[0]
    offsets, pos = {}, 0
    for i, w in enumerate(words):
        pos += len(w)
        offsets[pos] = i
        pos += 1
    spans = _segmenter(lang).segment(" ".join(words))
    found = {offsets[span.start + len(span.sent.rstrip())] for span in spans
             if span.start + len(span.sent.rstrip()) in offsets}
    return [i for i in inner if i in found] + [last]


def sentences(text: str, language: Optional[str] = None) -> list[str]:
    """``text`` cut into sentences (the words kept as they are, joined by one space)."""
    words = text.split()
    out, first = [], 0
    for end in sentence_ends(words, language):
        out.append(" ".join(words[first:end + 1]))
        first = end + 1
    return out


# -- questions and their kinds ----------------------------------------------------------------------

@dataclass(frozen=True)
class Asked:
    """One question, its kind, why (``reason``: "tag question", "yes/no", "invitation" ...) and the
    words that decided it (``phrase``, "" when the whole form decided)."""

    text: str
    kind: str
    reason: str
    phrase: str = ""
    language: str = qr.DEFAULT_LANGUAGE

    @property
    def why(self) -> str:
        """The reason with the words that decided it: 'tag question: "isn't it"'."""
        return f'{self.reason}: "{self.phrase}"' if self.phrase else self.reason


class _Compiled:
    """One language's tables, compiled once."""

    def __init__(self, r: QuestionRules):
        self.rules = r
        self.fillers = re.compile(rf"^(?:(?:{r.fillers})(?![\w'])[,.]?\s+)+")
        wh = "|".join(w if w.endswith("'") else rf"{w}(?![\w'])" for w in r.wh.split("|"))
        self.wh = re.compile(rf"^(?:{wh})")
        self.openings = re.compile(r.openings, re.I) if r.openings else None
        self.stacked = re.compile(r.stacked) if r.stacked else None
        for name in ("scale", "tags", "bare_tags", "negative", "suggest", "loaded", "balanced", "invitation",
                     "choice", "number", "yes_no", "declarative"):
            patterns = getattr(r, name)
            setattr(self, name, _compile_words(patterns) if patterns else None)


_RULES = {lang: _Compiled(r) for lang, r in qr.RULES.items()}


def _rules(language: Optional[str]) -> Optional[_Compiled]:
    lang = (language or qr.DEFAULT_LANGUAGE).lower().split("-")[0]
    return _RULES.get(lang)


def _clean(sentence: str) -> str:
    """Lower case, plain quotes, one space, no space before "?" (French), quoted words blanked."""
    t = " ".join(plain(sentence).lower().split())
    t = re.sub(r"\s+([?!])", r"\1", t)
    t = re.sub(r'"[^"]*"|«[^»]*»|„[^"“]*["“]', '"..."', t)
    return t.strip().lstrip("-\"' ")


def is_question(sentence: str, language: Optional[str] = None) -> bool:
    """Ends with "?" or opens like a question ("what ...", "can you ...", "tell me ...";
    "erzählen Sie ...", "cuénteme ...", "racontez-moi ..." in ``language``); English when not given."""
    s = sentence.strip()
    if s.endswith("?"):
        return True
    r = _rules(language) or _RULES[qr.DEFAULT_LANGUAGE]
    return bool(r.openings and r.openings.match(s.lstrip("\"'- ").lower()))


def question_parts(sentence: str, language: Optional[str] = None) -> list[str]:
    """``sentence`` cut where one question ends and the next starts: "What happened? Did you call
    them?" is two, and so is "What did you do, did you call them?" (a second question after a comma)."""
    r = _rules(language)
    out = []
    for part in sentences(sentence, language):
        if r and r.stacked and r.wh.match(r.fillers.sub("", _clean(part))):
            cut = r.stacked.search(plain(part).lower())
            if cut:
                first, second = part[:cut.start()].rstrip(" ,"), part[cut.end():]
                out += [first + "?", second[:1].upper() + second[1:]]
                continue
        out.append(part)
    return out


def classify(sentence: str, language: Optional[str] = None) -> Optional[Asked]:
    """The kind of one question (``None`` for a sentence that is not one), read in ``language``
    (``None``: English). The first step that matches decides:

    1. a scale or rating ("on a scale from one to five") - closed;
    2. a tag asking for agreement ("..., isn't it?", "..., right?", "..., oder?") - leading;
    3. a negative question ("Isn't it annoying ...?", "Don't you ...?") - leading;
    4. an opinion offered for agreement ("don't you think", "would you agree", "surely") - leading;
    5. a loaded word: a feeling, problem or benefit taken as given ("How much time does that
       waste you?", "Was that frustrating?"), unless both sides are offered ("easy or hard") - leading;
    6. an invitation to talk ("Is there anything else ...?", "Can you tell me ...?") - open;
    7. a question word first: "how many / often / long" and "which one" - closed, else open;
    8. a choice between options ("email or Slack?") - closed;
    9. wants a yes or no (an auxiliary verb first; in Spanish and French any other question) - closed;
    10. a statement with "?" ("You must have been frustrated?", English and German) - leading;
    11. anything else - open.
    """
    if not is_question(sentence, language):
        return None
    text = sentence.strip()
    lang = (language or qr.DEFAULT_LANGUAGE).lower().split("-")[0]
    r = _rules(lang)
    if r is None:
        return Asked(text, "open", f"not read: {lang}", "", lang)
    full = whole = _clean(text)
    if "¿" in full:  # "Entonces, ¿lo hace ...?": the question is what follows the "¿"
        head, _, rest = full.rpartition("¿")
        full = rest if rest.rstrip("?") and not r.tags.search(full) else full.replace("¿", "")
    lower = r.fillers.sub("", full)
    asks = lower.endswith("?")

    def found(kind: str, reason: str, m: Optional[re.Match] = None) -> Asked:
        return Asked(text, kind, reason, (m.group(0).strip(" ,?") if m else ""), lang)

    wh = r.wh.match(lower)
    if m := r.scale.search(whole):
        return found("closed", "scale question", m)
    if m := r.tags.search(whole):
        return found("leading", "tag question", m)
    if not wh and r.bare_tags and (m := r.bare_tags.search(lower)) and not (
            (r.yes_no and r.yes_no.match(lower)) or r.negative.match(lower)):
        return found("leading", "tag question", m)
    if not wh and (m := r.negative.search(lower)):
        return found("leading", "negative question", m)
    if m := r.suggest.search(lower):
        return found("leading", "suggests the answer", m)
    if (m := r.loaded.search(lower)) and not r.balanced.search(lower):
        return found("leading", "presupposes" if wh else "suggests a feeling", m)
    if m := r.invitation.search(lower):
        return found("open", "invitation", m)
    if wh:
        if m := r.number.search(lower):
            return found("closed", "asks for a number", m)
        if (m := r.choice.search(lower)) and m.group(0).startswith(("which", "welch", "cuál", "lequel", "laquelle")):
            return found("closed", "choice", m)
        return found("open", "open question")
    if m := r.choice.search(lower):
        return found("closed", "choice", m)
    if r.yes_no and r.yes_no.match(lower):
        return found("closed", "yes/no")
    if r.rules.intonation_yes_no and asks:
        return found("closed", "yes/no")
    if asks and r.declarative and r.declarative.match(lower) and len(lower.split()) >= 3:
        return found("leading", "declarative question")
    return found("open", "invitation" if r.openings and r.openings.match(lower) else "open question")


def classify_all(text: str, language: Optional[str] = None) -> list[Asked]:
    """Every question in ``text``, one :class:`Asked` each: "What happened? Did you call them?"
    is an open question, then a closed one."""
    return [a for a in (classify(p, language) for p in question_parts(text, language)) if a]


def question_kind(sentence: str, language: Optional[str] = None) -> Optional[str]:
    """``"leading"``, ``"closed"`` or ``"open"`` for a question; None for any other sentence.
    Several questions in ``sentence``: the most pointed kind (see :func:`classify_all` for each)."""
    asked = classify_all(sentence, language)
    return max((a.kind for a in asked), key=_SEVERITY.__getitem__) if asked else None


def question_reason(sentence: str, language: Optional[str] = None) -> Optional[str]:
    """Why the question has its kind ('tag question: "isn't it"'), None for any other sentence."""
    asked = classify_all(sentence, language)
    return "; ".join(a.why for a in asked) if asked else None


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
    language: Optional[str] = None  # the segment's (else the interview's) language

    @property
    def text(self) -> str:
        return " ".join(t.text for t in self.tokens).strip()

    @property
    def lower(self) -> str:
        return plain(self.text).lower()

    @property
    def question(self) -> Optional[str]:
        """Its question kind (open / closed / leading), None when it is not a question."""
        return question_kind(self.text, self.language)

    @property
    def asked(self) -> list[Asked]:
        """Each question in it with its kind and reason (:func:`classify_all`)."""
        return classify_all(self.text, self.language)


def timed_sentences(interview: Interview) -> list[Sentence]:
    """Every segment cut at sentence ends, in time order, with word times (without words: the
    segment's time shared out by character count)."""
    out: list[Sentence] = []
    for seg in sorted(interview.segments, key=lambda s: (s.start, s.end)):
        role = seg.role or interview.role_of(seg.speaker)
        language = seg.language or interview.language
        if seg.words:
            tokens = [Token(w.start, w.end, w.word.strip(), norm(w.word)) for w in seg.words if w.word.strip()]
        else:
            tokens = spread(seg.start, seg.end, seg.text)
        first = 0
        for end in sentence_ends([t.text for t in tokens], language):
            current = tokens[first:end + 1]
            out.append(Sentence(current[0].start, current[-1].end, current, role, seg.speaker, language))
            first = end + 1
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
            if s.role == role and is_question(s.text, s.language)]


def question_counts(interview: Interview, role: str = INTERVIEWER) -> dict[str, int]:
    """``{"questions": n, "open": .., "closed": .., "leading": ..}`` for ``role``: one count per
    question, so a stacked "What did you do, did you call them?" is two."""
    kinds = [a.kind for s in questions(interview, role) for a in s.asked]
    return {"questions": len(kinds), **{k: kinds.count(k) for k in QUESTION_KINDS}}


# -- snippets ---------------------------------------------------------------------------------------

def one_line(text: str) -> str:
    return " ".join(str(text).split())


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: one line, and a leading ``= + - @`` (a formula
    in Excel, LibreOffice and Google Sheets) neutralised with a leading apostrophe. Every CSV
    ivp writes uses it (exports' moments.csv, the study's progress.csv)."""
    text = one_line(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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

