"""A real headless browser for the report tests: Debian's chromium driven by selenium.

Installed by ``scripts/install_browser_test_deps.sh`` (apt: chromium, chromium-driver; pip: selenium).
:func:`require_chromium` skips the calling test with a reason when any piece is missing.
Also a tiny HTTP server that answers Range requests, so that media elements can seek as they
would on a real web server.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, Optional

import pytest

from kit import patient

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVER_NAMES = ("chromedriver", "chromium-driver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                  "--window-size=1280,1000")


def find_chromium() -> tuple[Optional[str], Optional[str]]:
    """(browser, driver) executables; ``IVP_CHROMIUM`` / ``IVP_CHROMEDRIVER`` override the search."""
    def pick(env: str, names, extra=()) -> Optional[str]:
        if os.environ.get(env):
            return shutil.which(os.environ[env])  # None when it is not an executable
        return next((p for p in [*map(shutil.which, names), *extra] if p and os.access(p, os.X_OK)), None)

    return (pick("IVP_CHROMIUM", BROWSER_NAMES),
            pick("IVP_CHROMEDRIVER", DRIVER_NAMES, ("/usr/lib/chromium/chromedriver",)))


def require_chromium() -> tuple[str, str]:
    browser, driver = find_chromium()
    if browser is None:
        pytest.skip("chromium is not installed (run scripts/install_browser_test_deps.sh)")
    if driver is None:
        pytest.skip("chromedriver is not installed (apt-get install chromium-driver; "
                    "see scripts/install_browser_test_deps.sh)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install selenium; "
                    "see scripts/install_browser_test_deps.sh)")
    return browser, driver


def start_chromium(profile_dir: Path):
    """A headless chromium under selenium, with a fresh profile in ``profile_dir``."""
    browser, driver = require_chromium()
    os.environ.setdefault("SE_OFFLINE", "true")  # never let selenium-manager go online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus single-range ``Range: bytes=a-b`` requests (206 answers)."""

    _range: Optional[tuple[int, int]] = None

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def end_headers(self):
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def send_head(self):
        self._range = None
        header = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not header or os.path.isdir(path):
            return super().send_head()
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
        try:
            fh = open(path, "rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        size = os.fstat(fh.fileno()).st_size
        if not m or (m[1] == "" and m[2] == ""):
            fh.close()
            return super().send_head()
        if m[1] == "":  # the last N bytes
            start, end = max(0, size - int(m[2])), size - 1
        else:
            start, end = int(m[1]), min(int(m[2]) if m[2] else size - 1, size - 1)
        if start >= size or start > end:
            fh.close()
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        fh.seek(start)
        self._range = (start, end)
        return fh

    def copyfile(self, source, outputfile):
        if self._range is None:
            return super().copyfile(source, outputfile)
        left = self._range[1] - self._range[0] + 1
        while left > 0:
            chunk = source.read(min(64 * 1024, left))
            if not chunk:
                break
            try:
                outputfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):  # the browser cancels reads while seeking
                break
            left -= len(chunk)


RangeRequestHandler.extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                                      ".opus": "audio/ogg", ".ogg": "audio/ogg", ".wav": "audio/wav",
                                      ".m4a": "audio/mp4", ".mp4": "video/mp4", ".webm": "video/webm",
                                      ".js": "text/javascript", ".json": "application/json"}


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeRequestHandler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------------ firefox
FIREFOX_NAMES = ("firefox-esr", "firefox")
FIREFOX_PREFS = {
    "browser.shell.checkDefaultBrowser": False, "datareporting.policy.dataSubmissionEnabled": False,
    "app.update.enabled": False, "app.update.auto": False, "browser.startup.homepage_override.mstone": "ignore",
    "toolkit.telemetry.enabled": False, "browser.newtabpage.enabled": False, "extensions.update.enabled": False,
    "browser.safebrowsing.malware.enabled": False, "browser.safebrowsing.phishing.enabled": False,
    "network.captive-portal-service.enabled": False, "network.connectivity-service.enabled": False,
    "media.autoplay.default": 0,
}


def require_firefox() -> str:
    exe = (shutil.which(os.environ["IVP_FIREFOX"]) if os.environ.get("IVP_FIREFOX")
           else next((p for p in map(shutil.which, FIREFOX_NAMES) if p), None))
    if exe is None:
        pytest.skip("firefox is not installed (apt-get install firefox-esr; optional)")
    try:
        import websocket  # noqa: F401  (websocket-client, installed with selenium)
    except ImportError:
        pytest.skip("websocket-client is not installed (pip install selenium brings it)")
    return exe


class Firefox:
    """Headless Firefox driven over WebDriver BiDi (built into Firefox; no geckodriver needed)."""

    def __init__(self, profile_dir: Path, width: int = 1280, height: int = 1000):
        import subprocess
        import websocket

        exe = require_firefox()
        profile_dir.mkdir(parents=True, exist_ok=True)
        (profile_dir / "user.js").write_text("".join(
            f'user_pref("{k}", {json.dumps(v)});\n' for k, v in FIREFOX_PREFS.items()))
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-remote", "--profile", str(profile_dir), "--remote-debugging-port=0",
             f"--width={width}", f"--height={height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        found: list[str] = []
        ready = threading.Event()

        def drain():  # read stderr for the BiDi address, then keep the pipe from filling up
            for line in self.proc.stderr:
                m = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
                if m and not found:
                    found.append(m[1])
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(patient(60)) or not found:
            self.proc.kill()
            raise RuntimeError("firefox did not start its WebDriver BiDi server")
        self.ws = websocket.create_connection(found[0].rstrip("/") + "/session", timeout=patient(30),
                                              suppress_origin=True)
        self._id = 0
        self.cmd("session.new", capabilities={})
        self.context = self.cmd("browsingContext.getTree")["contexts"][0]["context"]

    def cmd(self, method: str, **params):
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if msg.get("type") == "error":
                    raise RuntimeError(f"{method}: {msg.get('error')}: {msg.get('message')}")
                return msg["result"]

    def get(self, url: str) -> None:
        self.cmd("browsingContext.navigate", context=self.context, url=url, wait="complete")

    def js(self, expression: str):
        """Evaluate ``expression``; returns a JSON-like value (via JSON.stringify in the page)."""
        r = self.cmd("script.evaluate", expression=f"JSON.stringify(({expression}))",
                     target={"context": self.context}, awaitPromise=True)
        if r.get("type") == "exception":
            raise RuntimeError(r["exceptionDetails"].get("text"))
        value = r["result"].get("value")
        return None if value is None else json.loads(value)

    def click(self, selector: str) -> None:
        """A real pointer click in the middle of the first element matching ``selector``."""
        x, y = self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                       " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                       " return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)]; })()")
        self.cmd("input.performActions", context=self.context, actions=[{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
                {"type": "pointerMove", "x": x, "y": y}, {"type": "pointerDown", "button": 0},
                {"type": "pointerUp", "button": 0}]}])

    def screenshot(self, path: Path) -> None:
        import base64
        data = self.cmd("browsingContext.captureScreenshot", context=self.context)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def quit(self) -> None:
        try:
            self.cmd("session.end")
        except Exception:
            pass
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(patient(15))
            except Exception:
                self.proc.kill()
