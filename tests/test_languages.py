"""Languages: detected per stretch with a multilingual model, recorded per segment, warned about."""
import json

import pytest

from pipeline import sidecar
from pipeline.errors import ModelError
from pipeline.interview import Interview
from pipeline.stages.decode import decode, probe
from pipeline.stages.transcribe import WhisperTranscriber

GERMAN = {"und", "die", "der", "das", "zu", "ist", "mit", "diese", "software", "rechte"}
ENGLISH = {"the", "and", "to", "of", "software", "any", "permission", "copies"}


def words(text):
    return {w.strip(".,;:!?\"'()").lower() for w in text.split()}


@pytest.fixture(scope="module")
def mixed(shared_data):
    return shared_data / "multilingual_en_de.mp3"


@pytest.mark.slow
def test_english_and_german_stretches_each_in_their_own_language(pipeline_default, mixed):
    transcriber = pipeline_default.transcriber
    assert not transcriber.english_only
    t = transcriber(decode(mixed, probe(mixed)))
    assert set(t.languages) == {"en", "de"}
    en = [s for s in t.segments if s.language == "en"]
    de = [s for s in t.segments if s.language == "de"]
    assert en and de and len(en) + len(de) == len(t.segments)
    # the recording reads the MIT licence in English, then in German from about 30 s on
    assert max(s.end for s in en) <= 31.0 and min(s.start for s in de) >= 29.0
    german = words(" ".join(s.text for s in de))
    english = words(" ".join(s.text for s in en))
    assert len(german & GERMAN) >= 5 and "the" not in german  # German stays German, not translated
    assert len(english & ENGLISH) >= 5 and "und" not in english


@pytest.mark.slow
def test_mixed_recording_sidecar_lists_languages_and_warns(pipeline_default, mixed, tmp_path):
    interview = pipeline_default.process(mixed)
    assert set(interview.languages) == {"en", "de"}
    assert any(w.startswith("several languages spoken") and "de (" in w for w in interview.warnings)
    assert any("read en only" in w and "de speech" in w for w in interview.warnings)
    out = sidecar.write(interview, tmp_path / "mixed.interview.json")
    data = json.loads(out.read_text())
    assert data["schema_version"] >= 2 and data["pipeline"]["moment_languages"] == ["en"]  # 3: voiceprints
    assert {s["language"] for s in data["segments"]} == {"en", "de"}
    assert Interview.from_dict(data).to_dict() == data


@pytest.mark.slow
def test_one_language_needs_no_split(pipeline_default, jfk_clip):
    audio = decode(jfk_clip, probe(jfk_clip))
    [stretch] = pipeline_default.transcriber.stretches(audio.read(0, audio.length), audio.sample_rate)
    assert stretch.language == "en" and stretch.probability > 0.9
    assert (stretch.start, stretch.end) == (0, audio.length)


def test_language_with_an_english_only_model_is_a_clear_error():
    with pytest.raises(ModelError) as err:
        WhisperTranscriber("tiny.en", language="de")
    assert "--language de" in str(err.value) and "tiny.en is English only" in str(err.value)
    assert WhisperTranscriber("tiny.en", language="en").language == "en"


def test_cli_language_with_english_only_model_fails_once_for_the_batch(short_clip):
    from click.testing import CliRunner
    from pipeline.cli import main
    result = CliRunner().invoke(main, ["process", str(short_clip), "--quality", "fast", "--language", "de"])
    assert result.exit_code == 2
    assert "--language de" in result.output and "English only" in result.output


@pytest.mark.slow
def test_old_sidecars_without_languages_still_read(sample_sidecar):
    data = json.loads(sample_sidecar.read_text())
    data["schema_version"] = 1
    data.pop("languages")
    data["pipeline"].pop("moment_languages")
    for s in data["segments"]:
        s.pop("language")
    sidecar.validate(data)
    interview = Interview.from_dict(data)
    assert interview.languages == [data["language"]] and interview.segments[0].language is None
