"""faster-whisper: audio in, segments with word timestamps out."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import numpy as np

from ..config import resolve_compute_type, resolve_device
from ..errors import ModelError, TranscribeError
from ..interview import Segment, Word
from ..progress import NEVER, ProgressHook, StopToken, null_hook
from ..weights import manifest, resolve_model
from .decode import SAMPLE_RATE, Audio
from .pcm import Signal, as_signal

CHUNK_S = 300.0  # Whisper features for 5 min take ~225 MB; longer audio is cut into chunks
BATCH = 8  # at most this many speech pieces (up to 30 s each) decoded at once ...
PROGRESS_STEPS = 8  # ... and few enough that a file reports its progress about this often,
MIN_BATCH = 2  # but at least two: a tenth less CPU than one at a time (the 3-minute sample)


@dataclass
class Transcript:
    segments: list[Segment] = field(default_factory=list)
    language: Optional[str] = None  # the language with the most speech
    language_probability: Optional[float] = None
    languages: list[str] = field(default_factory=list)  # every language, most speech first


@dataclass
class Stretch:
    """Speech in one language: samples ``start:end`` of a chunk."""

    start: int
    end: int
    language: str
    probability: float


class WhisperTranscriber:
    """faster-whisper with VAD and word timestamps; the model loads lazily on first use.

    With a multilingual model and no ``language``, the language is detected per stretch of
    speech (about 30 s of it, finer where it changes) and each stretch is transcribed in its own.

    Speech is decoded in batches (faster-whisper's ``BatchedInferencePipeline``): the VAD's
    pieces, each up to 30 s, ``batch_size`` at a time, every one on its own (no previous text as
    prompt, no timestamp tokens). On this project's data sets that is more accurate than
    decoding 30 s windows one after another, and a little faster; ``batch_size=0`` does that.
    Short files are decoded two pieces at a time, so progress and stop requests still come often.
    """

    def __init__(self, model: str = "base", device: str = "cpu", compute_type: str = "auto",
                 language: Optional[str] = None, beam_size: int = 1, cpu_threads: int = 0,
                 batch_size: int = BATCH):
        self.name = model
        self.model_dir = resolve_model(model)
        self.device = resolve_device(device)
        self.compute_type = resolve_compute_type(compute_type, self.device)
        self.english_only = model.endswith(".en") or _is_english_only(self.model_dir)
        if self.english_only and language not in (None, "en"):
            raise ModelError(None, f"--language {language}: the model {model} is English only; "
                                    "use a multilingual model (--model base, the default)")
        self.language = "en" if self.english_only else language
        self.beam_size = beam_size
        self.batch_size = batch_size
        self.cpu_threads = cpu_threads or (os.cpu_count() or 1)
        self.chunk_s = CHUNK_S
        self._model = None
        self._batched = None

    @property
    def model(self):
        if self._model is None:
            from faster_whisper import WhisperModel  # lazy: loads CTranslate2 (a second), on first use
            try:
                self._model = WhisperModel(str(self.model_dir), device=self.device,
                                           compute_type=self.compute_type,
                                           cpu_threads=self.cpu_threads, local_files_only=True)
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelError(str(self.model_dir), f"cannot load Whisper model: {exc}") from exc
        return self._model

    def __call__(self, audio: Audio, hook: ProgressHook = null_hook,
                 stop: StopToken = NEVER) -> Transcript:
        """Transcribe in chunks cut at quiet points, so memory stays bounded on long recordings;
        ``stop`` is checked after every segment."""
        total = audio.duration
        result = Transcript(language=self.language)
        if total <= 0 or not audio.peak():
            hook("transcribe", completed=total, total=total)
            return result
        rate = audio.sample_rate
        batch = min(self.batch_size, max(MIN_BATCH, int(total // (30 * PROGRESS_STEPS))))
        best: dict[str, float] = {}
        try:
            for a, b in chunk_bounds(audio.mono, rate, self.chunk_s, min(30.0, self.chunk_s / 4)):
                samples = audio.read(a, b)  # one chunk in memory at a time
                if self.language:
                    stretches = [Stretch(0, len(samples), self.language, 1.0)]
                else:
                    stretches = self.stretches(samples, rate)
                for st in stretches:
                    best[st.language] = max(best.get(st.language, 0.0), st.probability)
                    offset = (a + st.start) / rate
                    for seg in self._decode(samples[st.start:st.end], offset, st.language, batch):
                        stop.check()  # between segments: a stop request ends the stage here
                        result.segments.append(seg)
                        hook("transcribe", completed=min(seg.end, total), total=total)
        except (RuntimeError, ValueError) as exc:
            raise TranscribeError(None, str(exc)) from exc
        speech: dict[str, float] = {}
        for seg in result.segments:
            speech[seg.language] = speech.get(seg.language, 0.0) + seg.end - seg.start
        result.languages = sorted(speech, key=speech.get, reverse=True)
        if result.languages:
            result.language = result.languages[0]
            if not self.language:
                result.language_probability = round(best[result.language], 4)
        hook("transcribe", completed=total, total=total)
        return result

    def _decode(self, samples: np.ndarray, offset: float, language: str, batch: int) -> Iterator[Segment]:
        common = dict(language=language, beam_size=self.beam_size,
                      vad_filter=True,  # always: base loops on conversations without it
                      vad_parameters=VAD, word_timestamps=True, condition_on_previous_text=False)
        if batch > 0:
            if self._batched is None:
                from faster_whisper import BatchedInferencePipeline  # lazy: with the model
                self._batched = BatchedInferencePipeline(self.model)
            pieces, _ = self._batched.transcribe(samples, batch_size=batch, **common)
        else:
            pieces, _ = self.model.transcribe(samples, **common)
        at = _clock(len(samples) / SAMPLE_RATE, offset)
        for piece in pieces:  # a lazy generator: the work happens here
            yield Segment(at(piece.start), at(piece.end), piece.text.strip(), _words(piece, at),
                          language=language)

    def redecode(self, samples: np.ndarray, language: str, beam_size: int = 5) -> list[Word]:
        """The words in a few seconds of audio, decoded on their own (for a second look)."""
        pieces, _ = self.model.transcribe(samples, language=language, beam_size=max(beam_size, self.beam_size),
                                          vad_filter=False, word_timestamps=True,
                                          condition_on_previous_text=False)
        at = _clock(len(samples) / SAMPLE_RATE, 0.0)
        return [w for piece in pieces for w in _words(piece, at)]

    def stretches(self, samples: np.ndarray, rate: int) -> list[Stretch]:
        """Cut ``samples`` into runs of one language: detect per ~30 s of speech, then per
        speech region inside the windows where the language changes."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps  # lazy: faster-whisper (CTranslate2)
        regions = [(r["start"], r["end"]) for r in get_speech_timestamps(samples, VadOptions(**VAD), rate)]
        if not regions:
            return []  # no speech: nothing to transcribe (Whisper's VAD, the same, finds none)
        windows = _windows(regions, int(LANGUAGE_WINDOW_S * rate))
        found = [self._detect(samples, w) for w in windows]
        main = _main_language(found, windows)
        labels = [_pick(probs, main) for probs in found]
        if len(set(labels)) == 1:
            return [Stretch(0, len(samples), main, max(p.get(main, 0.0) for p in found))]
        per_region: list[tuple[str, float]] = []
        for i, window in enumerate(windows):
            near_change = (i > 0 and labels[i - 1] != labels[i]) or (i + 1 < len(labels) and labels[i + 1] != labels[i])
            for region in window:
                if near_change and region[1] - region[0] >= MIN_DETECT_S * rate:
                    probs = self._detect(samples, [region])
                    lang = _pick(probs, labels[i])
                    per_region.append((lang, probs.get(lang, 0.0)))
                else:
                    per_region.append((labels[i], found[i].get(labels[i], 0.0)))
        flat = [r for w in windows for r in w]
        return _runs(flat, per_region, len(samples))

    def _detect(self, samples: np.ndarray, regions: list[tuple[int, int]]) -> dict[str, float]:
        """Language probabilities of the middle ``DETECT_S`` seconds of speech in ``regions``.

        The encoder reads just those seconds, unpadded: a sixth of the cost of a 30 s window,
        and as sure of the language on speech (measured on the English/German recording)."""
        clip = np.concatenate([samples[a:b] for a, b in regions])
        size = int(DETECT_S * SAMPLE_RATE)
        if len(clip) > size:
            clip = clip[(len(clip) - size) // 2:][:size]
        model = self.model
        features = model.feature_extractor(clip)[:, : max(1, len(clip) // model.feature_extractor.hop_length)]
        results = model.model.detect_language(model.encode(features))[0]
        return {token[2:-2]: prob for token, prob in results[:5]}


VAD = {"min_silence_duration_ms": 500, "speech_pad_ms": 200}
LANGUAGE_WINDOW_S = 30.0  # the language is detected once per this much speech ...
DETECT_S = 6.0  # ... from this many seconds of it
MIN_DETECT_S = 1.0  # shorter speech regions take the language of their window
SWITCH_PROBABILITY = 0.6  # another language must be this sure ...
MAIN_KEEPS = 0.25  # ... and the main one this unlikely, for a window to switch
SHORT_FLIP_S = 4.0  # a lone region this short between two of one language is of that language


def _clock(end: float, offset: float) -> Callable[[float], float]:
    """Seconds in a clip of ``end`` seconds as seconds in the file: clipped to the clip (word times
    can run a little past the audio), moved by ``offset``, plain floats, to the millisecond."""
    return lambda t: round(float(min(max(t, 0.0), end)) + offset, 3)


def _words(piece, at: Callable[[float], float]) -> list[Word]:
    return [Word(at(w.start), at(w.end), w.word, round(float(w.probability), 4)) for w in (piece.words or [])]


def _windows(regions: list[tuple[int, int]], limit: int) -> list[list[tuple[int, int]]]:
    """Consecutive speech regions grouped into windows of at most ``limit`` samples of speech."""
    out: list[list[tuple[int, int]]] = [[]]
    size = 0
    for a, b in regions:
        if out[-1] and size + (b - a) > limit:
            out.append([])
            size = 0
        out[-1].append((a, b))
        size += b - a
    return out


def _main_language(found: list[dict[str, float]], windows: list[list[tuple[int, int]]]) -> str:
    """The language with the most speech among the windows' top guesses."""
    weight: dict[str, float] = {}
    for probs, window in zip(found, windows):
        top = max(probs, key=probs.get)
        weight[top] = weight.get(top, 0.0) + sum(b - a for a, b in window) * probs[top]
    return max(weight, key=weight.get)


def _pick(probs: dict[str, float], main: str) -> str:
    """The window's language: its top guess only when sure of it and unsure of ``main``."""
    top = max(probs, key=probs.get)
    if top != main and probs[top] >= SWITCH_PROBABILITY and probs.get(main, 0.0) < MAIN_KEEPS:
        return top
    return main


def _runs(regions: list[tuple[int, int]], labels: list[tuple[str, float]], n: int) -> list[Stretch]:
    """Consecutive regions of one language as stretches, cut halfway between regions; a short
    region whose neighbours agree on another language takes theirs."""
    labels = list(labels)
    for i in range(1, len(labels) - 1):
        before, after = labels[i - 1][0], labels[i + 1][0]
        a, b = regions[i]
        if before == after != labels[i][0] and b - a < SHORT_FLIP_S * SAMPLE_RATE:
            labels[i] = (before, labels[i - 1][1])
    out: list[Stretch] = []
    for i, ((a, b), (lang, prob)) in enumerate(zip(regions, labels)):
        if out and out[-1].language == lang:
            out[-1].probability = max(out[-1].probability, prob)
            continue
        cut = 0 if i == 0 else (regions[i - 1][1] + a) // 2
        if out:
            out[-1].end = cut
        out.append(Stretch(cut, n, lang, prob))
    return out


def chunk_bounds(samples: Signal | np.ndarray, rate: int, max_s: float = CHUNK_S,
                 search_s: float = 30.0) -> list[tuple[int, int]]:
    """Sample ranges of at most ``max_s`` seconds, each cut at the quietest 0.5 s near its end
    (only the ``search_s`` before each cut is read)."""
    samples = as_signal(samples)
    n = samples.length
    bounds, start = [], 0
    limit, search, hop = int(max_s * rate), int(search_s * rate), int(0.1 * rate)
    while n - start > limit:
        lo, hi = start + limit - search, start + limit
        window = samples.read(lo, hi)
        frames = window[: len(window) // hop * hop].reshape(-1, hop)
        energy = np.convolve(np.mean(frames.astype(np.float64) ** 2, axis=1), np.ones(5), "same")
        cut = lo + int(np.argmin(energy)) * hop + hop // 2
        bounds.append((start, cut))
        start = cut
    bounds.append((start, n))
    return bounds


def _is_english_only(model_dir) -> bool:
    for name, spec in manifest().items():
        if model_dir.name == name:
            return spec.get("languages") == ["en"]
    return False
