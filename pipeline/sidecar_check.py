"""Is this JSON a sidecar this ivp can use? The checks :func:`pipeline.sidecar.parse` makes on
every read, before any command touches the data, each answering one line (None when all is well).

* :func:`bounds` - every number finite and below :data:`MAX_NUMBER`, every time within
  :data:`MAX_SECONDS`, nesting no deeper than :data:`MAX_DEPTH` (no recursion: deep JSON is data).
* :func:`schema_problem` - the sidecar schema (``schema/interview.schema.json``) checked on every
  item of every list. The schema uses a few keywords (types, required, properties, items, enum,
  minimum / maximum, pattern, min/maxItems, ``$ref``); they are checked here directly, which reads
  an hour's transcript in a few hundredths of a second where ``jsonschema`` takes a second. A
  schema with any other keyword is handed to ``jsonschema`` whole.
* :func:`voiceprint_problem` - each voiceprint decodes to 192 finite float16 values.
"""
from __future__ import annotations

import base64
import binascii
import math
import re
import struct
from typing import Any, Callable, Optional

MAX_BYTES = 512 << 20  # a sidecar of a ten-hour recording is some tens of MB
MAX_DEPTH = 32  # a sidecar nests about six levels deep
MAX_SECONDS = 1e6  # eleven days: no time in a sidecar is later
MAX_NUMBER = 2.0 ** 53  # counts, rates and settings: nothing larger is meant
TIME_KEYS = frozenset({"start", "end", "duration", "duration_s", "seconds"})
VOICEPRINT_VALUES = 192  # float16 values in a voiceprint (CAM++)
KEYWORDS = frozenset({"$schema", "$id", "$defs", "$ref", "title", "description", "type", "required",
                      "properties", "additionalProperties", "items", "enum", "minimum", "maximum",
                      "pattern", "minItems", "maxItems"})


def bounds(doc: Any) -> Optional[str]:
    """The first number out of bounds, or nesting too deep, as one line."""
    stack: list[tuple[Any, Any, int]] = [(doc, None, 0)]
    while stack:  # a fast pass without paths; the slow one below only names the place
        value, key, depth = stack.pop()
        if depth > MAX_DEPTH:
            return _locate(doc)
        if isinstance(value, dict):
            stack.extend((v, k, depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, None, depth + 1) for v in value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value) or abs(value) > MAX_NUMBER or (
                    key in TIME_KEYS and not 0 <= value <= MAX_SECONDS):
                return _locate(doc)
    return None


def _locate(doc: Any) -> Optional[str]:
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"not a sidecar: JSON nested deeper than {MAX_DEPTH} levels (at {where[:60]}...)"
        if isinstance(value, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value) or abs(value) > MAX_NUMBER:
                return f"{where}: {value!r} is not a number a sidecar holds"
            if where.rsplit(".", 1)[-1] in TIME_KEYS and not 0 <= value <= MAX_SECONDS:
                return f"{where}: {value!r} s is not a time in a recording (0 to {MAX_SECONDS:.0f} s)"
    return None


def schema_problem(doc: Any, schema: dict, fallback: Callable[[Any], Optional[str]]) -> Optional[str]:
    """Where ``doc`` leaves ``schema`` first, as one line; ``fallback`` (``jsonschema``) when the
    schema uses a keyword not checked here."""
    if not _supported(schema):
        return fallback(doc)
    problem = _check(doc, schema, schema.get("$defs", {}))
    if problem is None:
        return None
    where = "".join(reversed(problem[0])).lstrip(".")
    return f"{where or 'the sidecar'}: {problem[1]}"


def _supported(schema: Any) -> bool:
    if isinstance(schema, dict):
        if not KEYWORDS.issuperset(schema):
            return False
        subs = [*schema.get("$defs", {}).values(), *schema.get("properties", {}).values()]
        subs += [schema[k] for k in ("items", "additionalProperties") if isinstance(schema.get(k), dict)]
        return all(_supported(s) for s in subs)
    return True


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check(value: Any, s: dict, defs: dict) -> Optional[tuple[list, str]]:
    """(the path to the first problem, innermost last reversed, what is wrong) or None. The path is
    built only on the way out of a failure: a clean hour of words costs no strings."""
    if "$ref" in s:
        s = defs[s["$ref"].rsplit("/", 1)[-1]]
    kind = s.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_TYPES[k](value) for k in kinds):
            return [], f"{_short(value)} is not of type {', '.join(map(repr, kinds))}"
    if "enum" in s and not any(value == e and isinstance(value, bool) == isinstance(e, bool) for e in s["enum"]):
        return [], f"{_short(value)} is not one of {s['enum']}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in s and value < s["minimum"]:
            return [], f"{value!r} is less than the minimum of {s['minimum']}"
        if "maximum" in s and value > s["maximum"]:
            return [], f"{value!r} is more than the maximum of {s['maximum']}"
    elif isinstance(value, str) and "pattern" in s and not re.search(s["pattern"], value):
        return [], f"{_short(value)} does not match {s['pattern']!r}"
    elif isinstance(value, dict):
        for key in s.get("required", ()):
            if key not in value:
                return [], f"{key!r} is a required property"
        props, more = s.get("properties", {}), s.get("additionalProperties", True)
        for key, item in value.items():
            sub = props.get(key, more)
            if sub is False:
                return [], f"{key!r} is not an expected property"
            if isinstance(sub, dict):
                problem = _check(item, sub, defs)
                if problem:
                    problem[0].append(f".{key}")
                    return problem
    elif isinstance(value, list):
        if len(value) < s.get("minItems", 0) or len(value) > s.get("maxItems", len(value)):
            return [], f"{len(value)} items, not {s.get('minItems', 0)} to {s.get('maxItems', 'any')}"
        items = s.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                problem = _check(item, items, defs)
                if problem:
                    problem[0].append(f"[{i}]")
                    return problem
    return None


def voiceprint_problem(doc: dict) -> Optional[str]:
    for i, v in enumerate(doc.get("voices") or []):
        if v["vector"] == "":  # a speaker with too little speech for a print
            continue
        try:
            raw = base64.b64decode(v["vector"], validate=True)
            values = struct.unpack(f"<{VOICEPRINT_VALUES}e", raw)
        except (binascii.Error, struct.error, ValueError):
            return f"voices[{i}].vector: not a voiceprint (base64 of {VOICEPRINT_VALUES} float16 values)"
        if not all(math.isfinite(x) for x in values):
            return f"voices[{i}].vector: not a voiceprint (values that are not finite)"
    return None
