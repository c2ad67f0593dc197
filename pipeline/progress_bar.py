"""What ``ivp process`` shows while it works, fed by the shared progress hook.

On a terminal: rich bars, one per stage (transcription and diarization run in parallel, so
both move), each with its time left, plus one for the files of a batch; summaries are printed
through the same console, above the bars, so nothing collides. Otherwise: one plain line per
stage on stderr as it ends. The hook (pipeline/progress.py) stays free of any display.
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Optional, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TaskProgressColumn, TextColumn
from rich.text import Text

from .recording import display
from .timefmt import clock

STAGES = ("decode", "transcribe", "diarize", "analyze")


class TimeLeft(ProgressColumn):
    """``0:42 left`` while a stage runs, ``done 3.1s`` once it ended."""

    def render(self, task: Task) -> Text:
        if task.finished:
            return Text(f"done {task.finished_time or 0:.1f}s", style="green")
        if not task.started:
            return Text("waiting", style="dim")
        left = task.time_remaining
        return Text("-:-- left" if left is None else f"{clock(left)} left", style="cyan")


class BatchProgress:
    """``mode``: "bars" (rich, a terminal), "lines" (a line per stage) or "off"."""

    def __init__(self, files: int, mode: str = "off", stream: Optional[TextIO] = None,
                 out: Optional[TextIO] = None):
        self.mode, self.files = mode, files
        self.stream = stream or sys.stderr
        self.out = out or sys.stdout
        self._progress: Optional[Progress] = None
        self._tasks: dict[str, TaskID] = {}
        self._files_task: Optional[TaskID] = None
        self._file: Optional[str] = None
        self._done = 0
        self._number: dict[str, int] = {}  # lines: each file's number, as first heard of
        self._lock = threading.Lock()

    def __enter__(self) -> "BatchProgress":
        if self.mode == "bars":
            console = Console(file=self.stream, highlight=False)
            # stdout is not redirected into the live display: summaries come through print()
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                      TaskProgressColumn(), TimeLeft(), console=console,
                                      transient=True, redirect_stdout=False, redirect_stderr=False)
            if self.files > 1:
                self._files_task = self._progress.add_task("files", total=self.files)
            for stage in STAGES:
                self._task(stage)
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress:
            self._progress.stop()

    def print(self, text: str) -> None:
        """A summary: above the bars when both go to the same terminal, else to stdout."""
        if self._progress is not None and _same_terminal(self.out, self.stream):
            self._progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            print(text, file=self.out, flush=True)

    def hook(self, stage: str, *, completed: Optional[float] = None, total: Optional[float] = None,
             file: Optional[str] = None, seconds: Optional[float] = None) -> None:
        if self.mode == "off":
            return
        with self._lock:
            if self.mode == "lines":
                self._line(stage, seconds, file or "")
                return
            if file is not None and file != self._file:
                self._new_file(file)
            self._bar(stage, completed, total)

    def file_done(self, path: Path) -> None:
        with self._lock:
            self._done += 1
            if self._progress is not None and self._files_task is not None:
                self._progress.update(self._files_task, completed=self._done)

    # -- the two displays -------------------------------------------------------------------------

    def _new_file(self, file: str) -> None:
        self._file = file
        if self._progress is None:
            return
        name = display(Path(file).name)
        for stage, task in self._tasks.items():
            self._progress.reset(task, start=False, total=None, completed=0,
                                 description=_label(stage, name))
        if self._files_task is not None:
            self._progress.update(self._files_task, description=f"file {self._done + 1}/{self.files}")

    def _bar(self, stage: str, completed: Optional[float], total: Optional[float]) -> None:
        task = self._task(stage)
        if not self._progress.tasks[task].started:  # type: ignore[union-attr]
            self._progress.start_task(task)  # type: ignore[union-attr]
        if total:
            self._progress.update(task, completed=completed or 0.0, total=total)  # type: ignore[union-attr]

    def _line(self, stage: str, seconds: Optional[float], file: str) -> None:
        """One line per finished step, with the seconds :func:`pipeline.progress.timed` measured."""
        number = self._number.setdefault(file, len(self._number) + 1)
        if seconds is not None:
            prefix = f"[{number}/{self.files}] " if self.files > 1 else ""
            name = display(Path(file).name) if file else ""
            print(f"{prefix}{name}: {stage} done in {seconds:.1f}s", file=self.stream, flush=True)

    def _task(self, stage: str) -> TaskID:
        if stage not in self._tasks:
            assert self._progress is not None
            self._tasks[stage] = self._progress.add_task(_label(stage, ""), total=None, start=False)
        return self._tasks[stage]


def _label(stage: str, name: str) -> str:
    return f"  {stage:<10} {name[:40]}"


def _same_terminal(a: TextIO, b: TextIO) -> bool:
    try:
        return a.isatty() and b.isatty()
    except (AttributeError, ValueError):
        return False


def mode_for(quiet: bool, stream: Optional[TextIO] = None) -> str:
    """"bars" on a terminal, "lines" otherwise, "off" when asked to be quiet."""
    if quiet:
        return "off"
    return "bars" if _same_terminal(stream or sys.stderr, stream or sys.stderr) else "lines"
