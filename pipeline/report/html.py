"""What every report page uses: the template filters, links between files, the generator name."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from ..timefmt import player_clock as clock  # the report's clock (report modules import it from here)

GENERATOR = "ivp report"


def href(target: Path, page_dir: Path) -> str:
    """A URL to ``target`` relative to ``page_dir`` (a ``file:`` URI when no relative path exists)."""
    try:
        rel = os.path.relpath(os.path.abspath(target), os.path.abspath(page_dir))
    except ValueError:  # another drive on Windows
        return Path(os.path.abspath(target)).as_uri()
    # the name's own bytes, percent-encoded: a name that is not UTF-8 (``caf\\xe9.wav``) links too
    return "/".join(quote(os.fsencode(part)) for part in Path(rel).as_posix().split("/"))


def seconds_text(seconds: Optional[float]) -> str:
    if seconds is None:
        return "–"
    seconds = float(seconds)
    if abs(seconds) < 60:
        return f"{seconds:.1f} s"
    return clock(seconds)


def percent(value: Optional[float]) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def band_text(target) -> str:
    low, high = target
    return f"{100 * low:.0f}-{100 * high:.0f} %"


def script_json(data) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</``, ``<!--``, or line separators."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text
