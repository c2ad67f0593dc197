"""ffprobe + ffmpeg: a recording in, 16 kHz mono float32 (plus per-channel audio) out.

ffmpeg is always driven with argument lists, never a shell string, so any file name works.
Inputs are always opened as local files: ``file:`` plus the absolute path, with a protocol
whitelist, so a name such as ``http:host:80.mp3`` is a file name, never a URL.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from ..errors import DecodeError, InputError, NoAudioStream
from ..interview import Recording
from ..recording.discover import local_input, not_regular, sha256_file  # noqa: F401  (local_input, sha256_file: the drivers import them from here)

SAMPLE_RATE = 16000
BLOCK_SAMPLES = SAMPLE_RATE * 60  # decode and convert a minute at a time
BLOCK_BYTES = BLOCK_SAMPLES * 2
TRUNCATED_SHARE = 0.5  # less than this share of the announced duration decodes: a broken file
STREAM_NAMES = ("stream1", "stream2")  # speaker ids of a file's two audio streams


@dataclass
class Audio:
    """Decoded audio: ``samples`` is mono float32 at ``sample_rate``; ``channels`` is None or the
    (K, N) int16 channels (scale by 1/32768 for float): the two sides of a stereo file, the
    two audio streams of a file (each mixed to mono), or a set of per-person tracks.

    ``names`` are the channels' speaker ids when they are not a stereo file's left and right;
    ``persons`` says each channel is known to be one person (declared tracks), so nobody has to
    guess it from the sound; ``streams`` is how many audio streams the file has."""

    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE
    channels: Optional[np.ndarray] = None
    names: Optional[tuple[str, ...]] = None
    persons: bool = False
    streams: int = 1

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def require_ffmpeg() -> None:
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            raise DecodeError(None, f"{tool} not found on PATH; install ffmpeg (e.g. apt-get install ffmpeg)")




def check_readable(path: Path) -> None:
    """Raise :class:`InputError` with a plain reason when the file cannot be processed at all."""
    if not path.exists():
        raise InputError(str(path), "file not found")
    problem = not_regular(path)
    if problem:
        raise InputError(str(path), problem)
    if not os.access(path, os.R_OK):
        raise InputError(str(path), "permission denied")
    if path.stat().st_size == 0:
        raise InputError(str(path), "empty file (0 bytes)")


def probe(path: Path, sha256: Optional[str] = None) -> Recording:
    """Read duration, channels, codec and video facts with ffprobe."""
    path = Path(path)
    check_readable(path)
    require_ffmpeg()
    cmd = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", *local_input(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        raise DecodeError(str(path), f"not a readable audio/video file ({_last_line(proc.stderr)})")
    info = json.loads(proc.stdout or "{}")
    streams = info.get("streams", [])
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    video = [s for s in streams if s.get("codec_type") == "video"
             and not s.get("disposition", {}).get("attached_pic")]
    if not audio:
        what = "video without an audio track" if video else "no audio stream"
        raise NoAudioStream(str(path), what)
    stream = audio[0]
    duration = _float(stream.get("duration")) or _float(info.get("format", {}).get("duration")) or 0.0
    return Recording(
        path=os.path.abspath(path),
        sha256=sha256 or sha256_file(path),
        duration_s=round(duration, 3),
        channels=int(stream.get("channels") or 1),
        sample_rate=int(stream.get("sample_rate") or 0),
        codec=str(stream.get("codec_name") or "unknown"),
        has_video=bool(video),
        frame_rate=_frame_rate(video[0]) if video else None,
        audio_streams=len(audio),
    )


def decode(path: Path, recording: Recording, keep_channels: bool = True) -> Audio:
    """Decode the audio to 16 kHz float32, streaming ffmpeg's output into one array.

    A two-channel file also keeps its channels (as int16, to bound memory on long recordings).
    A file with two audio streams (a call recorder's microphone and far end) keeps each stream,
    mixed to mono, as one channel named ``stream1`` / ``stream2``; with more streams, all are
    mixed into the mono samples. Whether two streams are two people is decided later, from the
    sound (``stages.tracks``).
    """
    if recording.audio_streams > 1:
        return _decode_streams(path, recording, recording.audio_streams, keep_channels)
    channels = 2 if keep_channels and recording.channels == 2 else 1
    mono, stereo = _pcm(path, recording, 0, channels)
    return Audio(samples=mono, channels=stereo)


def track_names(paths: list[Path]) -> tuple[str, ...]:
    """Speaker ids for per-person track files: each file's stem, lower case, letters, digits,
    ``-`` and ``_`` only (at most 40), made unique with ``-2``, ``-3`` ... where stems repeat."""
    names: list[str] = []
    for path in paths:
        stem = re.sub(r"[^a-z0-9_-]+", "_", Path(path).stem.lower()).strip("_-")[:40] or "track"
        name, k = stem, 2
        while name in names:
            name, k = f"{stem}-{k}", k + 1
        names.append(name)
    return tuple(names)


def tracks_sha(paths: list[Path]) -> str:
    """The content hash of a set of per-person tracks: each file's hash with its speaker id."""
    lines = [f"{name}:{sha256_file(Path(p))}" for name, p in zip(track_names(paths), paths)]
    return hashlib.sha256(("ivp-tracks\n" + "\n".join(lines)).encode()).hexdigest()


def probe_tracks(paths: list[Path], sha256: Optional[str] = None) -> tuple[Recording, list[Recording]]:
    """The set as one recording (the first track's facts, the longest duration, one channel per
    track, every track's path) and each track's own facts."""
    parts = [probe(Path(p), "-") for p in paths]
    first = parts[0]
    recording = Recording(path=first.path, sha256=sha256 or tracks_sha(paths),
                          duration_s=max(r.duration_s for r in parts), channels=len(parts),
                          sample_rate=first.sample_rate, codec=first.codec, has_video=first.has_video,
                          frame_rate=first.frame_rate, tracks=[r.path for r in parts])
    return recording, parts


def decode_tracks(parts: list[Recording]) -> Audio:
    """Each track's first audio stream as mono, padded to the longest, one channel per track
    (named after its file, ``persons``: each is one person's); ``samples`` is their mean."""
    channels = _stack(_pcm(Path(r.path), r, 0, 1)[0] for r in parts)
    return Audio(samples=_mean(channels), channels=channels,
                 names=track_names([Path(r.path) for r in parts]), persons=True)


def _decode_streams(path: Path, recording: Recording, streams: int, keep_channels: bool) -> Audio:
    """Each audio stream decoded to mono, padded to the longest; two kept as channels."""
    channels = _stack(_pcm(path, recording, index, 1, check=False)[0] for index in range(streams))
    _check_decoded(path, recording, channels.shape[1])
    mix = _mean(channels)
    if streams != 2 or not keep_channels:
        return Audio(samples=mix, streams=streams)
    return Audio(samples=mix, channels=channels, names=STREAM_NAMES, streams=streams)


def _stack(monos: Iterator[np.ndarray]) -> np.ndarray:
    """Mono float32 signals, decoded one at a time, as int16 rows, the shorter ones padded with
    silence (one float signal in memory at a time)."""
    rows = [np.clip(np.round(m * 32768.0), -32768, 32767).astype(np.int16) for m in monos]
    out = np.zeros((len(rows), max(len(r) for r in rows)), dtype=np.int16)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def _mean(channels: np.ndarray) -> np.ndarray:
    """The rows' mean as float32 in [-1, 1], a minute at a time."""
    out = np.empty(channels.shape[1], dtype=np.float32)
    for a in range(0, channels.shape[1], BLOCK_SAMPLES):
        out[a: a + BLOCK_SAMPLES] = channels[:, a: a + BLOCK_SAMPLES].mean(axis=0, dtype=np.float32) / 32768.0
    return out


def _pcm(path: Path, recording: Recording, stream: int, channels: int,
         check: bool = True) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """One audio stream as mono float32 (plus its int16 channels when ``channels`` is 2)."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", *local_input(path),
           "-map", f"0:a:{stream}", "-vn", "-sn", "-dn", "-ac", str(channels), "-ar", str(SAMPLE_RATE),
           "-f", "s16le", "-acodec", "pcm_s16le", "-"]
    expected = int((recording.duration_s + 1.0) * SAMPLE_RATE)
    pcm = _PcmBuffer(channels, expected)
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        while block := proc.stdout.read(BLOCK_BYTES * channels):
            pcm.append(block)
        code = proc.wait()
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    if code != 0:
        raise DecodeError(str(path), f"ffmpeg failed: {_last_line(stderr)}")
    mono, stereo = pcm.result()
    if check:
        _check_decoded(path, recording, mono.size)
    return mono, stereo


def _check_decoded(path: Path, recording: Recording, size: int) -> None:
    """Raise when (almost) nothing of the announced duration decoded."""
    if size == 0 and recording.duration_s > 0.5:
        raise DecodeError(str(path), "no audio could be decoded (corrupt or truncated file)")
    decoded_s = size / SAMPLE_RATE
    if recording.duration_s >= 2.0 and decoded_s < TRUNCATED_SHARE * recording.duration_s:
        raise DecodeError(str(path), f"truncated or corrupt: only {decoded_s:.1f} s of the "
                                     f"{recording.duration_s:.1f} s the file announces could be decoded")


class _PcmBuffer:
    """s16le bytes from ffmpeg, converted block by block into a growing float32 mono array
    (plus the int16 channels of a stereo stream), so no full-length temporary is ever made."""

    def __init__(self, channels: int, expected: int):
        self.channels = channels
        size = max(expected, SAMPLE_RATE)
        self.mono = np.empty(size, dtype=np.float32)
        self.stereo = np.empty((2, size), dtype=np.int16) if channels == 2 else None
        self.size = 0
        self.tail = b""

    def append(self, block: bytes) -> None:
        block = self.tail + block
        frame = 2 * self.channels
        usable = len(block) - len(block) % frame
        self.tail = block[usable:]
        samples = np.frombuffer(block[:usable], dtype=np.int16).reshape(-1, self.channels)
        n = samples.shape[0]
        if self.size + n > self.mono.size:
            self._grow(max(2 * self.mono.size, self.size + n))
        a, b = self.size, self.size + n
        self.mono[a:b] = samples.mean(axis=1, dtype=np.float32) / 32768.0
        if self.stereo is not None:
            self.stereo[:, a:b] = samples.T
        self.size = b

    def _grow(self, size: int) -> None:
        mono = np.empty(size, dtype=np.float32)
        mono[: self.size] = self.mono[: self.size]
        self.mono = mono
        if self.stereo is not None:
            stereo = np.empty((2, size), dtype=np.int16)
            stereo[:, : self.size] = self.stereo[:, : self.size]
            self.stereo = stereo

    def result(self) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """Mono float32 and stereo int16 (or None), trimmed to what was decoded (views, no copy)."""
        stereo = self.stereo[:, : self.size] if self.stereo is not None else None
        return self.mono[: self.size], stereo


def _float(value) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _frame_rate(stream: dict) -> Optional[float]:
    for key in ("avg_frame_rate", "r_frame_rate"):
        num, _, den = str(stream.get(key, "")).partition("/")
        try:
            rate = float(num) / float(den or 1)
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0:
            return round(rate, 3)
    return None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"
