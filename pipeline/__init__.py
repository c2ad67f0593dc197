"""ivp: offline analysis of recorded two-person interviews.

    >>> import pipeline
    >>> interview = pipeline.process("call.m4a")
    >>> interview.talk_ratio.interviewee_share
"""
from __future__ import annotations

import os as _os

# The one deliberate import-time side effect of the package: nothing leaves this machine.
# These variables must be set before any dependency (onnxruntime, huggingface_hub,
# transformers) is imported, and every submodule import runs this file first, so here is the
# only place that is early enough for library users too (not just the CLI). onnxruntime's
# telemetry only stops with its variable. They are overridden, not defaulted, on purpose.
for _name, _value in (("ORT_DISABLE_TELEMETRY", "1"), ("HF_HUB_OFFLINE", "1"),
                      ("HF_HUB_DISABLE_TELEMETRY", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                      ("HF_DATASETS_OFFLINE", "1"), ("DO_NOT_TRACK", "1"),
                      ("RAY_USAGE_STATS_ENABLED", "0")):
    _os.environ[_name] = _value

__version__ = "0.1.0"

from pathlib import Path
from typing import Optional

from .config import Config
from .interview import Interview
from .progress import ProgressHook, null_hook


def process(path: str | Path, config: Optional[Config] = None, hook: ProgressHook = null_hook) -> Interview:
    """Run every stage on one recording and return its :class:`Interview` (nothing is written)."""
    from .runner import Pipeline  # lazy: ``import pipeline.interview`` must not load the stages
    return Pipeline(config, hook).process(Path(path))


__all__ = ["Config", "Interview", "process", "__version__"]
