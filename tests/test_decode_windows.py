"""Decoded audio is held outside memory and read by window: the same samples as ffmpeg gives,
bounded memory whatever the length, nothing left in the temporary folder."""
import gc
import os
import subprocess
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import DecodeError
from pipeline.stages.decode import Audio, decode, probe
from pipeline.stages.pcm import Array, Gated, Mix, Pcm16, blocks

ROOT = Path(__file__).resolve().parent.parent
SR = 16000


def ffmpeg_pcm(path: Path, channels: int) -> np.ndarray:
    """The file as ffmpeg decodes it: (samples, channels) int16 at 16 kHz."""
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", str(channels),
                          "-ar", str(SR), "-f", "s16le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.int16).reshape(-1, channels)


@pytest.fixture(scope="module")
def long_sparse(tmp_path_factory) -> Path:
    """12 minutes of low noise with a 2 s chirp every 4 minutes, as FLAC (its float32 would be 46 MB)."""
    path = tmp_path_factory.mktemp("long") / "sparse 12 min.flac"
    rng = np.random.default_rng(3)
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-f", "s16le", "-ar", str(SR), "-ac", "1", "-i", "-",
           "-c:a", "flac", "-compression_level", "0", str(path)]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE) as proc:
        for minute in range(12):
            x = np.round(rng.normal(0, 2.0, 60 * SR)).astype(np.int16)
            if minute % 4 == 1:
                t = np.arange(2 * SR) / SR
                x[10 * SR: 12 * SR] = (8000 * np.sin(2 * np.pi * (200 + 300 * t) * t)).astype(np.int16)
            proc.stdin.write(x.tobytes())
        proc.stdin.close()
    assert proc.returncode == 0
    return path


@pytest.mark.slow  # builds and decodes 12 minutes twice (a few seconds)
def test_a_long_recording_is_read_by_window_not_held_in_memory(long_sparse):
    rec = probe(long_sparse)
    tracemalloc.start()
    try:
        audio = decode(long_sparse, rec)
        _, decoding_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        held, _ = tracemalloc.get_traced_memory()
        window = audio.read(7 * 60 * SR, 7 * 60 * SR + 30 * SR)
        _, reading_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert abs(audio.duration - 720.0) < 0.1
    float_bytes = 4 * audio.length  # what one float32 array of the whole recording takes
    assert decoding_peak < float_bytes / 8, decoding_peak  # a minute's blocks, never the whole
    assert held < 2_000_000, held  # nothing sample-long kept in memory
    assert reading_peak - held < 8 * len(window) + 1_000_000  # a window costs about its own size
    truth = ffmpeg_pcm(long_sparse, 1)[:, 0]
    assert audio.length == len(truth)
    for a, b in [(0, 1000), (4 * 60 * SR + 9 * SR, 4 * 60 * SR + 13 * SR), (len(truth) - 500, len(truth) + 500)]:
        assert np.array_equal(audio.read(a, b), truth[a:b].astype(np.float32) / 32768)
    for a, x in blocks(audio.mono):
        assert np.array_equal(x, truth[a: a + len(x)].astype(np.float32) / 32768)
    assert audio.peak() == np.abs(truth.astype(np.int32)).max() / 32768 > 0.2


@pytest.mark.parametrize("name, channels", [("interview.opus", 1), ("interview_stereo.opus", 2)])
def test_the_samples_are_the_ones_ffmpeg_decodes(name, channels):
    """The mono mix is the mean of the int16 channels scaled to float, bit for bit (what decode
    held in memory before); a stereo file's channels are its sides."""
    path = ROOT / "sample_audio" / name
    audio = decode(path, probe(path))
    truth = ffmpeg_pcm(path, channels)
    mono = truth.mean(axis=1, dtype=np.float32) / 32768.0
    assert audio.length == len(truth)
    assert np.array_equal(audio.read(0, audio.length), mono)
    assert np.array_equal(audio.read(SR * 61, SR * 62), mono[SR * 61: SR * 62])
    if channels == 2:
        assert [c.raw(0, c.length).tolist() for c in audio.channels] == [truth[:, 0].tolist(), truth[:, 1].tolist()]
    else:
        assert audio.channels is None


