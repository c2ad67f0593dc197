"""What ``ivp status`` shows, and the content of a ``<name>.error.json``: read-only views of a
watched folder (the ledger is opened read-only; a damaged one is reported, never touched)."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from .. import __version__
from ..recording.discover import STATE_DIR
from . import DB_NAME, LOCK_NAME
from .ledger import Ledger, LedgerDamaged, check as check_ledger
from .lock import FolderLock

PSEUDO_PREFIX = "path:"  # ledger key of a file that could not be read (so not hashed)


def folder_status(folder: Path | str) -> dict[str, Any]:
    """What ``ivp status`` shows: the watcher's pid, counts and one entry per recording."""
    folder = Path(folder).resolve()
    state_dir = folder / STATE_DIR
    pid = FolderLock.holder(state_dir / LOCK_NAME)
    result: dict[str, Any] = {"folder": str(folder), "watcher": {"running": pid is not None, "pid": pid},
                              "counts": {}, "files": []}
    db = state_dir / DB_NAME
    if not db.is_file():
        return result
    try:
        check_ledger(db)
        ledger = Ledger(db, readonly=True)
        try:
            files = {row["sha256"]: row for row in ledger.all_files()}
            paths = ledger.all_paths()
        finally:
            ledger.close()
    except (LedgerDamaged, sqlite3.Error) as exc:
        result["damaged"] = (f"{' '.join(str(exc).split())}; the next `ivp watch` moves it aside "
                             "and rebuilds it from the sidecars")
        return result
    counts = {k: 0 for k in ("done", "duplicate", "queued", "retrying", "running", "interrupted",
                             "failed")}
    for p in paths:
        row = files.get(p["sha256"])
        if row is None:
            continue
        state = row["state"]
        duplicate_of = row["path"] if row["path"] != p["path"] else None
        if state == "running" and pid is None:
            state = "interrupted"
        elif state == "queued" and row["attempts"] and row["last_error"]:
            state = "retrying"
        elif state == "done" and duplicate_of:
            state = "duplicate"
        counts[state] = counts.get(state, 0) + 1
        result["files"].append({
            "path": p["path"], "state": state, "duplicate_of": duplicate_of,
            "sha256": None if p["sha256"].startswith(PSEUDO_PREFIX) else p["sha256"],
            "attempts": row["attempts"], "duration_s": row["duration_s"],
            "interviewee_share": row["interviewee_share"], "verdict": row["verdict"],
            "stage": row["stage"], "error": row["last_error"] if row["state"] != "done" else None,
            "output": p["output"] or (row["output"] if not duplicate_of else None),
            "warnings": json.loads(row["warnings"]) if row["warnings"] else [],
        })
    result["counts"] = {"files": len(result["files"]), **counts}
    return result


def error_record(path: Path, stage: str, reason: str, attempts: Optional[int] = None,
                 sha256: Optional[str] = None) -> dict[str, Any]:
    """The content of ``<name>.error.json``: what failed, where, why (one line), tool and time."""
    reason = " ".join(str(reason).split())
    return {"file": str(path), "stage": stage, "reason": reason,
            "error": f"{path}: {stage}: {reason}", "tool": "ivp", "version": __version__,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "attempts": attempts, "sha256": sha256}
