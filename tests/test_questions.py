"""Question kinds (open / closed / leading) and why: pipeline/text.py's classify, on the textbook
cases of issue #20, the labelled held-out questions (tests/data/questions), stacked questions, a
German interview, and what the sidecar says about the languages each rule reads."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pipeline import text
from pipeline.config import Config
from pipeline.interview import INTERVIEWEE, INTERVIEWER, Interview, PipelineInfo, Recording, RoleAssignment
from pipeline.runner import _language_warnings
from pipeline.stages import moments as mo

from kit import spoken

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_questions as bench  # noqa: E402

ER, EE = INTERVIEWER, INTERVIEWEE

TEXTBOOK = [  # issue #20: (question, kind, reason)
    ("So you would definitely use an automatic check, wouldn't you?", "leading", "tag question"),
    ("You like it, right?", "leading", "tag question"),
    ("You must have been frustrated?", "leading", "suggests the answer"),
    ("The new layout is easier, isn't it?", "leading", "tag question"),
    ("How much time does that waste you?", "leading", "presupposes"),
    ("On a scale from one to five, how happy are you with it?", "closed", "scale question"),
    ("Isn't it annoying to re-enter everything by hand?", "leading", "negative question"),
    ("Is there anything else you would like to add?", "open", "invitation"),
    ("The reports are always late?", "leading", "declarative question"),
    ("Do you use any other tools?", "closed", "yes/no"),
    ("How many people are on your team?", "closed", "asks for a number"),
    ("Do you prefer email or Slack for those alerts?", "closed", "choice"),
    ("Can you tell me more about that?", "open", "invitation"),
    ("How did the team react when the numbers came in?", "open", "open question"),
]


@pytest.mark.parametrize("question, kind, reason", TEXTBOOK)
def test_textbook_questions_get_their_kind_and_reason(question, kind, reason):
    [asked] = text.classify_all(question)
    assert (asked.kind, asked.reason) == (kind, reason)
    assert text.question_kind(question) == kind
    assert text.question_reason(question).startswith(reason)


def test_a_flagged_question_names_the_words_that_decided():
    assert text.classify("The new layout is easier, isn't it?").why == 'tag question: "isn\'t it"'
    assert text.classify("How much time does that waste you?").phrase == "waste"
    leading, closed = text.classify("You like it, right?"), text.classify("Is it the same every month?")
    assert (leading.kind, leading.phrase or leading.reason) == ("leading", "right")
    assert (closed.kind, closed.phrase or closed.reason) == ("closed", "yes/no")
    assert text.classify("What do you do next?").kind == "open" and text.classify("It rained.") is None


@pytest.mark.parametrize("stacked, kinds", [
    ("What happened? Did you call them?", ["open", "closed"]),
    ("What did you do then, did you call them?", ["open", "closed"]),
    ("Did it work? Was it quick?", ["closed", "closed"]),
    ("Why did you switch? Because of the price, right?", ["open", "leading"]),
])
def test_a_stacked_question_gets_one_kind_per_question(stacked, kinds):
    assert [a.kind for a in text.classify_all(stacked)] == kinds
    assert text.question_kind(stacked) == max(kinds, key=["open", "closed", "leading"].index)


@pytest.mark.parametrize("language, question, kind, reason", [
    ("de", "Das hat ziemlich lange gedauert, oder?", "leading", "tag question"),
    ("de", "Ist es nicht nervig, alles von Hand einzutragen?", "leading", "negative question"),
    ("de", "Nutzen Sie Excel?", "closed", "yes/no"),
    ("de", "Wie läuft so ein typischer Arbeitstag bei Ihnen ab?", "open", "open question"),
    ("de", "Erzählen Sie mir von Ihrem Team.", "open", "invitation"),
    ("es", "Eso le llevó mucho tiempo, ¿verdad?", "leading", "tag question"),
    ("es", "¿Usa la aplicación en el móvil?", "closed", "yes/no"),
    ("es", "Entonces, ¿lo hace todos los días?", "closed", "yes/no"),
    ("es", "¿Cuánto tiempo pierde con eso cada semana?", "leading", "presupposes"),
    ("fr", "Vous l'avez signalé au service informatique ?", "closed", "yes/no"),
    ("fr", "Ça vous a pris beaucoup de temps, n'est-ce pas ?", "leading", "tag question"),
    ("fr", "Qu'entendez-vous par « désordonné » ?", "open", "open question"),
    ("fr", "Sur une échelle de un à dix, quelle est la probabilité que vous le recommandiez ?", "closed",
     "scale question"),
])
def test_german_spanish_and_french_questions(language, question, kind, reason):
    [asked] = text.classify_all(question, language)
    assert (asked.kind, asked.reason, asked.language) == (kind, reason, language)


def test_a_language_not_read_is_counted_but_not_classified():
    asked = text.classify("Non è fastidioso, vero?", "it")
    assert (asked.kind, asked.reason) == ("open", "not read: it")


# -- the labelled questions -------------------------------------------------------------------------

def test_the_labelled_sets_are_complete_and_the_parts_apart():
    for lang, least in (("en", 400), ("de", 60), ("es", 60), ("fr", 60)):
        rows = bench.rows(lang, "all")
        assert sum(len(r["kinds"]) for r in rows) >= least
        for r in rows:
            assert r["lang"] == lang and r["split"] in ("tune", "heldout", "fresh", "fresh2")
            assert len(r["kinds"]) == len(r["reasons"]) >= 1 and set(r["kinds"]) <= set(text.QUESTION_KINDS)
        held = {r["text"] for r in rows if r["split"] != "tune"}
        assert held and not held & {r["text"] for r in rows if r["split"] == "tune"}
        assert {k for r in rows if r["split"] == "heldout" for k in r["kinds"]} == set(text.QUESTION_KINDS)


# Floors a little under what scripts/bench_questions.py measures on the held-out part (see the
# README): leading recall, closed recall, the most open questions wrongly flagged, accuracy.
FLOORS = {
    "en": (0.95, 0.95, 0.02, 0.97),
    "de": (0.88, 0.9, 0.05, 0.94),
    "es": (0.88, 0.9, 0.05, 0.94),
    "fr": (0.88, 0.9, 0.05, 0.94),
}


@pytest.mark.parametrize("lang", list(FLOORS))
def test_held_out_questions_meet_the_measured_floors(lang):
    leading, closed, open_flagged, accuracy = FLOORS[lang]
    m = bench.measure(bench.rows(lang, "heldout"), lang)
    assert m["leading"]["recall"] >= leading, m["errors"]
    assert m["closed"]["recall"] >= closed, m["errors"]
    assert m["open_wrongly_flagged"] <= open_flagged, m["errors"]
    assert m["accuracy"] >= accuracy, m["errors"]


# The fresh parts (written after the rules were frozen, never tuned on): the sober figures, with
# floors a little under them (leading recall, closed recall, the most open wrongly flagged, accuracy).
FRESH_FLOORS = {
    ("fresh", "en"): (0.95, 0.95, 0.1, 0.93),
    ("fresh", "de"): (0.95, 0.95, 0.15, 0.9),
    ("fresh", "es"): (0.8, 0.95, 0.05, 0.85),
    ("fresh", "fr"): (0.8, 0.95, 0.3, 0.8),
    ("fresh2", "en"): (0.85, 0.95, 0.1, 0.9),
    ("fresh2", "de"): (0.95, 0.95, 0.2, 0.9),
    ("fresh2", "es"): (0.95, 0.95, 0.2, 0.9),
    ("fresh2", "fr"): (0.95, 0.75, 0.4, 0.75),
}


@pytest.mark.parametrize("split, lang", list(FRESH_FLOORS))
def test_fresh_questions_meet_the_measured_floors(split, lang):
    leading, closed, open_flagged, accuracy = FRESH_FLOORS[split, lang]
    m = bench.measure(bench.rows(lang, split), lang)
    assert m["leading"]["recall"] >= leading, m["errors"]
    assert m["closed"]["recall"] >= closed, m["errors"]
    assert m["open_wrongly_flagged"] <= open_flagged, m["errors"]
    assert m["accuracy"] >= accuracy, m["errors"]


def test_the_benchmark_prints_every_language(capsys, tmp_path):
    assert bench.main(["--json", str(tmp_path / "q.json")]) == 0
    out = capsys.readouterr().out
    assert all(f"\n{lang} " in out for lang in ("en", "de", "es", "fr")) and "open wrongly flagged" in out
    data = json.loads((tmp_path / "q.json").read_text())
    assert set(data["languages"]) == {"en", "de", "es", "fr"} and data["split"] == "heldout"


# -- interviews in other languages ------------------------------------------------------------------

def interview(script, language):
    segments, turns = spoken(script)
    for s in segments:
        s.language = language
    return Interview(source=Recording("/nonexistent/x.wav", "0" * 64, 60.0, 1, 16000, "pcm_s16le"),
                     pipeline=PipelineInfo("test", "small", "test", "cpu", "int8",
                                           rule_languages=mo.rule_languages()),
                     language=language, segments=segments, turns=turns,
                     roles=RoleAssignment("S1", "S2", 1.0, "override"))


GERMAN = [
    (ER, 0.0, 4.0, "Wie läuft so ein typischer Arbeitstag bei Ihnen ab?"),
    (EE, 5.0, 12.0, "Ich fange morgens mit den Bestellungen an."),
    (ER, 13.0, 17.0, "Das dauert ziemlich lange, oder?"),
    (EE, 18.0, 20.0, "Manchmal."),
    (ER, 21.0, 24.0, "Nutzen Sie dafür Excel?"),
    (EE, 25.0, 27.0, "Ja."),
    (ER, 28.0, 32.0, "Was ist dann passiert? Haben Sie den Support angerufen?"),
]


def test_a_german_interview_gets_question_kinds_and_coaching():
    iv = interview(GERMAN, "de")
    assert text.question_counts(iv) == {"questions": 5, "open": 2, "closed": 2, "leading": 1}
    found = mo.find_moments(iv, Config(), marks=[])
    coaching = {m.text: (m.kind, m.label) for m in found if m.kind in ("leading_question", "closed_question")}
    assert coaching == {
        "Das dauert ziemlich lange, oder?": ("leading_question", 'Leading question (tag question: "oder")'),
        "Nutzen Sie dafür Excel?": ("closed_question", "Closed question (yes/no)"),
        "Haben Sie den Support angerufen?": ("closed_question", "Closed question (yes/no)"),
    }
    # read as English the same words come out wrong: the segment's language is what decides
    assert text.question_kind("Nutzen Sie dafür Excel?") == "open"


def test_the_sidecar_says_which_languages_each_rule_reads():
    assert mo.rule_languages()["question_kinds"] == ["en", "de", "es", "fr"]
    warnings = _language_warnings(interview(GERMAN, "de"))
    assert any("bookmark cues and highlights read en only" in w and "de speech" in w for w in warnings)
    assert not any("question kinds" in w for w in warnings)  # German questions are read
    italian = _language_warnings(interview([(ER, 0.0, 4.0, "Com'è andata?")], "it"))
    assert any(w.startswith("question kinds (leading / closed question coaching) read en, de, es, fr only")
               and "it speech" in w for w in italian)


def test_merged_moments_and_rule_languages_survive_the_sidecar(tmp_path):
    from pipeline import sidecar
    iv = interview([(ER, 0.0, 3.0, "Was machen Sie am Freitag?"),
                    (EE, 4.0, 10.0, "Every Friday I export everything to a spreadsheet."),
                    (ER, 10.5, 12.0, "Let me mark that.")], "en")
    iv.moments = mo.find_moments(iv, Config(), marks=[])
    [merged] = [m for m in iv.moments if m.also]
    assert (merged.kind, merged.also) == ("bookmark", ["workaround"])
    data = json.loads(sidecar.write(iv, tmp_path / "x.interview.json").read_text())
    sidecar.validate(data)
    assert data["pipeline"]["rule_languages"]["question_kinds"] == ["en", "de", "es", "fr"]
    assert Interview.from_dict(data).moments == iv.moments
