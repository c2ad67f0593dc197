#!/usr/bin/env python
"""Theme quality on constructed folders whose themes are known (scripts/theme_folders.py).

For each folder (2, 4, 6 and 8 themes over 5 to 12 interviews; three seeds each, so that no one
folder is what the rules are tuned to) the study is built from scratch and compared with the
truth: purity (share of theme quotes from the theme's main known theme), coverage (share of known
themes found), recall (share of the known themes' sentences in their theme), named (share of
found themes whose name holds the theme's key phrase) and stray themes (not any known theme).

    python scripts/bench_themes.py [--seeds 3] [--json bench_out/bench_themes.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import theme_folders  # noqa: E402

from pipeline.study import build_study  # noqa: E402
from pipeline.study.embed import Embedder  # noqa: E402

FIGURES = ("purity", "coverage", "recall", "named")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="folders per shape (different themes and sentences)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    embedder = Embedder()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, n_themes, n_interviews, per in theme_folders.FOLDERS:
            for seed in range(args.seeds):
                folder = Path(tmp) / f"{name}-{seed}"
                truth = theme_folders.build(folder, n_themes, n_interviews, per, seed=seed)
                study = build_study(folder, embedder=embedder)
                row = {"folder": name, "seed": seed, **theme_folders.score(study.data["themes"], truth)}
                rows.append(row)
                print(f"{name:13s} seed {seed}: {row['found']:2d} found of {row['themes']}  "
                      + "  ".join(f"{k} {row[k]:.2f}" for k in FIGURES) + f"  stray {row['stray']}  "
                      + "; ".join(row["names"].values()), flush=True)
    overall = {k: round(sum(r[k] for r in rows) / len(rows), 3) for k in FIGURES}
    overall["stray"] = sum(r["stray"] for r in rows)
    print("overall: " + "  ".join(f"{k} {overall[k]:.3f}" for k in FIGURES) + f"  stray themes {overall['stray']}"
          f" over {len(rows)} folders")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"folders": rows, "overall": overall}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
