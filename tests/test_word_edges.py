"""Word edges from the sound (stages/word_edges.py): constructed audio whose voice starts and stops
at known times, words timed as Whisper times them (the last word of a turn ending early, the first
starting in the pause)."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.interview import INTERVIEWEE as EE, INTERVIEWER as ER, Segment, Turn, Word
from pipeline.stages import analyze, word_edges
from pipeline.stages.decode import Audio

SR = 16000


def voice(spans, seconds, noise_db=None, tail=None, seed=0):
    """A 'voice' (a 150 Hz buzz with harmonics at about -20 dB) inside ``spans``; ``tail``: (start,
    end) of a fading stretch 30 dB under it; ``noise_db``: room noise at that level everywhere."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    buzz *= 0.1 / np.sqrt(np.mean(buzz ** 2))
    x = np.zeros_like(t)
    for s, e in spans:
        x[int(s * SR):int(e * SR)] = buzz[int(s * SR):int(e * SR)]
    if tail:
        x[int(tail[0] * SR):int(tail[1] * SR)] = buzz[int(tail[0] * SR):int(tail[1] * SR)] * 10 ** (-30 / 20)
    if noise_db is not None:
        x += rng.standard_normal(len(t)) * 10 ** (noise_db / 20)
    return Audio(x.astype(np.float32))


def seg(start, end, text, speaker, role):
    words = text.split()
    step = (end - start) / len(words)
    ws = [Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), " " + w) for i, w in enumerate(words)]
    return Segment(start, end, " " + text, ws, speaker, role)


def test_a_last_word_that_ends_early_is_moved_to_where_the_voice_stops():
    audio = voice([(1.0, 4.0), (4.4, 6.0)], 7.0)  # the answer stops at 4.0, the question starts at 4.4
    segments = [seg(1.0, 3.8, "I write it all down", "S2", EE),  # Whisper: 0.2 s early
                seg(4.25, 6.0, "Why Sunday then?", "S1", ER)]  # Whisper: 0.15 s early, in the pause
    out = word_edges.refine(segments, audio)
    assert out[0].words[-1].end == pytest.approx(4.0, abs=0.011)
    assert out[1].words[0].start == pytest.approx(4.4, abs=0.011)
    assert (out[0].end, out[1].start) == (out[0].words[-1].end, out[1].words[0].start)
    # words inside running speech keep their times
    assert [w.start for w in out[0].words] == [w.start for w in segments[0].words]
    assert [w.end for w in out[1].words[:-1]] == [w.end for w in segments[1].words[:-1]]
    turns = [Turn(0.7, 4.3, "S2", EE), Turn(3.95, 6.3, "S1", ER)]
    (h,) = analyze.handovers(turns, out)
    assert h.gap == pytest.approx(0.4, abs=0.02)  # 0.65 from Whisper's words


def test_a_fading_tail_is_followed_and_a_word_stretched_into_the_pause_is_pulled_back():
    audio = voice([(1.0, 3.0), (5.0, 7.0)], 8.0, tail=(3.0, 3.12))
    segments = [seg(1.0, 2.85, "so that was it", "S2", EE), seg(4.75, 7.25, "and then what", "S1", ER)]
    out = word_edges.refine(segments, audio)
    assert out[0].words[-1].end == pytest.approx(3.12, abs=0.011)  # the tail, 30 dB down, is still the voice
    assert out[1].words[0].start == pytest.approx(5.0, abs=0.011)  # started 0.25 s into the pause: pulled in
    assert out[1].words[-1].end == pytest.approx(7.0, abs=0.011)  # ended 0.25 s late: pulled back


def test_room_noise_is_not_taken_for_voice():
    audio = voice([(1.0, 4.0), (4.8, 6.0)], 7.0, noise_db=-45)  # 25 dB under the voice
    segments = [seg(1.0, 3.85, "I write it all down", "S2", EE), seg(4.8, 6.0, "Why Sunday then?", "S1", ER)]
    out = word_edges.refine(segments, audio)
    assert out[0].words[-1].end == pytest.approx(4.0, abs=0.03)
    assert out[1].words[0].start == pytest.approx(4.8, abs=0.03)


def test_edges_move_at_most_max_shift_and_never_across_a_word():
    audio = voice([(0.5, 6.0)], 7.0)  # the voice never stops: nothing tells where the words end
    segments = [seg(0.5, 2.0, "one two", "S2", EE), seg(2.5, 4.0, "three four", "S1", ER)]
    out = word_edges.refine(segments, audio)
    assert out[0].words[-1].end == pytest.approx(2.0 + word_edges.MAX_SHIFT_S)
    assert out[1].words[0].start == out[0].words[-1].end  # back to the word before, not past it
    close = [seg(0.5, 2.0, "one two", "S2", EE), seg(2.05, 4.0, "three four", "S1", ER)]  # no pause: left alone
    assert word_edges.refine(close, audio)[0].words == close[0].words


def test_silent_or_wordless_audio_leaves_the_segments_alone():
    segments = [seg(1.0, 2.0, "hello there", "S2", EE)]
    assert word_edges.refine(segments, Audio(np.zeros(3 * SR, dtype=np.float32))) == segments
    assert word_edges.refine([Segment(0.0, 1.0, "", [], "S1")], voice([(0, 1)], 2.0))[0].words == []
    assert word_edges.refine(segments, Audio(np.zeros(0, dtype=np.float32))) == segments


@pytest.mark.slow
def test_a_0_4_s_handover_is_a_fast_fill_through_the_pipeline(tmp_path):
    """Constructed audio (Piper asks, espeak-ng answers, handovers of 0.4 and 0.9 s): Whisper's
    last word of the answer ends about 0.2 s early, the refined edge does not."""
    from kit import synthetic_voices
    ra = synthetic_voices("roles_audio")
    import bench_handover as bh
    from pipeline.config import Config
    from pipeline.runner import Pipeline
    path, truth = ra.build(bh.script("two_handovers", [0.4, 0.9], 0), tmp_path)
    iv = Pipeline(Config()).process(path)
    true = [e - s for s, e in bh.true_handovers(truth)]
    gaps = [h.gap for h in analyze.handovers(iv.turns, iv.segments)]
    assert true == pytest.approx([0.4, 0.9], abs=0.01) and len(gaps) == 2, gaps
    assert gaps == pytest.approx(true, abs=0.1)
    assert [round(f.gap, 1) for f in iv.fast_fills] == [round(gaps[0], 1)]  # 0.4 s: a fast fill; 0.9 s: not


def test_frame_energy_read_in_blocks_is_the_same_as_at_once():
    audio = voice([(0.5, 2.0), (2.7, 4.1)], 5.0, noise_db=-60)
    whole = word_edges.frame_db(audio)
    assert len(whole) == 500 and np.allclose(word_edges.frame_db(audio, block=7), whole)
    assert whole[100] > -25 and whole[230] < -55  # the voice and the noise between
