"""The metrics on constructed turns: exact numbers, edge cases."""
import pytest

from pipeline.interview import INTERVIEWEE as EE, INTERVIEWER as ER, Segment, Turn, Word
from pipeline.stages import analyze
from kit import spoken


def T(start, end, role, speaker=None):
    return Turn(start, end, speaker or {ER: "A", EE: "B"}[role], role)


def test_union_merges_overlaps_and_touching_spans():
    assert analyze.union([(5, 6), (0, 2), (1, 3), (3, 4)]) == [(0, 4), (5, 6)]
    assert analyze.total([(0, 2), (1, 3)]) == 3


def test_talk_ratio_counts_overlap_for_both_and_gives_a_verdict():
    turns = [T(0, 10, ER), T(10, 40, EE), T(38, 40, ER)]  # 2 s of overlap
    ratio = analyze.talk_ratio(turns, (0.70, 0.80))
    assert ratio.interviewer_s == 12 and ratio.interviewee_s == 30
    assert ratio.interviewee_share == pytest.approx(30 / 42, abs=1e-4)
    assert ratio.verdict == "within"
    assert "overlapping speech counts for both" in ratio.denominator


@pytest.mark.parametrize("ee_seconds,verdict", [(10, "below"), (30, "within"), (90, "above")])
def test_talk_ratio_verdicts(ee_seconds, verdict):
    turns = [T(0, 10, ER), T(10, 10 + ee_seconds, EE)]
    assert analyze.talk_ratio(turns).verdict == verdict


def test_talk_ratio_without_speech_is_unknown():
    ratio = analyze.talk_ratio([])
    assert ratio.interviewee_share is None and ratio.verdict == "unknown"


def test_silences_leading_trailing_and_who_broke_them():
    turns = [T(2, 5, ER), T(5.5, 10, EE), T(13, 15, EE), T(16.5, 20, ER), T(21.2, 22, ER)]
    found = analyze.silences(turns, duration=25.0, min_gap=1.0)
    got = [(s.start, s.end, s.before, s.after, s.kind) for s in found]
    assert got == [
        (0.0, 2.0, None, ER, "leading"),
        (10.0, 13.0, EE, EE, "held"),      # interviewee resumed: the interviewer let it hang
        (15.0, 16.5, EE, ER, "filled"),    # interviewer broke it after the interviewee stopped
        (20.0, 21.2, ER, ER, "pause"),
        (22.0, 25.0, ER, None, "trailing"),
    ]
    assert all(s.broken_by == s.after for s in found)
    assert found[1].duration == 3.0


def test_silence_edges_come_from_the_words_not_the_padded_turns():
    """Turns padded by 0.3 s: 0.9 s between the turns is 1.5 s between the words, a silence the
    interviewer filled; a run without words keeps its turn edge."""
    turns = [T(0, 5.3, EE), T(6.2, 9, ER), T(9.6, 12, EE)]
    segs = [Segment(0.3, 5.0, "so that was it.", [Word(0.3, 2.0, " so"), Word(2.0, 5.0, " it.")], "B", EE),
            Segment(6.5, 8.7, "why?", [Word(6.5, 8.7, " why?")], "A", ER)]
    found = analyze.silences(turns, duration=12.0, min_gap=1.0, segments=segs)
    assert [(s.start, s.end, s.duration, s.kind) for s in found] == [(5.0, 6.5, 1.5, "filled")]
    assert analyze.silences(turns, duration=12.0, min_gap=1.0) == []  # the turns alone: no silence
    # words far from the turn edge (over WORD_SLACK_S) are not taken for its edge
    far = [Segment(0.3, 4.0, "so.", [Word(0.3, 4.0, " so.")], "B", EE)]
    assert analyze.silences(turns, duration=12.0, min_gap=1.0, segments=far) == []


def test_silences_ignore_gaps_covered_by_the_other_speaker():
    turns = [T(0, 5, ER), T(4, 12, EE), T(6, 7, ER)]
    assert analyze.silences(turns, duration=12.0) == []


def test_no_speech_is_one_empty_silence():
    found = analyze.silences([], duration=30.0)
    assert len(found) == 1 and found[0].kind == "empty" and found[0].duration == 30.0


def test_one_speaker_only():
    turns = [T(1, 4, EE), T(6, 9, EE)]
    stats = analyze.speaker_stats(turns, [], lambda s: EE)
    assert len(stats) == 1 and stats[0].talk_s == 6 and stats[0].share == 1.0
    assert [s.kind for s in analyze.silences(turns, 10)] == ["leading", "held", "trailing"]
    assert analyze.fast_fills(turns) == []


def test_fast_fills_include_overlaps_and_skip_slow_handovers():
    turns = [T(0, 5, ER), T(5.2, 10, EE), T(10.3, 12, ER), T(12.5, 20, EE), T(19.5, 22, ER),
             T(23, 30, EE), T(31, 33, ER)]
    fills = analyze.fast_fills(turns, 0.5)
    assert [(f.start, f.end, f.gap) for f in fills] == [(10.0, 10.3, 0.3), (20.0, 19.5, -0.5)]


