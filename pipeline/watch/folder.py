"""Where a watcher's things are: the watched folder, its state folder, the outputs, the settings.

:class:`WatchedFolder` maps between a recording's path and the names the ledger stores (relative
to the folder, POSIX separators), says where each output goes (next to the recording, or
mirrored under ``--out``) and which settings apply (``ivp.toml`` files from the folder down,
then the flags). Every room gets one; none of them holds paths of its own.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

from .. import sidecar
from ..config import CONFIG_FILE, Config
from ..errors import PipelineError
from ..recording import guard
from ..recording.cache import CACHE_NAME, StageCache
from ..recording.discover import STATE_DIR, inside
from ..recording.outputs import OutputPlan
from ..recording import tracksets
from ..recording.settings import Settings
from . import DB_NAME, LOCK_NAME, LOG_NAME
from .common import _clean


class WatchedFolder:
    """The folder ``root`` (must exist), its outputs (``out_dir`` or next to each recording) and
    its settings (``config``, then each ``ivp.toml`` on the way down, then ``overrides``)."""

    def __init__(self, root: Path | str, config: Optional[Config] = None,
                 overrides: Optional[dict[str, Any]] = None, out_dir: Optional[Path | str] = None):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"{root}: not a folder")
        self.state_dir = guard.check(self.root / STATE_DIR, self.root)  # never a link leaving the folder
        for name in (DB_NAME, LOG_NAME, LOCK_NAME):  # nor the ledger, log or lock inside it
            guard.check(self.state_dir / name, self.root)
        self.out_dir = Path(out_dir).resolve() if out_dir else None
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        self.settings = Settings(self.root, config or Config(), self.overrides)
        self.outputs = OutputPlan(self.out_dir, [self.root])
        self._sets: dict[Path, tuple] = {}  # folder -> (its ivp.toml's size and mtime, track sets)

    # -- settings ---------------------------------------------------------------------------------

    def config_for(self, folder: Path) -> Config:
        """Base config, then every ivp.toml from the watched folder down to ``folder``, then flags."""
        return self.settings.for_folder(folder)

    def settings_for(self, path: Path) -> Optional[str]:
        """The settings signature (JSON) of a recording, as the ledger stores it; None when they
        do not load."""
        try:
            return json.dumps(self.config_for(path.parent).signature(), sort_keys=True)
        except PipelineError:
            return None

    def track_set(self, path: Path) -> Optional[list[Path]]:
        """The per-person track set that ``path`` belongs to (``tracks = [...]`` in its folder's
        ``ivp.toml``), its first track first; None for a recording of its own, or when the entry
        does not load (the settings say why when the recording is processed)."""
        folder = Path(path).parent
        toml = folder / CONFIG_FILE
        try:
            st = toml.stat()
            sig: Optional[tuple] = (st.st_size, st.st_mtime_ns)
        except OSError:
            sig = None
        cached = self._sets.get(folder)
        if cached is None or cached[0] != sig:
            try:
                sets = tracksets.declared(folder, present=False) if sig is not None else []
            except PipelineError:
                sets = []
            cached = self._sets[folder] = (sig, [(p, {os.path.realpath(m) for m in p}) for p in sets])
        real = os.path.realpath(path)
        return next((list(paths) for paths, members in cached[1] if real in members), None)

    def cache(self, config: Config) -> StageCache:
        """The stage cache for these settings (``DIR/.ivp/cache`` unless they name one)."""
        return StageCache(Path(config.cache_dir) if config.cache_dir else self.state_dir / CACHE_NAME)

    # -- paths ------------------------------------------------------------------------------------

    def output_for(self, path: Path, suffix: str = sidecar.SUFFIX, check: bool = False) -> Path:
        """Where an output of ``path`` goes; ``check`` before writing (refuses leaving the output)."""
        return self.outputs.sidecar(path, suffix, check)

    def is_out(self, path: Path) -> bool:
        """Inside the ``--out`` folder (never scanned for recordings)."""
        return bool(self.out_dir) and inside(path, self.out_dir)

    def rel(self, path: Path) -> str:
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def store(self, path: Optional[Path]) -> Optional[str]:
        return None if path is None else self.rel(path)

    def abs(self, stored: str) -> Path:
        p = Path(stored)
        return p if p.is_absolute() else self.root / p

    def display(self, path: Path) -> str:
        return _clean(self.rel(path))
