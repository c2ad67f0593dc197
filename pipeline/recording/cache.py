"""The per-content-hash stage cache: ``<dir>/<sha256>/<stage>.<key>.json``, versioned and checked.

Each entry is ``{"ivp_cache": VERSION, "stage": ..., "key": ..., "data": {...}}``. An entry
of another version, for another stage or key, or whose data the stage's reader rejects
(another ivp's shape) is a miss: it is removed and the stage is computed again. Nothing here
knows what a stage stores; the caller gives a reader that turns the dict into its result.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

from . import guard
from .outputs import atomic_write_text
from .discover import STATE_DIR

VERSION = 2
CACHE_NAME = "cache"
MAX_ENTRY_BYTES = 256 << 20
T = TypeVar("T")


def default_dir(output_root: Path) -> Path:
    """``<output>/.ivp/cache``: where both drivers keep stage results (an :class:`OutputError`
    when a link there leaves the output: :mod:`.guard`)."""
    return guard.check(Path(output_root) / STATE_DIR / CACHE_NAME, output_root)


class StageCache:
    def __init__(self, folder: Optional[Path]):
        self.folder = Path(folder) if folder else None

    def __bool__(self) -> bool:
        return self.folder is not None

    def path(self, sha: str, stage: str, key: str) -> Optional[Path]:
        if self.folder is None or not sha or not all(c in "0123456789abcdef" for c in sha):
            return None
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)[:120]
        path = self.folder / sha / f"{stage}.{safe}.json"
        return None if guard.leaves(path, self.folder) else path  # a link out of the cache: no entry

    def load(self, sha: str, stage: str, key: str, reader: Callable[[dict], T]) -> Optional[T]:
        """The cached result, or None (absent, damaged, other version or shape: removed)."""
        path = self.path(sha, stage, key)
        if path is None or not path.is_file():
            return None
        try:
            if path.stat().st_size > MAX_ENTRY_BYTES:
                raise ValueError("too large")
            entry = json.loads(path.read_text(encoding="utf-8"))
            if not (isinstance(entry, dict) and entry.get("ivp_cache") == VERSION
                    and entry.get("stage") == stage and entry.get("key") == key
                    and isinstance(entry.get("data"), dict)):
                raise ValueError("not an entry of this version")
            return reader(entry["data"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            self._remove(path)
            return None

    def save(self, sha: str, stage: str, key: str, data: dict[str, Any]) -> None:
        """Store ``data``; a cache that cannot be written is skipped (the result is still used)."""
        path = self.path(sha, stage, key)
        if path is None:
            return
        entry = {"ivp_cache": VERSION, "stage": stage, "key": key, "data": data}
        try:
            atomic_write_text(path, json.dumps(entry, allow_nan=False))
        except (OSError, ValueError, TypeError):
            pass

    def entries(self, sha: str, stage: str, reader: Callable[[dict], T]) -> list[T]:
        """Every valid entry of ``stage`` for ``sha`` (any key), newest first."""
        if self.folder is None or self.path(sha, stage, "x") is None:
            return []
        found = []
        for path in sorted((self.folder / sha).glob(f"{stage}.*.json"),
                           key=lambda p: p.stat().st_mtime if p.is_file() else 0, reverse=True):
            try:
                entry = json.loads(path.read_text(encoding="utf-8")) if path.stat().st_size <= MAX_ENTRY_BYTES else None
            except (OSError, ValueError):
                continue
            if isinstance(entry, dict) and entry.get("ivp_cache") == VERSION and entry.get("stage") == stage:
                found.append(self.load(sha, stage, str(entry.get("key")), reader))
        return [r for r in found if r is not None]

    def stages(self, sha: str) -> list[str]:
        """The stages with an entry for ``sha`` (for the watcher's "resuming from" line)."""
        if self.folder is None:
            return []
        folder = self.folder / sha
        if not folder.is_dir() or guard.leaves(folder, self.folder):
            return []
        return sorted({p.name.split(".", 1)[0] for p in folder.glob("*.json")})

    @staticmethod
    def _remove(path: Path) -> None:
        try:
            os.unlink(path)
        except OSError:
            pass
