"""``ivp serve`` for the tests: the command run as a subprocess on a free loopback port, its
printed address read back, and plain HTTP calls with or without the run's token."""
from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from kit import patient

ROOT = Path(__file__).resolve().parent.parent
URL = re.compile(r"serving .* at (http://([^/]+)/\?token=(\S+))")


@dataclass
class Server:
    url: str  # the printed address, with the token
    base: str  # http://127.0.0.1:PORT
    token: str
    proc: subprocess.Popen
    lines: list[str]

    def post(self, action: str, body: dict, token: Optional[str] = "") -> tuple[int, dict]:
        """POST /api/<action>; the run's token in the header unless ``token`` is None (or another)."""
        headers = {"Content-Type": "application/json"}
        token = self.token if token == "" else token
        if token is not None:
            headers["X-IVP-Token"] = token
        request = urllib.request.Request(f"{self.base}/api/{action}", json.dumps(body).encode(), headers, method="POST")
        return _open(request)

    def get(self, path: str, token: Optional[str] = "") -> tuple[int, str]:
        headers = {}
        token = self.token if token == "" else token
        if token is not None:
            headers["X-IVP-Token"] = token
        status, body = _open(urllib.request.Request(f"{self.base}{path}", headers=headers), raw=True)
        return status, body


def _open(request, raw: bool = False):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    try:
        with opener.open(request, timeout=patient(60)) as response:
            text = response.read().decode("utf-8", "replace")
            return response.status, (text if raw else json.loads(text or "{}"))
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", "replace")
        if raw:
            return exc.code, text
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, {"error": text}


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "ORT_DISABLE_TELEMETRY": "1",
            "PYTHONUNBUFFERED": "1", "NO_PROXY": "*"}


@contextlib.contextmanager
def serving(folder: Path, *args: str, prefix: tuple[str, ...] = ()) -> Iterator[Server]:
    """``ivp serve folder --port 0 *args`` until the block ends (``prefix``: e.g. ``unshare -n``)."""
    proc = subprocess.Popen([*prefix, sys.executable, "-m", "pipeline", "serve", str(folder), "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env(), cwd=ROOT)
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            m = URL.search(line)
            if m:
                break
        else:
            raise AssertionError("ivp serve did not start:\n" + "\n".join(lines))
        yield Server(m.group(1), f"http://{m.group(2)}", m.group(3), proc, lines)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=patient(10))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
