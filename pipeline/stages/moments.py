"""Moments worth a second look: spoken bookmarks, marker-file marks, highlights and coaching notes.

``find_moments(interview, config)`` reads what the other stages put on the interview (segments
with words and roles, turns, fast fills) and returns :class:`~pipeline.interview.Moment` objects
sorted by start. Every detected moment says why it was picked (its ``label``) and has a
``score`` in 0..1 so an export can keep the best few; bookmarks and marks score 1.0.

The interviewee's highlights are pipeline/stages/highlights.py's (``HIGHLIGHT_RULES``: what is
said, with its context; ``ANSWER_RULES``: what the question asked for); the coaching notes are
``COACHING_RULES`` below (a question's kind: pipeline/text.py). Patterns are regular expressions
matched, with word boundaries, against one sentence in lower case with typographic apostrophes
made plain.

Marker files (``<recording stem>.marks.txt`` or ``.marks.csv`` beside the recording) hold one
mark a line: a time (``hh:mm:ss``, ``mm:ss``, ``hh:mm:ss.mmm`` or seconds) then an optional label.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

from ..config import Config
from ..cues import DEFAULT_CUES, LANGUAGES as CUE_LANGUAGES, CueMatcher
from ..interview import INTERVIEWEE, INTERVIEWER, Interview, Moment, Turn
from .analyze import monologues, union
from .highlights import EXTRA_RULE_BONUS, HIGHLIGHT_LANGUAGES, HIGHLIGHT_RULES, MAX_HIGHLIGHT_S, Rule, highlights
from .same_sentence import merge_same_sentence
from ..question_rules import LANGUAGES as QUESTION_LANGUAGES
from ..text import Asked, Sentence, is_question, shorten, snippet, spread, timed_sentences
from ..recording.markers import Mark, MarkProblem, append_mark, format_time, marker_files, parse_marks, parse_time, read_marks
from .marks import MARKER, mark_moments, marks_past_end, set_mark_warnings as _set_mark_warnings

# -- the rules ------------------------------------------------------------------------------------

# What the interviewer does that a coach would point out. A question's kind and its reason are
# pipeline/text.py's (text.classify, in every language of text.QUESTION_LANGUAGES): no patterns here.
COACHING_RULES: tuple[Rule, ...] = (
    Rule("leading_question", "Leading question", INTERVIEWER, 0.7, ()),
)
# A question that wants a yes or no, a number, a choice or a rating.
CLOSED_QUESTION = Rule("closed_question", "Closed question", INTERVIEWER, 0.4, ())
QUESTION_RULES = {"leading": COACHING_RULES[0], "closed": CLOSED_QUESTION}

def rule_languages() -> dict[str, list[str]]:
    """Per rule, the languages it reads (the sidecar's ``pipeline.rule_languages``): bookmark cues
    and highlights English, question kinds (leading / closed questions) every language text.py
    reads. Fast fills, monologues and insights after a silence are timing: every language."""
    return {"bookmark_cues": list(CUE_LANGUAGES), "highlights": list(HIGHLIGHT_LANGUAGES),
            "question_kinds": list(QUESTION_LANGUAGES)}


# The structural kinds (no word patterns): title and base score.
BOOKMARK = ("bookmark", "Bookmark", 1.0)
INSIGHT = ("insight_after_silence", "Insight after silence", 0.7)
FAST_FILL = ("fast_fill", "Fast fill", 0.5)
MONOLOGUE = ("interviewer_monologue", "Interviewer monologue", 0.6)

INSIGHT_PAUSE_S = 3.0  # the interviewee resumes after at least this much silence ...
INSIGHT_SPEECH_S = 15.0  # ... and speaks for at least this long
MONOLOGUE_S = 45.0  # an interviewer run longer than this is a monologue
MAX_BOOKMARK_S = 90.0  # a bookmark covers at most the last this-many seconds of the answer
BACKCHANNEL_WORDS = 3  # an interviewer sentence "mm-hmm, right" this short does not end an answer
BACKCHANNEL_SENTENCE_S = 2.0  # a sentence (padded word times), not a turn run: analyze.BACKCHANNEL_RUN_S
# Coaching moments that stand for a run of turns or a gap, not what was said: never merged with
# the sentences they span (same_sentence.py). An insight after a silence is the interviewee's
# speech: a highlight or a bookmark inside it is the same clip, merged into one moment.
RUN_KINDS = frozenset({FAST_FILL[0], MONOLOGUE[0]})

KINDS: dict[str, str] = {k: t for k, t, _ in (BOOKMARK, MARKER)}
KINDS.update({r.kind: r.title for r in HIGHLIGHT_RULES})
KINDS[INSIGHT[0]] = INSIGHT[1]
KINDS.update({r.kind: r.title for r in COACHING_RULES})
KINDS.update({CLOSED_QUESTION.kind: CLOSED_QUESTION.title, FAST_FILL[0]: FAST_FILL[1],
              MONOLOGUE[0]: MONOLOGUE[1]})
GROUPS: dict[str, tuple[str, ...]] = {
    "bookmarks": (BOOKMARK[0], MARKER[0]),
    "highlights": tuple(r.kind for r in HIGHLIGHT_RULES) + (INSIGHT[0],),
    "coaching": tuple(r.kind for r in COACHING_RULES) + (CLOSED_QUESTION.kind, FAST_FILL[0], MONOLOGUE[0]),
}
GROUPS["all"] = tuple(KINDS)

# -- sentences: the unit the rules read (pipeline/text.py: Sentence, timed_sentences) --------------

sentences = timed_sentences  # the name the other modules used
_spread = spread


# -- finding moments ------------------------------------------------------------------------------

def find_moments(interview: Interview, config=None, marks: Optional[list["Mark"]] = None) -> list[Moment]:
    """All moments, sorted by start. ``marks`` None: read the marker file beside the recording;
    lines it cannot read are added to ``interview.warnings`` (the only change made to ``interview``)."""
    cues = tuple(getattr(config, "bookmark_cues", None) or DEFAULT_CUES)
    if marks is None:
        marks, problems = read_marks(Path(interview.source.path)) if interview.source else ([], [])
        _set_mark_warnings(interview, problems + marks_past_end(interview, marks))
    sents = sentences(interview)
    found = spoken_bookmarks(interview, sents, cues)
    found += mark_moments(interview, sents, marks)
    found += highlights(interview, sents, _roles_known(interview))
    found += insights_after_silence(interview, sents)
    found += coaching(interview, sents)
    return merge_same_sentence(_sorted_unique(found), sents, RUN_KINDS)


def _roles_known(interview: Interview) -> bool:
    return bool(interview.roles and interview.roles.interviewer)


def spoken_bookmarks(interview: Interview, sents: list[Sentence], cues: Iterable[str]) -> list[Moment]:
    """The interviewer says a cue; the moment is the interviewee's answer just before it."""
    matcher = CueMatcher(cues)
    known = _roles_known(interview)
    out = []
    for i, s in enumerate(sents):
        if known and s.role != INTERVIEWER:
            continue
        found = matcher.find([t.text for t in s.tokens])
        if found is None:
            continue
        hit = s.tokens[found.first].start
        answer = _answer_before(sents, i, s, known, hit)
        if answer:
            start, end = answer[0].start, answer[-1].end
            text = " ".join(a.text for a in answer)
            role = answer[0].role
        else:  # nobody spoke before the cue: keep the bookmark, on the 15 s before it
            start, end, text, role = max(0.0, hit - 15.0), hit, "", None
        out.append(Moment(_r(start), _r(end), BOOKMARK[0], f"{BOOKMARK[1]}: {snippet(text) or 'before the cue'}",
                          role, text, BOOKMARK[2], "spoken"))
    return out


def _answer_before(sents: list[Sentence], i: int, cue: Sentence, known: bool, cue_start: float) -> list[Sentence]:
    """The other person's sentences before sentence ``i`` (the cue), skipping the cue-giver's
    lead-in ("That's great.") and short backchannels, up to ``MAX_BOOKMARK_S``."""
    def is_answer(s: Sentence) -> bool:
        return s.role == INTERVIEWEE if known else (s.speaker != cue.speaker)

    def is_asker(s: Sentence) -> bool:
        return s.role == INTERVIEWER if known else (s.speaker == cue.speaker)

    j = i - 1
    while j >= 0 and is_asker(sents[j]):
        j -= 1  # the interviewer's own words leading into the cue ("That's great.")
    picked: list[Sentence] = []
    for s in reversed(sents[:j + 1]):
        if s.start >= cue_start:
            continue
        if is_answer(s):
            if picked and picked[-1].end - s.start > MAX_BOOKMARK_S:
                break
            picked.insert(0, s)
        elif picked and not (is_asker(s) and _backchannel(s)):
            break  # the interviewer spoke for real: the answer starts after that
    return picked


def _backchannel(s: Sentence) -> bool:
    return (len(s.tokens) <= BACKCHANNEL_WORDS and s.end - s.start <= BACKCHANNEL_SENTENCE_S
            and not s.text.rstrip().endswith("?"))


def coaching(interview: Interview, sents: list[Sentence]) -> list[Moment]:
    """Leading and closed questions, fast fills and monologues by the interviewer."""
    out: list[Moment] = []
    if not _roles_known(interview):
        return out
    for s in sents:
        if s.role != INTERVIEWER or not is_question(s.text, s.language):  # the one question rule (text.py)
            continue
        moment = question_moment(s, s.asked)
        if moment:
            out.append(moment)
    out += fast_fill_moments(interview, sents)
    out += monologue_moments(interview, sents)
    return out


def question_moment(s: Sentence, asked: list[Asked]) -> Optional[Moment]:
    """A leading or closed question (the most pointed of the sentence's questions when several are
    stacked in it) as one coaching moment whose label says why: 'Leading question (tag question:
    "isn't it")'."""
    flagged = sorted((a for a in asked if a.kind in QUESTION_RULES), key=lambda a: -QUESTION_RULES[a.kind].score)
    if not flagged:
        return None
    rule = QUESTION_RULES[flagged[0].kind]
    score = min(0.99, rule.score + EXTRA_RULE_BONUS * (len(flagged) - 1))
    also = "".join(f"; also {QUESTION_RULES[a.kind].title.lower()} ({a.why})" for a in flagged[1:])
    label = f"{rule.title} ({shorten(flagged[0].why, 60)}{also})"
    return Moment(_r(s.start), _r(s.end), rule.kind, label, s.role, s.text, round(score, 3), "detected")


def insights_after_silence(interview: Interview, sents: list[Sentence]) -> list[Moment]:
    """The interviewee resumes after ``INSIGHT_PAUSE_S`` of silence and speaks ``INSIGHT_SPEECH_S`` or more."""
    if not _roles_known(interview):
        return []
    turns = _role_turns(interview)
    speech = union((t.start, t.end) for t in turns)
    runs = [r for r in monologues(turns, 2.0) if r.role == INTERVIEWEE]
    out = []
    for (_, gap_start), (gap_end, _) in zip(speech, speech[1:]):
        pause = gap_end - gap_start
        if pause < INSIGHT_PAUSE_S:
            continue
        run = next((r for r in runs if abs(r.start - gap_end) < 0.05), None)
        if run is None or run.duration < INSIGHT_SPEECH_S:
            continue
        inside = [s for s in sents if s.role == INTERVIEWEE and s.end > run.start and s.start < run.end]
        picked = []
        for s in inside:
            if picked and s.end - picked[0].start > MAX_HIGHLIGHT_S:
                break
            picked.append(s)
        if picked:
            start, end = picked[0].start, picked[-1].end
        else:
            start, end = run.start, min(run.end, run.start + MAX_HIGHLIGHT_S)
        score = round(INSIGHT[2] + min(0.2, (pause - INSIGHT_PAUSE_S) / 20.0), 3)
        out.append(Moment(_r(start), _r(end), INSIGHT[0],
                          f"{INSIGHT[1]} ({pause:.1f} s pause, then {run.duration:.0f} s)",
                          INTERVIEWEE, " ".join(s.text for s in picked), score, "detected"))
    return out


def fast_fill_moments(interview: Interview, sents: list[Sentence]) -> list[Moment]:
    """The interviewer starts within ``config.fast_fill_s`` of the interviewee stopping (from analyze)."""
    out = []
    for h in interview.fast_fills:
        before = [s for s in sents if s.role == INTERVIEWEE and h.start - 3.0 <= s.end <= h.start + 0.5]
        after = [s for s in sents if s.role == INTERVIEWER and abs(s.start - h.end) <= 0.75]
        start = before[-1].start if before else max(0.0, h.start - 2.0)
        end = after[0].end if after else h.end + 2.0
        what = (f"interviewer spoke {h.gap:.1f} s after the interviewee stopped" if h.gap >= 0
                else f"interviewer cut in, {-h.gap:.1f} s of overlap")
        score = round(FAST_FILL[2] + 0.2 * min(1.0, max(0.0, 0.5 - h.gap)), 3)
        out.append(Moment(_r(min(start, h.start)), _r(max(end, h.end)), FAST_FILL[0], f"{FAST_FILL[1]} ({what})",
                          INTERVIEWER, after[0].text if after else "", score, "detected"))
    return out


def monologue_moments(interview: Interview, sents: list[Sentence]) -> list[Moment]:
    """Interviewer runs (turns merged across short gaps, interjections ignored) over ``MONOLOGUE_S``."""
    out = []
    for run in monologues(_role_turns(interview), 2.0):
        if run.role != INTERVIEWER or run.duration <= MONOLOGUE_S:
            continue
        inside = [s for s in sents if s.role == INTERVIEWER and s.end > run.start and s.start < run.end]
        start, end = (inside[0].start, inside[-1].end) if inside else (run.start, run.end)
        score = round(MONOLOGUE[2] + min(0.3, (run.duration - MONOLOGUE_S) / 100.0), 3)
        out.append(Moment(_r(start), _r(end), MONOLOGUE[0], f"{MONOLOGUE[1]} ({run.duration:.0f} s)",
                          INTERVIEWER, snippet(" ".join(s.text for s in inside), 200), score, "detected"))
    return out


def _role_turns(interview: Interview) -> list[Turn]:
    turns = [Turn(t.start, t.end, t.speaker, t.role or interview.role_of(t.speaker)) for t in interview.turns]
    return [t for t in turns if t.role in (INTERVIEWER, INTERVIEWEE)]


def _sorted_unique(moments: list[Moment]) -> list[Moment]:
    seen, out = set(), []
    for m in sorted(moments, key=lambda m: (m.start, m.end, m.kind, m.label)):
        key = (m.start, m.end, m.kind, m.source, m.label if m.source == "marker_file" else "")
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def _r(t: float) -> float:
    return round(max(0.0, float(t)), 3)


# -- marker files (pipeline/stages/marks.py; parsing in pipeline/recording/markers.py) -------------

def refresh_moments(interview: Interview, config=None, recording: Optional[Path] = None) -> list[MarkProblem]:
    """Recompute ``interview.moments`` (marker file beside ``recording``, default the sidecar's
    ``source.path``) without transcribing again; returns the marker-file problems, which also
    replace the old marker-file warnings."""
    if config is None:
        cues = interview.pipeline.settings.get("bookmark_cues") if interview.pipeline else None
        config = Config(bookmark_cues=tuple(cues)) if cues else Config()
    marks, problems = read_marks(Path(recording or interview.source.path))
    problems = problems + marks_past_end(interview, marks)
    interview.moments = find_moments(interview, config, marks=marks)
    _set_mark_warnings(interview, problems)
    return problems


__all__ = ["find_moments", "refresh_moments", "parse_marks", "parse_time", "read_marks", "append_mark",
           "marker_files", "format_time", "Mark", "MarkProblem", "Rule", "HIGHLIGHT_RULES",
           "COACHING_RULES", "KINDS", "GROUPS", "rule_languages", "merge_same_sentence"]
