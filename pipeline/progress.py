"""One progress hook signature shared by every stage (as pyannote.audio does).

A hook is called as ``hook(stage, completed=..., total=..., file=...)``.
``completed``/``total`` are in seconds of audio (or steps) and may be None when unknown;
a stage reports ``completed == total`` when it ends. Stage timings come from the runner.
"""
from __future__ import annotations

from typing import Optional, Protocol


class ProgressHook(Protocol):
    def __call__(self, stage: str, *, completed: Optional[float] = None,
                 total: Optional[float] = None, file: Optional[str] = None) -> None: ...


def null_hook(stage: str, *, completed: Optional[float] = None,
              total: Optional[float] = None, file: Optional[str] = None) -> None:
    """A hook that ignores everything."""
