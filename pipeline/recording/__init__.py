"""Everything about one recording that both drivers (``ivp process`` and ``ivp watch``) ask.

* :mod:`.discover` - is this path a recording (a regular media file that is not one of ours)?
* :mod:`.settings` - which settings apply (one ``ivp.toml`` cascade, typed and bounded).
* :mod:`.outputs` - where its sidecar, error file and exports go (unique, short, inside the output).
* :mod:`.freshness` - is its sidecar up to date?
* :mod:`.cache` - the versioned per-content-hash stage cache.
* :mod:`.markers` - its marker files (``.marks.txt`` / ``.marks.csv``).
* :mod:`.tracksets` - per-person track files an ``ivp.toml`` declares as one interview.
* :func:`display` - a name made safe for one line of human output.
* :func:`firsts` - identical copies (one ``sha256``) are one recording.

Nothing heavy is imported here: the CLI imports this package at start-up.
"""
from __future__ import annotations


def display(text: object) -> str:
    """One printable line whatever a name holds (newlines and control characters escaped)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in str(text))


def firsts(keys) -> list[int]:
    """For each item, the position of the first item with the same key (its content hash):
    identical copies are one recording, shown or decided once. An item without a key is its own."""
    seen: dict = {}
    return [seen.setdefault(key, i) if key else i for i, key in enumerate(keys)]


__all__ = ["display", "firsts"]
