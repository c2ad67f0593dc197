"""A note taker recurs with the interviewer across a study (issue #24), on constructed audio
(scripts/people_audio.py): one researcher (espeak-ng f2) and one note taker (Piper's joe) with
a different participant in each interview; the note taker only says a few statements, so their
words alone put them on the participant side. Also a returning participant and a double download.
The rules on constructed voiceprints are in ``test_folder_team.py``."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import kit

pa = kit.synthetic_voices("people_audio")

from pipeline import sidecar  # noqa: E402
from pipeline.batch import process_batch  # noqa: E402
from pipeline.stages import analyze, voices  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.shared]

RESEARCHER, NOTE_TAKER, RETURNING = "espeak:en-us+f2", "joe", "espeak:en-us+m3"


def _process(folder: Path) -> dict:
    results = process_batch(sorted(folder.glob("*.wav")), {})
    assert all(r.ok for r in results), [r.error for r in results]
    return {r.path.stem: r for r in results}


@pytest.fixture(scope="module")
def study(shared_data, tmp_path_factory):
    """Three interviews, each with the researcher, the note taker and a participant heard nowhere
    else (espeak m3, the LJ Speech reader, the LibriSpeech reader), processed as one folder."""
    folder = tmp_path_factory.mktemp("team")
    convs = [pa.quiet_note_taker(f"s{k}", RESEARCHER, participant, NOTE_TAKER)
             for k, participant in enumerate((RETURNING, "lj", "libri"), 1)]
    truths = {c.name: pa.build(c, folder)[1] for c in convs}
    return folder, truths, _process(folder)


def _who(iv, truth) -> dict[str, str]:
    """The truth's person (A researcher, N note taker, B participant) -> the sidecar's speaker."""
    mapping = pa.speaker_map(iv.turns, truth)
    assert len({t.speaker for t in iv.turns}) == len(truth["roles"]) == len(mapping), (mapping, truth["roles"])
    return {who: s for s, who in mapping.items()}


def test_the_note_taker_is_on_the_interviewer_side_in_every_interview(study):
    folder, truths, results = study
    for name, truth in truths.items():
        iv = sidecar.read(folder / f"{name}.interview.json")
        who = _who(iv, truth)
        assert truth["share"]["N"] < 0.16  # a minor voice: 8-15 % of the speech
        words_alone = voices.reassess(iv, None)  # the same recording without the folder's voices
        assert words_alone.role_of(who["N"]) == "interviewee", (name, words_alone.evidence.get("sides"))
        assert iv.roles.interviewer == who["A"], (name, iv.roles.evidence)
        assert iv.roles.by_speaker == {who["A"]: "interviewer", who["N"]: "interviewer", who["B"]: "interviewee"}
        why = iv.roles.evidence["sides"][who["N"]]["voice"]
        assert why["kind"] == "team" and why["describe"].startswith("heard with the interviewer in 3 of 3 recordings")
        talk = analyze.talk_seconds(iv.turns)  # the participant's speech over everyone's, the note taker's not in it
        assert iv.talk_ratio.interviewee_share == pytest.approx(talk[who["B"]] / sum(talk.values()), abs=0.005)
        # against the truth: a LibriSpeech clip counts whole there, its own pauses included (README)
        assert iv.talk_ratio.interviewee_share == pytest.approx(truth["participant_share"],
                                                                abs=0.04 if name == "s3" else 0.02), name
        assert results[name].interview.role_of(who["N"]) == "interviewer"  # what the batch printed


@pytest.fixture(scope="module")
def more(study, tmp_path_factory):
    """The study with a follow-up interview of its first participant (the researcher alone with
    them) and a double download of the first interview; the study's results come from the cache."""
    folder, truths, _ = study
    more = tmp_path_factory.mktemp("more")
    for name in truths:
        shutil.copy2(folder / f"{name}.wav", more / f"{name}.wav")
    shutil.copytree(folder / ".ivp" / "cache", more / ".ivp" / "cache")  # no transcription again
    follow = pa.two_people("f1", RESEARCHER, RETURNING, n=4, first=4)  # other questions, other answers
    truths = {**truths, "f1": pa.build(follow, more)[1]}
    pa.double_download(more / "s1.wav", more / "s1 (1).wav")
    truths["s1 (1)"] = truths["s1"]
    return more, truths, _process(more)


def test_a_returning_participant_stays_on_the_participant_side(more):
    """The participant of s1 again in f1 (and in s1's double download): heard with the researcher in
    three recordings, but never beside someone new, so never the team; the note taker still is."""
    folder, truths, _ = more
    for name in ("s1", "s1 (1)", "f1"):
        iv = sidecar.read(folder / f"{name}.interview.json")
        who = _who(iv, truths[name])
        assert iv.role_of(who["B"]) == "interviewee" and iv.roles.interviewee == who["B"], (name, iv.roles.evidence)
        assert iv.roles.interviewer == who["A"]
        assert "voice" not in (iv.roles.evidence.get("sides") or {}).get(who["B"], {})
        assert iv.talk_ratio.interviewee_share == pytest.approx(truths[name]["participant_share"], abs=0.02), name
    follow = sidecar.read(folder / "f1.interview.json")
    assert follow.roles.method == "voice" and follow.roles.evidence["voice"]["recordings"] == 5  # the researcher's
    for name in ("s1", "s1 (1)", "s2", "s3"):
        iv = sidecar.read(folder / f"{name}.interview.json")
        who = _who(iv, truths[name])
        assert iv.role_of(who["N"]) == "interviewer", name
        assert iv.roles.evidence["sides"][who["N"]]["voice"]["describe"].startswith(
            "heard with the interviewer in 4 of 5 recordings, beside 2 different participants")


def test_a_double_download_alone_stays_as_it_is(more, tmp_path):
    """#19 item 4: the call and its double download, nothing else: every voice recurs, so the
    voices say nothing and the sidecars keep what their words decided."""
    folder, truths, _ = more
    for name in ("s1", "s1 (1)"):
        shutil.copy2(folder / f"{name}.wav", tmp_path / f"{name}.wav")
    shutil.copytree(folder / ".ivp" / "cache", tmp_path / ".ivp" / "cache")
    _process(tmp_path)
    for name in ("s1", "s1 (1)"):
        iv = sidecar.read(tmp_path / f"{name}.interview.json")
        who = _who(iv, truths[name])
        assert iv.roles.method == "evidence" and "voice" not in iv.roles.evidence
        assert not any("voice" in side for side in (iv.roles.evidence.get("sides") or {}).values())
        assert iv.roles.by_speaker == voices.reassess(iv, None).by_speaker  # what the words alone decide
        assert iv.role_of(who["N"]) == "interviewee"  # (and they cannot tell a quiet note taker)
