"""What every diarizer shares: the protocol, the result and the registry they add themselves to."""
from __future__ import annotations

import os
import threading
from typing import Callable, Optional, Protocol

from ...config import Config
from ...interview import Turn, Voiceprint
from ...progress import NEVER, ProgressHook, StopToken, null_hook
from ..decode import Audio
from .speakers import Embedded


class CoreShare:
    """The CPU threads a stage running beside another may use: ``few`` while the other runs,
    every core once the other calls :meth:`release` (the runner does when transcription ends,
    so a diarization still running does not finish on one core while the other sits idle)."""

    def __init__(self, few: Optional[int] = None, total: Optional[int] = None):
        self.total = max(1, total or os.cpu_count() or 1)
        # half by default: oversubscribed thread pools on a small machine are much slower
        self.few = max(1, few if few is not None else self.total // 2)
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def now(self) -> int:
        return self.total if self._released.is_set() else self.few


class Diarizer(Protocol):
    name: str

    def __call__(self, audio: Audio, num_speakers: Optional[int] = 2,
                 hook: ProgressHook = null_hook, stop: StopToken = NEVER,
                 cores: Optional[CoreShare] = None) -> "Diarization": ...


class Diarization:
    """Turns plus notes the backend wants recorded (warnings, the backend actually used), and
    the window embeddings behind them (``embedded``, when the backend clusters voices: kept in
    the stage cache so ``ivp roles --speakers N`` can cluster again without the audio)."""

    def __init__(self, turns: list[Turn], backend: str, warnings: Optional[list[str]] = None,
                 voices: Optional[list[Voiceprint]] = None, embedded: Optional[Embedded | dict] = None):
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        self.backend = backend
        self.warnings = warnings or []
        self.voices = [v if isinstance(v, Voiceprint) else Voiceprint(**v)  # from the stage cache
                       for v in voices or []]  # one print per speaker (see .prints)
        self.embedded = Embedded.from_dict(embedded) if isinstance(embedded, dict) else embedded


REGISTRY: dict[str, Callable[[Config], Diarizer]] = {}


def register(name: str):
    def wrap(factory: Callable[[Config], Diarizer]):
        REGISTRY[name] = factory
        return factory
    return wrap
