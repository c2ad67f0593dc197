"""The intake room of the watcher: walk the folder, take file events, wait for copies to settle,
hash settled files and record them in the ledger (queued, duplicate or already known).

Only regular files are candidates (``recording.discover``): a FIFO or a link to a device is
never opened, a link that leaves the folder is not followed unless ``follow_links``. Hidden
folders (``.ivp`` among them) and the ``--out`` folder are never scanned; temp files of ours
left by an interrupted write are removed on a cleanup scan. Intake only decides and records:
it never processes a file (that is :mod:`.worker`), and it runs in the loop's thread only.

Per-person tracks that a folder's ``ivp.toml`` declares as one interview (``tracks = [...]``)
are one recording: recorded under the first track's name, with the set's content hash, once
every track has settled; a change to any track brings the set back.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterable, Optional

from .. import sidecar
from ..recording import discover
from ..recording.cache import CACHE_NAME
from ..recording.discover import is_recording_path
from ..recording.outputs import is_own_temp
from ..errors import PipelineError
from ..stages.decode import sha256_file, tracks_sha
from .common import Log, _size
from .status import PSEUDO_PREFIX
from .folder import WatchedFolder
from .ledger import Ledger
from .outcome import Outcomes
from .settle import SettleTracker


class Intake:
    """Finds recordings under ``place`` and records them in ``ledger`` once ``settle`` says
    they stopped changing; ``wake`` is set whenever a file is queued."""

    def __init__(self, place: WatchedFolder, ledger: Ledger, settle: SettleTracker, log: Log,
                 outcomes: Outcomes, follow_links: bool = False,
                 wake: Optional[threading.Event] = None):
        self.place, self.ledger, self.settle, self.log = place, ledger, settle, log
        self.outcomes = outcomes
        self.follow_links = follow_links
        self.wake = wake or threading.Event()
        self._refused: set[Path] = set()  # not-regular files already warned about
        self._members: dict[Path, tuple[int, int]] = {}  # track-set members taken in: their size, mtime

    @property
    def root(self) -> Path:
        return self.place.root

    # -- finding files ----------------------------------------------------------------------------

    def scan(self, cleanup: bool = False) -> int:
        """Walk the folder: new or changed recordings start waiting to settle. Returns how many.
        ``cleanup``: also remove our stale temp files, and forget names no longer there."""
        found = 0
        seen: set[str] = set()
        self.place.settings.clear()
        for path in self.walk(self.root, cleanup=cleanup):
            rel = self.place.rel(path)
            seen.add(rel)
            found += self.consider(path, rel, full=True)
        if cleanup:
            out = self.place.out_dir
            if out and out.is_dir():
                for _ in self.walk(out, cleanup=True, recordings=False):
                    pass
            self.cleanup_cache()
        for row in self.ledger.all_paths():
            if row["path"] not in seen and not (self.root / row["path"]).exists():
                self.ledger.forget_path(row["path"])
        return found

    def walk(self, root: Path, cleanup: bool = False, recordings: bool = True) -> Iterable[Path]:
        """Recordings under ``root`` (hidden folders and the output folder skipped)."""
        for dirpath, dirnames, filenames in os.walk(root, onerror=self._walk_error):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and not (recordings and self.place.is_out(here / d)))
            for name in sorted(filenames):
                path = here / name
                if cleanup and is_own_temp(name):
                    self._remove_stale_temp(path)
                elif recordings and is_recording_path(path, self.root) and self.regular(path):
                    yield path

    def regular(self, path: Path) -> bool:
        """Only regular files are candidates (a FIFO or a link to a device is never opened);
        the first refusal of each path is logged."""
        problem = discover.not_regular(path, self.root, self.follow_links)
        if problem is None:
            return True
        if path not in self._refused:
            self._refused.add(path)
            self.log.warn("skipped", self.place.rel(path), problem)
        return False

    def watchable(self, path: Path) -> bool:
        """Whether a file event on ``path`` can matter (the event filter)."""
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return False
        if any(part.startswith(".") for part in rel.parts[:-1]) or self.place.is_out(path):
            return False
        return path.is_dir() or is_recording_path(path, self.root) or not path.exists()

    def cleanup_cache(self) -> None:
        cache = self.place.state_dir / CACHE_NAME
        if cache.is_dir():
            for path in cache.rglob(".ivp-tmp-*.tmp"):
                if is_own_temp(path.name):
                    self._remove_stale_temp(path)

    def _walk_error(self, exc: OSError) -> None:
        self.log.warn("unreadable", self.place.rel(Path(exc.filename or self.root)),
                      f"cannot list folder: {exc.strerror or exc}")

    def _remove_stale_temp(self, path: Path) -> None:
        try:
            path.unlink()
            self.log.info("cleaned", self.place.rel(path), "removed a temp file left by an interrupted write")
        except OSError:
            pass

    def on_changes(self, changes: set) -> None:
        """File events (``watchfiles`` changes): look at what was added, forget what was deleted."""
        import watchfiles  # lazy: a Rust extension only the event loop needs
        for change, raw in sorted(changes, key=lambda c: (c[1], int(c[0]))):
            path = Path(raw)
            if change == watchfiles.Change.deleted:
                if not path.exists() and path not in self.settle and is_recording_path(path, self.root):
                    rel = self.place.rel(path)
                    if self.ledger.path(rel):
                        self.ledger.forget_path(rel)
                        self.log.info("removed", rel, "no longer in the folder")
                continue
            if path.is_dir():
                for child in self.walk(path):
                    self.consider(child, self.place.rel(child))
            elif is_recording_path(path, self.root) and path.exists() and self.regular(path):
                self.consider(path, self.place.rel(path))

    # -- deciding ---------------------------------------------------------------------------------

    def consider(self, path: Path, rel: str, full: bool = False) -> int:
        """A recording was seen: skip it when already handled (same name, size and mtime), else
        start waiting for it to settle. Returns 1 when it started waiting."""
        if path in self.settle:
            return 0
        try:
            st = path.stat()
        except OSError:
            return 0
        tracks = self.place.track_set(path)
        if tracks and path != tracks[0] and self._members.get(path) == (st.st_size, st.st_mtime_ns):
            return 0  # a further track of a set already taken in, unchanged
        known = self.ledger.path(rel)
        if known and known["size"] == st.st_size and known["mtime_ns"] == st.st_mtime_ns:
            row = self.ledger.get(known["sha256"])
            unreadable_before = known["sha256"].startswith(PSEUDO_PREFIX)
            if row is not None and not (unreadable_before and os.access(path, os.R_OK)):
                if full:
                    self.check_done(path, rel, row)
                return 0
        if self.settle.add(path):
            self.log.info("found", rel, _size(st.st_size))
            return 1
        return 0

    def check_done(self, path: Path, rel: str, row: dict) -> None:
        """On a full scan: a done file whose output disappeared or whose settings changed reruns;
        a file that failed on its settings is tried again once they load."""
        if row["state"] == "failed" and row["stage"] == "config" and row["path"] == rel:
            if self.place.settings_for(path) is not None:
                self._queue(row["sha256"], rel, "its settings load now")
            return
        if row["state"] != "done":
            return
        if row["path"] != rel:  # a duplicate name: its copy of the sidecar must exist
            entry = self.ledger.path(rel)
            if not (entry and entry["output"] and self.place.abs(entry["output"]).is_file()):
                self.outcomes.copy(row, rel)
            return
        settings = self.place.settings_for(path)
        if settings is not None and row["settings"] is not None and settings != row["settings"]:
            self._queue(row["sha256"], rel, "settings changed since it was processed")
        elif not self.place.output_for(path).is_file():
            if row["output"] and self.place.abs(row["output"]).is_file():
                self.outcomes.copy(row, rel)
            else:
                self._queue(row["sha256"], rel, "its sidecar is missing")

    def tick(self) -> None:
        """Look at the settling files once; take in those that settled."""
        report = self.settle.poll()
        for path in report.copying:
            self.log.info("waiting", self.place.rel(path), "still being written; waiting for the copy to finish")
        for path in report.gone:
            rel = self.place.rel(path)
            self.log.warn("skipped", rel, "deleted or moved away before it finished copying")
            if self.ledger.path(rel):
                self.ledger.forget_path(rel)
        for path in report.ready:
            if path in report.unreadable:
                self.log.info("settled", self.place.rel(path), "unchanged, but ffprobe cannot read it; "
                              "handing it to the pipeline for a proper error")
            self.take(path)

    def idle(self) -> bool:
        return len(self.settle) == 0

    def take(self, path: Path) -> None:
        """A settled file: hash it and record it in the ledger (queued, duplicate or known).
        A file that cannot be read is keyed by its name, so the pipeline reports why."""
        rel = self.place.rel(path)
        key: Optional[str] = None
        if not self.regular(path):
            return
        tracks = self.place.track_set(path)
        if tracks:
            self.take_tracks(tracks)
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
            self.log.warn("skipped", rel, "deleted or moved away before it could be read")
            return
        except OSError as exc:
            self.log.warn("skipped", rel, f"cannot stat it: {exc.strerror or exc}")
            return
        key = key or PSEUDO_PREFIX + rel
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            self.settle.add(path)  # changed while hashing: wait again
            return
        self.register(path, rel, key, after.st_size, after.st_mtime_ns)

    def take_tracks(self, tracks: list[Path]) -> None:
        """A settled track of a declared set: once every track has settled, the set is recorded
        as one recording under its first track's name and keyed by the set's hash."""
        lead = tracks[0]
        rel = self.place.rel(lead)
        waiting = [t for t in tracks if t in self.settle or not t.is_file()]
        if waiting:
            self.log.info("waiting", rel, "a track set: waiting for " + ", ".join(
                self.place.rel(t) for t in waiting))
            return
        try:
            before = [t.stat() for t in tracks]
            key = tracks_sha(tracks)
            after = [t.stat() for t in tracks]
        except FileNotFoundError:
            self.log.warn("skipped", rel, "a track of the set was deleted or moved away")
            return
        except (OSError, PipelineError):
            key, before = PSEUDO_PREFIX + rel, [lead.stat()]
            after = before
        if [(b.st_size, b.st_mtime_ns) for b in before] != [(a.st_size, a.st_mtime_ns) for a in after]:
            for t in tracks:
                self.settle.add(t)  # changed while hashing: wait again
            return
        for t, st in zip(tracks[1:], after[1:]):
            self._members[t] = (st.st_size, st.st_mtime_ns)
        self.register(lead, rel, key, after[0].st_size, after[0].st_mtime_ns)

    def register(self, path: Path, rel: str, key: str, size: int, mtime_ns: int) -> None:
        """Record name ``rel`` with content ``key``: a new content is queued; a content another
        existing name has is a duplicate (it gets a copy of that result); a known content under
        its own name is left alone when its output is there."""
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
                self.log.info("queued", rel, note)
                self.wake.set()
                return
            primary = self.ledger.path(row["path"]) if row["path"] != rel else None
            if primary and primary["sha256"] == key and (self.root / row["path"]).exists():
                what = {"done": "recorded, not re-transcribed", "failed": "it failed before",
                        }.get(row["state"], "its result will be copied when it finishes")
                self.log.info("duplicate", rel, f"same content as {row['path']}; {what}")
                if row["state"] in ("done", "failed"):
                    copy_from = row
            else:  # this name is (now) the content's main name
                if row["path"] != rel:
                    self.ledger.set_primary(key, rel)
                    row["path"] = rel
                if row["state"] == "done":
                    if self.place.output_for(path).is_file():
                        self.log.debug("unchanged", rel, "already processed")
                    else:
                        copy_from = row
                elif row["state"] == "failed":
                    self.log.info("known", rel, f"failed before ({row['stage']}: {row['last_error']}); "
                                  "change the file or use --retry-failed to try again")
                    if not self.place.output_for(path, sidecar.ERROR_SUFFIX).exists():
                        copy_from = row
        if copy_from is not None:
            self.outcomes.copy(copy_from, rel)

    def _queue(self, sha: str, rel: str, why: str) -> None:
        self.ledger.enqueue(sha, rel)
        self.log.info("queued", rel, why)
        self.wake.set()

