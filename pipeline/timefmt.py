"""The one family of time formats: every clock, timestamp and file-name stamp ivp prints."""
from __future__ import annotations

import math
from typing import Optional


def clock(seconds: Optional[float], *, hours: bool = False, floor: bool = False, missing: str = "") -> str:
    """``0:07``, ``12:34``, ``1:02:03`` (``hours=True``: always ``h:mm:ss``). Rounds to the
    nearest second, or down with ``floor`` (chapter stamps must not point past the start)."""
    if seconds is None:
        return missing
    value = max(0.0, float(seconds))
    s = int(math.floor(value)) if floor else int(round(value))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h or hours else f"{m}:{sec:02d}"


def player_clock(seconds: Optional[float]) -> str:
    """0:07, 12:34, 1:02:03 (down to the second, as a player's clock shows it); – when unknown."""
    return clock(seconds, floor=True, missing="–")


def stamp(seconds: float, decimal: str = ".") -> str:
    """``hh:mm:ss.mmm`` (``decimal=","`` for SRT)."""
    ms = int(round(max(0.0, seconds) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{decimal}{ms:03d}"


def name_stamp(seconds: float) -> str:
    """``01h02m03s``: a time that sorts and is safe in a file name (whole seconds, down)."""
    s = int(max(0.0, seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h:02d}h{m:02d}m{sec:02d}s"
