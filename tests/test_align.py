from pipeline.interview import Segment, Turn, Word
from pipeline.stages.align import assign_speakers


def test_segments_split_where_words_change_speaker():
    words = [Word(0.0, 0.4, " So"), Word(0.5, 0.9, " what"), Word(1.0, 1.4, " happened?"),
             Word(2.0, 2.5, " We"), Word(2.6, 3.0, " left.")]
    turns = [Turn(0.0, 1.6, "A"), Turn(1.9, 3.2, "B")]
    out = assign_speakers([Segment(0.0, 3.0, "So what happened? We left.", words)], turns)
    assert [(s.speaker, s.text, s.start, s.end) for s in out] == [
        ("A", "So what happened?", 0.0, 1.4), ("B", "We left.", 2.0, 3.0)]


def test_word_outside_any_turn_takes_the_nearest_and_no_turns_gives_none():
    words = [Word(5.0, 5.3, " hm")]
    assert assign_speakers([Segment(5, 5.3, "hm", words)], [Turn(0, 1, "A"), Turn(6, 7, "B")])[0].speaker == "B"
    assert assign_speakers([Segment(5, 5.3, "hm", words)], [])[0].speaker is None


def test_word_takes_the_speaker_with_most_overlap():
    words = [Word(0.8, 1.6, " overlap")]
    turns = [Turn(0, 1.0, "A"), Turn(0.9, 3.0, "B")]
    assert assign_speakers([Segment(0.8, 1.6, "overlap", words)], turns)[0].speaker == "B"
