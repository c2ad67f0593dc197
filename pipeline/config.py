"""One ``Config`` dataclass: defaults, overridden by an ``ivp.toml`` in the folder, then by CLI flags."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Optional

from .errors import ConfigError

CONFIG_FILE = "ivp.toml"


@dataclass(frozen=True)
class Config:
    # transcription
    model: str = "tiny.en"  # tiny.en | base | a path to a CTranslate2 Whisper dir
    device: str = "cpu"  # cpu | cuda | auto
    compute_type: str = "auto"  # auto: int8 on cpu, float16 on cuda
    language: Optional[str] = None  # None: detect (multilingual) or "en" for .en models
    beam_size: int = 1
    cpu_threads: int = 0  # 0: let the runner decide
    # diarization
    diarizer: str = "auto"  # auto (channels for two-voice stereo, else senko) | senko | channels | pyannote
    speakers: int = 2  # 0: estimate the number of speakers
    pyannote_pipeline: Optional[str] = None  # local folder with a pyannote pipeline config
    # roles
    interviewer: Optional[str] = None  # a speaker id (e.g. S1, left, right)
    interviewer_channel: Optional[str] = None  # left | right
    # analysis
    min_silence_s: float = 1.0
    fast_fill_s: float = 0.5
    monologue_gap_s: float = 2.0
    target_low: float = 0.70
    target_high: float = 0.80
    # moments
    bookmark_cues: tuple[str, ...] = (
        "mark that", "let me mark that", "bookmark that", "note that", "that's a highlight",
        "that is a highlight",
    )
    # execution
    parallel: bool = True  # transcribe and diarize side by side
    cache_dir: Optional[str] = None  # per-content-hash cache of stage results

    @property
    def target(self) -> tuple[float, float]:
        return (self.target_low, self.target_high)

    def with_overrides(self, **values: Any) -> "Config":
        """A copy with the given non-None values applied."""
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise ConfigError(None, f"unknown setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    def validate(self) -> "Config":
        if self.interviewer_channel not in (None, "left", "right"):
            raise ConfigError(None, "interviewer_channel must be left or right")
        if self.speakers < 0:
            raise ConfigError(None, "speakers must be 0 (estimate) or more")
        if not 0 <= self.target_low <= self.target_high <= 1:
            raise ConfigError(None, "target band must satisfy 0 <= low <= high <= 1")
        if self.min_silence_s <= 0:
            raise ConfigError(None, "min_silence_s must be positive")
        return self

    def signature(self) -> dict[str, Any]:
        """The settings that change a sidecar's content (used to decide if a rerun is needed)."""
        keep = ("model", "language", "beam_size", "diarizer", "speakers", "pyannote_pipeline",
                "interviewer", "interviewer_channel", "min_silence_s", "fast_fill_s",
                "monologue_gap_s", "target_low", "target_high", "bookmark_cues")
        values = {k: getattr(self, k) for k in keep}
        values["bookmark_cues"] = list(self.bookmark_cues)
        return values


def load_folder_config(folder: Path, base: Optional[Config] = None) -> Config:
    """``base`` updated with ``folder/ivp.toml`` (a flat table of Config fields), if present."""
    base = base or Config()
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        return base
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read config: {exc}") from exc
    data = data.get("ivp", data)
    if "bookmark_cues" in data:
        data["bookmark_cues"] = tuple(data["bookmark_cues"])
    try:
        return base.with_overrides(**data).validate()
    except ConfigError as exc:
        raise ConfigError(str(path), exc.reason) from exc