def test_temporary_files_have_no_name_and_close_with_the_audio(short_clip):
    audio = decode(short_clip, probe(short_clip))
    store = audio.mono.channels[0]
    fd = store._file.fileno()
    target = os.readlink(f"/proc/self/fd/{fd}")
    assert target.startswith(tempfile.gettempdir()) and not os.path.exists(target)  # no name: nothing left on a kill
    del audio, store
    gc.collect()
    assert not os.path.exists(f"/proc/self/fd/{fd}") or os.readlink(f"/proc/self/fd/{fd}") != target


def test_a_temporary_folder_that_cannot_be_written_is_one_clear_line(short_clip, tmp_path, monkeypatch):
    missing = tmp_path / "no such folder"
    monkeypatch.setattr(tempfile, "tempdir", str(missing))
    with pytest.raises(DecodeError) as err:
        decode(short_clip, probe(short_clip))
    line = str(err.value)
    assert "\n" not in line and str(short_clip) in line and "temporary folder" in line


def test_pcm16_pads_and_mixes_as_int_means():
    a, b = Pcm16(), Pcm16()
    x = np.array([1, -2, 32767, -32768, 5], dtype=np.int16)
    a.append(x[:2])
    a.append(x[2:])
    b.append(np.array([3, 3], dtype=np.int16))
    b.length = a.length  # padded with silence
    assert b.read(0, 5).tolist() == [3 / 32768, 3 / 32768, 0.0, 0.0, 0.0]
    assert a.read(3, 99).tolist() == [-1.0, 5 / 32768] and a.read(7, 9).size == 0
    mixed = Mix([a, b])
    expected = np.stack([x, [3, 3, 0, 0, 0]]).mean(axis=0, dtype=np.float32) / 32768.0
    assert np.array_equal(mixed.read(0, 5), expected)
    assert a.peak() == 1.0 and mixed.peak() == float(np.abs(expected).max())
    assert Mix([Array(np.array([0.5, -0.25], dtype=np.float32)), Array(np.array([-0.5, 0.25], dtype=np.float32))]).peak() == 0.0


def test_a_gated_channel_is_silent_outside_its_flags_and_past_its_last_whole_frame():
    hop = 4
    channel = Array(np.arange(1, 23, dtype=np.float32))  # 22 samples: 5 whole frames and 2 left over
    keep = np.array([True, False, True, True, False, True, True])  # flags past the end are ignored
    gated = Gated(channel, keep, hop)
    expected = [s + 1.0 if s // hop < 5 and keep[s // hop] else 0.0 for s in range(22)]
    assert gated.read(0, 22).tolist() == expected
    for a, b in [(3, 9), (5, 6), (8, 30), (21, 22)]:
        assert gated.read(a, b).tolist() == expected[a:b]
    assert channel.read(0, 3).tolist() == [1.0, 2.0, 3.0]  # the channel itself unchanged


def test_arrays_given_to_audio_are_read_as_they_are():
    x = np.linspace(-0.5, 0.5, 100, dtype=np.float32)
    audio = Audio(x, SR, np.stack([np.round(x * 32767), np.zeros(100)]).astype(np.int16))
    assert np.array_equal(audio.read(10, 20), x[10:20]) and audio.length == 100
    assert audio.channels[0].read(0, 100).tolist() == (np.round(x * 32767) / 32768).astype(np.float32).tolist()
    window = audio.read(0, 5)
    window[:] = 9.0
    assert audio.read(0, 5)[0] == x[0]  # a window is a copy


def test_decode_holds_no_whole_array_on_audio(short_clip):
    audio = decode(short_clip, probe(short_clip))
    arrays = [v for v in vars(audio).values() if isinstance(v, np.ndarray)]
    assert arrays == [] and isinstance(audio.mono, Mix) and audio.length > 0
    assert all(isinstance(c, Pcm16) for c in audio.mono.channels)
