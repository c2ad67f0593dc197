"""The edits layer (pipeline/edits, docs/edits.md): a person's names, word corrections and
highlights kept beside the sidecar, applied on every read, kept when the sidecar is rewritten."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline import metrics, sidecar
from pipeline.cli import main
from pipeline import edits_store as store
from pipeline.edits import file as edits_file
from pipeline.edits_store import EditsError
from pipeline.interview import INTERVIEWEE, INTERVIEWER, Interview, Moment, PipelineInfo, Recording, RoleAssignment, Voiceprint
from pipeline.voiceprint import encode

import kit

DURATION = 20.0
SCRIPT = [  # (role, start, end, text)
    (INTERVIEWER, 0.5, 3.0, "What do you do for a living?"),
    (INTERVIEWEE, 3.5, 9.5, "I work as in a con at a small firm in town."),
    (INTERVIEWER, 10.0, 12.0, "How do you track your hours?"),
    (INTERVIEWEE, 12.5, 19.0, "Mostly in a spreadsheet that I keep by hand every week."),
]
RNG = np.random.default_rng(7)
VOICE_A, VOICE_B = RNG.normal(size=192), RNG.normal(size=192)


def interview(audio: Path, shift: float = 0.0, swap_ids: bool = False, script=SCRIPT) -> Interview:
    segments, turns = kit.spoken([(r, s + shift, e + shift, t) for r, s, e, t in script])
    ids = {"S1": "S2", "S2": "S1"} if swap_ids else {"S1": "S1", "S2": "S2"}
    for x in [*segments, *turns]:
        x.speaker = ids[x.speaker]
    lead, other = ids["S1"], ids["S2"]
    iv = Interview(source=Recording(str(audio), kit.fake_sha(audio), DURATION, 1, 16000, "pcm_s16le"),
                   pipeline=PipelineInfo("test", "tiny.en", "test", "cpu", "int8"), language="en",
                   segments=segments, turns=turns,
                   roles=RoleAssignment(lead, other, 0.9, "evidence", by_speaker={lead: INTERVIEWER, other: INTERVIEWEE}),
                   voices=[Voiceprint(lead, 5.0, 10, encode(VOICE_A)), Voiceprint(other, 12.0, 20, encode(VOICE_B))])
    kit.analysed(iv, DURATION)
    iv.moments = [Moment(12.5 + shift, 19.0 + shift, "workaround", "Workaround", INTERVIEWEE,
                         "Mostly in a spreadsheet that I keep by hand every week.", 0.8),
                  Moment(10.0 + shift, 12.0 + shift, "closed_question", "Closed question", INTERVIEWER,
                         "How do you track your hours?", 0.5)]
    return iv


@pytest.fixture
def side(tmp_path) -> Path:
    audio = kit.write_wav(tmp_path / "call.wav", DURATION)
    return sidecar.write(interview(audio), sidecar.sidecar_path(audio))


def segment_text(iv: Interview, start: float) -> str:
    return next(s.text for s in iv.segments if abs(s.start - start) < 1.0).strip()


def test_word_correction_is_applied_on_read_with_times_from_the_old_words(side):
    before = sidecar.read(side)
    answer = next(s for s in before.segments if s.start == 3.5)
    old = [w for w in answer.words if w.word.strip() in ("in", "a", "con")][0:3]
    store.correct_words(side, 3.5, 9.5, "I work as in a con at a small firm", "I work as an accountant at a small firm")
    iv = sidecar.read(side)
    assert segment_text(iv, 3.5) == "I work as an accountant at a small firm in town."
    new = [w for s in iv.segments for w in s.words if w.word.strip() in ("an", "accountant")]
    assert [w.word.strip() for w in new] == ["an", "accountant"]
    assert new[0].start == pytest.approx(old[0].start, abs=1e-3) and new[-1].end == pytest.approx(old[-1].end, abs=1e-3)
    assert all(a.end <= b.start + 1e-6 for a, b in zip(new, new[1:]))
    assert iv.edit_notes == []
    raw = sidecar.read(side, edits=False)  # the sidecar itself is untouched
    assert segment_text(raw, 3.5) == "I work as in a con at a small firm in town."
    twice = sidecar.with_edits(iv, side)  # applying again (an edited interview read back) changes nothing
    assert segment_text(twice, 3.5) == "I work as an accountant at a small firm in town."


def test_corrections_survive_a_rewrite_where_they_align_and_are_reported_where_not(side, tmp_path):
    store.correct_words(side, 3.5, 9.5, "in a con", "an accountant")
    store.correct_words(side, 12.5, 19.0, "a spreadsheet that I keep", "a spreadsheet I keep")
    saved = side.with_name("call.edits.json").read_bytes()
    audio = tmp_path / "call.wav"
    # processed again: everything 0.7 s later, and the second answer heard differently
    script = [*SCRIPT[:3], (INTERVIEWEE, 12.5, 19.0, "Mostly in a sheet I update by hand every week.")]
    sidecar.write(interview(audio, shift=0.7, script=script), side)
    iv = sidecar.read(side)
    assert "an accountant" in segment_text(iv, 4.2)
    assert segment_text(iv, 13.2) == "Mostly in a sheet I update by hand every week."
    assert len(iv.edit_notes) == 1 and "no longer aligns" in iv.edit_notes[0] and "'that'" in iv.edit_notes[0]
    assert side.with_name("call.edits.json").read_bytes() == saved  # reported, never dropped
    assert any("no longer aligns" in line for line in metrics.summary_lines(iv, "call.wav"))


def test_names_follow_the_voice_when_ids_change(side, tmp_path):
    store.set_name(side, "S2", "Dana (participant)")
    assert sidecar.read(side).names == {"S2": "Dana (participant)"}
    sidecar.write(interview(tmp_path / "call.wav", swap_ids=True), side)  # ids swapped on reprocessing
    iv = sidecar.read(side)
    assert iv.names == {"S1": "Dana (participant)"}
    assert iv.role_of("S1") == INTERVIEWEE
    assert "Dana (participant) (S1) interviewee" in "\n".join(metrics.summary_lines(iv, "call.wav"))
    with pytest.raises(EditsError):
        store.set_name(side, "S9", "Nobody")
    store.set_name(side, "S2", "")  # S2 is the stored id: an empty name removes it
    assert sidecar.read(side).names == {}


def test_highlights_added_removed_retagged_and_merged(side):
    hid = store.add_highlight(side, 3.5, 9.5, "I work as in a con", ["role", " Job ,role"], "their job", "S2")
    store.change_moment(side, 10.0, "closed_question", "remove")
    store.change_moment(side, 12.5, "workaround", "tag", ["pain", "tools"], "spreadsheets again")
    iv = sidecar.read(side)
    user = [m for m in iv.moments if m.source == "user"]
    assert [(m.id, m.tags, m.note, m.role, m.label) for m in user] == [(hid, ["role", "Job"], "their job", INTERVIEWEE, "role, Job")]
    assert [m.kind for m in iv.moments if m.source != "user"] == ["workaround"]
    assert next(m for m in iv.moments if m.kind == "workaround").tags == ["pain", "tools"]
    store.change_highlight(side, hid, tags=["career"])
    assert [m.tags for m in sidecar.read(side).moments if m.source == "user"] == [["career"]]
    store.change_moment(side, 10.0, "closed_question", "merge", into=(12.5, "workaround"))  # replaces the removal
    iv = sidecar.read(side)
    merged = next(m for m in iv.moments if m.kind == "workaround")
    assert (merged.start, merged.end, merged.also) == (10.0, 19.0, ["closed_question"])
    assert not any(m.kind == "closed_question" for m in iv.moments)
    store.change_highlight(side, hid, remove=True)
    assert not any(m.source == "user" for m in sidecar.read(side).moments)
    assert store.folder_tags([side]) == ["pain", "tools"]
    # written back by a writer that read with edits: nothing is written into the sidecar twice
    assert "tags" not in json.loads(side.read_text())["moments"][0]


def test_a_damaged_edits_file_is_left_out_said_and_never_overwritten(side):
    path = edits_file.path_for(side)
    path.write_text('{"edits_version": 1, "words": [{"oops": 1}]}')
    iv = sidecar.read(side)
    assert segment_text(iv, 3.5).startswith("I work as in a con")
    assert len(iv.edit_notes) == 1 and iv.edit_notes[0].startswith("edits not applied: call.edits.json: words[0]")
    with pytest.raises(EditsError, match="not changed"):
        store.set_name(side, "S1", "Ann")
    assert path.read_text() == '{"edits_version": 1, "words": [{"oops": 1}]}'
    path.write_text('{"edits_version": 99}')
    assert "newer ivp" in sidecar.read(side).edit_notes[0]


def test_the_edits_file_matches_its_schema_and_version(side):
    store.set_name(side, "S1", "Ann")
    doc = json.loads(edits_file.path_for(side).read_text())
    assert doc["edits_version"] == edits_file.VERSION and doc["speakers"]["S1"]["name"] == "Ann"
    assert doc["recording"]["sha256"] == sidecar.read(side).source.sha256
    assert edits_file.schema_problem(doc) is None
    assert edits_file.path_for(side).name == "call.edits.json"


def test_exports_show_names_and_corrections(side):
    store.set_name(side, "S2", "Dana")
    store.correct_words(side, 3.5, 9.5, "in a con", "an accountant")
    store.add_highlight(side, 12.5, 19.0, "Mostly in a spreadsheet", ["tools"], "", "S2")
    result = CliRunner().invoke(main, ["export", str(side), "--format", "srt,vtt,fcpxml"])
    assert result.exit_code == 0, result.output
    srt = side.with_name("call.srt").read_text()
    assert "Dana: I work as an accountant" in srt and "in a con" not in srt
    assert "<v Dana>" in side.with_name("call.vtt").read_text()
    assert "Dana: Mostly in a spreadsheet #tools" in side.with_name("call.fcpxml").read_text()


def test_roles_fix_keeps_edits_out_of_the_sidecar(side):
    store.correct_words(side, 3.5, 9.5, "in a con", "an accountant")
    result = CliRunner().invoke(main, ["roles", str(side), "--swap"])
    assert result.exit_code == 0, result.output
    raw = sidecar.read(side, edits=False)
    assert raw.roles.interviewer == "S2" and "in a con" in segment_text(raw, 3.5)
    assert "an accountant" in segment_text(sidecar.read(side), 3.5)
