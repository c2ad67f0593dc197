"""A file's outcome on disk besides its own sidecar: the ``<name>.error.json`` of a failed file,
and the copy of a result under a duplicate name (same content, second name).

Used by intake (a duplicate found late, an output that went missing) and by the worker (a file
finished or failed while duplicates wait for it).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Optional

from .. import produce, sidecar
from ..recording.outputs import atomic_write_text
from ..errors import OutputError, PipelineError
from .common import Log, _reason, _remove_quietly
from .status import PSEUDO_PREFIX, error_record
from .folder import WatchedFolder
from .ledger import Ledger


class Outcomes:
    """Writes error files and copies results between the names of one content."""

    def __init__(self, place: WatchedFolder, ledger: Ledger, log: Log,
                 wake: Optional[threading.Event] = None):
        self.place, self.ledger, self.log = place, ledger, log
        self.wake = wake or threading.Event()  # set when work was queued

    def write_error(self, sha: str, rel: str, stage: str, reason: str, attempts: int) -> Optional[Path]:
        """Write ``<name>.error.json`` for ``rel``; None (and a logged line) when it cannot be."""
        path = self.place.root / rel
        try:
            out = self.place.output_for(path, sidecar.ERROR_SUFFIX, check=True)
            atomic_write_text(out, sidecar.dumps(error_record(
                path, stage, reason, attempts, None if sha.startswith(PSEUDO_PREFIX) else sha)))
        except OutputError as exc:
            self.log.error("failed", rel, f"output: {exc.reason}")
            return None
        except OSError as exc:
            self.log.error("failed", rel, f"output: cannot write its error file: {_reason(exc)}")
            return None
        return out

    def copy(self, row: dict, rel: str) -> None:
        """Give a duplicate name the result of its content: a copy of the sidecar or error file.
        A done content whose sidecar is gone is queued again instead."""
        path = self.place.root / rel
        try:
            if row["state"] == "done":
                src = self.place.abs(row["output"]) if row["output"] else None
                if src is None or not src.is_file():
                    self.ledger.enqueue(row["sha256"], row["path"])
                    self.log.info("queued", row["path"], "its sidecar is missing")
                    self.wake.set()
                    return
                out = self.place.output_for(path, check=True)
                if out != src:
                    self._copy_result(row["sha256"], src, path, out)
                _remove_quietly(self.place.output_for(path, sidecar.ERROR_SUFFIX))
                self.ledger.set_path_output(rel, self.place.store(out))
            elif row["state"] == "failed":
                out = self.write_error(row["sha256"], rel, row["stage"] or "pipeline",
                                       row["last_error"] or "failed", row["attempts"])
                self.ledger.set_path_output(rel, self.place.store(out) if out else None)
        except (OSError, ValueError, KeyError, TypeError, PipelineError) as exc:
            self.log.error("failed", rel, f"cannot copy the result of {row['path']}: {exc}")

    def _copy_result(self, sha: str, src: Path, path: Path, out: Path) -> None:
        """The sidecar ``src`` as the result of ``path`` (same content) at ``out``, unless ``out``
        is already its own up-to-date result; either way the copy keeps its own ``ivp roles``
        fix and its own marks (rebuilding the watcher's state never loses them)."""
        config = self.place.config_for(path.parent)
        if produce.fresh(path, out, sha, config) is not None:
            return
        interview = sidecar.read(src, edits=False)  # written back: the edits stay a layer
        interview.source.path = str(path)
        produce.save(interview, out, self.place.cache(config), recording=path, config=config)

    def copy_to_duplicates(self, sha: str, rel: str) -> None:
        """Every other existing name of ``sha`` gets the result ``rel`` just got."""
        for other in self.ledger.paths_of(sha):
            if other["path"] != rel and (self.place.root / other["path"]).exists():
                self.copy(self.ledger.get(sha), other["path"])
