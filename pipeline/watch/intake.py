"""The intake room of the watcher: walk the folder, take file events, wait for copies to settle,
hash settled files and record them in the ledger (queued, duplicate or already known).

Only regular files are candidates (``recording.discover``): a FIFO or a link to a device is
never opened, a link that leaves the folder is not followed unless ``--follow-links``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional

from .. import sidecar
from ..recording import discover
from ..recording.outputs import is_own_temp
from ..stages.decode import sha256_file
from . import CACHE_NAME
from .common import PSEUDO_PREFIX, _inside, _size
from .settle import is_recording_path


class IntakeRoom:
    """Mixed into :class:`~pipeline.watch.watcher.Watcher` (uses its attributes)."""

    # -- finding files ----------------------------------------------------------------------------

    def _walk(self, root: Path, cleanup: bool = False, recordings: bool = True) -> Iterable[Path]:
        """Recordings under ``root`` (hidden folders and the output folder skipped)."""
        for dirpath, dirnames, filenames in os.walk(root, onerror=self._walk_error):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and not (recordings and self._is_out(here / d)))
            for name in sorted(filenames):
                path = here / name
                if cleanup and is_own_temp(name):
                    self._remove_stale_temp(path)
                elif recordings and is_recording_path(path) and self._regular(path):
                    yield path

    def _regular(self, path: Path) -> bool:
        """Only regular files are candidates (a FIFO or a link to a device is never opened)."""
        problem = discover.not_regular(path, self.folder, self.follow_links)
        if problem is None:
            return True
        if path not in self._refused:
            self._refused.add(path)
            self._warn("skipped", self._rel(path), problem)
        return False

    def _cleanup_cache(self) -> None:
        cache = self.state_dir / CACHE_NAME
        if cache.is_dir():
            for path in cache.rglob(".ivp-tmp-*.tmp"):
                if is_own_temp(path.name):
                    self._remove_stale_temp(path)

    def _walk_error(self, exc: OSError) -> None:
        self._warn("unreadable", self._rel(Path(exc.filename or self.folder)),
                   f"cannot list folder: {exc.strerror or exc}")

    def _remove_stale_temp(self, path: Path) -> None:
        try:
            path.unlink()
            self._info("cleaned", self._rel(path), "removed a temp file left by an interrupted write")
        except OSError:
            pass

    def _watchable(self, path: Path) -> bool:
        try:
            rel = path.relative_to(self.folder)
        except ValueError:
            return False
        if any(part.startswith(".") for part in rel.parts[:-1]) or self._is_out(path):
            return False
        return path.is_dir() or is_recording_path(path) or not path.exists()

    def _is_out(self, path: Path) -> bool:
        return bool(self.out_dir) and _inside(path, self.out_dir)

    def _on_changes(self, changes: set) -> None:
        import watchfiles  # lazy: a Rust extension only the event loop needs
        for change, raw in sorted(changes, key=lambda c: (c[1], int(c[0]))):
            path = Path(raw)
            if change == watchfiles.Change.deleted:
                if not path.exists() and path not in self.settle and is_recording_path(path):
                    rel = self._rel(path)
                    if self.ledger.path(rel):
                        self.ledger.forget_path(rel)
                        self._info("removed", rel, "no longer in the folder")
                continue
            if path.is_dir():
                for child in self._walk(path):
                    self._consider(child, self._rel(child))
            elif is_recording_path(path) and path.exists() and self._regular(path):
                self._consider(path, self._rel(path))

    def _consider(self, path: Path, rel: str, full: bool = False) -> int:
        """A recording was seen: skip it when already handled, else start waiting for it."""
        if path in self.settle:
            return 0
        try:
            st = path.stat()
        except OSError:
            return 0
        known = self.ledger.path(rel)
        if known and known["size"] == st.st_size and known["mtime_ns"] == st.st_mtime_ns:
            row = self.ledger.get(known["sha256"])
            unreadable_before = known["sha256"].startswith(PSEUDO_PREFIX)
            if row is not None and not (unreadable_before and os.access(path, os.R_OK)):
                if full:
                    self._check_done(path, rel, row)
                return 0
        if self.settle.add(path):
            self._info("found", rel, _size(st.st_size))
            return 1
        return 0

    def _check_done(self, path: Path, rel: str, row: dict) -> None:
        """On a full scan: a done file whose output disappeared or whose settings changed reruns;
        a file that failed on its settings is tried again once they load."""
        if row["state"] == "failed" and row["stage"] == "config" and row["path"] == rel:
            if self._settings_for(path) is not None:
                self.ledger.enqueue(row["sha256"], rel)
                self._info("queued", rel, "its settings load now")
                self._wake.set()
            return
        if row["state"] != "done":
            return
        if row["path"] != rel:  # a duplicate name: its copy of the sidecar must exist
            entry = self.ledger.path(rel)
            if not (entry and entry["output"] and self._abs(entry["output"]).is_file()):
                self._copy_outcome(row, rel)
            return
        settings = self._settings_for(path)
        if settings is not None and row["settings"] is not None and settings != row["settings"]:
            self.ledger.enqueue(row["sha256"], rel)
            self._info("queued", rel, "settings changed since it was processed")
            self._wake.set()
        elif not self._output_for(path).is_file():
            if row["output"] and self._abs(row["output"]).is_file():
                self._copy_outcome(row, rel)
            else:
                self.ledger.enqueue(row["sha256"], rel)
                self._info("queued", rel, "its sidecar is missing")
                self._wake.set()

    def _tick(self) -> None:
        report = self.settle.poll()
        for path in report.copying:
            self._info("waiting", self._rel(path), "still being written; waiting for the copy to finish")
        for path in report.gone:
            rel = self._rel(path)
            self._warn("skipped", rel, "deleted or moved away before it finished copying")
            if self.ledger.path(rel):
                self.ledger.forget_path(rel)
        for path in report.ready:
            if path in report.unreadable:
                self._info("settled", self._rel(path), "unchanged, but ffprobe cannot read it; "
                           "handing it to the pipeline for a proper error")
            self._intake(path)

    def _intake(self, path: Path) -> None:
        """A settled file: hash it and record it in the ledger (queued, duplicate or known)."""
        rel = self._rel(path)
        key: Optional[str] = None
        if not self._regular(path):
            return
        try:
            before = path.stat()
            if os.access(path, os.R_OK):
                try:
                    key = sha256_file(path)
                except FileNotFoundError:
                    raise
                except OSError:  # unreadable after all: the pipeline reports why
                    key = None
            after = path.stat()
        except FileNotFoundError:
            self._warn("skipped", rel, "deleted or moved away before it could be read")
            return
        except OSError as exc:
            self._warn("skipped", rel, f"cannot stat it: {exc.strerror or exc}")
            return
        key = key or PSEUDO_PREFIX + rel
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            self.settle.add(path)  # changed while hashing: wait again
            return
        self._register(path, rel, key, after.st_size, after.st_mtime_ns)

    def _register(self, path: Path, rel: str, key: str, size: int, mtime_ns: int) -> None:
        copy_from: Optional[dict] = None
        with self.ledger.tx():
            previous = self.ledger.path(rel)
            self.ledger.set_path(rel, key, size, mtime_ns)
            row = self.ledger.get(key)
            if row is None:
                self.ledger.enqueue(key, rel)
                note = ""
                if previous is not None and previous["sha256"] != key:
                    note = ("readable now" if previous["sha256"].startswith(PSEUDO_PREFIX)
                            else "changed since it was processed")
                self._info("queued", rel, note)
                self._wake.set()
                return
            primary = self.ledger.path(row["path"]) if row["path"] != rel else None
            if primary and primary["sha256"] == key and (self.folder / row["path"]).exists():
                what = {"done": "recorded, not re-transcribed", "failed": "it failed before",
                        }.get(row["state"], "its result will be copied when it finishes")
                self._info("duplicate", rel, f"same content as {row['path']}; {what}")
                if row["state"] in ("done", "failed"):
                    copy_from = row
            else:  # this name is (now) the content's main name
                if row["path"] != rel:
                    self.ledger.set_primary(key, rel)
                    row["path"] = rel
                if row["state"] == "done":
                    if self._output_for(path).is_file():
                        self._debug("unchanged", rel, "already processed")
                    else:
                        copy_from = row
                elif row["state"] == "failed":
                    self._info("known", rel, f"failed before ({row['stage']}: {row['last_error']}); "
                               "change the file or use --retry-failed to try again")
                    if not self._output_for(path, sidecar.ERROR_SUFFIX).exists():
                        copy_from = row
        if copy_from is not None:
            self._copy_outcome(copy_from, rel)
