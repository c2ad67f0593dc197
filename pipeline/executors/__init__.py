"""Where recordings are processed: in this process (``local``) or on a Ray cluster (``ray``).

Only the caller writes outputs; an executor computes interviews. Ray is imported only when a
Ray executor is asked for (``ivp process --ray ...``).
"""
from __future__ import annotations

from typing import Optional

from .base import Executor, ExecutorBase, Job, Outcome
from .local import LocalExecutor


def make_executor(ray: Optional[str] = None, workers: Optional[int] = None, shared_fs: bool = False,
                  device: Optional[str] = None, log=None) -> Executor:
    """A Ray executor when ``ray`` (``auto`` or ``HOST:PORT``) is given, else the local one.

    Raises ``ClusterError`` (a ``PipelineError``, exit 2 in the CLI) when the cluster cannot be used.
    """
    if not ray:
        return LocalExecutor()
    from .ray import RayExecutor  # lazy: imports Ray (seconds), only with --ray
    return RayExecutor(ray, workers=workers, shared_fs=shared_fs, device=device, log=log)


__all__ = ["Executor", "ExecutorBase", "Job", "Outcome", "LocalExecutor", "make_executor"]
