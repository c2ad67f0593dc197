"""Many writers on one study.db (issue 19 item 14): ROUNDS rounds, each PROCS processes syncing the
same fresh ``study.db`` from five sidecars at once; prints how many syncs ended well and every error.

    python scripts/stress_study_db.py [--rounds 30] [--procs 6] [--dir /tmp/ivp-stress]

Before one writer at a time (``pipeline/study/db.py``): {'ok': 114, 'IntegrityError: UNIQUE
constraint failed: docs.path': 61, 'OperationalError: database is locked': 5} of 180; after: all 180 ok.
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _sync(args: tuple[str, str]) -> str:
    folder, db = args
    from pipeline.sidecar import find_sidecars
    from pipeline.study import index as idx
    try:
        paths, _ = find_sidecars(folder)
        with idx.Index(Path(db)) as index:
            index.sync(paths, Path(folder))
            return "ok" if len(index.docs()) == len(paths) else "wrong count"
    except Exception as exc:  # what must never happen: counted and shown
        return f"{type(exc).__name__}: {exc}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--procs", type=int, default=6)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/ivp-stress-study-db"))
    args = ap.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from test_study import NAMES, add_interview
    shutil.rmtree(args.dir, ignore_errors=True)
    folder = args.dir / "f"
    for name in NAMES:
        add_interview(folder, name)
    counts: collections.Counter = collections.Counter()
    with multiprocessing.get_context("spawn").Pool(args.procs) as pool:
        for r in range(args.rounds):
            counts.update(pool.map(_sync, [(str(folder), str(args.dir / f"r{r}" / "study.db"))] * args.procs))
    print(dict(counts))
    shutil.rmtree(args.dir, ignore_errors=True)
    sys.exit(0 if set(counts) == {"ok"} else 1)


if __name__ == "__main__":
    main()
