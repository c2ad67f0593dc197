"""Static report pages kept fresh: after a change to a recording (``ivp roles``, ``ivp mark``, an
edit in ``ivp serve``), a report ``ivp report`` wrote for a folder holding it is rebuilt, or, when
that fails, the pages are said plainly to be out of date with the command that refreshes them."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..recording import display
from .build import DEFAULT_DIRNAME, build
from .html import GENERATOR


def reports_for(sidecar: Path) -> list[tuple[Path, Path]]:
    """(folder, its report) for each report made by ivp (``FOLDER/ivp-report/index.html`` with our
    generator mark, not a link) in the sidecar's folder or one above it, nearest first."""
    found = []
    here = Path(sidecar).resolve().parent
    for folder in (here, *here.parents):
        out = folder / DEFAULT_DIRNAME
        index = out / "index.html"
        if out.is_symlink() or not index.is_file():
            continue
        try:
            with open(index, encoding="utf-8", errors="replace") as fh:
                if f'<meta name="generator" content="{GENERATOR}' not in fh.read(2000):
                    continue
        except OSError:
            continue
        found.append((folder, out))
    return found


def refresh(sidecar: Path) -> list[str]:
    """Rebuild the reports that show ``sidecar``; one line per report for the person (refreshed,
    or out of date and how to refresh it)."""
    lines = []
    for folder, out in reports_for(sidecar):
        try:
            build(folder, out)
            lines.append(f"report refreshed: {display(out / 'index.html')}")
        except Exception as exc:  # a report problem never fails the change itself
            lines.append(f"warning: the report in {display(out)} is out of date ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())}); refresh it with: ivp report {display(folder)}")
    return lines


def stale_note(sidecar: Path) -> Optional[str]:
    """The line saying which reports are out of date and how to refresh them, without rebuilding."""
    found = reports_for(sidecar)
    if not found:
        return None
    return "; ".join(f"the report in {display(out)} is out of date: ivp report {display(folder)}" for folder, out in found)
