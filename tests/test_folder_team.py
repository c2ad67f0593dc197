"""A note taker recurs with the interviewer across a study (issue #24): the folder's research team
from constructed voiceprints, the roles it gives, and the sidecars the folder step rewrites.
The same study on constructed audio is in ``test_folder_team_audio.py``."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline import metrics, sidecar
from pipeline.interview import Interview, PipelineInfo, Recording, Segment, Turn
from pipeline.produce import decide_folder_roles
from pipeline.stages import analyze, relabel, roles, voices
from pipeline.stages.diarize.prints import encode, unit


def prints(rng, people: dict[str, np.ndarray], seconds: float = 30.0):
    """Each speaker's voiceprint: their voice with a little noise, as another recording gives it."""
    from pipeline.interview import Voiceprint
    return [Voiceprint(s, seconds, 40, encode(unit(v + 0.015 * rng.normal(size=v.size)))) for s, v in people.items()]


@pytest.fixture
def rng():
    return np.random.default_rng(24)


def voice(rng):
    return rng.normal(size=192)


def test_a_note_taker_in_every_interview_is_on_the_team(rng):
    lead, notes = voice(rng), voice(rng)
    study = [(f"p{i}.wav", prints(rng, {"S1": lead, "S2": notes, "S3": voice(rng)})) for i in range(3)]
    assert voices.decide_folder(study) == [None] * 3  # two voices recur equally: neither leads by voice
    team = voices.folder_team(study, ["S1"] * 3)  # S1 leads by its words
    assert [sorted(t) for t in team] == [["S2"]] * 3  # neither the lead nor the participant S3
    why = team[0]["S2"]
    assert why["kind"] == "team" and why["recordings"] == 3 and why["beside"] == 3 and why["of"] == 3
    assert why["describe"] == "heard with the interviewer in 3 of 3 recordings, beside 3 different participants"
    assert sorted(why["with"]) == ["p1.wav", "p2.wav"] and why["log_odds"] == voices.folder_log_odds(3)
    assert [sorted(t) for t in voices.folder_team(study, ["S2"] * 3)] == [["S1"]] * 3  # whoever leads


def test_a_note_taker_in_some_interviews_joins_the_interviewer_who_leads_by_voice(rng):
    lead, notes = voice(rng), voice(rng)
    study = [(f"p{i}.wav", prints(rng, {"S1": lead, "S2": voice(rng), **({"S3": notes} if i else {})}))
             for i in range(4)]
    decided = voices.decide_folder(study)
    assert [d["speaker"] for d in decided] == ["S1"] * 4 and decided[0]["recordings"] == 4
    team = voices.folder_team(study, ["S1"] * 4)
    assert team[0] == {} and all(t["S3"]["describe"].startswith("heard with the interviewer in 3 of 4")
                                 for t in team[1:])
    assert all("S2" not in t for t in team)


def test_voices_together_count_only_where_one_of_them_leads(rng):
    """Two voices heard together in two recordings beside someone new, but in one of them a third
    person leads (a folder of unrelated conversations): neither is the team."""
    joe, lj = voice(rng), voice(rng)
    folder = [("note.wav", prints(rng, {"S1": voice(rng), "S2": joe, "S3": lj})),  # S1, heard nowhere else, leads
              ("pair.wav", prints(rng, {"S1": joe, "S2": lj, "S3": voice(rng)}))]
    assert voices.folder_team(folder, ["S1", "S1"]) == [{}, {}]
    assert voices.folder_team(folder, [None, "S1"]) == [{}, {}]  # no lead decided: nobody is heard with them


