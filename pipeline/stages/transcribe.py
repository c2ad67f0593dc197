"""faster-whisper: audio in, segments with word timestamps out."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional, Protocol

import numpy as np

from ..errors import ModelError, TranscribeError
from ..interview import Segment, Word
from ..progress import ProgressHook, null_hook
from ..weights import manifest, resolve_model
from .decode import Audio

os.environ.setdefault("HF_HUB_OFFLINE", "1")
CHUNK_S = 300.0  # Whisper features for 5 min take ~225 MB; longer audio is cut into chunks


@dataclass
class Transcript:
    segments: list[Segment] = field(default_factory=list)
    language: Optional[str] = None
    language_probability: Optional[float] = None


class Transcriber(Protocol):
    """Any ASR backend: audio in, a :class:`Transcript` out."""

    name: str
    device: str
    compute_type: str

    def __call__(self, audio: Audio, hook: ProgressHook = null_hook) -> Transcript: ...


class WhisperTranscriber:
    """faster-whisper with VAD and word timestamps; the model loads lazily on first use."""

    def __init__(self, model: str = "tiny.en", device: str = "cpu", compute_type: str = "auto",
                 language: Optional[str] = None, beam_size: int = 1, cpu_threads: int = 0):
        self.name = model
        self.model_dir = resolve_model(model)
        self.device = _pick_device(device)
        self.compute_type = (("float16" if self.device == "cuda" else "int8")
                             if compute_type == "auto" else compute_type)
        self.english_only = model.endswith(".en") or _is_english_only(self.model_dir)
        self.language = "en" if self.english_only else language
        self.beam_size = beam_size
        self.cpu_threads = cpu_threads or (os.cpu_count() or 1)
        self.chunk_s = CHUNK_S
        self._model = None

    @property
    def model(self):
        if self._model is None:
            from faster_whisper import WhisperModel
            try:
                self._model = WhisperModel(str(self.model_dir), device=self.device,
                                           compute_type=self.compute_type,
                                           cpu_threads=self.cpu_threads, local_files_only=True)
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelError(str(self.model_dir), f"cannot load Whisper model: {exc}") from exc
        return self._model

    def __call__(self, audio: Audio, hook: ProgressHook = null_hook) -> Transcript:
        """Transcribe in chunks cut at quiet points, so memory stays bounded on long recordings."""
        total = audio.duration
        result = Transcript(language=self.language)
        if total <= 0 or not np.any(audio.samples):
            hook("transcribe", completed=total, total=total)
            return result
        rate = audio.sample_rate
        language = self.language
        for a, b in chunk_bounds(audio.samples, rate, self.chunk_s, min(30.0, self.chunk_s / 4)):
            offset = a / rate
            try:
                pieces, info = self.model.transcribe(
                    audio.samples[a:b], language=language, beam_size=self.beam_size,
                    vad_filter=True,  # always: base loops on conversations without it
                    vad_parameters={"min_silence_duration_ms": 500, "speech_pad_ms": 200},
                    word_timestamps=True, condition_on_previous_text=False,
                )
                for piece in pieces:  # a lazy generator: the work happens here
                    words = [Word(round(w.start + offset, 3), round(w.end + offset, 3), w.word,
                                  round(w.probability, 4)) for w in (piece.words or [])]
                    result.segments.append(Segment(round(piece.start + offset, 3), round(piece.end + offset, 3),
                                                   piece.text.strip(), words))
                    hook("transcribe", completed=min(piece.end + offset, total), total=total)
            except (RuntimeError, ValueError) as exc:
                raise TranscribeError(None, str(exc)) from exc
            if result.language is None or language is None:
                result.language = info.language
                result.language_probability = round(float(info.language_probability), 4)
                language = info.language  # one language for the whole recording
        hook("transcribe", completed=total, total=total)
        return result


def chunk_bounds(samples: np.ndarray, rate: int, max_s: float = CHUNK_S,
                 search_s: float = 30.0) -> list[tuple[int, int]]:
    """Sample ranges of at most ``max_s`` seconds, each cut at the quietest 0.5 s near its end."""
    n = len(samples)
    bounds, start = [], 0
    limit, search, hop = int(max_s * rate), int(search_s * rate), int(0.1 * rate)
    while n - start > limit:
        lo, hi = start + limit - search, start + limit
        window = samples[lo:hi]
        frames = window[: len(window) // hop * hop].reshape(-1, hop)
        energy = np.convolve(np.mean(frames.astype(np.float64) ** 2, axis=1), np.ones(5), "same")
        cut = lo + int(np.argmin(energy)) * hop + hop // 2
        bounds.append((start, cut))
        start = cut
    bounds.append((start, n))
    return bounds


def _pick_device(device: str) -> str:
    if device in ("cpu", "cuda"):
        return device
    try:
        import ctranslate2
        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:  # pragma: no cover - ctranslate2 import problems surface later
        return "cpu"


def _is_english_only(model_dir) -> bool:
    for name, spec in manifest().items():
        if model_dir.name == name:
            return spec.get("languages") == ["en"]
    return False
