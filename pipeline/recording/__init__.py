"""Everything about one recording that both drivers (``ivp process`` and ``ivp watch``) ask.

* :mod:`.discover` - is this path a recording (a regular media file that is not one of ours)?
* :mod:`.settings` - which settings apply (one ``ivp.toml`` cascade, typed and bounded).
* :mod:`.outputs` - where its sidecar, error file and exports go (unique, short, inside the output).
* :mod:`.cache` - the versioned per-content-hash stage cache.
* :mod:`.markers` - its marker files (``.marks.txt`` / ``.marks.csv``).
* :mod:`.tracksets` - per-person track files an ``ivp.toml`` declares as one interview.
* :mod:`.guard` - every path written, deleted or read beside a recording stays inside its root.
* :func:`display` - a name made safe for one line of human output (owned by :mod:`pipeline.terminal`).
* :func:`firsts` - identical copies (one ``sha256``) are one recording.
* :func:`href` - a link to a recording relative to the page or timeline that plays it.

Nothing heavy is imported here: the CLI imports this package at start-up.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from ..terminal import display  # noqa: F401  (the name most drivers import from here)


def firsts(keys) -> list[int]:
    """For each item, the position of the first item with the same key (its content hash):
    identical copies are one recording, shown or decided once. An item without a key is its own."""
    seen: dict = {}
    return [seen.setdefault(key, i) if key else i for i, key in enumerate(keys)]


def href(target: Path, base_dir: Path) -> str:
    """A URL to ``target`` relative to the folder ``base_dir`` (a ``file:`` URI when no relative
    path exists): a report page's player, a reel's timeline; the folder moves with its links."""
    try:
        rel = os.path.relpath(os.path.abspath(target), os.path.abspath(base_dir))
    except ValueError:  # another drive on Windows
        return Path(os.path.abspath(target)).as_uri()
    # the name's own bytes, percent-encoded: a name that is not UTF-8 (``caf\\xe9.wav``) links too
    return "/".join(quote(os.fsencode(part)) for part in Path(rel).as_posix().split("/"))


__all__ = ["display", "firsts", "href"]