def test_a_returning_participant_is_never_on_the_team(rng):
    """The same interviewee in two follow-ups with the same interviewer: heard with the
    interviewer, but never beside a new participant; with or without a note taker."""
    lead, back = voice(rng), voice(rng)
    plain = [(f"f{i}.wav", prints(rng, {"S1": lead, "S2": back if i < 2 else voice(rng)})) for i in range(4)]
    assert voices.folder_team(plain, ["S1"] * 4) == [{}] * 4
    assert [d["speaker"] for d in voices.decide_folder(plain)] == ["S1"] * 4
    notes = voice(rng)
    study = [(f"s{i}.wav", prints(rng, {"S1": lead, "S2": notes, "S3": back if i < 2 else voice(rng)}))
             for i in range(4)]
    team = voices.folder_team(study, ["S1"] * 4)
    assert [sorted(t) for t in team] == [["S2"]] * 4  # the returning S3 of s0 and s1 is not
    assert team[0]["S2"]["beside"] == 2 and team[0]["S2"]["recordings"] == 4


def test_copies_and_a_folder_of_one_participant_give_no_team(rng):
    """#19 item 4: where every voice of a recording recurs (a double download, one participant's
    interviews with the same two researchers) nothing is heard beside someone new."""
    lead, notes, participant = voice(rng), voice(rng), voice(rng)
    copies = [(name, prints(rng, {"S1": lead, "S2": notes, "S3": participant})) for name in ("call.wav", "call (1).wav")]
    assert voices.folder_team(copies, ["S1"] * 2) == [{}, {}] and voices.decide_folder(copies) == [None, None]
    one = [(f"p{i}.wav", prints(rng, {"S1": lead, "S2": participant})) for i in range(3)]
    assert voices.folder_team(one, ["S1"] * 3) == [{}] * 3 and voices.decide_folder(one) == [None] * 3
    # beside only one new participant (the other interview downloaded twice): not enough
    twice = voice(rng)
    study = [("a.wav", prints(rng, {"S1": lead, "S2": notes, "S3": voice(rng)})),
             ("b.wav", prints(rng, {"S1": lead, "S2": notes, "S3": twice})),
             ("b (1).wav", prints(rng, {"S1": lead, "S2": notes, "S3": twice}))]
    assert voices.folder_team(study, ["S1"] * 3) == [{}] * 3


def test_short_prints_and_alike_speakers_are_not_team_evidence(rng):
    lead, notes = voice(rng), voice(rng)
    study = [(f"p{i}.wav", prints(rng, {"S1": lead, "S3": voice(rng)}) + prints(rng, {"S2": notes}, seconds=3.0))
             for i in range(3)]
    assert voices.folder_team(study, ["S1"] * 3) == [{}] * 3  # the note taker's prints rest on 3 s: not matched
    twins = [(f"t{i}.wav", prints(rng, {"S1": lead, "S2": notes, "S3": voice(rng), "S4": notes}))
             for i in range(3)]
    assert all("S2" not in t and "S4" not in t for t in voices.folder_team(twins, ["S1"] * 3))  # no margin


def quiet_note_taker():
    """X asks, Y answers at length, N (the note taker) only says a few statements: N's words alone
    put N on the participant side."""
    answer = "We mostly did it by hand in a spreadsheet, and it took most of the afternoon every quarter."
    lines = [("X", "Hi, thanks for joining us today."), ("N", "Hello, I am Sam from the design team."),
             ("X", "Can you tell me about the last time you sent an invoice?"), ("Y", answer),
             ("N", "That matches what we heard from the finance people last month."),
             ("X", "What happened next?"), ("Y", answer), ("X", "Why did that take so long?"), ("Y", answer),
             ("N", "Right, I have written that part down.")]
    segs = [Segment(4.0 * k, 4.0 * k + (3.5 if who == "Y" else 1.5), text, [], who) for k, (who, text) in enumerate(lines)]
    return segs, [Turn(s.start, s.end, s.speaker) for s in segs]


