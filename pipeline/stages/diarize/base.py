"""What every diarizer shares: the protocol, the result and the registry they add themselves to."""
from __future__ import annotations

from typing import Callable, Optional, Protocol

from ...config import Config
from ...interview import Turn, Voiceprint
from ...progress import NEVER, ProgressHook, StopToken, null_hook
from ..decode import Audio


class Diarizer(Protocol):
    name: str

    def __call__(self, audio: Audio, num_speakers: Optional[int] = 2,
                 hook: ProgressHook = null_hook, stop: StopToken = NEVER) -> "Diarization": ...


class Diarization:
    """Turns plus notes the backend wants recorded (warnings, the backend actually used)."""

    def __init__(self, turns: list[Turn], backend: str, warnings: Optional[list[str]] = None,
                 voices: Optional[list[Voiceprint]] = None):
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        self.backend = backend
        self.warnings = warnings or []
        self.voices = [v if isinstance(v, Voiceprint) else Voiceprint(**v)  # from the stage cache
                       for v in voices or []]  # one print per speaker (see .prints)


REGISTRY: dict[str, Callable[[Config], Diarizer]] = {}


def register(name: str):
    def wrap(factory: Callable[[Config], Diarizer]):
        REGISTRY[name] = factory
        return factory
    return wrap
