#!/usr/bin/env python
"""Benchmark ``ivp search``: latency of word queries (each kind of the syntax) and of search by
meaning over N synthetic one-hour sidecars (the generator of scripts/bench_study.py: ~9,000
words with word times per hour, answers from a dozen topics phrased many ways).

Each query is timed as ``ivp search`` runs it in-process (:func:`pipeline.study.search.find`:
the index checked against every sidecar's size and mtime, then the query), median of ``--repeat``
runs on an index already built. By meaning, the first search embeds every distinct sentence
(timed apart); the later ones read the cached vectors. The generated sentences repeat (templates),
so the meaning figures hold fewer distinct vectors than real transcripts would: the number is printed.

    python scripts/bench_search.py [--files 500] [--minutes 60] [--out bench_out] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORD_QUERIES = ["spreadsheet", '"by hand"', "spread*", "invoices OR receipts", "report -spreadsheet",
                "role:interviewee expensive", "tag:workaround excel"]
MEANING_QUERIES = ["doing it by hand", "too pricey for us"]


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def median_ms(fn, repeat: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        t, value = timed(fn)
        times.append(t)
    return round(1000 * statistics.median(times), 1), value


def distinct(folder: Path, embedder, repeat: int) -> list[dict]:
    """Search by meaning when every sentence has its own vector, as in real transcripts: each
    sentence's hash made unique and a random unit vector cached for it (what is timed is reading
    and scoring the vectors; the query itself is embedded by the model)."""
    import numpy as np
    from pipeline.study import index as idx
    from pipeline.study.search import find

    with idx.Index(idx.db_path(folder)) as index:
        index.db.execute("UPDATE sents SET hash = substr(hash, 1, 20) || '-' || id")
        rng = np.random.default_rng(0)
        hashes = [h for (h,) in index.db.execute("SELECT hash FROM sents")]
        for k in range(0, len(hashes), 50_000):
            part = hashes[k:k + 50_000]
            vecs = rng.standard_normal((len(part), 384)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            index.store_embeddings(dict(zip(part, vecs)), embedder.name)
    out = []
    for q in MEANING_QUERIES:
        ms, found = median_ms(lambda: find(folder, q, meaning=True, embedder=embedder), repeat)
        print(f"{'search --meaning (distinct) ' + q:<30} {ms:7.1f} ms  ({len(hashes)} vectors)", flush=True)
        out.append({"name": f"search --meaning distinct {q}", "median_ms": ms, "vectors": len(hashes)})
    return out


def main(argv=None) -> list[dict]:
    import bench_study
    from pipeline.study import index as idx
    from pipeline.study.embed import Embedder
    from pipeline.study.search import find

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default="bench_out")
    parser.add_argument("--keep", action="store_true", help="keep the generated folder (and reuse it next time)")
    parser.add_argument("--distinct", action="store_true",
                        help="also time search by meaning as if every sentence were distinct (random cached vectors)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    folder = out / f"search-{args.files}x{args.minutes:g}min"
    rows: list[dict] = []
    have = len(list(folder.glob("*.interview.json"))) if folder.is_dir() else 0
    if have != args.files:
        shutil.rmtree(folder, ignore_errors=True)
        gen_s, _ = timed(lambda: bench_study.generate(folder, args.files, minutes=args.minutes))
        print(f"{'search: generated':<30} {args.files} sidecars of {args.minutes:g} min in {gen_s:.1f}s", flush=True)
    index_s, _ = timed(lambda: find(folder, "warmup"))  # builds the index (the first search of a folder)
    with idx.Index(idx.db_path(folder)) as index:
        n_sents = index.db.execute("SELECT COUNT(*) FROM sents").fetchone()[0]
        n_texts = index.db.execute("SELECT COUNT(DISTINCT hash) FROM sents").fetchone()[0]
    print(f"{'search: first index':<30} {index_s:7.1f} s  ({n_sents} sentences, {n_texts} distinct)", flush=True)
    rows.append({"name": "search index", "files": args.files, "minutes": args.minutes, "seconds": round(index_s, 1),
                 "sentences": n_sents, "distinct": n_texts})
    for q in WORD_QUERIES:
        ms, found = median_ms(lambda: find(folder, q), args.repeat)
        print(f"{'search: ' + q:<30} {ms:7.1f} ms  {len(found.hits)} hits", flush=True)
        rows.append({"name": f"search {q}", "median_ms": ms, "hits": len(found.hits)})
    embedder = Embedder()
    first_s, _ = timed(lambda: find(folder, MEANING_QUERIES[0], meaning=True, embedder=embedder))
    print(f"{'search --meaning, first':<30} {first_s:7.1f} s  (embeds {n_texts} distinct sentences once)", flush=True)
    rows.append({"name": "search --meaning first", "seconds": round(first_s, 1), "embedded": n_texts})
    for q in MEANING_QUERIES:
        ms, found = median_ms(lambda: find(folder, q, meaning=True, embedder=embedder), args.repeat)
        top = found.hits[0].text if found.hits else ""
        print(f"{'search --meaning ' + q:<30} {ms:7.1f} ms  top: {top[:60]}", flush=True)
        rows.append({"name": f"search --meaning {q}", "median_ms": ms, "hits": len(found.hits), "top": top})
    if args.distinct:
        rows += distinct(folder, embedder, args.repeat)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_search.json").write_text(json.dumps(rows, indent=2))
    print(f"wrote {out / 'bench_search.json'}")
    return rows


if __name__ == "__main__":
    main()
