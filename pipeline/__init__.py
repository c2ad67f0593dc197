"""ivp: offline analysis of recorded two-person interviews.

    >>> import pipeline
    >>> interview = pipeline.process("call.m4a")
    >>> interview.talk_ratio.interviewee_share
"""
from __future__ import annotations

import os as _os

# Nothing leaves this machine: set before any dependency (onnxruntime, huggingface_hub,
# transformers) is imported. onnxruntime's telemetry only stops with this variable.
for _name, _value in (("ORT_DISABLE_TELEMETRY", "1"), ("HF_HUB_OFFLINE", "1"),
                      ("HF_HUB_DISABLE_TELEMETRY", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                      ("HF_DATASETS_OFFLINE", "1"), ("DO_NOT_TRACK", "1")):
    _os.environ[_name] = _value

__version__ = "0.1.0"

from pathlib import Path
from typing import Optional

from .config import Config
from .interview import Interview
from .progress import ProgressHook, null_hook


def process(path: str | Path, config: Optional[Config] = None, hook: ProgressHook = null_hook) -> Interview:
    """Run every stage on one recording and return its :class:`Interview` (nothing is written)."""
    from .runner import Pipeline
    return Pipeline(config, hook).process(Path(path))


__all__ = ["Config", "Interview", "process", "__version__"]
