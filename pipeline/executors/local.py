"""Today's behaviour as an executor: the pipeline runs in this process, one recording at a time."""
from __future__ import annotations

import time

from ..progress import NEVER, ProgressHook, StopToken, null_hook
from ..runner import Pipeline
from .base import ExecutorBase, Job, Outcome


class LocalExecutor(ExecutorBase):
    """One loaded ``runner.Pipeline`` per distinct Config, kept for the whole batch."""

    size = 1

    def __init__(self) -> None:
        super().__init__()
        self._pipelines: dict = {}

    def process(self, job: Job, hook: ProgressHook = null_hook, stop: StopToken = NEVER) -> Outcome:
        pipeline = self._pipelines.get(job.config)
        if pipeline is None:
            pipeline = self._pipelines[job.config] = Pipeline(job.config, hook)
        pipeline.hook, pipeline.stop = hook, stop
        started = time.perf_counter()
        interview = pipeline.process(job.path, job.sha256, cache=job.cache, track_files=job.tracks)
        seconds = time.perf_counter() - started
        return Outcome(interview, node=None, seconds=seconds, worker_seconds=seconds)
