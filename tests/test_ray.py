"""``ivp process --ray`` and ``ivp watch --ray`` on a real local Ray cluster, with real audio.

The cluster (``ray start --head`` on 127.0.0.1, 2 CPUs) and every driver run inside a
loopback-only network namespace (``unshare -n``; commands enter it with ``nsenter``), because
Ray's driver probes a route to a public resolver even when told 127.0.0.1. Where the sandbox
does not allow namespaces the tests fall back to plain loopback (and say so in a warning).
Recordings are 30 s clips of the bundled sample, so each file takes seconds.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import pytest

from kit import patient
from pipeline import sidecar
from pipeline.executors.base import ClusterError
from pipeline.executors.plan import plan_workers
from pipeline.executors.ray_cluster import marked_pids, stop_cluster

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


# -- a throwaway cluster in its own network namespace ----------------------------------------------

def _ray_cli() -> str:
    pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")
    exe = Path(sys.executable).parent / "ray"
    return str(exe) if exe.exists() else (shutil.which("ray") or pytest.skip("no ray command"))


def _holder() -> subprocess.Popen | None:
    """A process sitting in a new network namespace with only ``lo`` up (None: not allowed here)."""
    if not (shutil.which("unshare") and shutil.which("nsenter")):
        return None
    proc = subprocess.Popen(["unshare", "-n", "sh", "-c", "ip link set lo up && exec sleep 100000"],
                            stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(0.3)
    ok = proc.poll() is None and subprocess.run(
        ["nsenter", f"--net=/proc/{proc.pid}/ns/net", "true"], capture_output=True).returncode == 0
    if not ok:
        proc.kill()
        proc.wait()
        return None
    return proc


class Cluster:
    """``ray start --head --block`` in its own session; every process it starts carries a marker."""

    def __init__(self, tmp: Path):
        self.ray = _ray_cli()
        self.tmp = tmp
        self.marker = uuid.uuid4().hex
        self.holder = _holder()
        if self.holder is None:
            warnings.warn("unshare -n is not allowed here: the Ray tests run on plain loopback "
                          "(Ray's driver will probe a route to a public resolver)")
        self.port = 6379 if self.holder else _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
                    "ORT_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false",
                    "RAY_USAGE_STATS_ENABLED": "0", "IVP_RAY_TEST": self.marker}
        self.env.pop("RAY_ADDRESS", None)
        self.head = subprocess.Popen(self.ns(
            self.ray, "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
            "--port", str(self.port), "--num-cpus", "2", "--include-dashboard", "false",
            "--disable-usage-stats", "--temp-dir", str(tmp / "ray")),
            env=self.env, stdout=subprocess.DEVNULL, stderr=open(tmp / "head.log", "wb"),
            start_new_session=True)
        deadline = time.monotonic() + patient(60)
        while not self._up():
            if self.head.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("ray start failed: " + (tmp / "head.log").read_text()[-2000:])
            time.sleep(0.5)

    def ns(self, *cmd: str) -> list[str]:
        return (["nsenter", f"--net=/proc/{self.holder.pid}/ns/net", "--", *cmd]
                if self.holder else list(cmd))

    def _up(self) -> bool:
        probe = "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)"
        return subprocess.run(self.ns(sys.executable, "-c", probe, str(self.port)),
                              capture_output=True).returncode == 0

    def ivp(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(self.ns(sys.executable, "-m", "pipeline", *args), env=self.env,
                              capture_output=True, text=True, timeout=patient(timeout))

    def popen(self, *args: str, **kw) -> subprocess.Popen:
        return subprocess.Popen(self.ns(sys.executable, "-m", "pipeline", *args), env=self.env,
                                start_new_session=True, **kw)

    def ours(self) -> list[int]:
        """Pids of every process started for this cluster (the marker is in their environment)."""
        return marked_pids(f"IVP_RAY_TEST={self.marker}")

    def actor_pids(self, busy: bool = True) -> list[int]:
        title = b"ray::RecordingWorker.process" if busy else b"ray::RecordingWorker"
        pids = []
        for pid in self.ours():
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(title):
                    pids.append(pid)
            except OSError:
                pass
        return pids

    def stop(self) -> None:
        stop_cluster(self.head, f"IVP_RAY_TEST={self.marker}")
        if self.holder:
            self.holder.kill()
            self.holder.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    tmp = Path(tempfile.mkdtemp(prefix="ivpray-", dir="/tmp"))  # short: Ray's socket paths
    c = Cluster(tmp)
    try:
        yield c
    finally:
        c.stop()
        assert not c.ours(), "Ray processes were left running"
        shutil.rmtree(tmp, ignore_errors=True)


# -- recordings -----------------------------------------------------------------------------------

def _clip(sample: Path, start: float, out: Path, seconds: float = 30) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", str(start), "-t", str(seconds),
                    "-i", str(sample), "-ac", "1", "-ar", "16000", str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory, sample_path) -> Path:
    """Three 30 s two-speaker clips of the sample and a file that is not audio."""
    folder = tmp_path_factory.mktemp("ray_in")
    for start in (0, 30, 60):
        _clip(sample_path, start, folder / f"part{start:02d}.wav")
    (folder / "broken.wav").write_bytes(b"this is not audio\n" * 10)
    return folder


def _meaningful(path: Path) -> dict:
    data = json.loads(path.read_text())
    data["pipeline"].pop("stage_seconds")
    return data


def _errors(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("error: ")]


LOCAL = """
import sys
from pipeline.cli import main
try:
    main(sys.argv[1:], prog_name="ivp")
