#!/usr/bin/env python
"""Team benchmark (issue #24): a note taker who recurs with the interviewer across a study.

One researcher (espeak-ng f2) and one quiet note taker (Piper's joe: a hello, three remarks and a
closing word, no question) with a different participant in each of three interviews (espeak-ng
m3, the LJ Speech reader, the LibriSpeech reader); a follow-up of the first participant with the
researcher alone; a double download of the first interview. Three folders, one after the other
(each reusing the stage cache of the one before): the study; the study with the follow-up and the
double download; the first interview and its double download alone.

    python scripts/bench_team.py [--keep DIR] [--json PATH]

For each recording and person: the side the words alone give (``voices.reassess`` without the
folder's voices) and the side ivp gives; the participant share of the truth, of the words alone
and of ivp. Targets: every person on the right side in the study; the double download alone
decided by its words only (no voice evidence either way).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import people_audio as pa  # noqa: E402

RESEARCHER, NOTE_TAKER, RETURNING = "espeak:en-us+f2", "joe", "espeak:en-us+m3"


def build(folder: Path) -> dict[str, dict]:
    """The recordings in ``folder`` (built once: kept ones are reused) and their truths."""
    convs = [pa.quiet_note_taker(f"s{k}", RESEARCHER, participant, NOTE_TAKER)
             for k, participant in enumerate((RETURNING, "lj", "libri"), 1)]
    convs.append(pa.two_people("f1", RESEARCHER, RETURNING, n=4, first=4))
    truths = {}
    for conv in convs:
        truth_path = folder / f"{conv.name}.truth.json"
        if (folder / f"{conv.name}.wav").is_file() and truth_path.is_file():
            truths[conv.name] = json.loads(truth_path.read_text())
        else:
            truths[conv.name] = pa.build(conv, folder)[1]
    if not (folder / "s1 (1).wav").is_file():
        pa.double_download(folder / "s1.wav", folder / "s1 (1).wav")
    truths["s1 (1)"] = truths["s1"]
    return truths


def folder_of(source: Path, folder: Path, names: list[str], cache_from: Optional[Path] = None) -> Path:
    """``folder`` holding copies of the recordings ``names`` (and ``cache_from``'s stage cache)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy2(source / f"{name}.wav", folder / f"{name}.wav")
    if cache_from is not None and (cache_from / ".ivp" / "cache").is_dir():
        shutil.copytree(cache_from / ".ivp" / "cache", folder / ".ivp" / "cache", dirs_exist_ok=True)
    return folder


def run(folder: Path) -> str:
    """Process ``folder`` as ``ivp process`` does; how long it took and the folder step alone after."""
    from pipeline.batch import process_batch
    from pipeline.produce import decide_folder_roles
    started = time.perf_counter()
    results = process_batch(sorted(folder.glob("*.wav")), {})
    seconds = time.perf_counter() - started
    bad = [f"{r.path.name}: {r.error}" for r in results if not r.ok]
    if bad:
        raise SystemExit("\n".join(bad))
    step = time.perf_counter()
    assert decide_folder_roles(sorted(folder.glob("*.interview.json"))) == []  # decided by the batch already
    return f"{len(results)} recordings processed in {seconds:.0f} s, the folder step again {1000 * (time.perf_counter() - step):.0f} ms"


def rows(folder: Path, truths: dict[str, dict]) -> list[dict]:
    from pipeline import sidecar
    from pipeline.stages import relabel, voices
    out = []
    for name in sorted(truths):
        path = folder / f"{name}.interview.json"
        if not path.is_file():
            continue
        iv, truth = sidecar.read(path), truths[name]
        alone = copy.deepcopy(iv)
        relabel.apply(alone, voices.reassess(alone, None))
        mapping = pa.speaker_map(iv.turns, truth)
        people = {}
        for speaker, who in sorted(mapping.items(), key=lambda kv: kv[1]):
            side = (iv.roles.evidence.get("sides") or {}).get(speaker, {})
            people[who] = {"speaker": speaker, "truth": truth["roles"][who], "words_alone": alone.role_of(speaker),
                           "ivp": iv.role_of(speaker), "why": (side.get("voice") or {}).get("describe")}
        out.append({"recording": name, "people": len({t.speaker for t in iv.turns}), "truth_people": len(truth["roles"]),
                    "persons": people, "share_truth": truth["participant_share"],
                    "share_words_alone": alone.talk_ratio.interviewee_share, "share_ivp": iv.talk_ratio.interviewee_share})
    return out


def show(title: str, table: list[dict]) -> None:
    print(title)
    print(f"  {'recording':<8} {'people':>6}  {'note taker: words alone -> ivp':<34} {'share truth / words alone / ivp':>32}")
    for r in table:
        n = r["persons"].get("N")
        note = f"{n['words_alone']} -> {n['ivp']}" if n else "-"
        print(f"  {r['recording']:<8} {r['people']:>3}/{r['truth_people']:<2}  {note:<34} "
              f"{r['share_truth']:>10.3f} / {r['share_words_alone']:.3f} / {r['share_ivp']:.3f}")
    right = sum(p["ivp"] == p["truth"] for r in table for p in r["persons"].values())
    alone = sum(p["words_alone"] == p["truth"] for r in table for p in r["persons"].values())
    total = sum(len(r["persons"]) for r in table)
    errors = [abs(r["share_ivp"] - r["share_truth"]) for r in table if r["share_ivp"] is not None]
    before = [abs(r["share_words_alone"] - r["share_truth"]) for r in table if r["share_words_alone"] is not None]
    print(f"  people on the right side: ivp {right}/{total}, words alone {alone}/{total}; participant share error: "
          f"ivp mean {100 * sum(errors) / len(errors):.1f} max {100 * max(errors):.1f} points, words alone mean "
          f"{100 * sum(before) / len(before):.1f} max {100 * max(before):.1f} points")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", type=Path, help="build and process in this folder, and keep it")
    ap.add_argument("--json", type=Path, help="write the rows here")
    args = ap.parse_args()
    tmp = None if args.keep else tempfile.TemporaryDirectory()
    root = args.keep or Path(tmp.name)
    source = root / "audio"
    source.mkdir(parents=True, exist_ok=True)
    truths = build(source)
    out = {}
    steps = [("study", "the study: researcher and note taker with a new participant in each interview",
              ["s1", "s2", "s3"], None),
             ("more", "the study, a follow-up of s1's participant with the researcher alone, s1's double download",
              ["s1", "s2", "s3", "f1", "s1 (1)"], "study"),
             ("copies", "s1 and its double download alone (no voice evidence: the words decide)",
              ["s1", "s1 (1)"], "more")]
    for key, title, names, cache in steps:
        folder = folder_of(source, root / key, names, root / cache if cache else None)
        timing = run(folder)
        out[key] = rows(folder, {n: truths[n] for n in names})
        show(f"{title} ({timing})", out[key])
        for r in out[key]:
            for who, p in r["persons"].items():
                if p["why"]:
                    print(f"    {r['recording']} {who} ({p['speaker']}): {p['why']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
