"""One guard for every path ivp writes, deletes or reads beside a recording.

* **Inside its root, links resolved.** A path is used only when it lies inside its root (the folder
  processed or reported, or ``--out``) with every symbolic link in it resolved: a planted link, on the
  file itself or on any folder below the root (``.ivp``, ``ivp-report/assets``, ``<stem>_clips``),
  never sends a write, a delete or a read elsewhere. A link that stays inside the root is fine.
* **Only what ivp made is deleted:** a regular file (never a link) inside the root that the caller
  recognises as its own (a clip's name, a report page's generator line).
* **SQLite only on ivp's own file:** :func:`check_database` reads the file's header and refuses one
  whose ``application_id`` is another's before any table is made in it.
* **Output trouble is one line:** :func:`trouble` says whether an error is a full, read-only or
  forbidden output (``OSError`` or SQLite's own words for it), for the command line's one line.

* **A link planted after the check is refused too:** :func:`check` returns a :class:`Checked` path
  that remembers its root; ``outputs.atomic_write_text`` writes such a path through
  :func:`open_folder`, which walks from the root to the file's folder one real folder at a time
  without following a link, so a folder swapped for a link between the check and the write stops
  the write instead of sending it elsewhere.

Checks only, no writes: the writers (``outputs.atomic_write_text`` and the rest) call :func:`check`
or :func:`folder` first. Paths derived from a checked one (``checked / "x"``, ``.with_name``) are
checked again before use; ffmpeg's own writes (clips, reels) go to a checked name it opens itself,
so only the atomic writes are safe against the race.
"""
from __future__ import annotations

import errno
import os
import sqlite3
import stat
from pathlib import Path
from typing import Callable, Iterable, Optional

from ..errors import OutputError
from .discover import inside, not_regular
from . import display

# a full or read-only disk, a quota, no permission while writing outputs (EDQUOT: not on Windows)
OUTPUT_ERRNOS = frozenset(getattr(errno, name) for name in ("ENOSPC", "EROFS", "EDQUOT", "EACCES", "EPERM")
                          if hasattr(errno, name))
# SQLite's words for the same trouble (it raises sqlite3.OperationalError, not OSError)
SQLITE_TROUBLE = ("database or disk is full", "attempt to write a readonly database",
                  "unable to open database file", "disk i/o error", "readonly database")
SQLITE_MAGIC = b"SQLite format 3\x00"
LEAVES = "a symbolic link leads out of it"


def leaves(path: Path, root: Path) -> bool:
    """``path`` (every link in it resolved, the missing rest as written) lies outside ``root``."""
    return not inside(path, root)


class Checked(type(Path())):
    """A path :func:`check` let through; ``guard_root`` is its root, links resolved, when it was
    checked (None on paths derived from it: ``checked.parent``, ``checked / "x"``)."""

    guard_root: Optional[str] = None


def check(path: Path, root: Path, what: str = "write") -> Path:
    """``path`` as a :class:`Checked` path, or :class:`OutputError` when using it would leave
    ``root`` through a link."""
    if leaves(path, root):
        raise OutputError(str(path), f"refusing to {what} outside {display(root)} ({LEAVES})")
    checked = Checked(path)
    checked.guard_root = os.path.realpath(root)
    return checked


FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
NO_LINK = FOLDER | getattr(os, "O_NOFOLLOW", 0)
WALKS = os.open in os.supports_dir_fd and os.mkdir in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")


