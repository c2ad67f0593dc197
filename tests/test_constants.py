"""Constants of one concern live in one block and every other module imports them: the target
band, the state folder ``.ivp``, the sample rate, the clip-name pattern, the role labels, the
errno numbers of output trouble. A copy written again anywhere in ``pipeline/`` fails here."""
from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

from pipeline import config
from pipeline.export import clips
from pipeline.recording import cache, discover
from pipeline.stages import analyze, decode, moments, transcribe
from pipeline.stages.diarize import overlap
from pipeline.study import state
from pipeline.recording import guard
from pipeline.watch import folder, lock, status

PACKAGE = Path(config.__file__).parent
SOURCES = {p.relative_to(PACKAGE).as_posix(): p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")}

# (what, a pattern of the written-again value, the one module that may write it)
OWNED = [
    ("target band", r"\(0\.70?, 0\.80?\)|\[0\.70?, 0\.80?\]", "config.py"),
    ("state folder", r"""["']\.ivp["']""", "recording/discover.py"),
    ("sample rate", r"\b16_?000\b", "stages/decode.py"),
    ("clip name", r"h\\d\{2\}m\\d\{2\}s", "recording/discover.py"),
    ("role labels", r""":\s*["']Interviewer["']""", "interview.py"),
    ("output errnos", r"\{28, 30", None),
]


@pytest.mark.parametrize("what,pattern,owner", OWNED, ids=[o[0] for o in OWNED])
def test_a_constant_is_written_once(what, pattern, owner):
    found = sorted(name for name, text in SOURCES.items() if re.search(pattern, text))
    assert found == ([owner] if owner else []), f"{what} written in {found}, owner {owner}"


def test_the_modules_use_the_owners_values():
    assert config.Config().target == config.TARGET_BAND
    assert analyze.talk_ratio([]).target in (config.TARGET_BAND, list(config.TARGET_BAND))
    assert state.STATE_DIR is status.STATE_DIR is folder.STATE_DIR is discover.STATE_DIR
    assert lock.watcher_of.__defaults__[0] == discover.STATE_DIR
    assert folder.CACHE_NAME is cache.CACHE_NAME
    assert clips.CLIP_NAME is discover.CLIP_NAME
    assert transcribe.SAMPLE_RATE == overlap.SAMPLE_RATE == decode.SAMPLE_RATE
    assert guard.OUTPUT_ERRNOS >= {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM}


def test_the_two_backchannel_rules_are_named_apart():
    # a turn run (no words) and a transcribed sentence (words, padded times): two rules
    assert analyze.BACKCHANNEL_RUN_S == 1.0 and moments.BACKCHANNEL_SENTENCE_S == 2.0
    assert not any(re.search(r"^BACKCHANNEL_S\b", t, re.M) for t in SOURCES.values())


def test_the_readme_asks_for_the_python_pyproject_needs():
    import tomllib
    root = PACKAGE.parent
    needs = tomllib.loads((root / "pyproject.toml").read_text())["project"]["requires-python"]
    version = re.fullmatch(r">=(3\.\d+)", needs).group(1)
    assert f"Python {version}+ is needed" in (root / "README.md").read_text()
