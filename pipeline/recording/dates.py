"""The date of a recording, as the report and the study show it."""
from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Optional

from ..interview import Interview

_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2}|19\d{2})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")


def recording_date(iv: Interview, sidecar_path: Path, media: Optional[Path]) -> str:
    """A date in the file name (2024-05-01, 20240501), else the recording's (or sidecar's) mtime."""
    for text in (Path(iv.source.path).name if iv.source else "", sidecar_path.name):
        m = _DATE_IN_NAME.search(text)
        if m:
            try:
                return _dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                pass
    for p in (media, sidecar_path):
        if p is not None:
            try:
                return _dt.date.fromtimestamp(p.stat().st_mtime).isoformat()
            except OSError:
                pass
    return ""
