"""``study.toml`` beside the interviews: a person's edits to the themes, kept across rebuilds.

Themes are keyed by stable ids (``t`` + 8 hex digits, shown in ``study.json`` and on the study
page). An id is derived from the theme's member quotes and carried over to the next build's theme
that shares most of them (``.ivp/study-themes.json`` remembers the members), so an edit stays
with its theme when interviews are added. See docs/study.md::

    [themes.t1a2b3c4d]
    name = "Spreadsheet workarounds"   # rename

    [themes.t5e6f7a8b]
    merge_into = "t1a2b3c4d"           # its quotes join that theme

    [themes.t0badc0de]
    hide = true                        # not shown, not exported
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Optional

from ..recording import display
from ..recording.outputs import atomic_write_text
from ..sidecar import locked
from .themes import Theme, sort_themes, spread

FILE_NAME = "study.toml"
REGISTRY = "study-themes.json"
KEEP_OVERLAP = 0.5  # a new theme keeps an old id when it shares at least half of the smaller one's quotes


def read(folder: Path) -> tuple[dict, list[str]]:
    """The ``[themes.*]`` tables of ``folder/study.toml`` and any problems with it (one line each)."""
    path = Path(folder) / FILE_NAME
    if not path.is_file():
        return {}, []
    shown = display(path)
    problems = []
    try:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # saved by an old Windows editor: read it, and say so once
            text = raw.decode("cp1252", "replace")
            problems.append(f"{shown}: study.toml: not UTF-8; read as Windows-1252 (save it as UTF-8)")
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"{shown}: study.toml: cannot read it: {' '.join(str(exc).split())}"]
    themes = data.get("themes", {})
    if not isinstance(themes, dict):
        return {}, problems + [f"{shown}: study.toml: [themes] must be a table of tables"]
    good = {}
    for tid, edit in themes.items():
        if not isinstance(edit, dict):
            problems.append(f"{shown}: study.toml: themes.{tid} must be a table")
            continue
        unknown = set(edit) - set(KEY_TYPES)
        if unknown:
            problems.append(f"{shown}: study.toml: themes.{tid}: unknown key(s) {', '.join(sorted(unknown))}")
        kept = {}
        for key, (kind, what) in KEY_TYPES.items():
            if key not in edit:
                continue
            if isinstance(edit[key], kind):
                kept[key] = edit[key]
            else:  # name = 5, hide = "yes": said, and left out
                problems.append(f"{shown}: study.toml: themes.{tid}.{key} must be {what}, not "
                                f"{edit[key]!r} (ignored)")
        good[str(tid)] = kept
    return good, problems


KEY_TYPES = {"name": (str, "text in quotes"), "hide": (bool, "true or false"),
             "merge_into": (str, "a theme id in quotes")}


def carry_ids(themes: list[Theme], state_dir: Path) -> None:
    """Give each theme the id of the previous build's theme it overlaps most, then remember them."""
    path = Path(state_dir) / REGISTRY
    try:
        previous: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    old_sets = {tid: set(h) for tid, h in previous.items()}
    pairs = []
    for i, t in enumerate(themes):
        mine = set(t.members)
        for tid, theirs in old_sets.items():
            shared = len(mine & theirs)
            if shared and shared / min(len(mine), len(theirs)) >= KEEP_OVERLAP:
                pairs.append((-shared, i, tid))
    taken_themes, taken_ids = set(), set()
    for _neg, i, tid in sorted(pairs):
        if i in taken_themes or tid in taken_ids:
            continue
        themes[i].id = tid
        taken_themes.add(i)
        taken_ids.add(tid)
    for i, t in enumerate(themes):  # a fresh id equal to one just carried over (practically never)
        if i not in taken_themes and t.id in taken_ids:
            t.id += "x"
    registry = dict(previous)  # ids of themes gone for now stay known, should they come back
    registry.update({t.id: sorted(t.members) for t in themes})
    atomic_write_text(path, json.dumps(registry, sort_keys=True) + "\n")


def apply(themes: list[Theme], edits: dict, where: str = FILE_NAME) -> tuple[list[Theme], list[str]]:
    """Themes after the merges, renames and hides of ``edits``; problems for ids that match nothing."""
    by_id = {t.id: t for t in themes}
    problems = []
    for tid, edit in edits.items():
        if tid not in by_id:
            problems.append(f"{where}: theme {tid} is not in this build (skipped)")
    for tid, edit in sorted(edits.items()):
        target_id = edit.get("merge_into")
        if not target_id or tid not in by_id:
            continue
        target = by_id.get(_final(str(target_id), edits, by_id))
        if target is None or target.id == tid:
            problems.append(f"{where}: theme {tid}: merge_into {target_id} is not a theme (skipped)")
            continue
        source = by_id.pop(tid)
        target.quotes = spread(sorted(target.quotes + source.quotes, key=lambda q: (-q.similarity, q.doc, q.start)))
        target.docs = sorted(set(target.docs) | set(source.docs))
        target.members = sorted(set(target.members) | set(source.members))
        target.edited.setdefault("merged", []).append(tid)
    out = []
    for t in by_id.values():
        edit = edits.get(t.id, {})
        if isinstance(edit.get("name"), str) and edit["name"].strip():
            t.edited["renamed_from"] = t.name
            t.name = edit["name"].strip()
        if edit.get("hide") is True:
            t.edited["hidden"] = True
            continue
        out.append(t)
    return sort_themes(out), problems


def _final(tid: str, edits: dict, by_id: dict, depth: int = 0) -> Optional[str]:
    """Follow merge_into chains (a -> b -> c) to the theme that stays."""
    nxt = edits.get(tid, {}).get("merge_into")
    if not nxt or depth > 20:
        return tid
    return _final(str(nxt), edits, by_id, depth + 1)


def edit(folder: Path, tid: str, name: Optional[str] = None, hide: Optional[bool] = None,
         merge_into: Optional[str] = None) -> Path:
    """Change one theme's table in ``folder/study.toml`` (``ivp serve``'s rename, hide and merge),
    keeping everything else in the file as the person wrote it, comments included (tomlkit); the
    write is atomic, under the folder's lock. A file that does not parse is refused, not replaced."""
    import tomlkit  # lazy: only an edit from the browser writes study.toml

    path = Path(folder) / FILE_NAME
    if not tid or not all(c.isalnum() for c in tid):
        raise ValueError(f"{tid!r} is not a theme id")
    with locked(path):  # the folder's lock: the one sidecar writers take
        try:
            doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.is_file() else tomlkit.document()
        except (OSError, UnicodeDecodeError, tomlkit.exceptions.ParseError) as exc:
            raise ValueError(f"{display(path)}: cannot read it, so it is not changed: {' '.join(str(exc).split())}") from None
        if "themes" not in doc:
            doc["themes"] = tomlkit.table(is_super_table=True)
        themes = doc["themes"]
        if tid not in themes:
            themes[tid] = tomlkit.table()
        table = themes[tid]
        if name is not None:
            if name.strip():
                table["name"] = " ".join(name.split())
            else:
                table.pop("name", None)
        if hide is not None:
            if hide:
                table["hide"] = True
            else:
                table.pop("hide", None)
        if merge_into is not None:
            if merge_into.strip() and merge_into.strip() != tid:
                table["merge_into"] = merge_into.strip()
            else:
                table.pop("merge_into", None)
        atomic_write_text(path, tomlkit.dumps(doc))
    return path
