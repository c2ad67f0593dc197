#!/usr/bin/env python3
"""The README's picture of ``ivp serve`` (docs/serve.png): the processed sample served, two
speakers named, "in a accountant" corrected, and a highlight being added from a selection.

    python scripts/screenshot_serve.py SIDECAR_OF_THE_SAMPLE   # e.g. out/interview.interview.json

Needs chromium, chromedriver and selenium (scripts/install_browser_test_deps.sh)."""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import start_chromium  # noqa: E402
from kit import wait_for  # noqa: E402
from servekit import serving  # noqa: E402

from pipeline import sidecar  # noqa: E402


def main(source_sidecar: Path, target: Path = ROOT / "docs" / "serve.png") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "interviews"
        folder.mkdir()
        iv = sidecar.read(source_sidecar, edits=False)
        audio = folder / Path(iv.source.path).name
        shutil.copy2(ROOT / "sample_audio" / audio.name, audio)
        iv.source.path = str(audio)
        side = sidecar.write(iv, sidecar.sidecar_path(audio))
        seg = next(s for s in iv.segments if "in a accountant" in s.text)
        with serving(folder) as server:
            for speaker, name in ((iv.roles.interviewer, "Sam (researcher)"), (iv.roles.interviewee, "Dana")):
                server.post("name", {"slug": "interview", "speaker": speaker, "name": name})
            server.post("words", {"slug": "interview", "start": seg.start, "end": seg.end, "old": "in a accountant",
                                  "new": "an accountant"})
            driver = start_chromium(Path(tmp) / "profile")
            try:
                driver.get(server.url)
                driver.get(f"{server.base}/interview/interview#t={seg.start:.1f}")
                line = wait_for(lambda: driver.find_element("css selector", f'.line[data-start="{seg.start:.3f}"]'))
                driver.execute_script("""
                    var t = arguments[0].querySelector('.text'), node = t.firstChild, r = document.createRange();
                    var i = node.textContent.indexOf('an accountant');
                    r.setStart(node, i); r.setEnd(node, i + 'an accountant at a bigger firm'.length);
                    var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
                    t.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));""", line)
                driver.find_element("id", "hl-tags").send_keys("background, finance")
                driver.find_element("id", "hl-note").send_keys("career before the agency")
                driver.save_screenshot(str(target))
            finally:
                driver.quit()
        print(f"{target} ({side.name} served)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
