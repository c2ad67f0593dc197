#!/usr/bin/env python
"""Benchmark the study: build time for N synthetic one-hour sidecars, the incremental update when
one is added, and the embedding model's sentences per second.

Sidecars are generated (seeded): an hour of alternating questions and answers, ~9,000 words with
word times, answers drawn from a dozen topics (spreadsheets, pricing, onboarding ...) phrased many
ways plus small talk, analysed by the real ``analyze`` and ``moments`` stages. Target on the
2-core machine: 500 one-hour sidecars in under a minute, one added in seconds.

    python scripts/bench_study.py [--sizes 50,500] [--out bench_out] [--keep]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TOPICS = {
    "spreadsheet": ["every {day} I export the {thing} into a spreadsheet and fix it by hand",
                    "we keep a big Excel file on the side because the tool cannot do {thing}",
                    "honestly the {thing} end up in Google Sheets so we can actually sort them",
                    "I copy and paste the {thing} into a sheet before I send them to my manager"],
    "pricing": ["the price went up again and we cannot justify it for a team of {n}",
                "it is far too expensive for what we use, maybe {n} percent of it",
                "the subscription costs more than our whole {thing} budget",
                "finance keeps asking me why we pay so much for the licence"],
    "onboarding": ["getting new people started took {n} weeks because nobody explains the setup",
                   "the first week with the tool was confusing, we had no training at all",
                   "new hires always ask me where the {thing} are hidden"],
    "search": ["I can never find old {thing} because the search only matches exact titles",
               "finding anything from last year is impossible, the search is useless",
               "there is no way to filter the {thing} by client"],
    "mobile": ["the phone app logs me out every {day} and I lose what I typed",
               "on my phone the {thing} screen does not even load",
               "the mobile app is so slow that I wait until I am back at my desk"],
    "support": ["support took {n} days to answer a simple question about {thing}",
                "when I call support I get passed around three different people",
                "the help articles are out of date and show the old screens"],
    "reports": ["the monthly report never matches the numbers in our bank account",
                "building the {thing} report takes me most of a {day} afternoon",
                "my manager wants charts and the tool only gives me a table"],
    "integrations": ["it does not talk to our accounting system so I type everything twice",
                     "the calendar sync breaks every {day} and we double book people",
                     "we wrote a little script to move {thing} between the two tools"],
}
SMALL_TALK = ["the weather has been lovely this week", "it has been raining here since {day}",
              "we went hiking at the weekend with the kids", "sorry I just got back from lunch",
              "can you hear me all right", "thanks for having me, happy to help"]
FILLER = ["I work with about {n} people on the {thing} side", "most of my day is meetings and email",
          "we moved offices last year", "my manager looks at the {thing} every {day}",
          "I have been in this role for {n} years", "that is about it really"]
QUESTIONS = ["Can you tell me more about that?", "How do you handle {thing} today?", "Why is that?",
             "What happened the last time?", "Do you like the tool?", "What else gets in the way?",
             "How often does that happen?", "Wouldn't it be great if it did that for you?"]
SLOTS = {"day": ["Monday", "Tuesday", "Friday", "morning", "week", "month"],
         "thing": ["invoices", "orders", "timesheets", "receipts", "contracts", "shipments", "tickets"],
         "n": ["two", "three", "five", "ten", "twelve", "twenty"]}
WORD_S = 0.4


def _fill(rng: random.Random, template: str) -> str:
    return template.format(**{k: rng.choice(v) for k, v in SLOTS.items()})


def make_sidecar(args: tuple[str, int, float]) -> str:
    """Write one synthetic sidecar (and an empty stand-in recording); returns its path."""
    from pipeline import sidecar
    from pipeline.interview import (INTERVIEWEE, INTERVIEWER, Interview, PipelineInfo, Recording,
                                    RoleAssignment, Segment, Turn, Word)
    from pipeline.stages import analyze
    from pipeline.stages.moments import find_moments

    folder, i, minutes = args
    rng = random.Random(i)
    topics = rng.sample(sorted(TOPICS), 4)
    audio = Path(folder) / f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} interview {i:04d}.m4a"
    segments, turns, t = [], [], 1.0
    while t < minutes * 60:
        for role, n_sent in ((INTERVIEWER, 1), (INTERVIEWEE, rng.randint(3, 6))):
            parts = []
            for _ in range(n_sent):
                if role == INTERVIEWER:
                    parts.append(_fill(rng, rng.choice(QUESTIONS)))
                    continue
                r = rng.random()
                pool = TOPICS[rng.choice(topics)] if r < 0.45 else SMALL_TALK if r < 0.5 else FILLER
                s = _fill(rng, rng.choice(pool))
                parts.append(s[0].upper() + s[1:] + ".")
            words = " ".join(parts).split()
            ws = [Word(round(t + k * WORD_S, 3), round(t + (k + 1) * WORD_S - 0.05, 3), " " + w)
                  for k, w in enumerate(words)]
            spk = "S1" if role == INTERVIEWER else "S2"
            segments.append(Segment(ws[0].start, ws[-1].end, " " + " ".join(words), ws, spk, role))
            turns.append(Turn(ws[0].start, ws[-1].end, spk, role))
            t = ws[-1].end + rng.choice((0.3, 0.8, 1.2, 3.5))
    duration = round(t + 1, 3)
    sha = hashlib.sha256(audio.name.encode()).hexdigest()  # distinct: identical shas are one interview
    iv = Interview(Recording(str(audio), sha, duration, 1, 16000, "aac"),
                   PipelineInfo("bench", "tiny.en", "bench", "cpu", "int8"), "en", 1.0, segments, turns,
                   roles=RoleAssignment("S1", "S2", 0.9, "evidence"))
    iv.speakers = analyze.speaker_stats(turns, segments, iv.role_of)
    iv.talk_ratio = analyze.talk_ratio(turns)
    iv.silences = analyze.silences(turns, duration)
    iv.fast_fills = analyze.fast_fills(turns)
    iv.moments = find_moments(iv, marks=[])
    return str(sidecar.write(iv, sidecar.sidecar_path(audio), validate_schema=False))


def generate(folder: Path, n: int, start: int = 0, minutes: float = 60.0) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(make_sidecar, [(str(folder), i, minutes) for i in range(start, start + n)],
                             chunksize=4))


def embedding_rate(n: int = 1000) -> float:
    from pipeline.study.embed import Embedder
    rng = random.Random(7)
    sents = [_fill(rng, rng.choice(rng.choice(list(TOPICS.values())) + FILLER)) + f" {i}" for i in range(n)]
    e = Embedder()
    e.embed(sents[:8])  # load first
    started = time.perf_counter()
    e.embed(sents)
    return n / (time.perf_counter() - started)


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def bench_size(work: Path, n: int) -> dict:
    from pipeline.study import build_study
    folder = work / f"study-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    gen_s, _ = timed(lambda: generate(folder, n))
    size_mb = sum(p.stat().st_size for p in folder.glob("*.interview.json")) / 1e6
    cold_s, cold = timed(lambda: build_study(folder))
    same_s, _ = timed(lambda: build_study(folder))
    generate(folder, 1, start=n)
    inc_s, inc = timed(lambda: build_study(folder))
    return {"sidecars": n, "sidecar_mb": round(size_mb), "generate_s": round(gen_s, 1),
            "build_s": round(cold_s, 2), "themes": len(cold.data["themes"]), "embedded": cold.embedded,
            "unchanged_rebuild_s": round(same_s, 2), "add_one_s": round(inc_s, 2), "add_one_embedded": inc.embedded}


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="50,500")
    parser.add_argument("--out", default="bench_out")
    parser.add_argument("--keep", action="store_true", help="keep the generated folders")
    args = parser.parse_args(argv)
    out = Path(args.out)
    work = out / "study"
    rows = []
    rate = embedding_rate()
    print(f"{'study: embedding':<28} {rate:>7.0f} sentences/s (minilm-l6-v2-int8, onnxruntime CPU)", flush=True)
    rows.append({"name": "study embedding", "sentences_per_s": round(rate)})
    for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
        r = bench_size(work, n)
        rows.append({"name": f"study {n} x 1 h", **r})
        print(f"{'study: ' + str(n) + ' one-hour sidecars':<28} build {r['build_s']:>6.2f}s  "
              f"unchanged {r['unchanged_rebuild_s']:.2f}s  add one {r['add_one_s']:.2f}s  "
              f"({r['themes']} themes, {r['embedded']} sentences embedded, {r['sidecar_mb']} MB of sidecars)",
              flush=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_study.json").write_text(json.dumps(rows, indent=2))
    print(f"wrote {out / 'bench_study.json'}")
    return rows


if __name__ == "__main__":
    main()
