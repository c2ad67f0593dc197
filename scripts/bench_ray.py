#!/usr/bin/env python
"""Scale-out benchmark: N short recordings here (no Ray), on one Ray worker and on two, in one run.

Starts a throwaway Ray cluster on 127.0.0.1 (``--num-cpus`` = this machine's cores) inside a
loopback-only network namespace when the sandbox allows it (``unshare -n``), processes N clips
of the bundled sample through :class:`pipeline.executors.ray.RayExecutor`, and reports:
throughput per configuration (after every worker has loaded its models), the ratio two workers /
one worker, and the per-file cost of going through Ray (bytes sent, driver-seen seconds minus
the worker's own seconds, and a bare send-and-reply of the same bytes). Writes
``<out>/bench_ray.json``; ``scripts/bench.py`` adds it as its scale-out row.

    python scripts/bench_ray.py [--out bench_out] [--files 4] [--seconds 30]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from pipeline.executors.ray_cluster import stop_cluster  # noqa: E402  (standard library only)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
NAME = "scale-out (Ray, 1 vs 2 workers)"


def bench_row(out: Path, files: int = 4, seconds: float = 30) -> dict:
    """Run this benchmark in its own process (and namespace); its row for bench.json."""
    try:
        import ray  # noqa: F401
    except ImportError:
        print(f"{NAME:<28} skipped: Ray is not installed (pip install -e '.[ray]')")
        return {"name": NAME, "skipped": "ray not installed"}
    cmd = [sys.executable, __file__, "--out", str(out), "--files", str(files), "--seconds", str(seconds)]
    proc = subprocess.run(cmd, cwd=ROOT)
    result = out / "bench_ray.json"
    if proc.returncode != 0 or not result.is_file():
        return {"name": NAME, "skipped": f"bench_ray.py failed (exit {proc.returncode})"}
    return json.loads(result.read_text())


def _in_namespace(argv: list[str]) -> bool:
    """Re-run this script in a new network namespace with only lo up; False when not allowed."""
    if not shutil.which("unshare") or subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode:
        return False
    inner = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
             sys.executable, __file__, "--inside", *argv]
    sys.exit(subprocess.run(inner).returncode)


def _start_cluster(tmp: Path, port: int, marker: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0", "IVP_RAY_BENCH": marker}
    ray_cli = Path(sys.executable).parent / "ray"
    head = subprocess.Popen([str(ray_cli) if ray_cli.exists() else "ray", "start", "--head", "--block",
                             "--node-ip-address", "127.0.0.1", "--port", str(port),
                             "--num-cpus", str(os.cpu_count() or 1), "--include-dashboard", "false",
                             "--disable-usage-stats", "--temp-dir", str(tmp / "ray")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return head
        except OSError:
            if head.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("ray start failed")
            time.sleep(0.3)


def _clips(folder: Path, n: int, seconds: float) -> list[Path]:
    sample = ROOT / "sample_audio" / "interview.opus"
    paths = []
    for i in range(n):
        out = folder / f"clip{i:02d}.wav"
        start = (i * seconds) % max(1.0, 190 - seconds)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", str(start), "-t", str(seconds),
                        "-i", str(sample), "-ac", "1", "-ar", "16000", str(out)], check=True)
        paths.append(out)
    return paths


def _run(executor, clips: list[Path]) -> dict:
    from pipeline.config import Config
    from pipeline.executors import Job
    from pipeline.stages.decode import sha256_file

    jobs = [Job(p, sha256_file(p), Config()) for p in clips]
    if hasattr(executor, "wait_all"):
        executor.wait_all()
    list(executor.each(executor.process, [jobs[0]] * executor.size))  # every worker loads its models
    started = time.perf_counter()
    outcomes = list(executor.each(executor.process, jobs))
    wall = time.perf_counter() - started
    audio = sum(o.interview.source.duration_s for o in outcomes)
    return {"wall_s": round(wall, 2), "files_per_min": round(60 * len(jobs) / wall, 2),
            "audio_s_per_s": round(audio / wall, 2), "outcomes": outcomes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="bench_out")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    argv = ["--out", args.out, "--files", str(args.files), "--seconds", str(args.seconds)]
    isolated = args.inside or _in_namespace(argv)
    from pipeline.executors import LocalExecutor
    from pipeline.executors.ray import RayExecutor

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ivpbench-", dir="/tmp"))
    marker = uuid.uuid4().hex
    port = 6379 if isolated else _free_port()
    head = _start_cluster(tmp, port, marker)
    try:
        clips = _clips(tmp, args.files, args.seconds)
        local = _run(LocalExecutor(), clips)
        runs = {}
        for workers in (1, 2):
            executor = RayExecutor(f"127.0.0.1:{port}", workers=workers)
            try:
                runs[workers] = _run(executor, clips)
                if workers == 1:
                    size = clips[0].stat().st_size
                    echo = [executor.echo(size)[0] for _ in range(5)]
            finally:
                executor.close()
    finally:
        stop_cluster(head, f"IVP_RAY_BENCH={marker}")
        shutil.rmtree(tmp, ignore_errors=True)
    one = runs[1]["outcomes"]
    overhead = [o.seconds - o.worker_seconds for o in one]
    row = {"name": NAME, "files": args.files, "clip_s": args.seconds, "cpus": os.cpu_count(),
           "isolated_netns": isolated,
           "local_wall_s": local["wall_s"], "ray1_wall_s": runs[1]["wall_s"], "ray2_wall_s": runs[2]["wall_s"],
           "local_files_per_min": local["files_per_min"], "ray1_files_per_min": runs[1]["files_per_min"],
           "ray2_files_per_min": runs[2]["files_per_min"],
           "ratio_2_vs_1": round(runs[1]["wall_s"] / runs[2]["wall_s"], 3),
           "ratio_ray1_vs_local": round(local["wall_s"] / runs[1]["wall_s"], 3),
           "bytes_per_file": int(statistics.mean(o.sent_bytes for o in one)),
           "overhead_s_per_file": round(statistics.mean(overhead), 3),
           "echo_s_per_file": round(statistics.median(echo), 4),
           "worker_s_per_file": round(statistics.mean(o.worker_seconds for o in one), 2)}
    (out / "bench_ray.json").write_text(json.dumps(row, indent=2))
    print(f"{NAME:<28} {args.files} x {args.seconds:g}s clips on {row['cpus']} cores: local "
          f"{row['local_wall_s']}s, 1 worker {row['ray1_wall_s']}s, 2 workers {row['ray2_wall_s']}s "
          f"(2/1 throughput x{row['ratio_2_vs_1']}); per file {row['bytes_per_file'] / 1e6:.2f} MB sent, "
          f"overhead {row['overhead_s_per_file']}s (bare send+reply {row['echo_s_per_file']}s)", flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
