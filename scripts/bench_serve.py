#!/usr/bin/env python3
"""How fast ``ivp serve`` answers: an interview page rendered, and a highlight saved (through the
edits file, under the folder lock), on a copy of a processed recording.

    python scripts/bench_serve.py SIDECAR [RUNS]   # e.g. out/interview.interview.json 10
"""
from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from servekit import serving  # noqa: E402

from pipeline import sidecar  # noqa: E402


def main(source: Path, runs: int = 10) -> None:
    iv = sidecar.read(source, edits=False)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "calls"
        folder.mkdir()
        media = Path(iv.source.path)
        audio = folder / media.name
        shutil.copy2(media if media.is_file() else source.parent / media.name, audio)
        iv.source.path = str(audio)
        side = sidecar.write(iv, sidecar.sidecar_path(audio))
        slug = audio.stem
        with serving(folder) as server:
            server.get(f"/ivp-report/interviews/{slug}.html")  # warm
            page, save = [], []
            for k in range(runs):
                t = time.perf_counter()
                assert server.get(f"/ivp-report/interviews/{slug}.html")[0] == 200
                page.append(time.perf_counter() - t)
                t = time.perf_counter()
                status, body = server.post("highlight", {"slug": slug, "start": 10.0 + k, "end": 11.0 + k,
                                                         "text": "x", "tags": ["bench"]})
                assert status == 200, body
                save.append(time.perf_counter() - t)
    minutes = (iv.source.duration_s or 0) / 60
    print(f"{side.name}: {minutes:.1f} min, {len(iv.segments)} segments, {runs} runs")
    print(f"interview page: median {statistics.median(page) * 1000:.0f} ms, max {max(page) * 1000:.0f} ms")
    print(f"save a highlight: median {statistics.median(save) * 1000:.0f} ms, max {max(save) * 1000:.0f} ms")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 10)
