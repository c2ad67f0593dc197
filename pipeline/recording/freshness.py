"""Is a recording's sidecar fresh: made from the same bytes with the same settings?"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from .. import sidecar
from ..config import Config
from ..interview import Interview

MAX_SIDECAR_BYTES = 512 << 20


def up_to_date(out: Path, sha: str, config: Config) -> Optional[Interview]:
    """The existing sidecar when it was made from the same bytes with the same settings."""
    out = Path(out)
    try:
        if not out.is_file() or out.stat().st_size > MAX_SIDECAR_BYTES:
            return None
        existing = sidecar.read(out, edits=False)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    same_settings = json.loads(json.dumps(config.signature())) == existing.pipeline.settings
    return existing if existing.source.sha256 == sha and same_settings else None
