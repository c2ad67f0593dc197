"""One way to open an ONNX Runtime session: offline, quiet, and polite on shared cores."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional


def open_session(path: str | Path, threads: Optional[int] = None):
    """A CPU session for the model at ``path`` (``threads``: ONNX Runtime's default if None)."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime as ort  # lazy: ~60 ms of imports, only when a model runs
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared cores: do not spin
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