def open_folder(folder: Path, root: str) -> int:
    """A descriptor of ``folder`` (made if missing), reached from ``root`` (links resolved) one real
    folder at a time without following a link. A link anywhere on the way (planted after
    :func:`check`, or leaving ``root``) is :class:`OutputError`, never followed. The caller closes it."""
    if leaves(folder, Path(root)):
        raise OutputError(str(folder), f"refusing to write outside {display(Path(root))} ({LEAVES})")
    rel = os.path.relpath(os.path.realpath(folder), root)
    fd = os.open(root, FOLDER)  # the root itself may be a link: the user's choice
    try:
        for part in ([] if rel == os.curdir else rel.split(os.sep)):
            try:
                os.mkdir(part, 0o777, dir_fd=fd)
            except FileExistsError:
                pass
            try:
                inner = os.open(part, NO_LINK, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(part, fd):
                    raise OutputError(str(folder), f"refusing to write outside {display(Path(root))} (a "
                                                   "symbolic link appeared in the output folder while "
                                                   "writing)") from exc
                if exc.errno == errno.ENOTDIR:
                    raise OutputError(str(folder), f"{part!r} is a file, not a folder") from exc
                raise
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _is_link(name: str, folder_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=folder_fd).st_mode)
    except OSError:
        return False


def folder(path: Path, root: Path) -> Path:
    """Make the folder ``path`` (and its parents) inside ``root``, refused when a link leaves it."""
    check(path, root)
    Path(path).mkdir(parents=True, exist_ok=True)
    return check(path, root)


def refuse_link(path: Path, root: Path, what: str) -> None:
    """An output folder of ivp's (``ivp-study``, ``ivp-report``) that is a link leaving ``root``:
    :class:`OutputError` with the way out (remove it, or pass ``--out``)."""
    if leaves(path, root):
        raise OutputError(str(path), f"is a symbolic link leaving {display(root)}: not writing {what} "
                                     "there (remove it, or pass --out)")


def why_not_read(path: Path, root: Path) -> Optional[str]:
    """Why ``path`` must not be read as a file beside a recording (None when it may): a link, on it
    or on a folder above it, that leaves ``root``, or not a regular file. Never opens it."""
    if leaves(path, root):
        return "a symbolic link that leaves the folder (not read)"
    return not_regular(path)


def remove(path: Path, root: Path, ours: Callable[[Path], bool]) -> bool:
    """Delete ``path`` when it is a regular file (not a link) inside ``root`` and ``ours(path)``
    says ivp made it; True when it was deleted."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or leaves(path, root) or not ours(path):
        return False
    path.unlink(missing_ok=True)
    return True


def remove_empty(path: Path, root: Path) -> bool:
    """Remove the folder ``path`` when it is a real folder inside ``root`` and empty."""
    path = Path(path)
    if path.is_symlink() or not path.is_dir() or leaves(path, root):
        return False
    try:
        path.rmdir()
    except OSError:
        return False
    return True


def check_database(path: Path, app_id: int, tables: Iterable[str]) -> None:
    """Raise :class:`OutputError` unless ``path`` is missing, empty or ivp's own SQLite file:
    ``application_id`` ``app_id``, or 0 with no table but ``tables`` (made before the id was set)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
    except FileNotFoundError:
        return
    if not head:
        return
    if not head.startswith(SQLITE_MAGIC) or len(head) < 72:
        raise OutputError(str(path), "is not ivp's database (not SQLite): not opening it (move it away, "
                                     "ivp makes a new one)")
    found = int.from_bytes(head[68:72], "big")
    if found == app_id:
        return
    if found == 0:
        db = sqlite3.connect(f"{Path(os.path.abspath(path)).as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            names = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        finally:
            db.close()
        known = set(tables)
        if all(n in known or any(n.startswith(t + "_") for t in known) for n in names):
            return
    raise OutputError(str(path), "is another program's SQLite database, not ivp's: not opening it "
                                 "(move it away, ivp makes a new one)")


def trouble(exc: BaseException) -> Optional[OutputError]:
    """``exc`` as an :class:`OutputError` when it is output trouble (a full, read-only or forbidden
    output: ``OSError`` or SQLite's words for it), else None."""
    if isinstance(exc, OutputError):
        return exc
    if isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS:
        return OutputError(exc.filename, exc.strerror or os.strerror(exc.errno))
    if isinstance(exc, sqlite3.OperationalError) and any(w in str(exc).lower() for w in SQLITE_TROUBLE):
        return OutputError(None, f"cannot write ivp's database ({exc}): is the disk full or read-only?")
    return None
