#!/usr/bin/env python
"""People benchmark: how many people ivp finds, which side it puts each on, and the
participant share, over constructed conversations of 2-4 people (scripts/people_audio.py),
constructed meetings of 3-5 people talking over each other and two interviews with backchannels
(the count only), and the real recordings of ../shared/data (AMI excerpts and pyannote's call,
counted by their RTTM).

    python scripts/bench_people.py [--out bench_out] [--keep DIR] [--only constructed,meetings,real,recount]

Writes ``<out>/bench_people.json``. Targets: every count right, no short contributor merged into
someone else, every person on the right side, participant share within 2 points.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import people_audio as pa  # noqa: E402
import roles_audio as ra  # noqa: E402


def constructed(pipeline, folder: Path) -> list[dict]:
    rows = []
    for conv in pa.suite():
        path = folder / f"{conv.name}.wav"
        truth_path = folder / f"{conv.name}.truth.json"
        if path.is_file() and truth_path.is_file():
            truth = json.loads(truth_path.read_text())
        else:
            path, truth = pa.build(conv, folder)
        started = time.perf_counter()
        iv = pipeline.process(path)
        seconds = time.perf_counter() - started
        mapping = pa.speaker_map(iv.turns, truth)
        found = {t.speaker for t in iv.turns}
        people = truth["roles"]
        short = min(truth["share"], key=truth["share"].get)
        roles_right = sum(1 for spk, who in mapping.items() if iv.role_of(spk) == people[who])
        share = iv.talk_ratio.interviewee_share if iv.talk_ratio else None
        rows.append({
            "name": conv.name, "people": len(people), "found": len(found),
            "count_right": len(found) == len(people),
            "shortest": {"who": short, "share": truth["share"][short], "found": short in mapping.values()},
            "roles_right": roles_right, "roles_total": len(people),
            "share": share, "true_share": truth["participant_share"],
            "share_error_points": None if share is None else round(100 * abs(share - truth["participant_share"]), 2),
            "warnings": [w for w in iv.warnings if w.startswith(("people:", "side uncertain", "roles uncertain"))],
            "seconds": round(seconds, 1),
        })
        r = rows[-1]
        print(f"{r['name']:<22} people {r['people']} found {r['found']}  shortest {short} "
              f"{100 * r['shortest']['share']:.0f}% {'kept' if r['shortest']['found'] else 'MERGED'}  "
              f"sides {roles_right}/{len(people)}  share {_pct(share)} (truth {_pct(truth['participant_share'])})"
              f"  {len(r['warnings'])} warning(s)", flush=True)
    return rows


def meetings(pipeline, folder: Path) -> list[dict]:
    """The count on people talking over each other (``people_audio.meetings()``, 3-5 people) and on
    two interviews with backchannels and overlapped handovers: diarization only (the count and who
    spoke when do not depend on the words)."""
    from pipeline.stages.decode import decode, probe
    built = [(m.name, lambda m=m: pa.build_meeting(m, folder)) for m in pa.meetings()]
    for name, a, b in (("bc-joe-lj", "joe", "lj"), ("bc-f2-lj", "espeak:en-us+f2", "lj")):
        def interview(name=name, a=a, b=b):
            iv = ra.with_backchannels(name, a, b)
            iv.early = {k: 0.6 for k in range(3, len(iv.lines), 4)}  # overlapped handovers
            return ra.build(iv, folder)
        built.append((name, interview))
    rows = []
    for name, make in built:
        path, truth_path = folder / f"{name}.wav", folder / f"{name}.truth.json"
        if not (path.is_file() and truth_path.is_file()):
            make()
        truth = json.loads(truth_path.read_text())
        turns = pipeline.diarizer("senko")(decode(path, probe(path)), None).turns
        talk: dict[str, float] = {}
        for t in truth["turns"]:
            talk[t["speaker"]] = talk.get(t["speaker"], 0.0) + t["end"] - t["start"]
        short = min(talk, key=talk.get)
        found = len({t.speaker for t in turns})
        rows.append({"name": name, "people": len(talk), "found": found, "count_right": found == len(talk),
                     "shortest": {"who": short, "share": round(talk[short] / sum(talk.values()), 3),
                                  "found": short in pa.speaker_map(turns, truth).values()}})
        r = rows[-1]
        print(f"{name:<22} people {r['people']} found {found}  shortest {short} {100 * r['shortest']['share']:.0f}% "
              f"{'kept' if r['shortest']['found'] else 'MERGED'}", flush=True)
    return rows


def _rttm_people(path: Path) -> dict[str, int]:
    people: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        p = line.split()
        if p and p[0] == "SPEAKER":
            people.setdefault(p[1], set()).add(p[7])
    return {k: len(v) for k, v in people.items()}


def real(pipeline) -> list[dict]:
    shared = ra.SHARED
    if not shared.is_dir():
        print("../shared/data absent: real recordings skipped")
        return []
    counts = {**_rttm_people(shared / "ami" / "debug.development.rttm"),
              **_rttm_people(shared / "ami" / "debug.test.rttm"),
              "pyannote_sample": 2, "interview": 2, "jfk": 1}
    files = [shared / "ami" / f"{k}.wav" for k in ("dev00", "dev01", "tst00")]
    files += [shared / "pyannote_sample.wav", ROOT / "sample_audio" / "interview.opus", shared / "jfk.flac"]
    rows = []
    for path in files:
        iv = pipeline.process(path)
        found = len({t.speaker for t in iv.turns})
        rows.append({"name": path.stem, "people": counts[path.stem], "found": found,
                     "count_right": found == counts[path.stem],
                     "warnings": [w for w in iv.warnings if w.startswith(("people:", "several people"))]})
        r = rows[-1]
        print(f"{r['name']:<22} people {r['people']} found {found}  {len(r['warnings'])} people warning(s)"
              + "".join(f"\n    {w}" for w in r["warnings"]), flush=True)
    return rows


def recount_timing(pipeline, folder: Path, minutes: float = 60.0) -> dict:
    """Seconds for ``ivp roles --speakers N`` on a ``minutes``-long interview: the sample's
    sidecar and window embeddings repeated end to end, clustered again into 3 and 2 people (in
    process: clustering, words to speakers, roles, every number)."""
    import numpy as np
    from bench_roles import tile_sidecar
    from pipeline import sidecar
    from pipeline.stages import relabel, voices
    from pipeline.stages.decode import decode, probe
    from pipeline.stages.diarize.speakers import Embedded
    sample = ROOT / "sample_audio" / "interview.opus"
    iv = pipeline.process(sample)
    sidecar.write(iv, folder / "sample.interview.json")
    one = pipeline.diarizer("senko")(decode(sample, probe(sample)), None).embedded
    span = iv.source.duration_s
    copies = int(np.ceil(minutes * 60 / span))
    rng = np.random.default_rng(0)

    def shifted(spans, k):
        return [(a + k * span, b + k * span) for a, b in spans]
    long = Embedded([w for k in range(copies) for w in shifted(one.windows, k)],
                    np.concatenate([one.embeddings + 0.01 * rng.normal(size=one.embeddings.shape).astype(np.float32)
                                    for _ in range(copies)]),
                    [s for k in range(copies) for s in shifted(one.speech, k)],
                    [s for k in range(copies) for s in shifted(one.overlaps, k)])
    path = tile_sidecar(folder / "sample.interview.json", minutes, folder / "long.interview.json")
    walls = []
    for n in (3, 2, 3):
        interview = sidecar.read(path)
        started = time.perf_counter()
        relabel.apply(interview, voices.recount(interview, long, n))
        walls.append(time.perf_counter() - started)
    row = {"minutes": minutes, "windows": len(long.windows), "recount_s": round(sorted(walls)[1], 3)}
    print(f"ivp roles --speakers N on {minutes:.0f} minutes ({row['windows']} windows): {row['recount_s']} s "
          f"in process (median of 3)")
    return row


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    ap.add_argument("--keep", type=Path, help="build the conversations here and keep them (reused next time)")
    ap.add_argument("--only", default="constructed,meetings,real,recount")
    args = ap.parse_args()
    from pipeline.config import Config
    from pipeline.runner import Pipeline
    pipeline = Pipeline(Config())
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        if "constructed" in args.only:
            rows = constructed(pipeline, folder)
            errors = [r["share_error_points"] for r in rows if r["share_error_points"] is not None]
            result["constructed"] = {
                "rows": rows,
                "count_right": f"{sum(r['count_right'] for r in rows)}/{len(rows)}",
                "short_contributors_kept": f"{sum(r['shortest']['found'] for r in rows)}/{len(rows)}",
                "people_on_the_right_side": f"{sum(r['roles_right'] for r in rows)}/{sum(r['roles_total'] for r in rows)}",
                "share_error_points_max": max(errors, default=None),
                "share_error_points_mean": round(sum(errors) / len(errors), 2) if errors else None,
            }
        if "meetings" in args.only:
            rows = meetings(pipeline, folder)
            result["meetings"] = {"rows": rows, "count_right": f"{sum(r['count_right'] for r in rows)}/{len(rows)}",
                                  "short_contributors_kept": f"{sum(r['shortest']['found'] for r in rows)}/{len(rows)}"}
        if "recount" in args.only:
            result["recount"] = recount_timing(pipeline, folder)
        if "real" in args.only:
            rows = real(pipeline)
            result["real"] = {"rows": rows, "count_right": f"{sum(r['count_right'] for r in rows)}/{len(rows)}"}
    for part, summary in result.items():
        if part != "recount":
            print(f"{part}: " + ", ".join(f"{k} {v}" for k, v in summary.items() if k != "rows"))
    counted = [r for part in ("constructed", "meetings", "real") for r in result.get(part, {}).get("rows", [])]
    if counted:
        result["count_right"] = f"{sum(r['count_right'] for r in counted)}/{len(counted)}"
        print(f"speaker count right: {result['count_right']} recordings (1 to 5 people), wrong: "
              + (", ".join(f"{r['name']} {r['found']} for {r['people']}" for r in counted if not r["count_right"])
                 or "none"))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_people.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
