"""A second look at near-miss bookmark cues.

Whisper hears a short aside inside 30 s of conversation worse than the same words on their own:
"Note that down." comes out "Not at now.", "Let's bookmark that one." as "Let's look Mark Matt
one.". A short sentence that sounds like a cue but holds none (a word like a cue's action word,
mark, note, flag ..., then one like "that", and within a word edit or two of a cue when words
that sound alike count as the same) is decoded again from its own few seconds of audio, with a
wider beam; when the new words hold a cue, they replace the old ones. Nothing else changes, so ordinary speech ("Not at
the price went up") stays as it was heard, and the cue matcher alone still decides what a
bookmark is. The number of second looks is capped per minute of audio.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterator

import jellyfish
import numpy as np

from ..cues import ACTION_WORDS, FILLERS, POINTING_WORDS, CueMatcher, normalise, sound_key
from ..interview import Word
from ..text import ends_sentence
from .decode import Audio
from .transcribe import Transcript

MAX_WORDS = 8  # a cue is said as a short sentence of its own
PAD_S = 0.3  # audio kept either side of the sentence's words
MAX_SPAN_S = 8.0
LOOKS_PER_MINUTE = 1  # at most this many second looks per minute of audio, plus ...
LOOKS_MIN = 5  # ... this many in any file
NEAR = 2  # word edits from a long cue that still make a near miss (one for shorter cues)

# (samples of a few seconds, language) -> words, times from the clip's start
Redecode = Callable[[np.ndarray, str], list[Word]]


def second_look(transcript: Transcript, audio: Audio, redecode: Redecode,
                matcher: CueMatcher) -> int:
    """Decode near-miss cue sentences again; returns how many were replaced by a cue."""
    budget = LOOKS_MIN + int(LOOKS_PER_MINUTE * audio.duration // 60)
    replaced = 0
    for segment in transcript.segments:
        if segment.language not in (None, "en"):  # the cue phrases are English
            continue
        for first, last in reversed(list(near_misses(segment.words, matcher))):
            if budget <= 0:
                return replaced
            budget -= 1
            start = max(0.0, segment.words[first].start - PAD_S)
            end = min(audio.duration, segment.words[last].end + PAD_S)
            clip = audio.read(int(start * audio.sample_rate), int(end * audio.sample_rate))
            heard = [Word(round(w.start + start, 3), round(w.end + start, 3), w.word, w.probability)
                     for w in redecode(clip, segment.language or "en")]
            if heard and matcher.find([w.word for w in heard]):
                closing = segment.words[last].word.rstrip()[-1:]
                if ends_sentence(closing) and not ends_sentence(heard[-1].word):
                    heard[-1] = replace(heard[-1], word=heard[-1].word.rstrip() + closing)
                segment.words[first:last + 1] = heard
                segment.text = "".join(w.word for w in segment.words).strip()
                replaced += 1
    return replaced


def near_misses(words: list[Word], matcher: CueMatcher) -> Iterator[tuple[int, int]]:
    """(first, last) word indices of short sentences that sound like a cue but hold none."""
    first = 0
    for i, word in enumerate(words):
        if not (ends_sentence(word.word) or i == len(words) - 1):
            continue
        sentence = [w.word for w in words[first:i + 1]]
        span = words[i].end - words[first].start
        if (len(sentence) <= MAX_WORDS and span <= MAX_SPAN_S and not sentence[-1].rstrip().endswith("?")
                and _sounds_like_a_cue(sentence, matcher) and matcher.find(sentence) is None):
            yield first, i
        first = i + 1


def _sounds_like_a_cue(sentence: list[str], matcher: CueMatcher) -> bool:
    """Holding words that sound like a cue's action word and like "that", and within one word
    edit of a cue (two for cues of four words or more; fillers before it dropped), a word that
    sounds alike counting as no edit."""
    heard = [n for n in (normalise(w) for w in sentence) if n]
    while heard and heard[0] in FILLERS:
        heard = heard[1:]
    actions = [i for i, h in enumerate(heard) if any(_sounds_like_action(h, a) for a in ACTION_WORDS)]
    if not any(_alike(h, p) for i, h in enumerate(heard) if actions and i > actions[0] for p in ("that", "this")):
        return False  # "that" (or a word like it) after the action word
    return any(_edits(cue, heard) <= (NEAR if len(cue) > 3 else 1) for cue in matcher.cues)


def _sounds_like_action(heard: str, action: str) -> bool:
    ka, kb = sound_key(action), sound_key(heard)
    return heard == action or (len(kb) >= 2 and ka[:1] == kb[:1] and jellyfish.levenshtein_distance(ka, kb) <= 1)


def _alike(a: str, b: str) -> bool:
    if a == b or (a in POINTING_WORDS and b in POINTING_WORDS):
        return True
    ka, kb = sound_key(a), sound_key(b)
    return bool(ka and kb) and jellyfish.levenshtein_distance(ka, kb) <= 1 and ka[-1] == kb[-1]


def _edits(cue: tuple[str, ...], heard: list[str]) -> int:
    """Word-level edit distance, a substitution by a like-sounding word costing nothing."""
    row = list(range(len(heard) + 1))
    for i, c in enumerate(cue, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(heard, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (0 if _alike(c, h) else 1))
    return row[-1]
