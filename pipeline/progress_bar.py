"""A rich progress display fed by the shared progress hook: one bar for the batch, one for the stage."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class BatchProgress:
    def __init__(self, files: int, enabled: bool = True):
        self.enabled = enabled
        self.files = files
        self._progress: Optional[Progress] = None
        self._batch: Optional[TaskID] = None
        self._stage: Optional[TaskID] = None

    def __enter__(self) -> "BatchProgress":
        if self.enabled:
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                      TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                                      console=Console(stderr=True), transient=True)
            self._progress.start()
            self._batch = self._progress.add_task("files", total=self.files)
            self._stage = self._progress.add_task("", total=1.0)
        return self

    def __exit__(self, *exc) -> None:
        if self._progress:
            self._progress.stop()

    def hook(self, stage: str, *, completed: Optional[float] = None, total: Optional[float] = None,
             file: Optional[str] = None) -> None:
        if not self._progress:
            return
        name = Path(file).name if file else ""
        description = f"  {stage:<10} {name[:40]}"
        if total:
            self._progress.update(self._stage, description=description, completed=completed or 0.0,
                                  total=total)
        else:
            self._progress.update(self._stage, description=description)

    def file_done(self, path: Path) -> None:
        if self._progress:
            self._progress.advance(self._batch)