def test_team_evidence_puts_a_quiet_note_taker_on_the_interviewer_side():
    segs, turns = quiet_note_taker()
    talk = {"Y": 10.5, "X": 6.0, "N": 4.5}
    alone = roles.assign_roles(segs, turns, talk)
    assert alone.interviewer == "X" and alone.by_speaker["N"] == "interviewee"  # the words alone
    team = {"N": {"speaker": "N", "kind": "team", "log_odds": voices.folder_log_odds(3),
                  "describe": "heard with the interviewer in 3 of 3 recordings, beside 3 different participants"}}
    r = roles.assign_roles(segs, turns, talk, team=team)
    assert (r.interviewer, r.interviewee) == ("X", "Y") and r.method == "evidence" and r.confidence > 0.6
    assert r.by_speaker == {"X": "interviewer", "N": "interviewer", "Y": "interviewee"}
    side = r.evidence["sides"]["N"]
    assert side["voice"]["kind"] == "team" and side["summary"].startswith("heard with the interviewer in 3 of 3")
    assert side["log_odds"] >= roles.SIDE_LOG_ODDS and alone.evidence["sides"]["N"]["log_odds"] < roles.SIDE_LOG_ODDS


def _sidecar(folder, name: str, rng, people: dict[str, np.ndarray]):
    segs, turns = quiet_note_taker()
    ids = {"X": "S1", "N": "S2", "Y": "S3"}
    segs = [Segment(s.start, s.end, s.text, [], ids[s.speaker]) for s in segs]
    turns = [Turn(t.start, t.end, ids[t.speaker]) for t in turns]
    iv = Interview(Recording(str(folder / f"{name}.wav"), (name * 64)[:64].encode().hex()[:64], 40.0, 1, 16000, "pcm"),
                   PipelineInfo("x", "tiny.en", "senko", "cpu", "int8"), segments=segs, turns=turns)
    iv.voices = prints(rng, {ids[who]: v for who, v in people.items()})
    relabel.apply(iv, roles.assign_roles(iv.segments, iv.turns, analyze.talk_seconds(iv.turns)))  # as a run does
    path = folder / f"{name}.interview.json"
    sidecar.write(iv, path)
    return path


def test_the_folder_step_rewrites_each_sidecar_with_the_note_taker_on_the_interviewer_side(tmp_path, rng):
    lead, notes = voice(rng), voice(rng)
    paths = [_sidecar(tmp_path, name, rng, {"X": lead, "N": notes, "Y": voice(rng)}) for name in ("ana", "ben", "cy")]
    before = sidecar.read(paths[0])
    assert before.role_of("S2") == "interviewee" and before.talk_ratio.interviewee_share < 0.8
    changes = decide_folder_roles(paths)
    assert sorted(c["sidecar"] for c in changes) == sorted(map(str, paths))
    for path in paths:
        iv = sidecar.read(path)
        assert iv.roles.by_speaker == {"S1": "interviewer", "S2": "interviewer", "S3": "interviewee"}
        participant = sum(t.end - t.start for t in iv.turns if t.speaker == "S3")
        assert iv.talk_ratio.interviewee_share == pytest.approx(participant / sum(t.end - t.start for t in iv.turns),
                                                                abs=0.002)
        assert "heard with the interviewer in 3 of 3" in iv.roles.evidence["sides"]["S2"]["voice"]["describe"]
    sentence = metrics.roles_change_sentence(changes[0])
    assert sentence.startswith("roles decided across the folder: S2 to the interviewer side (heard with the "
                               "interviewer in 3 of 3 recordings"), sentence
    assert decide_folder_roles(paths) == []  # decided again: nothing changes


def test_the_folder_step_leaves_a_double_download_as_it_is(tmp_path, rng):
    lead, notes, participant = voice(rng), voice(rng), voice(rng)
    paths = [_sidecar(tmp_path, name, rng, {"X": lead, "N": notes, "Y": participant}) for name in ("call", "call (1)")]
    texts = [p.read_text() for p in paths]
    assert decide_folder_roles(paths) == []
    assert [p.read_text() for p in paths] == texts


