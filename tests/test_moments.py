"""Moments: spoken bookmarks, marker files, detected highlights, coaching moments, ``ivp mark``."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from pipeline import sidecar
from pipeline.config import Config
from pipeline.interview import INTERVIEWEE, INTERVIEWER, Handover, Interview, PipelineInfo, Recording, RoleAssignment
from pipeline.stages import moments as mo

from kit import spoken

ER, EE = INTERVIEWER, INTERVIEWEE


def make_interview(script, duration=None, fast_fills=(), path="/nonexistent/talk.wav", roles=True):
    """An Interview from (role, start, end, text) lines; words share each line's time evenly
    (each word ends 0.05 s before the next starts) and each line is one turn."""
    segments, turns = spoken(script, roles=roles)
    duration = duration or max(e for _, _, e, _ in script) + 5.0
    return Interview(
        source=Recording(str(path), "0" * 64, duration, 1, 16000, "pcm_s16le"),
        pipeline=PipelineInfo("test", "tiny.en", "test", "cpu", "int8",
                              settings={"bookmark_cues": list(Config().bookmark_cues)}),
        segments=segments, turns=turns,
        roles=RoleAssignment("S1", "S2", 1.0, "override") if roles else None,
        fast_fills=[Handover(*h) for h in fast_fills])


def one_after_another(lines, seconds=3.0, gap=1.0):
    """(role, start, end, text) lines from (role, text) ones: each ``seconds`` long, ``gap`` s apart."""
    step = seconds + gap
    return [(role, i * step, i * step + seconds, text) for i, (role, text) in enumerate(lines)]


def word_starts(interview):
    return {w.start for s in interview.segments for w in s.words}


def word_ends(interview):
    return {w.end for s in interview.segments for w in s.words}


def kinds(found, kind):
    return [m for m in found if m.kind == kind]


ANSWER = [
    (ER, 0.0, 4.0, "What happened at the end of the quarter?"),
    (EE, 5.0, 15.0, "I exported all the invoices and built the report on my own."),
    (ER, 15.3, 15.8, "Mm-hmm."),
    (EE, 16.0, 24.0, "And I do that every single week now."),
    (ER, 24.6, 27.0, "Great. Let me mark that."),
    (ER, 27.5, 30.0, "Tell me more about the charts."),
    (EE, 31.0, 40.0, "They are made in a separate tool by our designer."),
]


# -- spoken bookmarks -----------------------------------------------------------------------------

def test_bookmark_covers_the_answer_before_the_cue_snapped_to_words():
    iv = make_interview(ANSWER)
    [b] = kinds(mo.find_moments(iv, Config()), "bookmark")
    assert b.source == "spoken" and b.role == EE and b.score == 1.0
    assert b.start == 5.0 and b.start in word_starts(iv)  # the answer's first word, across the "Mm-hmm"
    assert b.end == pytest.approx(23.95) and b.end in word_ends(iv)  # its last word, not the cue
    assert b.end < 24.6
    assert "every single week" in b.text and "mark" not in b.text.lower()
    assert b.label.startswith("Bookmark: I exported")


def test_bookmark_stops_at_the_interviewers_previous_question():
    script = [(EE, 0.0, 8.0, "Before that I was an accountant at a bigger firm."),
              (ER, 8.5, 10.0, "What happened next?"),
              (EE, 10.5, 20.0, "I exported everything to a spreadsheet."),
              (ER, 20.5, 22.0, "Let me mark that.")]
    [b] = kinds(mo.find_moments(make_interview(script), Config()), "bookmark")
    assert (b.start, b.end) == (10.5, pytest.approx(19.95))


@pytest.mark.parametrize("cue_line, found", [
    ("Let me mark that.", True),
    ("Okay, bookmark that!", True),
    ("That's a highlight.", True),
    ("I'll note that.", True),
    ("Mark that one down", True),
    ("Note that the export runs at night.", False),  # "note that" starting a clause is no bookmark
    ("Please remark that the numbers differ.", False),
])
def test_bookmark_cue_variants(cue_line, found):
    script = [(EE, 0.0, 10.0, "We lose a day every month to the reconciliation."), (ER, 10.5, 13.0, cue_line)]
    assert bool(kinds(mo.find_moments(make_interview(script), Config()), "bookmark")) is found


def test_bookmark_cues_come_from_the_config():
    script = [(EE, 0.0, 10.0, "We lose a day every month to the reconciliation."), (ER, 10.5, 12.0, "Pin that.")]
    iv = make_interview(script)
    assert not kinds(mo.find_moments(iv, Config()), "bookmark")
    [b] = kinds(mo.find_moments(iv, Config(bookmark_cues=("pin that",))), "bookmark")
    assert b.start == 0.0


def test_cue_said_by_the_interviewee_is_not_a_bookmark():
    script = [(ER, 0.0, 5.0, "How do you keep track of that?"), (EE, 5.5, 12.0, "I just say let me mark that.")]
    assert not kinds(mo.find_moments(make_interview(script), Config()), "bookmark")


def test_bookmark_without_roles_uses_the_other_speaker():
    iv = make_interview(ANSWER[:5], roles=False)
    [b] = kinds(mo.find_moments(iv, Config()), "bookmark")
    assert b.start == 5.0 and b.end < 24.6


# -- detected highlights ----------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, kind, reason", [
    ("The biggest problem is that the reports take forever.", "pain_point", "the biggest problem is"),
    ("So we ended up building our own little tracker.", "workaround", "we ended up"),
    ("Every Friday I export everything to a spreadsheet.", "workaround", "i export"),
    ("Honestly I was pretty frustrated with the whole thing.", "emotion", "was pretty frustrated"),
    ("I wish the tool could just send the reminders itself.", "wish", "i wish"),
    ("It would be great if there was a filter for projects.", "wish", "it would be great if"),
    ("The last time I tried it the numbers came out wrong.", "story", "the last time"),
    ("Yesterday our manager asked for a breakdown by client.", "story", "yesterday"),
])
def test_highlight_rules(sentence, kind, reason):
    iv = make_interview([(ER, 0.0, 3.0, "Can you tell me more?"), (EE, 4.0, 12.0, sentence)])
    found = [m for m in mo.find_moments(iv, Config()) if m.source == "detected" and m.role == EE]
    assert [m.kind for m in found] == [kind]
    m = found[0]
    assert f'"{reason}"' in m.label and m.text == sentence
    assert m.start == 4.0 and m.end == pytest.approx(11.95)  # snapped to the sentence's words
    assert 0 < m.score < 1


def test_highlights_only_in_interviewee_speech_and_one_per_sentence():
    iv = make_interview([(ER, 0.0, 6.0, "I wish I knew how frustrated you get."),
                         (EE, 7.0, 15.0, "I hate it and I wish it was automatic.")])
    found = [m for m in mo.find_moments(iv, Config()) if m.source == "detected" and m.role == EE]
    assert len(found) == 1
    assert found[0].kind == "wish" and "also emotion" in found[0].label
    assert found[0].score == pytest.approx(0.9)  # the wish rule's 0.85 plus 0.05 for the second rule


def test_short_highlight_grows_to_the_next_sentence():
    iv = make_interview([(EE, 0.0, 2.0, "I hate it."), (EE, 2.1, 8.0, "It never works on Mondays.")])
    [m] = [m for m in mo.find_moments(iv, Config()) if m.kind == "emotion"]
    assert (m.start, m.end) == (0.0, pytest.approx(7.95)) and m.text == "I hate it. It never works on Mondays."


def test_rules_table_is_readable_and_extensible():
    assert {r.kind for r in mo.HIGHLIGHT_RULES} >= {"pain_point", "workaround", "emotion", "wish", "story"}
    for rule in mo.HIGHLIGHT_RULES:
        assert rule.title and rule.patterns and 0 < rule.score < 1
    for rule in mo.COACHING_RULES + (mo.CLOSED_QUESTION,):  # question kinds: pipeline/text.py's
        assert rule.title and 0 < rule.score < 1
    assert set(mo.GROUPS["highlights"]) <= set(mo.KINDS) and "insight_after_silence" in mo.GROUPS["highlights"]


@pytest.mark.parametrize("pause, speech, expected", [(3.5, 16.0, True), (2.5, 16.0, False), (4.0, 12.0, False)])
def test_insight_after_silence(pause, speech, expected):
    start = 10.0 + pause
    words = " ".join(["and then we looked at the whole approval step once more"] * 3)
    iv = make_interview([(ER, 0.0, 4.0, "And how did the team react?"), (EE, 4.5, 10.0, "They were fine with it."),
                         (EE, start, start + speech, words)])
    found = kinds(mo.find_moments(iv, Config()), "insight_after_silence")
    assert bool(found) is expected
    if expected:
        assert found[0].start == start and f"{pause:.1f} s pause" in found[0].label and found[0].role == EE


def test_a_highlight_inside_an_insight_after_silence_is_one_moment_with_both_kinds():
    said = ("Actually the real issue was that nobody owns the data. We never wrote down who checks it. "
            "Everyone thought someone else did it. That is why the numbers are always out of date.")
    iv = make_interview([(ER, 0.0, 4.0, "Anything else?"), (EE, 8.5, 26.0, said)])
    found = [m for m in mo.find_moments(iv, Config(), marks=[]) if m.role == EE]
    assert len(found) == 1, [m.label for m in found]  # one marker, one clip
    [m] = found
    assert {m.kind, *m.also} == {"pain_point", "insight_after_silence"}
    assert "insight after silence (4.5 s pause" in m.label.lower() and m.start == 8.5


# -- coaching moments -------------------------------------------------------------------------------

def test_leading_and_closed_questions():
    iv = make_interview(one_after_another([
        (ER, "Wouldn't it be great if it did that for you?"), (EE, "Maybe."),
        (ER, "So you'd use it every day, right?"), (EE, "Probably."),
        (ER, "Do you use any other tools?"), (EE, "No."),
        (ER, "How do you decide what goes in the report?"),
    ]))
    found = mo.find_moments(iv, Config())
    assert [m.start for m in kinds(found, "leading_question")] == [0.0, 8.0]
    assert [m.start for m in kinds(found, "closed_question")] == [16.0]  # the open "How ..." is fine
    assert all(m.role == ER for m in kinds(found, "leading_question") + kinds(found, "closed_question"))


def test_fast_fill_and_monologue():
    long_talk = " ".join(["let me explain how our product handles all of that for teams like yours"] * 8)
    iv = make_interview([(EE, 0.0, 10.0, "We send the reminders by hand."),
                         (ER, 10.2, 60.0, long_talk),
                         (EE, 61.0, 70.0, "Okay, that sounds useful."),
                         (ER, 72.0, 110.0, long_talk)],
                        fast_fills=[(10.0, 10.2, 0.2)])
    found = mo.find_moments(iv, Config())
    [ff] = kinds(found, "fast_fill")
    assert ff.start == 0.0 and ff.end > 10.2 and "0.2 s" in ff.label and ff.role == ER
    [mono] = kinds(found, "interviewer_monologue")  # 49.8 s; the 38 s one is not
    assert mono.start == 10.2 and mono.end == pytest.approx(59.95) and "(50 s)" in mono.label


def test_moments_sorted_deterministic_and_valid_in_a_sidecar(tmp_path):
    iv = make_interview(ANSWER)
    first, second = mo.find_moments(iv, Config()), mo.find_moments(iv, Config())
    assert first == second
    assert [m.start for m in first] == sorted(m.start for m in first)
    iv.moments = first
    sidecar.write(iv, tmp_path / "talk.interview.json")  # validates against the schema
    back = sidecar.read(tmp_path / "talk.interview.json")
    assert back.moments == first


# -- marker files -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("01:02:03", 3723.0), ("2:03", 123.0), ("01:02:03.250", 3723.25), ("02:03.5", 123.5),
    ("95", 95.0), ("95.125", 95.125), ("0", 0.0), ("100:00", 6000.0),
])
def test_parse_time(text, seconds):
    assert mo.parse_time(text) == seconds


@pytest.mark.parametrize("text, reason", [
    ("", "no time"), ("abc", "not a time"), ("-5", "negative"), ("12:75", "seconds must be below 60"),
    ("1:75:00", "minutes must be below 60"), ("01:02:03:04", "frame timecode"), ("1.2.3", "not a time"),
    ("12:", "not a time"),
])
def test_parse_time_rejects(text, reason):
    with pytest.raises(ValueError, match=reason):
        mo.parse_time(text)


def test_marker_txt_parsing_edge_cases():
    text = ("\ufeff# my marks\r\n"
            "00:01:05 great quote about invoices\r\n"
            "\r\n"
            "1:10.5\tpricing, again\r\n"
            "95 - the export story\r\n"
            "00:02:00,comma separated\r\n"
            "00:02:30\r\n"
            "bad line\r\n"
            "12:75 too many seconds\r\n"
            "   00:03:00   spaced   out   label   \r\n"
            "01:02:03:04 frames\r\n")
    marks, problems = mo.parse_marks(text, "talk.marks.txt")
    assert [(m.seconds, m.label, m.line) for m in marks] == [
        (65.0, "great quote about invoices", 2), (70.5, "pricing, again", 4), (95.0, "the export story", 5),
        (120.0, "comma separated", 6), (150.0, "", 7), (180.0, "spaced out label", 10)]
    assert [(p.line, p.text) for p in problems] == [(8, "bad line"), (9, "12:75 too many seconds"),
                                                    (11, "01:02:03:04 frames")]
    assert "talk.marks.txt line 9" in str(problems[1]) and "skipped" in str(problems[1])


MARKS_CSV = """\
time,label
00:00:10,"Quote, with a comma"
20.5,plain
"00:00:30","a label
over two lines"
oops,broken
00:00:40,two,fields
# a comment,ignored
00:00:50
"""


def test_marker_csv_parsing_edge_cases():
    marks, problems = mo.parse_marks(MARKS_CSV, "talk.marks.csv")
    assert [(m.seconds, m.label, m.line) for m in marks] == [
        (10.0, "Quote, with a comma", 2), (20.5, "plain", 3), (30.0, "a label over two lines", 4),
        (40.0, "two, fields", 7), (50.0, "", 9)]  # line numbers count the label's second line
    assert [(p.line, p.text) for p in problems] == [(6, "oops,broken")]


def test_marker_file_beside_recording_becomes_moments_and_warnings(tmp_path):
    recording = tmp_path / "talk.wav"
    recording.write_bytes(b"")
    (tmp_path / "talk.marks.txt").write_text("00:00:06 the invoice quote\nnonsense\n00:10:00 too late\n")
    iv = make_interview(ANSWER, path=recording)
    found = mo.find_moments(iv, Config())
    [m] = kinds(found, "marker")
    assert (m.start, m.label, m.source, m.role) == (6.0, "the invoice quote", "marker_file", EE)
    assert m.end == pytest.approx(14.95)  # to the end of the sentence spoken at 6 s
    assert any("line 2" in w and "nonsense" in w for w in iv.warnings)
    assert any("line 3" in w and "after the end of the recording" in w for w in iv.warnings)
    mo.find_moments(iv, Config())
    assert sum("marker file" in w for w in iv.warnings) == 2  # replaced, not repeated


def test_append_mark_and_refresh(tmp_path):
    recording = tmp_path / "talk.wav"
    recording.write_bytes(b"")
    marks_file = tmp_path / "talk.marks.txt"
    marks_file.write_text("00:00:06 first")  # no newline at the end
    assert mo.append_mark(recording, 31.5, "second  one") == marks_file
    assert marks_file.read_text() == "00:00:06 first\n00:00:31.500 second one\n"
    iv = make_interview(ANSWER, path=recording)
    assert mo.refresh_moments(iv) == []
    assert [(m.start, m.label) for m in kinds(iv.moments, "marker")] == [(6.0, "first"), (31.5, "second one")]
    assert kinds(iv.moments, "bookmark")  # the rest is recomputed too


def test_append_mark_to_existing_csv(tmp_path):
    recording = tmp_path / "talk.wav"
    (tmp_path / "talk.marks.csv").write_text("time,label\n")
    mo.append_mark(recording, 12.0, "a, b")
    marks, problems = mo.read_marks(recording)
    assert [(m.seconds, m.label) for m in marks] == [(12.0, "a, b")] and not problems


def test_ivp_mark_updates_the_sidecar_without_asr(tmp_path, monkeypatch):
    import pipeline.runner
    from pipeline.cli import main

    def no_asr(*args, **kwargs):
        raise AssertionError("ivp mark must not run the pipeline")
    monkeypatch.setattr(pipeline.runner, "Pipeline", no_asr)
    recording = tmp_path / "talk.wav"
    recording.write_bytes(b"RIFF")
    iv = make_interview(ANSWER, path=recording.resolve())
    iv.moments = mo.find_moments(iv, Config())
    side = sidecar.write(iv, sidecar.sidecar_path(recording))
    before = json.loads(side.read_text())

    result = CliRunner().invoke(main, ["mark", str(recording), "0:33.25", "designer", "tool"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "talk.marks.txt").read_text() == "00:00:33.250 designer tool\n"
    after = json.loads(side.read_text())
    sidecar.validate(after)
    markers = [m for m in after["moments"] if m["kind"] == "marker"]
    assert [(m["start"], m["label"], m["source"]) for m in markers] == [(33.25, "designer tool", "marker_file")]
    assert after["segments"] == before["segments"] and after["pipeline"] == before["pipeline"]

    result = CliRunner().invoke(main, ["mark", str(recording), "12:99"])
    assert result.exit_code == 2 and "seconds must be below 60" in result.output
    (tmp_path / "talk.marks.txt").write_text("00:00:33.250 designer tool\nbroken line\n")
    result = CliRunner().invoke(main, ["mark", str(recording)])  # refresh only
    assert result.exit_code == 0 and "line 2" in result.output
    assert any("line 2" in w for w in json.loads(side.read_text())["warnings"])


def test_ivp_mark_before_processing(tmp_path):
    from pipeline.cli import main
    recording = tmp_path / "later.wav"
    recording.write_bytes(b"RIFF")
    result = CliRunner().invoke(main, ["mark", str(recording), "75", "intro"])
    assert result.exit_code == 0 and "no sidecar yet" in result.output
    assert (tmp_path / "later.marks.txt").read_text() == "00:01:15.000 intro\n"
    result = CliRunner().invoke(main, ["mark", str(tmp_path / "missing.wav"), "75"])
    assert result.exit_code == 1


# -- the bundled sample -------------------------------------------------------------------------------

@pytest.mark.slow
def test_spoken_bookmark_found_on_the_sample(sample_interview, sample_truth):
    [truth] = sample_truth["bookmarks"]
    found = kinds(sample_interview.moments, "bookmark")
    assert len(found) == 1, [m.label for m in sample_interview.moments]
    b = found[0]
    assert b.start == pytest.approx(truth["moment_start"], abs=1.0)
    assert b.end == pytest.approx(truth["moment_end"], abs=1.0)
    assert b.end <= truth["cue_start"] + 0.2  # the cue itself is left out
    assert b.role == EE and b.source == "spoken"
    starts = {w.start for s in sample_interview.segments for w in s.words}
    ends = {w.end for s in sample_interview.segments for w in s.words}
    assert b.start in starts and b.end in ends


@pytest.mark.slow
def test_sample_highlights_have_reasons_at_the_density_of_a_reel(sample_interview):
    detected = [m for m in sample_interview.moments if m.source == "detected"]
    assert {"workaround", "story", "pain_point", "wish", "emotion"} <= {k for m in sample_interview.moments
                                                                        for k in (m.kind, *m.also)}
    assert all(m.label and 0 < m.score < 1 for m in detected)
    # 3.2 minutes: 11 highlights before neighbours were joined and bare word lists cut; 7 measured
    shown = [m for m in sample_interview.moments if m.kind in mo.GROUPS["highlights"]]
    assert 4 <= len(shown) <= 8, [m.label for m in shown]


@pytest.mark.slow
def test_mark_on_the_processed_sample(sample_sidecar, tmp_path):
    from pipeline.cli import main
    folder = tmp_path / "copy"
    folder.mkdir()
    recording = folder / "interview.opus"
    shutil.copy2(sample_sidecar.parent / "interview.opus", recording)
    side = folder / sample_sidecar.name
    shutil.copy2(sample_sidecar, side)
    result = CliRunner().invoke(main, ["mark", str(recording), "00:01:00", "after the silence"])
    assert result.exit_code == 0, result.output
    iv = sidecar.read(side)
    # the mark's sentence is also a pain point: one moment, the mark's label first (merge_same_sentence)
    assert [(m.start, m.label.split("; also ")[0]) for m in kinds(iv.moments, "marker")] == [(60.0, "after the silence")]
    assert kinds(iv.moments, "bookmark")


# -- one moment per sentence ------------------------------------------------------------------------

def test_a_bookmark_and_a_workaround_on_the_same_sentence_are_one_moment():
    from pipeline.export.base import select_moments
    iv = make_interview([
        (ER, 0.0, 3.0, "What do you do at the end of the week?"),
        (EE, 4.0, 10.0, "Every Friday I export everything to a spreadsheet."),
        (ER, 10.5, 12.0, "Let me mark that."),
        (EE, 13.0, 19.0, "Then I check the totals by hand."),
    ])
    found = mo.find_moments(iv, Config(), marks=[])
    on_it = [m for m in found if m.start < 10.0 and m.end > 4.0]
    assert len(on_it) == 1  # one marker, one clip
    [m] = on_it
    assert (m.kind, m.also, m.source, m.score) == ("bookmark", ["workaround"], "spoken", 1.0)
    assert m.label.startswith("Bookmark: Every Friday") and '; also workaround ("i export")' in m.label
    assert (m.start, m.text) == (4.0, "Every Friday I export everything to a spreadsheet.")
    # the next sentence is a workaround of its own: not merged
    assert [(x.kind, x.also) for x in found if x.start >= 13.0] == [("workaround", [])]
    # an export asking for workarounds finds the merged moment by its second kind
    assert [x.start for x in select_moments(found, "workaround")] == [4.0, 13.0]
    assert [x.start for x in select_moments(found, "bookmarks")] == [4.0]


def test_coaching_labels_say_why_a_question_was_flagged():
    iv = make_interview(one_after_another([
        (ER, "The new layout is easier, isn't it?"), (EE, "Maybe."),
        (ER, "On a scale from one to five, how happy are you with it?"), (EE, "Four."),
        (ER, "What happened? Did you call them?"), (EE, "I did."),
        (ER, "Is there anything else you would like to add?"),
    ]))
    labels = {m.text: m.label for m in mo.find_moments(iv, Config(), marks=[])
              if m.kind in ("leading_question", "closed_question")}
    assert labels == {
        "The new layout is easier, isn't it?": 'Leading question (tag question: "isn\'t it")',
        "On a scale from one to five, how happy are you with it?": 'Closed question (scale question: "on a scale from")',
        "Did you call them?": "Closed question (yes/no)",
    }
