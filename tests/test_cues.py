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
