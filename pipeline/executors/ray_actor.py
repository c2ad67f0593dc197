"""The Ray actor: loads the models once (per Config) and processes the recordings sent to it.

It writes nothing but a scratch copy of a recording it was sent, removed when the file is done;
the interview goes back to the driver as a dict, failures as a description of the error.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import ray

from ..runner import Pipeline
from .base import error_to_dict


class RecordingWorker:
    def __init__(self, device: str = "cpu", threads: int = 0):
        self.device = device
        self.threads = threads
        self._pipelines: dict = {}
        self.node = f"{socket.gethostname()} ({ray.util.get_node_ip_address()})"

    def ready(self) -> dict[str, Any]:
        return {"node": self.node, "pid": os.getpid(), "device": self.device}

    def _pipeline(self, config):
        config = replace(config, device=self.device, cache_dir=None,
                         cpu_threads=config.cpu_threads or self.threads)
        if config not in self._pipelines:
            self._pipelines[config] = Pipeline(config)
        return self._pipelines[config]

    def process(self, job: dict[str, Any], data: Optional[bytes]) -> dict[str, Any]:
        """``job``: path (the driver's, for the sidecar), open (shared file system), sha256, config."""
        started = time.perf_counter()
        scratch = None
        local = job.get("open") or job["path"]
        reply: dict[str, Any] = {"node": self.node, "pid": os.getpid()}
        try:
            if data is not None:
                scratch = tempfile.mkdtemp(prefix="ivp-ray-")
                local = os.path.join(scratch, Path(job["path"]).name)
                with open(local, "wb") as fh:
                    fh.write(data)
            interview = self._pipeline(job["config"]).process(local, job["sha256"])
            interview.source.path = job["path"]
            reply.update(ok=True, interview=interview.to_dict())
        except Exception as exc:  # the driver raises it again, as the local pipeline would
            reply.update(ok=False, error=error_to_dict(exc, job["path"], replace=local))
        finally:
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)
        reply["seconds"] = time.perf_counter() - started
        return reply

    def echo(self, data: Optional[bytes]) -> int:
        """For the benchmark: the cost of sending a recording without processing it."""
        return len(data or b"")
