"""Highlights a researcher would keep: the interviewee's pain points, workarounds, wishes, stories
and strong emotions, found in what they say and in what they were asked.

Two tables, both read in English (``HIGHLIGHT_LANGUAGES``):

* ``HIGHLIGHT_RULES``: a row per kind, regular expressions matched (as whole words) against one
  interviewee sentence in lower case; a row's ``needs`` must also match (a story needs a verb in
  the past, a workaround someone doing it), its ``unless`` must not ("hard to say" is no pain
  point), and it reads only sentences of at least ``min_words`` words. A bare word list without
  context does not hold: "engraved in relief" is no emotion, "We have a meeting every Monday"
  no workaround, "For example, we use it for invoices" no story, "I love that question" no
  emotion; such patterns were cut.
* ``ANSWER_RULES``: what the question asked for. The first sentence of the answer to "What is the
  hardest part?" is a pain point, to "What would help you?" a wish, to "Can you remember a time
  when ...?" a story, to "How did that make you feel?" an emotion, when it says something (at
  least ``ANSWER_MIN_WORDS`` words, not "No, not really.").

One highlight per sentence (the best-scored kind; the label names the others); a short one takes
in the speaker's next sentences up to ``MIN_HIGHLIGHT_S``. Measured precision, recall and density
on labelled constructed interviews: scripts/bench_highlights.py and docs/moments-and-exports.md.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Optional

from ..interview import INTERVIEWEE, INTERVIEWER, Interview, Moment
from ..text import Sentence, compile_patterns, is_question, shorten

DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
SEASONS = "spring|summer|autumn|fall|winter"
FEELINGS = ("angry|furious|livid|frustrated|annoyed|upset|scared|terrified|stressed|worried|embarrassed|"
            "thrilled|excited|relieved|ashamed|devastated|desperate|miserable|nervous|terrible|awful|"
            "fed up|sick of it|heartbroken")
SAID_FEELINGS = "scary|embarrassing|frustrating|annoying|stressful|awful|terrible|horrible|infuriating|a relief|humiliating"
SOMEONE = r"\b(i|we|our|my|people|everybody|everyone|they|most of us|most people)\b"
PAST = (r"\b(was|were|had|did|went|came|took|sent|lost|left|forgot|got|made|said|told|broke|found|saw|"
        r"thought|knew|ran|fell|gave|threw|drove|sat|wrote|paid|bought|sold|spent|built|put|\w{3,}ed)\b")


@dataclass(frozen=True)
class Rule:
    """One kind of moment found in what someone says: any of ``patterns`` in a sentence."""

    kind: str
    title: str  # how the label starts
    role: str  # whose speech the rule reads
    score: float  # the base score; the best few moments are kept by score
    patterns: tuple[str, ...]
    unless: tuple[str, ...] = ()  # a sentence matching any of these is not this kind
    needs: str = ""  # ... and one that does not match this (a regular expression) is not either
    min_words: int = 0  # a shorter sentence is not this kind


# What the interviewee says that an editor or researcher will want to find again.
HIGHLIGHT_RULES: tuple[Rule, ...] = (
    Rule("wish", "Wish", INTERVIEWEE, 0.85, (
        r"i wish", r"it would be (so |really )?(great|nice|amazing|awesome|cool|helpful|good|easier|better) if",
        r"would (be|love) (great|nice) to have", r"if only", r"i'?d love (it )?(if|to have|a way|to see|to be able)",
        r"what i('?d)? (really )?want(ed)? is", r"i want(ed)? a way", r"i'?d (happily )?pay for",
        r"there should be", r"why can'?t (it|i|we|they)", r"feature request",
        r"(i'?d|i would) (really )?(want|like) (it|a|one|something|to have|to be able)",
        r"if (it|they|the \w+|the \w+ \w+) could",
    )),
    Rule("pain_point", "Pain point", INTERVIEWEE, 0.8, (
        r"the (biggest |main |real |only )?(problem|issue|challenge) (is|was)", r"(a|such a|the|real) pain",
        r"painful", r"takes (forever|ages|hours|days)", r"waste (of )?(time|hours|a day)",
        r"drives? me (crazy|nuts|mad)", r"struggl\w*", r"nightmare",
        r"(doesn'?t|didn'?t|never|just doesn'?t) work", r"(really |so )?(hard|difficult) to",
        r"(keeps|kept) (breaking|crashing|failing)", r"error[- ]prone", r"tedious",
        r"(have|had) to start (all )?over", r"(don'?t|doesn'?t|didn'?t) match", r"slows? (me|us) down",
        r"couldn'?t (get|find|see|do)", r"(i|we) (can'?t|cannot) (see|find|tell|get)",
        r"there'?s no (way|filter|option|button|place)", r"no way to", r"took (me|us) (most of|all|the whole|a whole)",
        r"(is|are|was|were) the worst", r"the worst (part|thing)", r"(really|so|too|very|painfully|incredibly) slow",
        r"gets? (\w+ ){0,3}wrong", r"(gets?|got) stuck", r"half the time", r"one by one", r"takes \w+ clicks",
        r"(don'?t|doesn'?t|won'?t|didn'?t) (update|sync|save|load|refresh|show|know|remember)",
        r"(i|we) (have|had) to (?!say|admit|thank|go now)\w+", r"(i|we) (can'?t|cannot) (?!complain|say|remember|wait|thank)\w+",
        r"can only", r"never stops", r"forgets? to", r"(don'?t|doesn'?t) (write|say|tell|send|fill in|include|read)",
        r"(lose|loses|lost|losing) (a |the |my |our )?(whole )?(day|weekend|morning|afternoon|evening|week|hours)",
        r"(can )?takes? (a |two |three |several |a few )?(weeks?|months?)",
    ), unless=(r"(hard|difficult) to (say|tell|blame|believe|imagine|know|describe)",)),
    Rule("workaround", "Workaround", INTERVIEWEE, 0.75, (
        r"(we|i|they) ended up", r"(i|we) (just |then |still )?export", r"work ?arounds?", r"work around", r"copy(ing)? (and|&) past(e|ing)",
        r"(a|my|our) (little |own )?(script|hack|macro|tracker)",
        r"by hand", r"manually", r"on paper", r"in person", r"out loud", r"sticky notes?", r"post-?its?",
        r"(keep|keeps|kept|maintain|use) (a |an |our |my |their )?(own |shared |second |separate |paper |printed |little )?"
        r"(spreadsheets?|excel( files?| sheets?)?|notebooks?|lists?|documents?|maps?)",
        r"^so (i|we) (just |then |always |usually )?(?!think|guess|mean|would|was|were|am|are|have|had|ended|don'?t|do\b)\w+",
        r"since then (i|we)", r"(set|put) (a|an) (reminder|alarm)", r"^now (i|we) (just |always )?(?!think|know|have|am|are|do)\w+",
        r"(i|we) started \w+ing", r"(that'?s|it'?s|is) the only way",
        r"because the (\w+ ){1,2}(always|never|has no|have no|doesn'?t|don'?t|can'?t|cannot|won'?t)",
    ), needs=SOMEONE),
    Rule("emotion", "Emotion", INTERVIEWEE, 0.6, (
        rf"(was|were|am|is|are|felt|feel|get|got|'m|'re) (so |really |pretty |very |quite |absolutely |just |honestly )*({FEELINGS})",
        rf"(it'?s|it was|that'?s|that was|it is|that is) (so |really |pretty |a bit |quite |honestly |just |such )*({SAID_FEELINGS})",
        r"frustrat\w*", r"annoy\w*", r"embarrass\w*", r"furious",
        r"(such|what) a relief", r"i (really |just )?(hate|love|can'?t stand) (it|this|that|when|how|the)",
        r"makes? me (so |really )?(angry|mad|sad|nervous|crazy|furious)", r"(really|so) (frustrating|annoying|stressful)",
        r"really hurts", r"wanted to (scream|cry|quit|throw|give up)",
        r"(felt|feel|feeling) (so |really |pretty |quite )?(sick|bad|guilty|stupid|helpless|awful|terrible|horrible)",
        r"(i|she|he|they) cried", r"in tears", r"beside (her|him|my|them)sel(f|ves)", r"wears? (me|you|us) (down|out)",
    ), unless=(r"(that|the|this|your|a good|great) question",)),
    Rule("story", "Story", INTERVIEWEE, 0.65, (
        r"the last time", r"yesterday", rf"last (week|month|year|quarter|night|time|{SEASONS}|{DAYS})",
        r"the other day", r"one time", r"^once", r"i remember (when|one|the|once)", r"this morning",
        r"(a|one|two|three|four|five|few|couple of) (days|weeks|months|years) ago", r"there was this time",
        rf"in ({MONTHS})",
    ), needs=PAST, min_words=8),
)

# What the question asked for: the first sentence of the answer is that kind (when it says something).
ANSWER_RULES: tuple[Rule, ...] = (
    Rule("pain_point", "Pain point", INTERVIEWER, 0.7, (
        r"(hardest|worst|most (annoying|difficult|frustrating|painful)) (part|thing)", r"biggest (problem|challenge|issue|headache)",
        r"what (goes|went) wrong", r"what (frustrates|annoys|bothers) you", r"(struggle|difficult|hard) for you",
    )),
    Rule("wish", "Wish", INTERVIEWER, 0.75, (
        r"what would (help|make|you change|you like|you want)", r"if you could (change|wave|have|wish)",
        r"magic wand", r"would you (change|want|like)", r"what do you wish", r"want (it|a tool) to",
    )),
    Rule("story", "Story", INTERVIEWER, 0.6, (
        r"(remember|recall) (a|the|one|when|an)", r"(a|one) (time|day|case|moment|situation) (when|that|where)",
        r"the last time", r"(give me|walk me through|tell me about) (an|a recent|a specific|one) (example|time|case)",
    )),
    Rule("emotion", "Emotion", INTERVIEWER, 0.55, (
        r"how did (you|that|it) (feel|make you feel)", r"how do you feel", r"how did you react",
    )),
)
ANSWER_MIN_WORDS = 4
NO_ANSWER = re.compile(r"^(no|nope|not really|nothing|i don'?t know|i'?m not sure|hard to say)\b")

HIGHLIGHT_LANGUAGES = ("en",)  # the rules' words are English
EXTRA_RULE_BONUS = 0.05  # per further rule that also matched the same sentence
MAX_HIGHLIGHT_S = 60.0
MIN_HIGHLIGHT_S = 4.0  # a detected highlight grows by following sentences up to this length
JOIN_S = 2.0  # highlight sentences in a row of one speaker, each this close to the one before ...
BRIDGE = 1  # ... with at most this many other sentences between them, are one moment

_COMPILED: dict[tuple[str, str], Optional[re.Pattern]] = {}


def _compiled(rule: Rule, part: str) -> Optional[re.Pattern]:
    """A rule's ``patterns``, ``unless`` (whole words, text.compile_patterns) or ``needs`` (as
    written), compiled once; None when the rule has none."""
    key = (f"{rule.role}:{rule.kind}", part)
    if key not in _COMPILED:
        if part == "needs":
            _COMPILED[key] = re.compile(rule.needs) if rule.needs else None
        else:
            patterns = rule.patterns if part == "patterns" else rule.unless
            _COMPILED[key] = compile_patterns(patterns) if patterns else None
    return _COMPILED[key]


def highlights(interview: Interview, sents: list[Sentence], roles_known: bool) -> list[Moment]:
    """Interviewee sentences a researcher would keep (``HIGHLIGHT_RULES``, ``ANSWER_RULES``). One
    moment per stretch of them: such sentences of one speaker in a row (nobody else speaking
    between, each ``JOIN_S`` at most after the one before, ``BRIDGE`` other sentences between them
    at most, ``MAX_HIGHLIGHT_S`` in all) are one clip, "Story (...; also pain point)", of the best
    rule's kind, the others in ``also``."""
    who = INTERVIEWEE if roles_known else None
    matched: dict[int, list[tuple[Rule, str]]] = {}
    for i, s in enumerate(sents):
        if (who and s.role != who) or (s.language or "en").split("-")[0] not in HIGHLIGHT_LANGUAGES:
            continue  # the rules' words are English: another language's sentence is not read
        hits = said(s) + (asked_for(sents, i) if roles_known else [])
        if hits:
            matched[i] = hits
    runs: list[list[int]] = []  # sentence indices, the ones between matched ones included
    for i in sorted(matched):
        last = runs[-1][-1] if runs else None
        between = range(last + 1, i + 1) if last is not None else ()
        if (last is not None and i - last <= 1 + BRIDGE and sents[i].end - sents[runs[-1][0]].start <= MAX_HIGHLIGHT_S
                and all(sents[k].speaker == sents[last].speaker and sents[k].start - sents[k - 1].end <= JOIN_S
                        for k in between)):
            runs[-1].extend(between)
        else:
            runs.append([i])
    return [_grow(_moment([sents[i] for i in run], [h for i in run for h in matched.get(i, [])]), sents, run[-1],
                  set(matched)) for run in runs]


