"""A voiceprint's vector (base64 of little-endian float16) and how alike two are: the one codec
the diarizer's prints, the role decisions and the edits layer (a named speaker found again by
voice after reprocessing) share."""
from __future__ import annotations

import base64
from typing import Iterable, Optional

import numpy as np

from .interview import Voiceprint


def encode(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float64)


def unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-9)


def similarity(a: Voiceprint | np.ndarray, b: Voiceprint | np.ndarray) -> float:
    va = decode(a.vector) if isinstance(a, Voiceprint) else np.asarray(a, dtype=np.float64)
    vb = decode(b.vector) if isinstance(b, Voiceprint) else np.asarray(b, dtype=np.float64)
    return float(unit(va) @ unit(vb))


def found_again(old: Optional[Voiceprint], speaker: str, voices: list[Voiceprint],
                present: Iterable[str]) -> Optional[str]:
    """The speaker id a speaker of an earlier run of the same recording has now: the current voice
    most like its old print (ids may change between runs), else the same id; None when that id
    speaks no more. ``ivp roles`` fixes and speaker names are carried this way."""
    if old is not None and old.vector and voices:
        usable = [v for v in voices if v.vector]
        if usable:
            speaker = max(usable, key=lambda v: similarity(old, v)).speaker
    return speaker if speaker in set(present) else None
