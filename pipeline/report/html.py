"""What every report page uses: the template filters, links between files, the generator name."""
from __future__ import annotations

import json
from typing import Optional

from ..timefmt import player_clock as clock  # the report's clock (report modules import it from here)

GENERATOR = "ivp report"


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