def said(s: Sentence) -> list[tuple[Rule, str]]:
    """(rule, the words that matched) for each ``HIGHLIGHT_RULES`` row the sentence holds."""
    text, words = s.lower, len(s.tokens)
    hits = []
    for rule in HIGHLIGHT_RULES:
        if words < rule.min_words:
            continue
        m = _compiled(rule, "patterns").search(text)
        veto, needs = _compiled(rule, "unless"), _compiled(rule, "needs")
        if m and not (veto and veto.search(text)) and not (needs and not needs.search(text)):
            hits.append((rule, m.group(0).strip()))
    return hits


def asked_for(sents: list[Sentence], i: int) -> list[tuple[Rule, str]]:
    """The ``ANSWER_RULES`` row of the question sentence ``i`` answers first, if it says something."""
    s = sents[i]
    if i == 0 or len(s.tokens) < ANSWER_MIN_WORDS or NO_ANSWER.match(s.lower):
        return []
    j = i - 1
    while j >= 0 and sents[j].role == INTERVIEWER and not is_question(sents[j].text, sents[j].language):
        j -= 1  # the interviewer's lead-in after the question ("Take your time.")
    q = sents[j] if j >= 0 else None
    if q is None or q.role != INTERVIEWER or not is_question(q.text, q.language) or sents[i - 1].role != INTERVIEWER:
        return []
    for rule in ANSWER_RULES:
        if _compiled(rule, "patterns").search(q.lower):
            return [(rule, f'answer to "{shorten(q.text, 40)}"')]
    return []


