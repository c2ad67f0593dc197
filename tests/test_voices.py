"""The recurring voice: folders of constructed interviews (real readers and synthetic voices).

Each interview is laid out from utterances with known turns (scripts/roles_audio.py): Piper's
``joe`` is the researcher; interviewees are the LJ Speech reader, espeak-ng voices, and one
misleading interview (the interviewee speaks first and asks questions, the researcher prompts).
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import kit

ra = kit.synthetic_voices("roles_audio")

from pipeline import sidecar  # noqa: E402
from pipeline.interview import SCHEMA_VERSION  # noqa: E402
from pipeline.batch import process_batch  # noqa: E402
from pipeline.cli import main  # noqa: E402
from pipeline.stages import voices  # noqa: E402
from pipeline.stages.diarize.prints import embed_spans  # noqa: E402

pytestmark = pytest.mark.slow  # the voices of real recordings: a study processed once per module (about 35 s)


def interviewer_id(interview, truth) -> str:
    mapping = ra.truth_roles(interview, truth)
    return next(spk for spk, who in mapping.items() if who == "A")


@pytest.fixture(scope="module")
def study(shared_data, tmp_path_factory):
    """Three interviews by one researcher, the third misleading, processed as one folder."""
    folder = tmp_path_factory.mktemp("study")
    scripts = [ra.plain("p1", "joe", "lj"), ra.plain("p2", "joe", "espeak:en-us+m3", variant=1),
               ra.misleading("p3", "joe", "espeak:en-us+f2")]
    truths = {iv.name: ra.build(iv, folder)[1] for iv in scripts}
    results = process_batch(sorted(folder.glob("*.wav")), {})
    assert all(r.ok for r in results), [r.error for r in results]
    return folder, truths, {r.path.stem: r for r in results}


def test_recurring_voice_decides_all_three_including_the_misleading_one(study):
    folder, truths, results = study
    for name, truth in truths.items():
        iv = sidecar.read(folder / f"{name}.interview.json")
        r = iv.roles
        assert r.interviewer == interviewer_id(iv, truth), (name, r.evidence)
        assert r.method == "voice"
        voice = r.evidence["voice"]
        assert voice["recordings"] == 3 and voice["similarity"] >= voices.LINK
        assert sorted(voice["matched"]) == sorted(f"{n}.wav" for n in truths if n != name)
        assert results[name].interview.roles.interviewer == r.interviewer  # the batch result agrees
        assert {v.speaker for v in iv.voices} == {t.speaker for t in iv.turns}
    misled = sidecar.read(folder / "p3.interview.json")
    interviewee = misled.roles.interviewee
    assert misled.roles.evidence["speakers"][interviewee]["spoke_first"] == 1
    asked = misled.roles.evidence["speakers"][interviewee]
    assert asked["unanswered"] + asked["clarifying"] >= 4 and asked["questions"] <= 1  # its questions
    if "disagreement" in misled.roles.evidence:  # the text may still point the other way
        assert misled.roles.confidence < 0.6
        assert any(w.startswith("voice and text disagree") and "ivp roles" in w for w in misled.warnings)


def test_one_interview_folder_falls_back_to_text(study, tmp_path):
    folder, truths, _ = study
    shutil.copy2(folder / "p1.interview.json", tmp_path / "p1.interview.json")
    result = CliRunner().invoke(main, ["roles", str(tmp_path)])
    assert result.exit_code == 0, result.output
    iv = sidecar.read(tmp_path / "p1.interview.json")
    assert iv.roles.method == "evidence" and "voice" not in iv.roles.evidence
    assert iv.roles.interviewer == interviewer_id(iv, truths["p1"])  # its own text is clear


def test_swap_is_kept_by_a_rerun(study, tmp_path):
    folder, truths, _ = study
    for suffix in (".wav", ".interview.json"):
        shutil.copy2(folder / f"p2{suffix}", tmp_path / f"p2{suffix}")
    out = tmp_path / "p2.interview.json"
    before = sidecar.read(out)
    result = CliRunner().invoke(main, ["roles", str(tmp_path / "p2.wav"), "--swap"])
    assert result.exit_code == 0, result.output
    swapped = sidecar.read(out)
    assert swapped.roles.interviewer == before.roles.interviewee and swapped.roles.method == "override"
    assert swapped.talk_ratio.interviewee_share == pytest.approx(1 - before.talk_ratio.interviewee_share, abs=0.02)
    assert swapped.segments[0].words == before.segments[0].words  # nothing transcribed again
    [again] = process_batch([tmp_path / "p2.wav"], {}, force=True)
    assert again.ok and again.interview.roles.method == "override"
    assert again.interview.roles.interviewer == swapped.roles.interviewer


def test_enrolled_voice_decides_a_recording_processed_alone(study, tmp_path, monkeypatch):
    folder, truths, _ = study
    monkeypatch.setenv("IVP_VOICES_DIR", str(tmp_path / "voices"))
    p1 = sidecar.read(folder / "p1.interview.json")
    runner = CliRunner()
    enrolled = runner.invoke(main, ["voice", "enroll", "joe", str(folder / "p1.wav"),
                                    "--speaker", interviewer_id(p1, truths["p1"])])
    assert enrolled.exit_code == 0, enrolled.output
    stored = json.loads((tmp_path / "voices" / "joe.json").read_text())
    assert stored["name"] == "joe" and stored["seconds"] >= voices.MIN_SECONDS and "vector" in stored
    assert "joe" in runner.invoke(main, ["voice", "list"]).output
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy2(folder / "p3.wav", alone / "p3.wav")
    [result] = process_batch([alone / "p3.wav"], {"interviewer_voice": "joe"})
    assert result.ok, result.error
    r = result.interview.roles
    assert r.method == "enrolled-voice" and r.evidence["voice"]["name"] == "joe"
    assert r.interviewer == interviewer_id(result.interview, truths["p3"])
    assert runner.invoke(main, ["voice", "remove", "joe"]).exit_code == 0
    assert "no enrolled voices" in runner.invoke(main, ["voice", "list"]).output


def _prints_from_truth(path: Path, truth: dict):
    audio = ra.decode16k(path)
    out = []
    for who in ("A", "B"):
        spans = [(t["start"], t["end"]) for t in truth["turns"] if t["speaker"] == who]
        out.append(embed_spans(audio, spans, who))
    return out


def test_two_researchers_and_a_follow_up_interviewee(shared_data, tmp_path):
    """Researcher joe (3 interviews, one interviewee seen twice) and researcher f2 (3 interviews):
    each recurring researcher decides their own subset; the follow-up interviewee decides nothing."""
    plan = [("j1", "joe", "lj"), ("j2", "joe", "espeak:en-us+m3"), ("j3", "joe", "espeak:en-us+m3"),
            ("f1", "espeak:en-us+f2", "libri"), ("f2", "espeak:en-us+f2", "lj"),
            ("f3", "espeak:en-us+f2", "libri")]
    items = []
    for k, (name, researcher, interviewee) in enumerate(plan):
        path, truth = ra.build(ra.plain(name, researcher, interviewee, variant=k), tmp_path)
        items.append((name, _prints_from_truth(path, truth)))
    decisions = voices.decide_folder(items)
    for (name, researcher, _), decision in zip(plan, decisions):
        assert decision is not None and decision["speaker"] == "A", (name, decision)
        assert decision["recordings"] == 3
    assert decisions[0]["voice"] != decisions[3]["voice"]
    assert sorted(decisions[3]["matched"]) == ["f2", "f3"]


def test_a_version_1_sidecar_is_read_and_fixed(study, tmp_path):
    folder, _, _ = study
    data = json.loads((folder / "p1.interview.json").read_text())
    data["schema_version"] = 1
    data.pop("voices")
    for key in ("text", "voice", "log_odds", "summary"):
        data["roles"]["evidence"].pop(key, None)
    old = tmp_path / "p1.interview.json"
    old.write_text(json.dumps(data))
    result = CliRunner().invoke(main, ["roles", str(old), "--interviewer", data["roles"]["interviewee"]])
    assert result.exit_code == 0, result.output
    fixed = json.loads(old.read_text())
    assert fixed["schema_version"] == SCHEMA_VERSION and fixed["voices"] == []
    assert fixed["roles"]["interviewer"] == data["roles"]["interviewee"]
    assert fixed["roles"]["evidence"]["override"]["previous"] == data["roles"]["interviewer"]
    sidecar.validate(fixed)


def test_channel_diarized_calls_get_voiceprints(shared_data):
    from pipeline.config import Config
    from pipeline.stages.decode import decode, probe, sha256_file
    from pipeline.stages.diarize.channels import ChannelDiarizer
    from pipeline.voiceprint import similarity
    path = shared_data / "stereo_two_channels.wav"
    audio = decode(path, probe(path, sha256_file(path)))
    result = ChannelDiarizer(Config())(audio)
    prints = {v.speaker: v for v in result.voices}
    assert set(prints) == {"left", "right"}
    for speaker, v in prints.items():
        talk = sum(t.duration for t in result.turns if t.speaker == speaker)
        assert v.seconds == pytest.approx(talk, abs=0.5) and v.windows >= 1
    assert similarity(prints["left"], prints["right"]) < 0.9  # two people, each on their own channel


def test_the_watcher_decides_by_voice_and_keeps_a_roles_fix(study, tmp_path):
    """ivp watch: roles re-decided across the folder by the recurring voice; an `ivp roles` fix
    survives a settings change that reprocesses the folder."""
    import subprocess
    folder, truths, _ = study
    w = tmp_path / "w"
    w.mkdir()
    for name in truths:
        shutil.copy2(folder / f"{name}.wav", w / f"{name}.wav")
    shutil.copytree(folder / ".ivp" / "cache", w / ".ivp" / "cache")  # no transcription again

    def watch_once() -> str:
        proc = subprocess.run([sys.executable, "-m", "pipeline", "watch", str(w), "--once", "--no-report"],
                              capture_output=True, text=True, timeout=kit.patient(600))
        assert proc.returncode == 0, proc.stderr
        return (w / ".ivp" / "watch.log").read_text(encoding="utf-8")

    watch_once()
    for name, truth in truths.items():
        iv = sidecar.read(w / f"{name}.interview.json")
        assert iv.roles.method == "voice", (name, iv.roles.evidence)
        assert iv.roles.interviewer == interviewer_id(iv, truth)
    before = sidecar.read(w / "p2.interview.json")
    fixed = CliRunner().invoke(main, ["roles", str(w / "p2.wav"), "--swap"])
    assert fixed.exit_code == 0, fixed.output
    (w / "ivp.toml").write_text("min_silence_s = 1.5\n")  # every file is processed again
    log = watch_once()
    again = sidecar.read(w / "p2.interview.json")
    assert again.pipeline.settings["min_silence_s"] == 1.5  # really reprocessed
    assert again.roles.method == "override" and again.roles.interviewer == before.roles.interviewee
    assert "kept the fix from ivp roles" in log
    status = subprocess.run([sys.executable, "-m", "pipeline", "status", str(w)], capture_output=True,
                            text=True, timeout=kit.patient(60))
    assert "roles fixed with ivp roles" in status.stdout, status.stdout
    for name in ("p1", "p3"):
        assert sidecar.read(w / f"{name}.interview.json").roles.method == "voice"


def test_the_study_follows_the_recurring_interviewer_voice(study, tmp_path):
    """The study's progress names one interviewer for the three interviews of one researcher."""
    from pipeline.study import build_study
    folder, truths, _ = study
    built = build_study(folder, tmp_path / "study")
    who = {r["recording"]: r["interviewer"] for r in built.data["progress"]}
    assert set(who) == {f"{n}.wav" for n in truths} and set(who.values()) == {"voice 1"}, who
    assert {i["interviewer"] for i in built.data["interviews"]} == {"voice 1"}
