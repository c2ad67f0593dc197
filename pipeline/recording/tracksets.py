"""Per-person track files that a folder declares as one interview, in its ``ivp.toml``::

    tracks = ["alice.m4a", "bob.m4a"]            # one set
    tracks = [["a1.m4a", "b1.m4a"], ["a2.m4a", "b2.m4a"]]  # or several

Paths are relative to that folder and stay inside it. A declared set is processed as one
recording (named after its first track), never file by file.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ..config import CONFIG_FILE, folder_table
from ..errors import ConfigError
from .discover import inside


def declared(folder: Path, present: bool = True) -> list[list[Path]]:
    """The track sets ``folder/ivp.toml`` declares; ConfigError (naming the file) when malformed.
    ``present=False``: a track not there (yet) is no error (the watcher waits for it)."""
    folder = Path(folder)
    value = folder_table(folder).get("tracks")
    if value is None:
        return []
    where = str(folder / CONFIG_FILE)
    if not isinstance(value, list) or not value:
        raise ConfigError(where, "tracks: a list of file names, or a list of such lists")
    sets = value if all(isinstance(v, list) for v in value) else [value]
    out = []
    for names in sets:
        if len(names) < 2 or not all(isinstance(n, str) and n for n in names):
            raise ConfigError(where, f"tracks = {names!r}: two or more file names, one per person")
        paths = [folder / n for n in names]
        for name, path in zip(names, paths):
            if os.path.isabs(name) or not inside(path, folder):
                raise ConfigError(where, f"tracks: {name!r} must be a file inside {folder}")
            if present and not path.is_file():
                raise ConfigError(where, f"tracks: {name!r} not found in {folder}")
        if len({os.path.realpath(p) for p in paths}) < len(paths):
            raise ConfigError(where, f"tracks = {names!r}: a file is named twice")
        out.append(paths)
    return out


def group(files: Iterable[Path]) -> tuple[list[Path], dict[Path, list[Path]]]:
    """``files`` with the members of each set their folders declare replaced by one entry (the
    set's first track, where the first member found stood), and that entry's tracks."""
    files = list(files)
    sets: dict[Path, list[Path]] = {}
    member_of: dict[str, Path] = {}
    for folder in dict.fromkeys(Path(os.path.abspath(f)).parent for f in files):
        for paths in declared(folder):
            lead = paths[0]
            sets[lead] = paths
            for p in paths:
                member_of[os.path.realpath(p)] = lead
    out: list[Path] = []
    for f in files:
        lead = member_of.get(os.path.realpath(f))
        if lead is None:
            out.append(f)
        elif lead not in out:
            out.append(lead)
    return out, {lead: paths for lead, paths in sets.items() if lead in out}
