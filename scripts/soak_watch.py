#!/usr/bin/env python3
"""Kill-and-restart soak for ``ivp watch``: every file done exactly once, whatever the kills.

Cuts ``--files`` short clips from the bundled stereo sample into a fresh folder, then
``--cycles`` times starts ``ivp watch`` on it and SIGKILLs it at a random moment; a last run
with ``--once`` finishes what is left. It prints, and writes as JSON with ``--json``:

* done exactly once: one sidecar, state ``done`` and one real ``finished`` line in the log
  (a restart that finds the sidecar already written logs "already up to date", not counted);
* redone: transcribed and written more than once;
* failed: marked failed in the ledger;
* leftovers: recordings without a sidecar, and temp files of ours left behind.

Target: all done exactly once, none failed, none left. Exit status 1 otherwise.

Phase 2 (``--fixes N``, default 12): a watcher runs on the same folder while, at random moments,
``ivp roles --swap``, ``ivp mark``, ``ivp study`` and ``ivp report`` run against it, and
``ivp.toml`` is changed once (every file is processed again). At the end every fix made (the
interviewer each swap left, each mark's label) must be in the sidecars, every command must have
exited 0 or said in one line why not (no traceback), and nothing may be left over.

    python scripts/soak_watch.py --files 20 --cycles 10
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_audio" / "interview_stereo.opus"


def make_clips(folder: Path, n: int, seconds: float) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    # the channel diarizer keeps each file to a few seconds of work
    (folder / "ivp.toml").write_text('diarizer = "channels"\n', encoding="utf-8")
    clips = []
    for i in range(n):
        sub = folder / ("sub" if i % 5 == 4 else "")
        sub.mkdir(exist_ok=True)
        out = sub / f"clip {i:02d}.wav"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{(i * seconds) % 170:.1f}",
                        "-i", str(SAMPLE), "-t", f"{seconds:.1f}", "-ar", "16000", str(out)], check=True)
        clips.append(out)
    return clips


def start(folder: Path, once: bool = False) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = [sys.executable, "-m", "pipeline", "watch", str(folder), "--settle", "0.3", "--no-report",
            "--quiet"] + (["--once"] if once else [])
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def tally(folder: Path, clips: list[Path]) -> dict:
    from pipeline import sidecar
    from pipeline.recording.outputs import is_own_temp
    from pipeline.watch.status import folder_status

    log = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                    for p in sorted((folder / ".ivp").glob("watch.log*")))
    status = {f["path"]: f for f in folder_status(folder)["files"]}
    once, redone, failed, missing = [], [], [], []
    for clip in clips:
        rel = clip.relative_to(folder).as_posix()
        finished = [ln for ln in log.splitlines()
                    if re.search(rf"\sfinished\s+{re.escape(rel)}:", ln) and "already up to date" not in ln]
        out = sidecar.sidecar_path(clip)
        state = status.get(rel, {}).get("state")
        if state == "failed":
            failed.append(rel)
        elif not out.is_file() or state != "done":
            missing.append(rel)
        elif len(finished) == 1:
            ok = sidecar.read(out).source.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
            (once if ok else missing).append(rel)
        else:
            redone.append(rel)
    temps = [str(p.relative_to(folder)) for p in folder.rglob("*") if is_own_temp(p.name)]
    interrupts = sum(1 for ln in log.splitlines() if re.search(r"\sresuming\s", ln))
    return {"files": len(clips), "done_exactly_once": len(once), "redone": redone, "failed": failed,
            "leftovers": missing + temps, "restarts_mid_file": interrupts,
            "tracebacks": log.count("Traceback")}


def ivp(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=600)


def fixes_phase(folder: Path, clips: list[Path], n: int, rng: random.Random) -> dict:
    """A watcher runs while people fix, mark, build the study and the report; ivp.toml changes
    once. Returns what was done and what of it is missing at the end."""
    from pipeline import sidecar
    from pipeline.recording.outputs import is_own_temp
    from pipeline.watch.status import folder_status

    proc = start(folder)
    swapped: dict[Path, str] = {}  # clip -> the interviewer its last successful swap left
    marks: dict[Path, list[str]] = {}
    failures, tracebacks, commands = [], 0, 0
    changed_at = rng.randrange(n) if n else -1
    for step in range(n):
        time.sleep(rng.uniform(0.2, 2.0))
        if step == changed_at:  # forces every file to be processed again
            (folder / "ivp.toml").write_text('diarizer = "channels"\nmin_silence_s = 1.5\n', encoding="utf-8")
            continue
        action = rng.choice(["swap", "mark", "study", "report"])
        clip = rng.choice(clips)
        if action == "swap":
            result = ivp("roles", str(clip), "--swap")
            if result.returncode == 0:
                swapped[clip] = sidecar.read(sidecar.sidecar_path(clip)).roles.interviewer
        elif action == "mark":
            label = f"soak mark {step}"
            result = ivp("mark", str(clip), f"{rng.uniform(0.2, 2.5):.2f}", label)
            if result.returncode == 0:
                marks.setdefault(clip, []).append(label)
        else:
            result = ivp(action, str(folder))
        commands += 1
        tracebacks += (result.stderr or "").count("Traceback")
        lines = [ln for ln in (result.stderr or "").splitlines() if ln.strip()]
        if result.returncode != 0 and (action in ("study", "report") or len(lines) != 1):
            failures.append(f"ivp {action} {clip.name if action in ('swap', 'mark') else ''}: "
                            f"exit {result.returncode}: {' | '.join(lines[-3:])}")
    deadline = time.monotonic() + 1800  # then wait until everything is done with the new settings
    while time.monotonic() < deadline:
        files = folder_status(folder)["files"]
        if len(files) >= len(clips) and all(f["state"] in ("done", "failed") for f in files):
            if all(sidecar.read(sidecar.sidecar_path(c)).pipeline.settings.get("min_silence_s") == 1.5
                   for c in clips if sidecar.sidecar_path(c).is_file()):
                break
        time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    tracebacks += err.count("Traceback")
    lost = []
    for clip, interviewer in swapped.items():
        got = sidecar.read(sidecar.sidecar_path(clip)).roles
        if got.interviewer != interviewer or (got.evidence.get("override") or {}).get("by") != "ivp roles":
            lost.append(f"{clip.name}: roles fix (interviewer {interviewer}, now {got.interviewer})")
    for clip, labels in marks.items():
        have = {m.label for m in sidecar.read(sidecar.sidecar_path(clip)).moments}
        lost += [f"{clip.name}: mark {label!r}" for label in labels if label not in have]
    states = {f["path"]: f["state"] for f in folder_status(folder)["files"]}
    temps = [str(p.relative_to(folder)) for p in folder.rglob("*") if is_own_temp(p.name)]
    return {"commands": commands, "swaps_kept": len(swapped), "marks_kept": sum(map(len, marks.values())),
            "settings_changed": changed_at >= 0, "lost": lost, "command_failures": failures,
            "failed": sorted(k for k, v in states.items() if v == "failed"), "leftovers": temps,
            "tracebacks": tracebacks, "watcher_exit": proc.returncode}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=3.0, help="length of each clip")
    ap.add_argument("--kill-after", type=float, nargs=2, default=(2.0, 9.0), metavar=("MIN", "MAX"),
                    help="each run is SIGKILLed after a random time in this range (seconds)")
    ap.add_argument("--fixes", type=int, default=12,
                    help="phase 2: this many random fixes, marks, studies and reports during a watcher run")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--dir", type=Path, help="work here instead of a temp folder (kept)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    sys.path.insert(0, str(ROOT))

    work = args.dir or Path(tempfile.mkdtemp(prefix="ivp-soak-"))
    folder = work / "watched"
    clips = make_clips(folder, args.files, args.seconds)
    originals = {c: hashlib.sha256(c.read_bytes()).hexdigest() for c in clips}
    started = time.monotonic()
    stderr_tracebacks = 0
    for cycle in range(args.cycles):
        proc = start(folder)
        delay = rng.uniform(*args.kill_after)
        try:
            proc.wait(delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        stderr_tracebacks += err.count("Traceback")
        print(f"cycle {cycle + 1}/{args.cycles}: killed after {delay:.1f}s", flush=True)
    proc = start(folder, once=True)
    _, err = proc.communicate(timeout=1800)
    stderr_tracebacks += err.count("Traceback")
    result = tally(folder, clips)
    result.update(cycles=args.cycles, final_exit=proc.returncode, seconds=round(time.monotonic() - started, 1),
                  originals_unchanged=all(hashlib.sha256(c.read_bytes()).hexdigest() == h
                                          for c, h in originals.items()),
                  tracebacks=result["tracebacks"] + stderr_tracebacks, folder=str(folder))
    print(f"soak: {result['files']} files, {args.cycles} SIGKILL cycles, {result['restarts_mid_file']} "
          f"restarts with a file in flight, {result['seconds']}s")
    print(f"  done exactly once: {result['done_exactly_once']}/{result['files']}")
    print(f"  redone: {len(result['redone'])}  failed: {len(result['failed'])}  "
          f"leftovers: {len(result['leftovers'])}  tracebacks: {result['tracebacks']}  "
          f"originals unchanged: {result['originals_unchanged']}")
    for key in ("redone", "failed", "leftovers"):
        for item in result[key]:
            print(f"  {key}: {item}")
    good = (result["done_exactly_once"] == result["files"] and not result["failed"]
            and not result["leftovers"] and not result["redone"] and result["originals_unchanged"]
            and not result["tracebacks"] and proc.returncode == 0)
    if args.fixes:
        phase = fixes_phase(folder, clips, args.fixes, rng)
        phase["originals_unchanged"] = all(hashlib.sha256(c.read_bytes()).hexdigest() == h
                                           for c, h in originals.items())
        result["phase2"] = phase
        print(f"phase 2: {phase['commands']} commands beside the watcher (roles --swap, mark, study, "
              f"report), ivp.toml changed: {phase['settings_changed']}")
        print(f"  fixes present at the end: {phase['swaps_kept'] - sum('roles fix' in x for x in phase['lost'])}"
              f"/{phase['swaps_kept']} roles, {phase['marks_kept'] - sum(': mark ' in x for x in phase['lost'])}"
              f"/{phase['marks_kept']} marks; failed: {len(phase['failed'])}  leftovers: "
              f"{len(phase['leftovers'])}  tracebacks: {phase['tracebacks']}  "
              f"originals unchanged: {phase['originals_unchanged']}")
        for key in ("lost", "command_failures", "failed", "leftovers"):
            for item in phase[key]:
                print(f"  {key}: {item}")
        good = good and not (phase["lost"] or phase["command_failures"] or phase["failed"]
                             or phase["leftovers"] or phase["tracebacks"]) and phase["originals_unchanged"]
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
