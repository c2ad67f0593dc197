"""Theme names and the support rule on constructed folders whose themes are known
(``scripts/theme_folders.py``, also what ``scripts/bench_themes.py`` measures)."""
from __future__ import annotations

from pathlib import Path

from pipeline.interview import INTERVIEWEE, INTERVIEWER

import kit

tf = kit.script("theme_folders")


def study_of(folder: Path) -> dict:
    from pipeline.study import build_study
    return build_study(folder).data


def test_each_known_theme_is_found_and_its_name_holds_the_key_phrase(tmp_path):
    keys = ["spreadsheet", "customer support", "notification"]
    truth = tf.build(tmp_path / "three", len(keys), 6, per_interview=2, seed=1, keys=keys)
    themes = study_of(tmp_path / "three")["themes"]
    figures = tf.score(themes, truth)
    assert figures["coverage"] == 1.0 and figures["purity"] == 1.0 and figures["stray"] == 0, figures
    for key in keys:
        assert key in figures["names"][key].lower(), figures["names"]
    # only what interviewees said: the interviewer's remarks use the themes' words and never count
    for t in themes:
        assert all(q["role"] == INTERVIEWEE for q in t["quotes"])
        assert not any(truth.label.get(q["text"]) in ("interviewer", "own", "small talk") for q in t["quotes"])
        assert t["n_interviews"] >= 2 and len(t["keywords"]) >= 1


def test_a_topic_of_one_interview_is_no_theme_until_a_second_interview_shares_it(tmp_path):
    folder = tmp_path / "support"
    tf.build(folder, 2, 4, per_interview=2, seed=0, keys=["search", "password"])
    alpacas = [
        (INTERVIEWER, "Tell me about your weekends?"),
        (INTERVIEWEE, "We breed alpacas on a small farm outside the village."),
        (INTERVIEWEE, "The alpacas need shearing every spring and the wool sells well."),
        (INTERVIEWEE, "Looking after the alpacas takes every spare hour I have."),
    ]
    audio = folder / "2024-05-01 solo.wav"
    from pipeline import sidecar
    sidecar.write(tf.interview(audio, alpacas), sidecar.sidecar_path(audio))
    names = [t["name"].lower() for t in study_of(folder)["themes"]]
    assert names and not any("alpaca" in n for n in names), names  # three sentences, one interview
    second = folder / "2024-05-02 duo.wav"
    sidecar.write(tf.interview(second, [(INTERVIEWER, "What do you do outside work?"),
                                        (INTERVIEWEE, "My alpacas keep me busy, they escape the field every week.")]),
                  sidecar.sidecar_path(second))
    themes = study_of(folder)["themes"]
    alpaca = [t for t in themes if "alpaca" in t["name"].lower()]
    assert len(alpaca) == 1 and sorted(Path(n).stem for n in alpaca[0]["interviews"]) == ["2024-05-01 solo",
                                                                                          "2024-05-02 duo"]


def test_phrases_never_cross_punctuation_or_end_on_a_stop_word():
    from pipeline.study import names
    said = [s for _k, s in names.phrases("It isn't about the earth' trust, it takes four hours every week "
                                         "and we fix the totals by hand in the customer's spreadsheets.")]
    assert "fix the totals" in said and "totals by hand" in said and "spreadsheets" in said
    assert not any("'" in p for p in said), said  # isn't, customer's: never part of a phrase
    assert "earth trust" not in said and "hours every" not in said and "hour every" not in said
    stop = names._tools()[1]
    assert all(p.split()[0] not in stop and p.split()[-1] not in stop for p in said)
    # one lemma for singular and plural: counted together, shown as said most often
    groups = {0: [("The spreadsheets break.", 1), ("Our spreadsheets are huge.", 2), ("A spreadsheet again.", 3)],
              1: [("The price is high.", 4), ("Prices went up.", 5)]}
    ranked = names.candidates(groups)
    assert ranked[0][0][0] == "spreadsheets" and ranked[0][0][2] == 3
    assert names.choose(ranked[0], centre=None, vectors={}) == ["spreadsheets"]
    assert names.name(["spreadsheets", "totals by hand"]) == "Spreadsheets · totals by hand"


def test_a_second_phrase_must_add_sentences_the_first_does_not_cover():
    from pipeline.study import names
    groups = {0: [("The calendar sync breaks and we double book people.", 1),
                  ("Again the calendar sync breaks, so we double book people.", 2),
                  ("Our calendar sync breaks every single week.", 3)],
              1: [("The price is far too high.", 4), ("Prices went up twice this year.", 5)]}
    ranked = names.candidates(groups)
    assert "double book people" in [r[0] for r in ranked[0]]  # a candidate, said in two interviews
    chosen = names.choose(ranked[0], centre=None, vectors={})
    assert len(chosen) == 1 and chosen[0] in ("calendar", "sync", "breaks", "calendar sync breaks"), chosen
    groups[0].append(("Double booking people is what hurts us most.", 6))  # a sentence of its own
    assert len(names.choose(names.candidates(groups)[0], centre=None, vectors={})) == 2
