"""Shared fixtures: the bundled sample, ../shared/data, and one processed sample per test run."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from browser import require_chromium, start_chromium

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_audio"
SHARED = Path(os.environ.get("IVP_SHARED_DATA", ROOT.parent / "shared" / "data")) / "real"


def sample_audio_path() -> Path:
    truth = json.loads((SAMPLE_DIR / "interview.truth.json").read_text())
    return SAMPLE_DIR / truth["audio"]


@pytest.fixture(scope="session")
def sample_truth() -> dict:
    return json.loads((SAMPLE_DIR / "interview.truth.json").read_text())


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return sample_audio_path()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data/real``; tests that use it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def pipeline_default():
    """One loaded Pipeline (default config) for the whole run."""
    from pipeline.runner import Pipeline
    return Pipeline()


@pytest.fixture(scope="session")
def sample_interview(pipeline_default, sample_path):
    """The bundled sample processed once with the default settings (an Interview)."""
    return pipeline_default.process(sample_path)


@pytest.fixture(scope="session")
def sample_sidecar(sample_interview, tmp_path_factory) -> Path:
    """The sample's sidecar written to a temp folder, next to a copy of the recording."""
    from pipeline import sidecar
    folder = tmp_path_factory.mktemp("sample")
    audio = sample_audio_path()
    shutil.copy2(audio, folder / audio.name)
    out = sidecar.sidecar_path(folder / audio.name)
    sidecar.write(sample_interview, out)
    return out


@pytest.fixture
def driver(tmp_path):
    """Headless Chromium through selenium (the test skips, saying why, where a piece is missing)."""
    require_chromium()
    d = start_chromium(tmp_path / "chromium-profile")
    d.set_page_load_timeout(30)
    yield d
    d.quit()


@pytest.fixture(scope="session")
def jfk_clip(shared_data) -> Path:
    return shared_data / "jfk.flac"


def ffmpeg(*args: str) -> None:
    """Run ffmpeg with an argument list (tests make their own media from the sample)."""
    import subprocess
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory, sample_path) -> Path:
    """The first 20 s of the bundled sample as 16 kHz mono wav."""
    out = tmp_path_factory.mktemp("clips") / "short.wav"
    ffmpeg("-i", str(sample_path), "-t", "20", "-ac", "1", "-ar", "16000", str(out))
    return out