except SystemExit as exc:
    code = exc.code
print("ray imported:", "ray" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


@pytest.fixture(scope="module")
def local_run(clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("local_out")
    proc = subprocess.run([sys.executable, "-c", LOCAL, "process", str(clips), "--out", str(out)],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=patient(600))
    return proc, out


@pytest.fixture(scope="module")
def ray_run(cluster, clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("ray_out")
    started = time.monotonic()
    proc = cluster.ivp("process", str(clips), "--out", str(out), "--ray", cluster.address,
                       "--ray-workers", "1")
    return proc, out, time.monotonic() - started


# -- tests ----------------------------------------------------------------------------------------

def test_local_process_does_not_import_ray(local_run):
    proc, out = local_run
    assert proc.returncode == 1, proc.stderr  # the broken file
    assert "ray imported: False" in proc.stderr
    code = "import sys, pipeline.cli, pipeline.batch; print('ray' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True).stdout.strip() == "False"


def test_ray_sidecars_equal_local(local_run, ray_run):
    (lproc, lout), (rproc, rout, _) = local_run, ray_run
    assert lproc.returncode == 1, lproc.stderr  # the broken file
    assert rproc.returncode == 1, rproc.stderr  # as locally
    names = sorted(p.name for p in lout.glob(f"*{sidecar.SUFFIX}"))
    assert names == ["part00.interview.json", "part30.interview.json", "part60.interview.json"]
    assert sorted(p.name for p in rout.iterdir()) == names  # nothing else written (no temp files)
    for name in names:
        local, remote = _meaningful(lout / name), _meaningful(rout / name)
        assert remote["segments"] and remote["turns"], name
        assert [s["text"] for s in remote["segments"]] == [s["text"] for s in local["segments"]]
        assert remote["turns"] == local["turns"]
        assert remote["roles"] == local["roles"]
        assert remote["talk_ratio"] == local["talk_ratio"]
        assert remote == local  # every other field too (source path, sha, moments, silences)
        sidecar.validate(json.loads((rout / name).read_text()))
    assert len(re.findall(r"processed on \S+ \(127\.0\.0\.1\) \[worker pid \d+\]", rproc.stdout)) == 3


def test_bad_file_same_error_line_others_processed(local_run, ray_run):
    (lproc, _), (rproc, rout, _) = local_run, ray_run
    local_errors, ray_errors = _errors(lproc.stderr), _errors(rproc.stderr)
    assert len(ray_errors) == 1 and "broken.wav: decode: " in ray_errors[0]
    assert ray_errors == local_errors  # the same line, naming the driver's path, not a worker's
    assert "3 of 4 recordings processed, 1 failed" in rproc.stdout
    assert not list(rout.glob("broken*"))


def test_rerun_skips_up_to_date(cluster, clips, ray_run):
    _, rout, first_s = ray_run
    before = {p.name: p.stat().st_mtime_ns for p in rout.iterdir()}
    proc = cluster.ivp("process", str(clips), "--out", str(rout), "--ray", cluster.address)
    assert proc.returncode == 1 and proc.stdout.count("[up to date, skipped]") == 3, proc.stdout
    assert {p.name: p.stat().st_mtime_ns for p in rout.iterdir()} == before


def test_worker_killed_mid_file_gives_one_sidecar(cluster, clips, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("part00.wav", "part30.wav"):
        shutil.copy2(clips / name, src / name)
    out = tmp_path / "out"
    proc = cluster.popen("process", str(src), "--out", str(out), "--ray", cluster.address,
                         "--ray-workers", "2", "--ray-shared-fs",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + patient(300)
    while killed is None and time.monotonic() < deadline and proc.poll() is None:
        busy = cluster.actor_pids(busy=True)
        if busy:
            time.sleep(1.5)  # well inside the file (model loading and decoding take longer)
            busy = [p for p in cluster.actor_pids(busy=True) if p in busy]
            if busy:
                os.kill(busy[0], signal.SIGKILL)
                killed = busy[0]
        time.sleep(0.2)
    stdout, stderr = proc.communicate(timeout=patient(600))
    assert killed, "no worker was seen processing a file"
    assert proc.returncode == 0, stderr
    assert "was lost" in stderr and "retrying on another worker" in stderr, stderr
    assert sorted(p.name for p in out.iterdir()) == ["part00.interview.json", "part30.interview.json"]
    for name in ("part00", "part30"):
        interview = sidecar.read(out / f"{name}.interview.json")
        assert interview.source.path == str(src / f"{name}.wav") and interview.segments
    assert stdout.count("processed on") == 2


def test_worker_lost_every_time_is_that_files_error(cluster, clips, tmp_path):
    """One worker, killed on every attempt: Ray restarts it each time (it rejoins the pool), and
    after three lost attempts the file gets its one-line error, no sidecar."""
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy2(clips / "part60.wav", src / "part60.wav")
    out = tmp_path / "out"
    proc = cluster.popen("process", str(src), "--out", str(out), "--ray", cluster.address,
                         "--ray-workers", "1", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed: list[int] = []
    deadline = time.monotonic() + patient(300)
    while proc.poll() is None and time.monotonic() < deadline:
        busy = [p for p in cluster.actor_pids(busy=True) if p not in killed]
        for pid in busy:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        time.sleep(0.1)
    stdout, stderr = proc.communicate(timeout=patient(60))
    # at least three different processes (restarted each time); a loaded machine may let the
    # loop kill one more restarted worker before the driver's answer arrives: the file's own
    # line below is what counts
    assert len(killed) >= 3 and len(set(killed)) == len(killed), (killed, stderr)
    assert proc.returncode == 1
    errors = _errors(stderr)
    assert len(errors) == 1 and errors[0].startswith(
        f"error: {src / 'part60.wav'}: ray: the Ray worker processing it was lost 3 times (last on "), stderr
    assert stderr.count("retrying on another worker") == 2
    assert not out.exists() or not list(out.iterdir())


def _finished(log: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in re.finditer(r"\sfinished\s+(\S+):", log):
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def test_watch_driver_killed_and_restarted_every_file_once(cluster, clips, tmp_path):
    folder = tmp_path / "watched"
    folder.mkdir()
    args = ("watch", str(folder), "--ray", cluster.address, "--ray-workers", "1", "--settle", "0.5",
            "--no-report", "--retry-delay", "1")
    log = folder / ".ivp" / "watch.log"
    first = cluster.popen(*args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + patient(120)
    while not (log.exists() and "watching" in log.read_text()):
        assert first.poll() is None and time.monotonic() < deadline, first.stderr.read()
        time.sleep(0.3)
    for name in ("part00.wav", "part30.wav", "part60.wav"):  # dropped in while it watches
        shutil.copy2(clips / name, folder / name)
    deadline = time.monotonic() + patient(400)
    while True:  # kill it once one file is done and the next one is on the worker
        text = log.read_text()
        if len(_finished(text)) >= 1 and len(re.findall(r"\sstarted\s", text)) >= 2:
            break
        assert first.poll() is None and time.monotonic() < deadline, text
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_before = _finished(log.read_text())
    starts = len(re.findall(r"\sstarted\s", log.read_text()))
    # a second driver is stopped with SIGTERM while a file is on the worker: it goes back to the queue
    second = cluster.popen(*args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + patient(300)
    while len(re.findall(r"\sstarted\s", log.read_text())) <= starts:
        assert second.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(second.pid, signal.SIGTERM)
    second.wait(patient(60))
    assert second.returncode == 0 and re.search(r"\sinterrupted\s", log.read_text()), log.read_text()
    third = cluster.popen(*args, "--once", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = third.communicate(timeout=patient(600))
    finally:
        if third.poll() is None:
            os.killpg(third.pid, signal.SIGKILL)
    text = log.read_text()
    assert third.returncode == 0, err.decode()[-3000:]
    assert _finished(text) == {"part00.wav": 1, "part30.wav": 1, "part60.wav": 1}, text
    assert len(done_before) < 3 and re.search(r"\sresuming\s", text), text
    outputs = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.endswith(".wav"))
    assert outputs == ["part00.interview.json", "part30.interview.json", "part60.interview.json"]
    status = json.loads(subprocess.run([sys.executable, "-m", "pipeline", "status", str(folder), "--json"],
                                       env=cluster.env, capture_output=True, text=True).stdout)
    assert status["counts"]["done"] == 3 and status["counts"]["files"] == 3
    assert re.search(r"stage\s+part\d\d\.wav: ray@\S+ \(127\.0\.0\.1\) done in", text)


def test_unreachable_cluster_exit_2_nothing_written(cluster, clips, tmp_path):
    port = _free_port() if not cluster.holder else 6390  # nothing listens there
    out = tmp_path / "out"
    proc = cluster.ivp("process", str(clips), "--out", str(out), "--ray", f"127.0.0.1:{port}", timeout=60)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: 127.0.0.1:{port}: ray: cannot reach"), proc.stderr
    assert not out.exists()
    other = 7000 if cluster.holder else _free_port()  # something listens there, but not Ray
    listen = "import socket,sys,time; s=socket.create_server(('127.0.0.1', int(sys.argv[1]))); time.sleep(120)"
    listener = subprocess.Popen(cluster.ns(sys.executable, "-c", listen, str(other)))
    try:
        time.sleep(1.0)
        proc = cluster.ivp("process", str(clips), "--out", str(out), "--ray", f"127.0.0.1:{other}",
                           timeout=60)  # not minutes of Ray retrying
    finally:
        listener.kill()
        listener.wait()
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "not a Ray cluster" in lines[0], proc.stderr
    assert not out.exists()
    folder = tmp_path / "watched"
    folder.mkdir()
    proc = cluster.ivp("watch", str(folder), "--ray", f"127.0.0.1:{port}", timeout=60)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (folder / ".ivp").exists()


# -- sizing the pool (no cluster needed) ------------------------------------------------------------

def _node(nid: str, cpus: float, gpus: int = 0) -> dict:
    resources = {"CPU": cpus, **({"GPU": gpus} if gpus else {})}
    return {"NodeID": nid, "Alive": True, "Resources": resources}


def test_plan_one_worker_per_four_cores_or_per_gpu():
    specs = plan_workers([_node("a", 8), _node("b", 2), _node("g", 16, gpus=2)])
    by_node = {n: [s for s in specs if s.node_id == n] for n in "abg"}
    assert [(s.num_cpus, s.device, s.threads) for s in by_node["a"]] == [(4.0, "cpu", 4)] * 2
    assert [(s.num_cpus, s.device) for s in by_node["b"]] == [(2.0, "cpu")]
    assert [(s.num_gpus, s.device) for s in by_node["g"]] == [(1, "cuda")] * 2
    cpu_only = plan_workers([_node("g", 16, gpus=2)], device="cpu")
    assert {s.device for s in cpu_only} == {"cpu"} and len(cpu_only) == 4


def test_plan_worker_override_spreads_by_cores():
    specs = plan_workers([_node("a", 8), _node("b", 2)], workers=3)
    assert sorted((s.node_id, s.num_cpus) for s in specs) == [("a", 4.0), ("a", 4.0), ("b", 2.0)]
    crowded = plan_workers([_node("a", 2)], workers=4)
    assert len(crowded) == 4 and all(s.num_cpus == 0.5 and s.threads == 1 for s in crowded)
    with pytest.raises(ClusterError, match="no GPU"):
        plan_workers([_node("a", 2)], device="cuda")
    with pytest.raises(ClusterError, match="no alive node"):
        plan_workers([{**_node("a", 2), "Alive": False}])
