"""Roles come from evidence (questions, opening, host phrases), never from who talks more."""
from pipeline.interview import Segment, Turn
from pipeline.stages import roles


def seg(speaker, start, text):
    return Segment(start, start + 1, text, [], speaker)


def conversation(interviewer_talks_a_lot=False):
    long_answer = "Well it was fine. We used it daily."
    ramble = " ".join(["I think this product is really something and let me explain my view."] * 8)
    segs = [
        seg("X", 0, "Hi, thanks for joining me today."),
        seg("X", 2, "Can you tell me about the last time you sent an invoice?"),
        seg("Y", 5, long_answer),
        seg("X", 9, (ramble + " ") if interviewer_talks_a_lot else "What happened next?"),
        seg("Y", 12, "We ended up exporting everything to a spreadsheet."),
        seg("X", 15, "How did that make you feel?"),
        seg("Y", 17, "Frustrated, honestly."),
    ]
    turns = [Turn(s.start, s.end, s.speaker) for s in segs]
    return segs, turns


def test_interviewer_is_who_asks_and_opens():
    segs, turns = conversation()
    result = roles.assign_roles(segs, turns, {"X": 10, "Y": 30})
    assert (result.interviewer, result.interviewee, result.method) == ("X", "Y", "evidence")
    assert result.confidence > 0.8
    assert result.evidence["speakers"]["X"]["questions"] >= 3


def test_interviewer_who_talks_most_is_still_the_interviewer():
    segs, turns = conversation(interviewer_talks_a_lot=True)
    result = roles.assign_roles(segs, turns, {"X": 90, "Y": 10})
    assert result.interviewer == "X" and result.interviewee == "Y"


def test_override_wins_and_unknown_override_is_reported():
    segs, turns = conversation()
    assert roles.assign_roles(segs, turns, {}, interviewer="Y").interviewer == "Y"
    result = roles.assign_roles(segs, turns, {}, interviewer="nobody")
    assert result.interviewer == "X" and "override_ignored" in result.evidence


def test_single_and_no_speaker():
    one = roles.assign_roles([seg("Y", 0, "Just me talking.")], [Turn(0, 1, "Y")], {"Y": 1})
    assert one.method == "single-speaker" and one.interviewer is None and one.interviewee == "Y"
    none = roles.assign_roles([], [], {})
    assert none.method == "none" and none.interviewer is None


def test_question_detection():
    assert roles.is_question("what do you use today")
    assert roles.is_question("You use it daily?")
    assert not roles.is_question("I use it daily.")
