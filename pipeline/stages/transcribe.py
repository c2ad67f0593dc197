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
        total = audio.duration
        if total <= 0 or not np.any(audio.samples):
            hook("transcribe", completed=total, total=total)
            return Transcript(language=self.language)
        try:
            pieces, info = self.model.transcribe(
                audio.samples, language=self.language, beam_size=self.beam_size,
                vad_filter=True,  # always: base loops on conversations without it
                vad_parameters={"min_silence_duration_ms": 500, "speech_pad_ms": 200},
                word_timestamps=True, condition_on_previous_text=False,
            )
            segments = []
            for piece in pieces:  # a lazy generator: the work happens here
                words = [Word(round(w.start, 3), round(w.end, 3), w.word, round(w.probability, 4))
                         for w in (piece.words or [])]
                segments.append(Segment(start=round(piece.start, 3), end=round(piece.end, 3),
                                        text=piece.text.strip(), words=words))
                hook("transcribe", completed=min(piece.end, total), total=total)
        except (RuntimeError, ValueError) as exc:
            raise TranscribeError(None, str(exc)) from exc
        hook("transcribe", completed=total, total=total)
        return Transcript(segments=segments, language=info.language,
                          language_probability=round(float(info.language_probability), 4))


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
