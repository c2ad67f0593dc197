"""Chunked transcription keeps memory bounded without losing or shifting words."""
import numpy as np
import pytest

from pipeline.stages.decode import decode, probe
from pipeline.stages.transcribe import chunk_bounds


def test_chunks_are_cut_in_the_quiet_and_cover_everything():
    rate = 1000
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, rate * 700).astype(np.float32)
    x[rate * 285: rate * 287] = 0.0  # a pause near the first 300 s limit
    bounds = chunk_bounds(x, rate, max_s=300, search_s=30)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(x)
    assert all(b0[1] == b1[0] for b0, b1 in zip(bounds, bounds[1:]))
    assert all(b - a <= 300 * rate for a, b in bounds)
    assert 285 * rate <= bounds[0][1] <= 287 * rate
    assert chunk_bounds(x[: rate * 10], rate, max_s=300) == [(0, rate * 10)]


@pytest.mark.slow
def test_chunked_transcript_matches_the_whole_one(pipeline_default, short_clip):
    audio = decode(short_clip, probe(short_clip))
    transcriber = pipeline_default.transcriber
    whole = transcriber(audio)
    transcriber.chunk_s = 8.0
    try:
        chunked = transcriber(audio)
    finally:
        transcriber.chunk_s = 300.0
    words = [w for s in chunked.segments for w in s.words]
    assert words == sorted(words, key=lambda w: w.start)
    assert 0 <= words[0].start and words[-1].end <= audio.duration + 0.1
    norm = lambda t: " ".join("".join(c for c in t.lower() if c.isalnum() or c == " ").split())
    a = norm(" ".join(s.text for s in whole.segments)).split()
    b = norm(" ".join(s.text for s in chunked.segments)).split()
    assert len(set(a) & set(b)) >= 0.8 * len(set(a)), (a, b)
    # the same words land at the same times (within 0.5 s) whichever way it was cut
    first = {w.word.strip().lower(): w.start for s in whole.segments for w in s.words}
    shared = [w for w in words if w.word.strip().lower() in first]
    assert shared and np.median([abs(first[w.word.strip().lower()] - w.start) for w in shared]) < 0.5


# -- quality presets and model names --------------------------------------------------------------

from pipeline.config import QUALITY, Config, load_folder_config  # noqa: E402
from pipeline.errors import ConfigError, ModelError  # noqa: E402
from pipeline.weights import resolve_model  # noqa: E402


def test_quality_presets_and_explicit_overrides():
    assert Config().asr == ("base", "int8", 2) == QUALITY["default"]
    assert Config(quality="fast").asr == ("tiny.en", "int8", 1)
    assert Config(quality="accurate").asr == ("base", "float32", 5)
    assert Config(quality="accurate", beam_size=2, model="tiny.en").asr == ("tiny.en", "float32", 2)
    assert Config(quality="fast", compute_type="float32").asr == ("tiny.en", "float32", 1)
    assert Config(device="cuda").asr == ("base", "float16", 2)
    with pytest.raises(ConfigError, match="quality = .best.: must be one of fast, default, accurate"):
        Config(quality="best").validate()


@pytest.mark.parametrize("gpus", [0, 1])
def test_compute_type_auto_is_resolved_in_one_place(gpus, monkeypatch):
    """--device auto on a GPU gives what --device cuda gives (float16), in the settings (the
    signature, the cache key) and in the transcriber that loads the model alike."""
    from pipeline import config
    from pipeline.stages.transcribe import WhisperTranscriber
    monkeypatch.setattr(config, "cuda_device_count", lambda: gpus)
    for quality, (_, preset, _) in QUALITY.items():
        auto = Config(quality=quality, device="auto")
        expected = "float16" if gpus else preset
        assert auto.asr[1] == expected == config.resolve_compute_type("auto", "auto", preset)
        assert auto.signature()["compute_type"] == expected
        assert Config(quality=quality, device="cuda").asr[1] == "float16"
        assert Config(quality=quality, device="auto", compute_type="int16").asr[1] == "int16"
    assert WhisperTranscriber("tiny.en", "auto").compute_type == ("float16" if gpus else "int8")
    assert WhisperTranscriber("tiny.en", "auto").device == ("cuda" if gpus else "cpu")
    model, compute, _ = Config(quality="fast", device="auto").asr
    assert WhisperTranscriber(model, "auto", compute).compute_type == compute


def test_quality_is_part_of_the_sidecar_signature(tmp_path):
    fast, default = Config(quality="fast").signature(), Config().signature()
    assert fast != default and fast["model"] == "tiny.en" and default["quality"] == "default"
    (tmp_path / "ivp.toml").write_text('quality = "accurate"\n')
    config = load_folder_config(tmp_path)
    assert config.quality == "accurate" and config.signature()["beam_size"] == 5
    (tmp_path / "ivp.toml").write_text('quality = "slow"\n')
    with pytest.raises(ConfigError, match="ivp.toml"):
        load_folder_config(tmp_path)


def test_cache_key_follows_the_quality():
    from pipeline.runner import Pipeline
    assert Pipeline(Config(quality="fast"))._asr_key() != Pipeline(Config())._asr_key()
    assert Pipeline(Config(quality="accurate"))._asr_key() != Pipeline(Config())._asr_key()


@pytest.mark.parametrize("name, repo", [("small", "openai/whisper-small"),
                                        ("large-v3", "openai/whisper-large-v3"),
                                        ("turbo", "openai/whisper-large-v3-turbo"),
                                        ("distil-large-v3", "distil-whisper/distil-large-v3")])
def test_well_known_models_get_a_conversion_hint(name, repo, tmp_path, monkeypatch):
    monkeypatch.setenv("IVP_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelError) as err:
        resolve_model(name)
    line = str(err.value)
    assert "ct2-transformers-converter" in line and repo in line and str(tmp_path / name) in line
    assert "\n" not in line and "unknown model" not in line


def test_a_converted_model_in_the_models_dir_is_used_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("IVP_MODELS_DIR", str(tmp_path))
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "model.bin").write_bytes(b"\0")
    assert resolve_model("small") == tmp_path / "small"
    with pytest.raises(ModelError, match="unknown model 'nonsense'"):
        resolve_model("nonsense")