def test_overlaps_between_different_speakers():
    turns = [T(0, 5, ER), T(4, 10, EE), T(9.95, 11, ER)]
    found = analyze.overlaps(turns, min_duration=0.1)
    assert [(o.start, o.end) for o in found] == [(4, 5)]


def test_speaker_stats_words_wpm_and_longest_monologue():
    turns = [T(0, 30, EE), T(31, 61, EE), T(62, 64, ER), T(70, 80, EE)]
    words = [Word(i, i + 0.5, "w") for i in range(60)]
    segs = [Segment(0, 60, "w " * 60, words, "B", EE), Segment(62, 64, "a question?", [], "A", ER)]
    stats = {s.id: s for s in analyze.speaker_stats(turns, segs, {"A": ER, "B": EE}.get, monologue_gap=2.0)}
    assert stats["B"].talk_s == 70 and stats["B"].words == 60
    assert stats["B"].wpm == pytest.approx(60 / (70 / 60), abs=0.1)
    assert stats["B"].longest_monologue_s == 61  # 0-61: a 1 s gap does not end a monologue
    assert stats["B"].turns == 2 and stats["A"].turns == 1
    assert stats["A"].words == 2  # no word timestamps: counted from the text
    assert stats["A"].share + stats["B"].share == pytest.approx(1.0)


def test_a_backchannel_between_interviewee_turns_is_not_a_fast_fill():
    # "mm-hmm" (0.4 s) in the interviewee's pause, the interviewee carries on: not a fast fill;
    # a short interviewer turn after which the interviewer keeps the floor (or nobody resumes) is.
    turns = [T(0, 3, ER), T(3.5, 10, EE), T(10.1, 10.5, ER), T(10.8, 20, EE), T(20.2, 20.8, ER),
             T(23, 25, EE), T(25.1, 25.6, ER)]
    fills = analyze.fast_fills(turns, 0.5)
    assert [(f.start, f.end) for f in fills] == [(20.0, 20.2), (25.0, 25.1)]


def padded(segments, turns, pad=0.3):
    """Turns 0.3 s wider than their words on both sides (as a diarizer's are)."""
    return segments, [Turn(max(0.0, t.start - pad), t.end + pad, t.speaker, t.role) for t in turns]


def test_a_padded_0_8_s_handover_is_measured_from_the_words_and_is_not_a_fast_fill():
    segments, turns = padded(*spoken([(ER, 0.0, 3.0, "How do you plan your week?"),
                                      (EE, 3.5, 10.0, "I write it all down on Sunday evening."),
                                      (ER, 10.8, 13.0, "Why on Sunday then?"),
                                      (EE, 14.0, 20.0, "Because the house is quiet.")], word_gap=0.0))
    assert turns[2].start - turns[1].end == pytest.approx(0.2)  # the padded turns: 0.2 s, a fast fill
    assert len(analyze.fast_fills(turns, 0.5)) == 1  # without words
    (h,) = analyze.handovers(turns, segments)
    assert (h.start, h.end, h.gap) == (10.0, 10.8, 0.8)
    assert analyze.fast_fills(turns, 0.5, segments) == []


def test_an_interviewer_starting_0_5_s_early_is_a_fast_fill_with_a_negative_gap():
    segments, turns = padded(*spoken([(ER, 0.0, 3.0, "How do you plan your week?"),
                                      (EE, 3.5, 10.0, "I write it all down on Sunday evening."),
                                      (ER, 9.5, 12.0, "Why on Sunday then?"),
                                      (EE, 13.0, 20.0, "Because the house is quiet.")], word_gap=0.0))
    (fill,) = analyze.fast_fills(turns, 0.5, segments)
    assert fill.start == 10.0 and fill.end == 9.5 and fill.gap == pytest.approx(-0.5)


def test_a_backchannel_with_words_is_no_handover_and_no_fast_fill():
    segments, turns = padded(*spoken([(ER, 0.0, 3.0, "How do you plan your week?"),
                                      (EE, 3.5, 10.0, "I write it all down on Sunday evening."),
                                      (ER, 10.1, 10.4, "Mm-hmm."),  # 0.9 s padded
                                      (EE, 10.9, 20.0, "Because the house is quiet then."),
                                      (ER, 22.0, 24.0, "Thank you.")], word_gap=0.0))
    assert analyze.fast_fills(turns, 0.5, segments) == []
    assert [(h.start, h.end) for h in analyze.handovers(turns, segments)] == [(20.0, 22.0)]


def test_handovers_between_sides_of_several_people():
    # the note taker (C) speaks after the interviewee: a handover to the interviewer side
    segments, turns = spoken([(ER, 0.0, 3.0, "How do you plan your week?"),
                              (EE, 3.5, 10.0, "I write it all down on Sunday evening."),
                              (ER, 10.2, 12.0, "Which app, may I ask?")], word_gap=0.0)
    turns[2].speaker = segments[2].speaker = "C"
    (h,) = analyze.handovers(turns, segments)
    assert (h.start, h.end, h.gap) == (10.0, 10.2, 0.2)
