"""One answer to "what is a question": roles, moments, the exports, the report and the study
all get the same questions from the same sentences (pipeline/text.py decides)."""
import pytest

from pipeline import metrics, text
from pipeline.config import Config
from pipeline.export.text import question_moments
from pipeline.interview import (INTERVIEWEE, INTERVIEWER, Interview, PipelineInfo, Recording,
                                RoleAssignment, Segment, Turn, Word)
from pipeline.stages import analyze, moments, roles

ER, EE = INTERVIEWER, INTERVIEWEE

# (role, sentence): questions with and without "?", leading and closed ones, statements that
# look like questions, sentences glued by the recogniser
SCRIPT = [
    (ER, "Thanks for joining."),
    (ER, "Tell me about the last time you planned a trip."),  # open, no question mark
    (EE, "Last spring, with a spreadsheet."),
    (ER, "Wouldn't it be great if the app did that for you?"),  # leading
    (EE, "Maybe."),
    (ER, "Do you use any other tools?"),  # closed
    (EE, "No. What else is there?"),  # the interviewee's question: not the interviewer's
    (ER, "Hmm...why?"),  # one word to the recogniser: one question
    (ER, "Can you tell me more about that?"),  # a polite open invitation, not closed
    (ER, "So you'd use it every day, right?"),  # leading
    (ER, "I see. Okay."),
    (ER, "How do you decide what goes in the report"),  # open, the "?" lost
    (EE, "I look at the whole week before it starts."),
]


def interview_of(script) -> Interview:
    speaker = {ER: "S1", EE: "S2"}
    turns, segments, t = [], [], 0.0
    for role, sentence in script:
        words = sentence.split()
        end = t + 0.4 * len(words)
        step = (end - t) / len(words)
        segments.append(Segment(round(t, 3), round(end, 3), sentence,
                                [Word(round(t + i * step, 3), round(t + (i + 1) * step, 3), w)
                                 for i, w in enumerate(words)], speaker[role], role))
        turns.append(Turn(round(t, 3), round(end, 3), speaker[role], role))
        t = end + 1.5
    iv = Interview(source=Recording("x.wav", "0" * 64, t, 1, 16000, "pcm_s16le"),
                   pipeline=PipelineInfo("test", "tiny.en", "test", "cpu", "int8"), language="en",
                   segments=segments, turns=turns, roles=RoleAssignment("S1", "S2", 0.9, "evidence"))
    iv.talk_ratio = analyze.talk_ratio(turns)
    iv.silences = analyze.silences(turns, t)
    return iv


EXPECTED = {  # the interviewer's questions and their kinds
    "Tell me about the last time you planned a trip.": "open",
    "Wouldn't it be great if the app did that for you?": "leading",
    "Do you use any other tools?": "closed",
    "Hmm...why?": "open",
    "Can you tell me more about that?": "open",
    "So you'd use it every day, right?": "leading",
    "How do you decide what goes in the report": "open",
}


def test_every_reader_finds_the_same_questions():
    iv = interview_of(SCRIPT)
    asked = [s.text for s in text.questions(iv)]
    assert asked == list(EXPECTED)
    assert {s.text: s.question for s in text.questions(iv)} == EXPECTED

    # roles: the same sentences and the same rule over the interviewer's segments
    by_roles = [s for seg in iv.segments if seg.role == ER for s in roles.sentences(seg.text)
                if roles.is_question(s)]
    assert by_roles == asked

    # moments: every coaching question is one of them, of the kind text.py gives it
    found = moments.find_moments(iv, Config(), marks=[])
    kinds = {m.text: m.kind for m in found if m.kind in ("leading_question", "closed_question")}
    assert kinds == {q: f"{k}_question" for q, k in EXPECTED.items() if k != "open"}

    # exports (YouTube chapter fill-up) and the report
    assert [m.label for m in question_moments(iv)] == [f"Q: {q}" for q in asked]
    assert metrics.questions_asked(iv) == len(EXPECTED)
    assert metrics.question_kinds(iv) == {"questions": 7, "open": 4, "closed": 1, "leading": 2}


def test_the_interviewees_questions_are_counted_for_them():
    iv = interview_of(SCRIPT)
    assert [s.text for s in text.questions(iv, INTERVIEWEE)] == ["What else is there?"]


@pytest.mark.parametrize("raw, cut", [
    ("One. Two? Three! Four", ["One.", "Two?", "Three!", "Four"]),
    ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
    ("Hmm...why? Because.", ["Hmm...why?", "Because."]),
    ("", []),
    # abbreviations, times, initials and numbers do not end a sentence (pysbd's rules)
    ("I met Dr. Smith at 5 p.m. yesterday.", ["I met Dr. Smith at 5 p.m. yesterday."]),
    ("We use e.g. Excel. It is version 3.5 now.", ["We use e.g. Excel.", "It is version 3.5 now."]),
    ("Mr. J. R. Jones lives in the U.S. now. He moved.", ["Mr. J. R. Jones lives in the U.S. now.", "He moved."]),
])
def test_plain_and_timed_sentences_cut_alike(raw, cut):
    assert text.sentences(raw) == cut
    if raw:
        iv = interview_of([(ER, raw)])
        assert [s.text for s in text.timed_sentences(iv)] == cut


def test_sentences_keep_their_words_times():
    """Cut by pysbd, each sentence still starts at its first word and ends at its last word."""
    raw = "I met Dr. Smith at 5 p.m. yesterday. Then we left."
    iv = interview_of([(EE, raw)])
    words = iv.segments[0].words
    first, second = text.timed_sentences(iv)
    assert (first.start, first.end) == (words[0].start, words[7].end)
    assert (second.start, second.end) == (words[8].start, words[-1].end)
    assert [t.start for t in first.tokens + second.tokens] == [w.start for w in words]
    from pipeline.study import corpus
    study = corpus.sentences(iv)
    assert [s.text for s in study] == [first.text, second.text]
    assert study[0].words[4] == (words[4].start, words[4].end, len("I met Dr. Smith "))


def test_sentences_in_other_languages_know_their_abbreviations():
    assert text.sentences("Ich habe z.B. drei Tage gewartet. Dann ging es.", "de") == [
        "Ich habe z.B. drei Tage gewartet.", "Dann ging es."]
    assert text.sentences("Wir sehen uns. Bis dann.", "xx") == ["Wir sehen uns.", "Bis dann."]  # unknown: English


def test_snippets_are_cut_at_a_word_within_the_width():
    assert text.shorten("short", 10) == "short"
    assert text.shorten("a very long sentence, with words", 16) == "a very long..."
    assert len(text.shorten("x" * 50, 20)) == 20
    assert text.snippet("  spaced   out\ntext ") == "spaced out text"