def _moment(run: list[Sentence], hits: list[tuple[Rule, str]]) -> Moment:
    best: dict[str, tuple[Rule, str]] = {}
    for rule, phrase in sorted(hits, key=lambda h: (-h[0].score, h[0].kind)):
        best.setdefault(rule.kind, (rule, phrase))
    ranked = list(best.values())
    rule, phrase = ranked[0]
    score = min(0.99, rule.score + EXTRA_RULE_BONUS * (len(ranked) - 1))
    also = "".join(f"; also {h[0].title.lower()}" for h in ranked[1:])
    why = phrase if phrase.startswith("answer to") else f'"{shorten(phrase, 40)}"'
    return Moment(_r(run[0].start), _r(run[-1].end), rule.kind, f"{rule.title} ({why}{also})", run[0].role,
                  " ".join(s.text for s in run), round(score, 3), "detected", also=[h[0].kind for h in ranked[1:]])


def _grow(m: Moment, sents: list[Sentence], i: int, taken: set[int]) -> Moment:
    """Add the speaker's following sentences while the moment is shorter than ``MIN_HIGHLIGHT_S``
    (never one that is a highlight of its own)."""
    end, texts = m.end, [m.text]
    for j in range(i + 1, len(sents)):
        s = sents[j]
        if (end - m.start >= MIN_HIGHLIGHT_S or j in taken or s.speaker != sents[i].speaker
                or s.start - end > 2.0):
            break
        if s.end - m.start > MAX_HIGHLIGHT_S:
            break
        end = s.end
        texts.append(s.text)
    return replace(m, end=_r(end), text=" ".join(texts))


def _r(t: float) -> float:
    return round(max(0.0, float(t)), 3)

