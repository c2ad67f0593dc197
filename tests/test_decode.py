"""Decode every common container; bad files give one clear error each."""
import hashlib

import numpy as np
import pytest

from conftest import ffmpeg
from pipeline.errors import DecodeError, InputError, NoAudioStream
from pipeline.stages.decode import decode, probe

FORMATS = {
    "wav": ["-c:a", "pcm_s16le"], "flac": [], "mp3": ["-c:a", "libmp3lame"], "m4a": ["-c:a", "aac"],
    "ogg": ["-c:a", "libvorbis"], "opus": ["-c:a", "libopus"], "webm": ["-c:a", "libopus"],
}


@pytest.fixture(scope="module")
def media(tmp_path_factory, short_clip):
    folder = tmp_path_factory.mktemp("media")
    made = {}
    for ext, codec in FORMATS.items():
        made[ext] = folder / f"clip.{ext}"
        ffmpeg("-i", str(short_clip), "-t", "5", *codec, str(made[ext]))
    for ext in ("mp4", "mov", "mkv"):
        made[ext] = folder / f"video.{ext}"
        ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=64x48:r=30", "-i", str(short_clip), "-t", "5",
               "-shortest", "-c:v", "libx264" if ext != "mkv" else "mpeg4", "-c:a", "aac", str(made[ext]))
    made["silent_video"] = folder / "no audio.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x48:r=25", "-t", "2", "-c:v", "libx264", str(made["silent_video"]))
    return made


@pytest.mark.parametrize("ext", [*FORMATS, "mp4", "mov", "mkv"])
def test_every_format_decodes_to_16k_mono(media, ext):
    rec = probe(media[ext])
    audio = decode(media[ext], rec)
    samples = audio.read(0, audio.length)
    assert audio.sample_rate == 16000 and samples.dtype == np.float32 and len(samples) == audio.length
    assert abs(audio.duration - 5.0) < 0.15  # AAC priming in some containers adds ~0.1 s
    assert audio.peak() == float(np.abs(samples).max()) > 0.05  # real speech, not silence
    assert rec.has_video == (ext in ("mp4", "mov", "mkv"))
    if rec.has_video:
        assert rec.frame_rate == 30.0


def test_stereo_keeps_both_channels(tmp_path, short_clip):
    stereo = tmp_path / "stereo.wav"
    ffmpeg("-i", str(short_clip), "-t", "3", "-af", "pan=stereo|c0=c0|c1=0.5*c0", str(stereo))
    audio = decode(stereo, probe(stereo))
    assert len(audio.channels) == 2 and all(c.length == audio.length for c in audio.channels)
    left, right = (c.read(0, audio.length) for c in audio.channels)
    assert np.allclose(right, 0.5 * left, atol=2e-4) and np.abs(left).max() > 0.05
    assert np.array_equal(audio.read(0, audio.length), (left + right) / 2)


def test_bad_inputs_raise_one_clear_error_and_leave_the_file_alone(tmp_path, media):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp3"
    text.write_text("this is not audio\n" * 50)
    truncated = tmp_path / "truncated.m4a"
    truncated.write_bytes(media["m4a"].read_bytes()[:600])
    cases = [(empty, InputError, "empty file"), (text, DecodeError, "not a readable audio"),
             (media["silent_video"], NoAudioStream, "video without an audio track"),
             (tmp_path / "missing.wav", InputError, "file not found"),
             (truncated, DecodeError, "")]
    for path, kind, words in cases:
        before = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
        with pytest.raises(kind) as err:
            decode(path, probe(path))
        line = str(err.value)
        assert "\n" not in line and str(path) in line and words in line
        assert (hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None) == before


def test_every_audio_stream_is_decoded(tmp_path, short_clip):
    """Two streams: each mixed to mono and kept as a channel (the shorter padded); three: mixed."""
    tone = tmp_path / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "2", str(tone))
    two = tmp_path / "two streams.mka"
    ffmpeg("-i", str(short_clip), "-i", str(tone), "-t", "4", "-map", "0:a", "-map", "1:a", "-c:a", "flac", str(two))
    rec = probe(two)
    assert rec.audio_streams == 2
    audio = decode(two, rec)
    assert audio.streams == 2 and audio.names == ("stream1", "stream2")
    assert [c.length for c in audio.channels] == [audio.length] * 2 and abs(audio.duration - 4.0) < 0.05
    first, second = (c.read(0, audio.length) for c in audio.channels)
    assert np.abs(first).max() > 0.05 and np.abs(second[: 16000]).max() > 0.1
    assert len(second) == audio.length and not second[int(2.1 * 16000):].any()  # the 2 s stream padded with silence
    assert np.array_equal(audio.read(0, audio.length), (first + second) / 2)
    three = tmp_path / "three.mp4"
    ffmpeg("-i", str(short_clip), "-i", str(tone), "-i", str(short_clip), "-t", "4",
           "-map", "0:a", "-map", "1:a", "-map", "2:a", "-c:a", "aac", str(three))
    audio = decode(three, probe(three))
    assert audio.streams == 3 and audio.channels is None and abs(audio.duration - 4.0) < 0.15
    assert probe(short_clip).audio_streams == 1 and decode(short_clip, probe(short_clip)).streams == 1
