"""Helpers for the hostile-input suites: real clips, bounded CLI runs, and the checks every test makes
(originals unchanged, no traceback, nothing written outside the folder or ``--out``)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kit import patient, sha

ROOT = Path(__file__).resolve().parent.parent
STEREO = ROOT / "sample_audio" / "interview_stereo.opus"
CHANNELS = 'diarizer = "channels"\n'  # seconds per clip: tiny.en and the channel diarizer


def cut(out: Path, start: float = 0.0, seconds: float = 4.0, rate: int = 16000) -> Path:
    """A short real clip from the bundled stereo sample (distinct ``start`` = distinct content)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"cut-{os.getpid()}-{time.monotonic_ns()}.wav")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{start:.2f}", "-i", str(STEREO),
                    "-t", f"{seconds:.2f}", "-ar", str(rate), str(tmp)], check=True, timeout=patient(60))
    os.replace(tmp, out)
    return out


def originals(folder: Path) -> dict[str, str]:
    """Every regular media file under ``folder`` -> its SHA-256 (what must never change)."""
    from pipeline.recording.discover import is_media_name
    out = {}
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file() and not p.is_symlink() and is_media_name(p.name) and ".ivp" not in p.parts:
            out[p.relative_to(folder).as_posix()] = sha(p)
    return out


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under ``folder`` (to prove nothing outside was written)."""
    out = {}
    for p in Path(folder).rglob("*"):
        try:
            st = os.lstat(p)
        except OSError:
            continue
        out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def env(**extra: str) -> dict[str, str]:
    e = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    e.update(extra)
    return e


def ivp(*args: str, cwd: Path = ROOT, timeout: float = 300, environ: dict | None = None,
        prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``ivp ARGS`` as a user runs it, bounded in time; never a traceback."""
    proc = subprocess.run([*prefix, sys.executable, "-m", "pipeline", *args], cwd=cwd,
                          env=environ or env(), capture_output=True, text=True, timeout=patient(timeout),
                          errors="replace")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def namespaces_ok() -> bool:
    """Can this sandbox make a private mount namespace (for read-only and full file systems)?"""
    try:
        return subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=patient(10)).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_namespaces = pytest.mark.skipif(not namespaces_ok(),
                                      reason="needs `unshare -m` (mount namespaces) for read-only "
                                             "or full file systems")
