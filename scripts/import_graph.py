#!/usr/bin/env python3
"""Print the import graph of the ``pipeline`` package and check its shape (ast only, no deps).

    python scripts/import_graph.py            # the graph by layer, then the problems
    python scripts/import_graph.py --dot      # Graphviz: ... --dot | dot -Tsvg > graph.svg

Exit 1 when the graph has a cycle, an arrow from a lower layer up to a higher one, a module not
placed in a layer, or a module over MAX_LINES lines whose docstring has no line starting with
"Why this long:" (one concept that needs the room). Every import counts, also those inside
functions: a lazy import still ties two modules together. Imports of the root package
``pipeline`` (its ``__version__``) are left out: Python runs it before any submodule anyway.
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "pipeline"
MAX_LINES = 400
WHY_LONG = "Why this long:"

# Lowest first; a module may import its own layer and the ones below, never one above.
# The first matching prefix wins (so "pipeline.stages" before "pipeline").
LAYERS: list[tuple[str, list[str]]] = [
    ("model/data", ["pipeline.terminal", "pipeline.schemas", "pipeline.interview", "pipeline.config", "pipeline.errors", "pipeline.progress",
                    "pipeline.timefmt", "pipeline.sidecar", "pipeline.sidecar_check", "pipeline.weights", "pipeline.ort_session", "pipeline.text",
                    "pipeline.question_rules", "pipeline.cues", "pipeline.voicelib", "pipeline.recording",
                    "pipeline.voiceprint", "pipeline.edits", "pipeline.edits_store"]),  # edits: the layer every sidecar read applies
    ("stages", ["pipeline.stages", "pipeline.metrics"]),  # metrics: what people read of an Interview
    ("runner", ["pipeline.runner", "pipeline"]),  # the root package itself (only) is the API: process()
    ("executors", ["pipeline.executors"]),
    ("produce", ["pipeline.produce"]),  # one recording to its sidecar, for every driver
    ("drivers", ["pipeline.batch", "pipeline.watch", "pipeline.cli", "pipeline.cli_options",
                 "pipeline.__main__", "pipeline.progress_bar", "pipeline.report", "pipeline.export",
                 "pipeline.study", "pipeline.roles_cli", "pipeline.serve"]),
]


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or (prefix != PACKAGE and module.startswith(prefix + ".")):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), index)
    return None if best is None else best[1]


def modules(root: Path = ROOT) -> dict[str, Path]:
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports (a ``from pkg import sub`` names the submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # "pipeline.x.Y" -> "pipeline.x"
                target = target.rpartition(".")[0]
            if target and target != name and target != PACKAGE:
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


# (importer prefix, imported module): arrows the layers allow but a rule forbids
FORBIDDEN: list[tuple[str, str, str]] = [
    ("pipeline.stages", "pipeline.sidecar", "stages never read or write sidecars (pipeline/produce.py does)"),
]


def package_of(module: str, packages: set[str]) -> str:
    """The top-level unit of ``module``: ``pipeline.study.index`` -> ``pipeline.study``; a
    module directly in ``pipeline`` is its own unit, and so is a package's ``cli`` module (the
    commands sit above every package's outputs: ``ivp export --reel`` may call the study's
    command while the study builds reels on the export writers)."""
    parts = module.split(".")
    if parts[-1] == "cli":
        return module
    top = ".".join(parts[:2])
    return top if top in packages else module


def package_graph(graph: dict[str, set[str]], paths: dict[str, Path]) -> dict[str, set[str]]:
    """The import graph between the package's sub-packages and top-level modules."""
    packages = {name for name, path in paths.items() if path.name == "__init__.py" and name != PACKAGE}
    out: dict[str, set[str]] = {}
    for name, targets in graph.items():
        src = package_of(name, packages)
        out.setdefault(src, set())
        for target in targets:
            dst = package_of(target, packages)
            if dst != src:
                out[src].add(dst)
    return out


def problems(graph: dict[str, set[str]], paths: dict[str, Path]) -> list[str]:
    out = []
    for component in cycles(graph):
        out.append("cycle: " + " <-> ".join(component))
    for component in cycles(package_graph(graph, paths)):
        out.append("package cycle: " + " <-> ".join(component))
    for name in sorted(graph):
        for prefix, target, why in FORBIDDEN:
            if (name == prefix or name.startswith(prefix + ".")) and target in graph[name]:
                out.append(f"forbidden: {name} imports {target}: {why}")
    for name in sorted(graph):
        src = layer_of(name)
        if src is None:
            out.append(f"no layer: {name} (place it in LAYERS in scripts/import_graph.py)")
            continue
        for target in sorted(graph[name]):
            dst = layer_of(target)
            if dst is not None and dst > src:
                out.append(f"upward: {name} ({LAYERS[src][0]}) imports {target} ({LAYERS[dst][0]})")
    for name, path in sorted(paths.items()):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n") + (not text.endswith("\n"))
        if lines > MAX_LINES:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if not any(line.strip().startswith(WHY_LONG) for line in doc.splitlines()):
                out.append(f"too long: {name} has {lines} lines and no '{WHY_LONG}' docstring line")
    return out


def build(root: Path = ROOT) -> tuple[dict[str, set[str]], dict[str, Path]]:
    paths = modules(root)
    known = set(paths)
    return {name: imports(name, path, known) for name, path in paths.items()}, paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot", action="store_true", help="print Graphviz dot instead")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository root")
    args = parser.parse_args(argv)
    graph, paths = build(args.root)
    if args.dot:
        print("digraph pipeline {\n  rankdir=BT; node [shape=box, fontsize=10];")
        for index, (label, _) in enumerate(LAYERS):
            members = [n for n in sorted(graph) if layer_of(n) == index]
            print(f'  subgraph "cluster_{index}" {{ label="{label}"; '
                  + " ".join(f'"{n}";' for n in members) + " }")
        for name in sorted(graph):
            for target in sorted(graph[name]):
                print(f'  "{name}" -> "{target}";')
        print("}")
    else:
        for index, (label, _) in enumerate(LAYERS):
            print(f"== {label}")
            for name in sorted(n for n in graph if layer_of(n) == index):
                deps = ", ".join(sorted(graph[name])) or "-"
                print(f"  {name} -> {deps}")
    found = problems(graph, paths)
    for line in found:
        print(line, file=sys.stderr)
    print(f"{len(graph)} modules, {sum(len(v) for v in graph.values())} imports, "
          f"{len(found)} problem(s)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
