"""Which settings apply to a recording: one ``ivp.toml`` cascade, used by both drivers.

Defaults, then every ``ivp.toml`` from the root folder (the folder given to ``ivp process`` or
``ivp watch``) down to the recording's own folder, then the command-line flags. A bad
``ivp.toml`` fails only the recordings at or below it, with a one-line error naming the file,
the key and what is allowed.

A folder's ``cache_dir`` is resolved against that folder and must stay inside it: a folder's
settings can never send writes elsewhere.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Union

from ..config import CONFIG_FILE, Config, load_folder_config
from ..errors import ConfigError, PipelineError
from .discover import inside


def chain(root: Path, folder: Path) -> list[Path]:
    """The folders from ``root`` down to ``folder`` (just ``folder`` when it is not below root)."""
    root, folder = Path(os.path.abspath(root)), Path(os.path.abspath(folder))
    try:
        rel = folder.relative_to(root)
    except ValueError:
        return [folder]
    out = [root]
    for part in rel.parts:
        out.append(out[-1] / part)
    return out


class Settings:
    """The cascade for one root, remembered per folder (``clear()`` after files changed)."""

    def __init__(self, root: Path, base: Optional[Config] = None,
                 overrides: Optional[dict[str, Any]] = None):
        self.root = Path(os.path.abspath(root))
        self.base = base or Config()
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        self._memo: dict[Path, Union[Config, PipelineError]] = {}

    def clear(self) -> None:
        self._memo.clear()

    def for_folder(self, folder: Path) -> Config:
        """The settings for recordings in ``folder``; raises :class:`ConfigError` (file, key)."""
        folder = Path(os.path.abspath(folder))
        hit = self._memo.get(folder)
        if isinstance(hit, PipelineError):
            raise hit
        if hit is not None:
            return hit
        try:
            config = self._load(folder)
        except PipelineError as exc:
            self._memo[folder] = exc
            raise
        self._memo[folder] = config
        return config

    def for_recording(self, recording: Path) -> Config:
        return self.for_folder(Path(recording).parent)

    def _load(self, folder: Path) -> Config:
        config = self.base
        for d in chain(self.root, folder):
            if not (d / CONFIG_FILE).is_file():
                continue
            before = config.cache_dir
            config = load_folder_config(d, config)
            if config.cache_dir != before:
                config = config.with_overrides(cache_dir=_folder_cache(d, config.cache_dir))
        try:
            return config.with_overrides(**self.overrides).validate()
        except ConfigError as exc:
            raise ConfigError("command line", exc.reason) from exc


def _folder_cache(folder: Path, value: str) -> str:
    """A folder's ``cache_dir``, resolved against the folder; refused when it leaves it."""
    target = Path(value).expanduser()
    target = target if target.is_absolute() else folder / target
    if not inside(target, folder):
        raise ConfigError(str(folder / CONFIG_FILE), f"cache_dir = {value!r}: must be a folder "
                          f"inside {folder} (a folder's settings cannot write elsewhere)")
    return str(Path(os.path.abspath(target)))
