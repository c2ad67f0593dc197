"""ffprobe + ffmpeg: a recording in, 16 kHz audio out (:class:`Audio`: int16 channels in temporary
files, read by window; see :mod:`.pcm`).

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
from typing import Optional

import numpy as np

from ..errors import DecodeError, InputError, NoAudioStream
from ..interview import Recording
from ..recording.discover import local_input, not_regular, sha256_file  # noqa: F401  (local_input, sha256_file: the drivers import them from here)
from .pcm import Mix, Pcm16, Signal, as_signal

SAMPLE_RATE = 16000
BLOCK_BYTES = SAMPLE_RATE * 60 * 2  # decode a minute at a time
TRUNCATED_SHARE = 0.5  # less than this share of the announced duration decodes: a broken file
STREAM_NAMES = ("stream1", "stream2")  # speaker ids of a file's two audio streams


@dataclass
class Audio:
    """Decoded audio, read by window (:mod:`.pcm`: the samples live in unlinked temporary files,
    not in memory). ``mono`` is the mono mix at ``sample_rate``; ``channels`` is None or one
    signal per channel: the two sides of a stereo file, the two audio streams of a file (each
    mixed to mono), or a set of per-person tracks. Arrays given here (tests, short clips) are
    wrapped as they are.

    ``names`` are the channels' speaker ids when they are not a stereo file's left and right;
    ``persons`` says each channel is known to be one person (declared tracks), so nobody has to
    guess it from the sound; ``streams`` is how many audio streams the file has."""

    mono: Signal
    sample_rate: int = SAMPLE_RATE
    channels: Optional[tuple[Signal, ...]] = None
    names: Optional[tuple[str, ...]] = None
    persons: bool = False
    streams: int = 1

    def __post_init__(self) -> None:
        self.mono = as_signal(self.mono)
        if self.channels is not None:
            self.channels = tuple(as_signal(c) for c in self.channels)

    @property
    def length(self) -> int:
        """Samples of the mono mix."""
        return self.mono.length

    @property
    def duration(self) -> float:
        return self.length / self.sample_rate

    def read(self, a: int, b: int) -> np.ndarray:
        """Mono samples ``a:b`` (cut at the end) as a new float32 array: the one way to the samples."""
        return self.mono.read(a, b)

    def peak(self) -> float:
        """The largest absolute mono sample (0.0: digital silence)."""
        return self.mono.peak()


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
    """Decode the audio to 16 kHz int16, streamed from ffmpeg into temporary files a minute at a
    time (memory stays flat whatever the length); stages read float32 windows from it.

    A two-channel file also keeps its channels (the mono mix is their mean, computed on reading).
    A file with two audio streams (a call recorder's microphone and far end) keeps each stream,
    mixed to mono, as one channel named ``stream1`` / ``stream2``; with more streams, all are
    mixed into the mono samples. Whether two streams are two people is decided later, from the
    sound (``stages.tracks``).
    """
    if recording.audio_streams > 1:
        return _decode_streams(path, recording, recording.audio_streams, keep_channels)
    stereo = keep_channels and recording.channels == 2
    sides = _pcm(path, recording, 0, 2 if stereo else 1)
    return Audio(Mix(sides), channels=tuple(sides) if stereo else None)


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
    (named after its file, ``persons``: each is one person's); ``mono`` is their mean."""
    channels = _padded([_pcm(Path(r.path), r, 0, 1)[0] for r in parts])
    return Audio(Mix(channels), channels=channels, names=track_names([Path(r.path) for r in parts]), persons=True)


def _decode_streams(path: Path, recording: Recording, streams: int, keep_channels: bool) -> Audio:
    """Each audio stream decoded to mono, padded to the longest; two kept as channels."""
    channels = _padded([_pcm(path, recording, index, 1, check=False)[0] for index in range(streams)])
    _check_decoded(path, recording, channels[0].length)
    if streams != 2 or not keep_channels:
        return Audio(Mix(channels), streams=streams)
    return Audio(Mix(channels), channels=channels, names=STREAM_NAMES, streams=streams)


def _padded(channels: list[Pcm16]) -> tuple[Pcm16, ...]:
    """The channels, the shorter ones padded with silence to the longest."""
    longest = max(c.length for c in channels)
    for c in channels:
        c.length = longest
    return tuple(channels)


def _pcm(path: Path, recording: Recording, stream: int, channels: int, check: bool = True) -> list[Pcm16]:
    """One audio stream as ``channels`` (1 or 2) int16 channels in temporary files, a minute at a time."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", *local_input(path),
           "-map", f"0:a:{stream}", "-vn", "-sn", "-dn", "-ac", str(channels), "-ar", str(SAMPLE_RATE),
           "-f", "s16le", "-acodec", "pcm_s16le", "-"]
    try:
        errors, out = tempfile.TemporaryFile(), [Pcm16() for _ in range(channels)]
    except OSError as exc:
        raise _no_room(path, exc) from exc
    with errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        frame, tail = 2 * channels, b""
        try:
            while block := proc.stdout.read(BLOCK_BYTES * channels):
                block = tail + block
                usable = len(block) - len(block) % frame
                tail = block[usable:]
                samples = np.frombuffer(block[:usable], dtype=np.int16).reshape(-1, channels)
                for i, channel in enumerate(out):
                    channel.append(samples[:, i])
        except BaseException as exc:  # ffmpeg must not wait on a pipe nobody reads
            proc.kill()
            proc.wait()
            if isinstance(exc, OSError):
                raise _no_room(path, exc) from exc
            raise
        code = proc.wait()
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    if code != 0:
        raise DecodeError(str(path), f"ffmpeg failed: {_last_line(stderr)}")
    if check:
        _check_decoded(path, recording, out[0].length)
    return out


def _no_room(path: Path, exc: OSError) -> DecodeError:
    """The temporary folder that holds decoded audio is full or not writable: one line."""
    return DecodeError(str(path), f"cannot keep the decoded audio in {tempfile.gettempdir()} "
                                  f"(the temporary folder, TMPDIR): {exc.strerror or exc}")


def _check_decoded(path: Path, recording: Recording, size: int) -> None:
    """Raise when (almost) nothing of the announced duration decoded."""
    if size == 0 and recording.duration_s > 0.5:
        raise DecodeError(str(path), "no audio could be decoded (corrupt or truncated file)")
    decoded_s = size / SAMPLE_RATE
    if recording.duration_s >= 2.0 and decoded_s < TRUNCATED_SHARE * recording.duration_s:
        raise DecodeError(str(path), f"truncated or corrupt: only {decoded_s:.1f} s of the "
                                     f"{recording.duration_s:.1f} s the file announces could be decoded")


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
