"""Which media file a sidecar describes: the one rule the report and the exports share.

The file of the recording's name **beside the sidecar** comes first: it travels with the sidecar
when a folder is copied, moved or served, so a copied project never cuts from the old copy. Else
``source.path`` as stored in the sidecar, but only inside ``tree`` (the folder the command works
on), or when its bytes are the recording the sidecar describes (its ``sha256``: ``ivp process ROOT
--out DIR`` puts the sidecars apart from their recordings). So a sidecar planted in a shared folder
never has private audio copied into it. Neither is taken through a link leaving ``tree``
(:mod:`.guard`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from . import guard
from .discover import not_regular, sha256_file


def recording_of(sidecar: Path, source_path: str, tree: Optional[Path], sha256: str = "") -> Optional[Path]:
    """The recording of ``sidecar`` (see the module docstring), or None when there is none to use.
    ``tree`` None: only to link to (the report), ``source.path`` wherever it is."""
    if not source_path:
        return None
    stored = Path(source_path)
    beside = Path(sidecar).parent / stored.name
    if guard.why_not_read(beside, tree if tree is not None else beside.parent) is None:
        return beside
    if stored == beside or not_regular(stored) is not None:
        return None
    if tree is None or not guard.leaves(stored, tree) or (sha256 and _sha256(stored) == sha256):
        return stored
    return None


def _sha256(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError:
        return ""
