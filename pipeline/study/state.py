"""Where a folder's study state lives (the quote bank ``study.db``, the theme ids ``themes.json``).

``FOLDER/.ivp`` when ivp may write there; when the folder is read-only (a shared or mounted
archive), the user's cache, ``$XDG_CACHE_HOME/ivp/folders/<name>-<hash of the folder's real path>``
(``~/.cache`` without the variable), so ``ivp study FOLDER --out ELSEWHERE`` and ``ivp search``
work on a folder they cannot write. ``.ivp`` as a link leaving the folder is refused
(:mod:`pipeline.recording.guard`), never written through.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..recording import guard
from ..recording.discover import STATE_DIR


def state_dir(folder: Path) -> Path:
    """The folder for ``folder``'s study state (see the module docstring); made if missing."""
    folder = Path(folder)
    here = folder / STATE_DIR
    guard.check(here, folder)
    if writable(folder):
        return guard.folder(here, folder)
    real = os.path.realpath(folder)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = hashlib.sha1(os.fsencode(real)).hexdigest()[:16]
    place = base / "ivp" / "folders" / f"{Path(real).name or 'root'}-{tag}"
    place.mkdir(parents=True, exist_ok=True)
    return place


def writable(folder: Path) -> bool:
    """ivp may write its state in ``folder`` (in its ``.ivp`` when that exists)."""
    here = Path(folder) / STATE_DIR
    return os.access(here if here.is_dir() else folder, os.W_OK | os.X_OK)
