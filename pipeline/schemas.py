"""The JSON schemas ivp ships (``pipeline/schema/*.json``): loaded once, a validator for each, and
the one line that says where a document leaves its schema (sidecars, edits files)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"


@lru_cache(maxsize=None)
def load(name: str) -> dict[str, Any]:
    """The schema ``schema/<name>.schema.json`` (``interview``, ``edits``)."""
    with open(SCHEMA_DIR / f"{name}.schema.json", encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=None)
def validator(name: str):
    import jsonschema  # lazy: a fifth of a second, paid only when a document is checked
    return jsonschema.Draft202012Validator(load(name))


def first_error(name: str, doc: Any):
    """The first ``jsonschema.ValidationError`` of ``doc`` against schema ``name``, or None."""
    return next(iter(validator(name).iter_errors(doc)), None)


def problem(name: str, doc: Any, what: str) -> Optional[str]:
    """One line: where ``doc`` leaves schema ``name`` and why (``what`` names the whole document
    when the problem is at its top), or None when it fits."""
    error = first_error(name, doc)
    if error is None:
        return None
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    return f"{where or what}: {message}"
