"""A roles fix made while the recording is processed again is kept (issue #19, item 2).

The run reads the sidecar at its very end, under the sidecar folder's lock (``sidecar.locked``),
instead of before it transcribes; ``ivp roles`` holds the same lock for its read and write.
"""
from __future__ import annotations

import shutil
import threading

import pytest

from kit import patient
from pipeline import sidecar
from pipeline.batch import process_batch
from pipeline.executors.local import LocalExecutor
from pipeline.roles_cli import fix_roles

pytestmark = pytest.mark.slow


def test_a_swap_made_while_the_recording_is_processed_again_is_kept(short_clip, tmp_path, monkeypatch):
    rec = tmp_path / "call.wav"
    shutil.copy(short_clip, rec)
    side = tmp_path / "call.interview.json"
    [first] = process_batch([rec], {})
    assert first.ok, first.error
    before = sidecar.read(side).roles.interviewer
    real = LocalExecutor.process

    def process_then_the_user_swaps(self, job, hook=None, stop=None, **kw):
        outcome = real(self, job, hook) if hook is not None else real(self, job)
        fix_roles(side, swap=True)  # lands after the run read nothing, before it writes
        return outcome

    monkeypatch.setattr(LocalExecutor, "process", process_then_the_user_swaps)
    [again] = process_batch([rec], {}, force=True)
    assert again.ok, again.error
    after = sidecar.read(side)
    assert after.roles.interviewer != before
    assert (after.roles.evidence.get("override") or {}).get("by") == "ivp roles"


def test_the_lock_keeps_a_fix_and_a_write_from_interleaving(tmp_path):
    """While one holder has the folder's lock, another waits (a thread stands in for a process:
    flock locks belong to open files, so the same process contends too)."""
    (tmp_path / "x.interview.json").write_text("{}")
    order = []
    inside = threading.Event()

    def second():
        inside.wait(patient(5))
        with sidecar.locked(tmp_path / "x.interview.json"):
            order.append("second")

    t = threading.Thread(target=second)
    t.start()
    with sidecar.locked(tmp_path / "x.interview.json"):
        inside.set()
        t.join(0.3)  # not stretched: a pause; it cannot get in while we hold the lock
        order.append("first")
    t.join(patient(5))
    assert order == ["first", "second"]
