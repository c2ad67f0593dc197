"""One person per track: each channel transcribed on its own, its words that person's.

A channel here is a stereo file's side, one of a file's two audio streams, or one file of a
declared set of per-person tracks (``ivp process --tracks``). When every channel is one person's
(:func:`per_track`), Whisper hears each channel on its own, so overlapping speech keeps both
sides' words, and every segment is its channel's speaker's from the start (``align`` keeps it).

A call recorder hears the far end faintly on each side (bleed: 20 to 30 dB down, a little late).
Bleed must not become words of the wrong person, so each channel is silenced outside its own
speech (``channels.track_activity``, the same frames its turns come from, widened by
``GATE_PAD_S``) before Whisper hears it, and a word mostly outside that own speech is dropped.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..interview import Segment, Word
from ..progress import ProgressHook, null_hook
from .decode import Audio
from .pcm import Gated, Signal, as_signal
from .diarize.channels import HOP_S, channel_names, frame_db, frames_to_spans, separate_voices, track_activity
from .transcribe import Transcript

VERSION = 1  # in the transcript's cache key: a change to the rules below transcribes again
MIN_OWN_S = 0.1  # own speech this short still counts (a "Right." over the other side: 0.18 s;
#                  turns keep the diarizer's 0.2 s)
GATE_PAD_S = 0.3  # own speech widened by this before everything else on the channel is silenced
MIN_OWN_SHARE = 0.5  # a word stays when at least this share of it is its channel's own speech ...
WORD_PAD_S = 0.15  # ... widened by this (Whisper starts a segment's first word up to 0.2 s early)
SPLIT_GAP_S = 1.0  # a channel's segment is cut where its words pause this long (the other side
#                    may talk in between: Whisper's pieces of a quiet channel span up to 30 s)
TranscribeOne = Callable[[Audio, ProgressHook], Transcript]  # one channel's audio in, its transcript out


def per_track(audio: Audio) -> bool:
    """True when each channel is one person: declared tracks, or two channels (stereo sides or
    audio streams) that carry two different voices (``channels.separate_voices``)."""
    if audio.channels is None:
        return False
    if audio.persons:
        return True
    return len(audio.channels) == 2 and separate_voices(audio)


def source_note(audio: Audio) -> list[str]:
    """What was done with a file's several audio streams, or a set of tracks, as a warning line."""
    if audio.persons:
        return [f"{len(audio.names)} tracks, one person each: {', '.join(audio.names)}"]
    if audio.streams <= 1:
        return []
    if audio.streams > 2:
        return [f"{audio.streams} audio streams: all mixed into one before analysis"]
    if per_track(audio):
        return ["2 audio streams: each taken as one person's track"]
    return ["2 audio streams with the same voices: mixed into one"]


def own_speech(audio: Audio) -> list[np.ndarray]:
    """Per channel, its own speech as 20 ms frames (bridged as its turns are, blips under
    ``MIN_OWN_S`` dropped)."""
    dbs = [frame_db(c, audio.sample_rate) for c in audio.channels]
    out = []
    for active in track_activity(dbs):
        mask = np.zeros(len(active), dtype=bool)
        for start, end in frames_to_spans(active, min_s=MIN_OWN_S):
            mask[int(round(start / HOP_S)): int(round(end / HOP_S))] = True
        out.append(mask)
    return out


def transcribe(audio: Audio, transcribe_one: TranscribeOne, hook: ProgressHook = null_hook) -> Transcript:
    """Every channel transcribed on its own, bleed dropped, segments merged by time, each with
    its channel's speaker id. ``hook`` hears one progress bar over all channels."""
    names = channel_names(audio)
    own = own_speech(audio)
    overall = audio.duration * len(names)
    parts = []
    for i, (name, mask) in enumerate(zip(names, own)):
        track = Audio(gate(audio.channels[i], mask, audio.sample_rate), sample_rate=audio.sample_rate)

        def part_hook(stage, *, completed=None, total=None, file=None, done=i * audio.duration):
            hook(stage, completed=done + (completed or 0.0), total=overall, file=file)
        parts.append(keep_own(transcribe_one(track, part_hook), name, mask))
    hook("transcribe", completed=overall, total=overall)
    return merge(parts)


def widen(own: np.ndarray, pad_s: float) -> np.ndarray:
    """Frames within ``pad_s`` of an own-speech frame."""
    wide = own.copy()
    for shift in range(1, int(round(pad_s / HOP_S)) + 1):
        wide[shift:] |= own[:-shift]
        wide[:-shift] |= own[shift:]
    return wide


def gate(channel: Signal | np.ndarray, own: np.ndarray, sample_rate: int) -> Gated:
    """The channel, silent outside its own speech widened by ``GATE_PAD_S`` and past its last
    whole frame (no own speech measured there); silenced as it is read, window by window."""
    return Gated(as_signal(channel), widen(own, GATE_PAD_S), int(sample_rate * HOP_S))


def own_share(start: float, end: float, own: np.ndarray) -> float:
    """The share of [start, end] that is the channel's own speech (a point: 1 or 0)."""
    a = int(start / HOP_S)
    b = max(a + 1, int(np.ceil(end / HOP_S)))
    window = own[a:b]
    return float(window.mean()) if window.size else 0.0


def keep_own(transcript: Transcript, speaker: str, own: np.ndarray) -> Transcript:
    """The channel's segments with its speaker; words mostly outside its own speech (widened by
    ``WORD_PAD_S``) dropped, segments left without words too, and segments cut at long pauses."""
    own = widen(own, WORD_PAD_S)
    segments = []
    for seg in transcript.segments:
        if not seg.words:
            if own_share(seg.start, seg.end, own) >= MIN_OWN_SHARE:
                segments.append(Segment(seg.start, seg.end, seg.text, [], speaker, language=seg.language))
            continue
        words = [w for w in seg.words if own_share(w.start, w.end, own) >= MIN_OWN_SHARE]
        runs = _runs(words)
        for run in runs:
            text = seg.text if len(runs) == 1 and len(run) == len(seg.words) else _text(run)
            segments.append(Segment(run[0].start, run[-1].end, text, run, speaker, language=seg.language))
    return Transcript(segments, transcript.language, transcript.language_probability, list(transcript.languages))


def merge(parts: list[Transcript]) -> Transcript:
    """The channels' transcripts as one: segments in time order, languages by speech."""
    segments = sorted((s for p in parts for s in p.segments), key=lambda s: (s.start, s.end))
    speech: dict[str, float] = {}
    for s in segments:
        if s.language:
            speech[s.language] = speech.get(s.language, 0.0) + s.end - s.start
    languages = sorted(speech, key=speech.get, reverse=True)
    language = languages[0] if languages else next((p.language for p in parts if p.language), None)
    sure = [p.language_probability for p in parts if p.language == language and p.language_probability]
    return Transcript(segments, language, max(sure) if sure else None, languages)


def _runs(words: list[Word]) -> list[list[Word]]:
    """Words cut into runs wherever they pause ``SPLIT_GAP_S`` or more."""
    runs: list[list[Word]] = []
    for w in words:
        if runs and w.start - runs[-1][-1].end < SPLIT_GAP_S:
            runs[-1].append(w)
        else:
            runs.append([w])
    return runs


def _text(words: list[Word]) -> str:
    return "".join(w.word for w in words).strip()