def test_ivp_roles_on_a_folder_says_who_moved_and_why(tmp_path, rng):
    import json

    from click.testing import CliRunner

    from pipeline.cli import main
    lead, notes = voice(rng), voice(rng)
    for name in ("ana", "ben", "cy"):
        _sidecar(tmp_path, name, rng, {"X": lead, "N": notes, "Y": voice(rng)})
    runner = CliRunner()
    first = runner.invoke(main, ["roles", str(tmp_path)])
    assert first.exit_code == 0, first.output
    moved = [line for line in first.output.splitlines() if "S2 to the interviewer side" in line]
    assert len(moved) == 3 and all("heard with the interviewer in 3 of 3 recordings" in line for line in moved)
    again = runner.invoke(main, ["roles", str(tmp_path), "--json"])
    assert again.exit_code == 0 and json.loads(again.output) == []  # decided already: nothing moves
    assert "roles unchanged" in runner.invoke(main, ["roles", str(tmp_path)]).output


def test_an_enrolled_lead_and_the_folders_note_taker_together(tmp_path, rng, monkeypatch):
    """The lead enrolled (``interviewer_voice = "dana"``), the note taker not: the enrolled voice
    leads, the folder puts the note taker on the team; an enrolled member's evidence wins over the
    folder's for the same speaker."""
    from pipeline import voicelib
    from pipeline.interview import Voiceprint
    monkeypatch.setenv("IVP_VOICES_DIR", str(tmp_path / "voices"))
    dana, notes = voice(rng), voice(rng)
    voicelib.save("dana", Voiceprint("dana", 30, 40, encode(unit(dana))), {"recording": "x"})
    paths = [_sidecar(tmp_path, name, rng, {"X": dana, "N": notes, "Y": voice(rng)}) for name in ("ana", "ben", "cy")]
    for path in paths:  # processed with the enrolled voice named
        iv = sidecar.read(path, edits=False)
        iv.pipeline.settings = {"interviewer_voice": "dana"}
        relabel.apply(iv, voices.reassess(iv, None))
        sidecar.write(iv, path)
        assert iv.roles.method == "enrolled-voice" and iv.role_of("S2") == "interviewee"
    decide_folder_roles(paths)
    for path in paths:
        r = sidecar.read(path).roles
        assert r.method == "enrolled-voice" and r.interviewer == "S1"
        assert r.by_speaker == {"S1": "interviewer", "S2": "interviewer", "S3": "interviewee"}
        assert r.evidence["sides"]["S2"]["voice"]["kind"] == "team"
    voicelib.save("sam", Voiceprint("sam", 30, 40, encode(unit(notes))), {"recording": "x"})
    iv = sidecar.read(paths[0], edits=False)
    iv.pipeline.settings = {"interviewer_voice": "dana, sam"}
    team = voices.folder_team([(p.name, sidecar.read(p).voices) for p in paths], ["S1"] * 3)[0]
    assert voices.reassess(iv, None, team).evidence["sides"]["S2"]["voice"]["kind"] == "enrolled"


def test_a_users_side_fix_stands_against_the_team_evidence(tmp_path, rng):
    lead, notes = voice(rng), voice(rng)
    paths = [_sidecar(tmp_path, name, rng, {"X": lead, "N": notes, "Y": voice(rng)}) for name in ("ana", "ben", "cy")]
    iv = sidecar.read(paths[0], edits=False)
    relabel.apply(iv, voices.set_override(iv, sides={"S2": "interviewee"}))  # ivp roles ana.wav --role S2=interviewee
    sidecar.write(iv, paths[0])
    changes = decide_folder_roles(paths)
    assert sorted(c["sidecar"] for c in changes) == sorted(map(str, paths[1:]))
    assert sidecar.read(paths[0]).role_of("S2") == "interviewee"
    assert all(sidecar.read(p).role_of("S2") == "interviewer" for p in paths[1:])
