"""The voice library: named voiceprints that decide who the interviewer is (``ivp voice``).

One human-readable JSON file per voice in ``$IVP_VOICES_DIR`` (default
``~/.local/share/ivp/voices/``): ``NAME.json`` with the name, the print (base64 float16 CAM++
embedding), the seconds of speech it rests on, where it came from and when. No audio is copied.
"""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from .errors import ConfigError, InputError
from .interview import Voiceprint
from .recording.outputs import atomic_write_text

# letters, digits, '.', '-', '_' and inner spaces: "joe " and "joe\n" are refused, not a second joe
NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._ -]{0,62}[A-Za-z0-9._-])?")


def library_dir() -> Path:
    env = os.environ.get("IVP_VOICES_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ivp" / "voices"


def check_name(name: str) -> None:
    """Raise a ConfigError for a name that is not a voice name (before any work)."""
    _file(name)


def _file(name: str) -> Path:
    if not NAME.fullmatch(name or ""):
        raise ConfigError(None, f"voice name {name!r}: use letters, digits, '.', '-', '_' or spaces "
                                f"(not at the start or the end)")
    return library_dir() / f"{name}.json"


def save(name: str, voice: Voiceprint, source: dict[str, Any]) -> Path:
    """Store (or replace) voice ``name``; ``source`` says where it came from."""
    path = _file(name)
    entry = {"name": name, "seconds": voice.seconds, "windows": voice.windows, "model": voice.model,
             "source": source, "enrolled": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "vector": voice.vector}
    atomic_write_text(path, json.dumps(entry, indent=2) + "\n")
    return path


def load(name: str) -> Voiceprint:
    path = _file(name)
    if not path.is_file():
        raise ConfigError(None, f"no enrolled voice {name!r} in {library_dir()} (see: ivp voice list)")
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        return Voiceprint(name, float(entry["seconds"]), int(entry["windows"]), entry["vector"],
                          entry.get("model", "campplus"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(str(path), f"cannot read voice: {exc}") from exc


def entries() -> list[dict[str, Any]]:
    """Every stored voice's metadata (without the vector), by name."""
    folder = library_dir()
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        entry.pop("vector", None)
        entry["file"] = str(path)
        out.append(entry)
    return out


def remove(name: str) -> Optional[Path]:
    path = _file(name)
    if not path.is_file():
        return None
    path.unlink()
    return path
