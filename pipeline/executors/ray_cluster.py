"""Stopping a throwaway local Ray cluster: what the Ray tests and ``scripts/bench_ray.py`` share.

``ivp`` itself never starts a cluster (``ray start`` is the user's). The tests and the benchmark
start ``ray start --head --block`` in a session of its own, with a marker (``NAME=value``) in its
environment that every process of the cluster inherits; the raylet starts its workers outside
the head's process group, so the marker is how they are all found again. Standard library only:
this module does not import Ray.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

KILL_ROUNDS, KILL_PAUSE_S = 20, 0.25


def marked_pids(marker: str) -> list[int]:
    """Pids of the processes (other than this one) whose environment holds ``marker``."""
    tag, found = marker.encode(), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if tag in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:  # gone, or not ours to read
                pass
    return found


def stop_cluster(head: subprocess.Popen, marker: str, wait_s: float = 20.0) -> None:
    """Stop the head's process group (SIGTERM, SIGKILL after ``wait_s``), then kill every process
    still carrying ``marker``, for up to ``KILL_ROUNDS * KILL_PAUSE_S`` seconds."""
    if head.poll() is None:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(wait_s)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
    for _ in range(KILL_ROUNDS):
        left = marked_pids(marker)
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(KILL_PAUSE_S)
