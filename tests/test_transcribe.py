"""Chunked transcription keeps memory bounded without losing or shifting words."""
import numpy as np
import pytest

from pipeline.stages.decode import decode, probe
from pipeline.stages.transcribe import chunk_bounds


def test_chunks_are_cut_in_the_quiet_and_cover_everything():
    rate = 1000
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, rate * 700).astype(np.float32)
    x[rate * 285: rate * 287] = 0.0  # a pause near the first 300 s limit
    bounds = chunk_bounds(x, rate, max_s=300, search_s=30)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(x)
    assert all(b0[1] == b1[0] for b0, b1 in zip(bounds, bounds[1:]))
    assert all(b - a <= 300 * rate for a, b in bounds)
    assert 285 * rate <= bounds[0][1] <= 287 * rate
    assert chunk_bounds(x[: rate * 10], rate, max_s=300) == [(0, rate * 10)]


@pytest.mark.slow
def test_chunked_transcript_matches_the_whole_one(pipeline_default, short_clip):
    audio = decode(short_clip, probe(short_clip))
    transcriber = pipeline_default.transcriber
    whole = transcriber(audio)
    transcriber.chunk_s = 8.0
    try:
        chunked = transcriber(audio)
    finally:
        transcriber.chunk_s = 300.0
    words = [w for s in chunked.segments for w in s.words]
    assert words == sorted(words, key=lambda w: w.start)
    assert 0 <= words[0].start and words[-1].end <= audio.duration + 0.1
    norm = lambda t: " ".join("".join(c for c in t.lower() if c.isalnum() or c == " ").split())
    a = norm(" ".join(s.text for s in whole.segments)).split()
    b = norm(" ".join(s.text for s in chunked.segments)).split()
    assert len(set(a) & set(b)) >= 0.8 * len(set(a)), (a, b)
    # the same words land at the same times (within 0.5 s) whichever way it was cut
    first = {w.word.strip().lower(): w.start for s in whole.segments for w in s.words}
    shared = [w for w in words if w.word.strip().lower() in first]
    assert shared and np.median([abs(first[w.word.strip().lower()] - w.start) for w in shared]) < 0.5
