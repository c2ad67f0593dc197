"""The date of a recording, as the report and the study show it: a date in its file name, else
the date the media itself says it was recorded (``creation_time``, which Zoom, phones and most
cameras write and ffprobe reads), else the file's mtime (which a copy may have changed)."""
from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Optional

from ..interview import Interview
from .discover import local_input, not_regular

_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2}|19\d{2})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")
PROBE_TIMEOUT_S = 20.0
NO_DATE = "1970-01-01"  # what some muxers write when they know no date: not a date


def recording_date(iv: Interview, sidecar_path: Path, media: Optional[Path]) -> str:
    """A date in the file name (2024-05-01, 20240501), else the media's own ``creation_time``,
    else the recording's (or sidecar's) mtime."""
    for text in (Path(iv.source.path).name if iv.source else "", sidecar_path.name):
        m = _DATE_IN_NAME.search(text)
        if m:
            try:
                return _dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                pass
    if media is not None:
        created = media_created(media)
        if created:
            return created
    for p in (media, sidecar_path):
        if p is not None:
            try:
                return _dt.date.fromtimestamp(p.stat().st_mtime).isoformat()
            except OSError:
                pass
    return ""


def media_created(path: Path) -> Optional[str]:
    """The date (ISO, local time) in the media's ``creation_time`` tag (the container's, else a
    stream's), None when it has none or cannot be read; read once per file version."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    if not_regular(Path(path)) is not None:
        return None
    return _created(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=4096)
def _created(path: str, _size: int, _mtime_ns: int) -> Optional[str]:
    if shutil.which("ffprobe") is None:
        return None
    cmd = ["ffprobe", "-v", "error", "-show_entries", "format_tags=creation_time:stream_tags=creation_time",
           "-of", "json", *local_input(Path(path))]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=PROBE_TIMEOUT_S)
        info = json.loads(proc.stdout or "{}") if proc.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    tags = [info.get("format", {}).get("tags", {})] + [s.get("tags", {}) for s in info.get("streams", [])]
    for t in tags:
        date = parse_creation_time(t.get("creation_time", ""))
        if date:
            return date
    return None


def parse_creation_time(value: str) -> Optional[str]:
    """``2024-05-01T14:03:22.000000Z`` (or without a zone) as the local date; None for no date."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        when = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone()
    date = when.date().isoformat()
    return None if date <= NO_DATE else date
