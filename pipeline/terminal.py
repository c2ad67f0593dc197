"""Text for a terminal or a log line: whatever a name holds, one printable line."""
from __future__ import annotations


def display(text: object) -> str:
    """One printable line whatever a name holds (newlines and control characters escaped)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in str(text))
