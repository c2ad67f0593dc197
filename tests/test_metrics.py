"""The sentences people read about an interview come from one place (pipeline/metrics.py)."""
from pathlib import Path

from pipeline import metrics, sidecar
from pipeline.batch import BatchResult
from pipeline.timefmt import clock, name_stamp, stamp

from test_report import make_interview, write_wav


def test_sentences_of_a_known_interview(tmp_path):
    iv = make_interview(write_wav(tmp_path / "a.wav"))
    assert metrics.share_sentence(iv) == "interviewee 74% of speech (within the 70%-80% target)"
    assert metrics.talk_ratio_sentence(iv) == ("interviewee 73.8% of speech (within the 70%-80% target); "
                                               "interviewer 4s, interviewee 12s")
    # 9.0-12.5 the interviewer filled, 19.8-23.0 the interviewee broke; the 0.4 s gaps are too short
    assert metrics.silences_sentence(iv) == ("2 pauses of 1.0s+ (interviewee broke 1, interviewer "
                                             "filled 1); fast fills: 0")
    assert metrics.roles_sentence(iv) == "interviewer S1, interviewee S2 (evidence, confidence 0.90)"
    assert metrics.finished_sentence(iv, 2.25).startswith("0:24 in 2.2s: interviewee 74% of speech")
    iv.talk_ratio = None
    assert metrics.share_sentence(iv) == "no interviewee share (roles unknown)"
    assert metrics.talk_ratio_sentence(iv) is None


def test_the_cli_summary_is_the_metrics_summary_and_survives_a_sidecar_round_trip(tmp_path):
    audio = write_wav(tmp_path / "a.wav")
    out = sidecar.write(make_interview(audio), sidecar.sidecar_path(audio))
    again = sidecar.read(out)  # what the watcher, status and report read
    lines = BatchResult(Path(audio), out, again).summary().splitlines()
    assert lines[:-1] == metrics.summary_lines(again, "a.wav")
    assert lines[0] == "a.wav (0:24, tiny.en, test)"
    assert "  talk ratio: " + metrics.talk_ratio_sentence(again) in lines
    assert lines[-1].endswith(out.name) and lines[-1].startswith("  -> ")
    assert "  warning: diarization found a third speaker (S3) for 0.4 s" in lines


def test_one_family_of_time_formats():
    assert [clock(7), clock(754.4), clock(3723), clock(59.6), clock(59.6, floor=True)] == \
        ["0:07", "12:34", "1:02:03", "1:00", "0:59"]
    assert clock(65, hours=True) == "0:01:05" and clock(None, missing="–") == "–"
    assert stamp(3723.4567) == "01:02:03.457" and stamp(1.5, ",") == "00:00:01,500"
    assert name_stamp(3723.9) == "01h02m03s"
