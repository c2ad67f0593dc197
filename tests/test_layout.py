"""The package's shape: the import graph check (scripts/import_graph.py) and CLI hygiene."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "import_graph.py"


def run_graph(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_the_package_import_graph_has_no_cycle_no_upward_arrow_and_no_unexplained_long_module():
    result = run_graph()
    assert result.returncode == 0, result.stderr
    assert "== drivers" in result.stdout and "pipeline.cli -> " in result.stdout
    assert "0 problem(s)" in result.stderr


def write(root, name, text):
    path = root / "pipeline" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_graph_check_fails_on_a_cycle_an_upward_arrow_a_long_module_and_an_unplaced_one(tmp_path):
    write(tmp_path, "__init__.py", "")
    write(tmp_path, "interview.py", "from .config import X\n")
    write(tmp_path, "config.py", "def f():\n    from . import interview\n")  # lazy still counts
    write(tmp_path, "stages/__init__.py", "")
    write(tmp_path, "stages/roles.py", '"""Roles."""\nfrom ..batch import run\n' + "x = 1\n" * 420)
    write(tmp_path, "batch.py", "from .stages import roles\n")
    write(tmp_path, "gadget.py", "")
    result = run_graph("--root", tmp_path)
    assert result.returncode == 1
    err = result.stderr
    assert "cycle: pipeline.config <-> pipeline.interview" in err
    assert "upward: pipeline.stages.roles (stages) imports pipeline.batch (drivers)" in err
    assert "too long: pipeline.stages.roles has 422 lines" in err
    assert "no layer: pipeline.gadget" in err
    assert "cycle: pipeline.batch <-> pipeline.stages.roles" in err
    # a long module whose docstring says why passes that check
    write(tmp_path, "stages/roles.py", '"""Roles.\n\nWhy this long: one table.\n"""\n' + "x = 1\n" * 420)
    assert "too long" not in run_graph("--root", tmp_path).stderr
    dot = run_graph("--root", tmp_path, "--dot").stdout
    assert dot.startswith("digraph") and '"pipeline.batch" -> "pipeline.stages.roles";' in dot


def test_the_graph_check_fails_on_a_cycle_between_packages_and_a_stage_touching_sidecars(tmp_path):
    """No module cycle, but two packages import each other (export.a -> study.b -> export.c);
    a package's cli module is its own unit; a stage importing the sidecar module is refused."""
    write(tmp_path, "__init__.py", "")
    for package in ("export", "study", "stages"):
        write(tmp_path, f"{package}/__init__.py", "")
    write(tmp_path, "export/a.py", "from ..study import b\n")
    write(tmp_path, "study/b.py", "from ..export import c\n")
    write(tmp_path, "export/c.py", "")
    write(tmp_path, "export/cli.py", "from ..study import b\n")
    write(tmp_path, "sidecar.py", "")
    write(tmp_path, "stages/voices.py", "from .. import sidecar\n")
    err = run_graph("--root", tmp_path).stderr
    assert "package cycle: pipeline.export <-> pipeline.study" in err
    assert "forbidden: pipeline.stages.voices imports pipeline.sidecar" in err
    assert "\ncycle:" not in "\n" + err  # modules alone form no cycle
    write(tmp_path, "export/a.py", "")  # only the command imports the study now
    err = run_graph("--root", tmp_path).stderr
    assert "package cycle" not in err


def test_every_import_inside_a_function_says_why_it_is_lazy():
    """An import of the package's own modules or of a library belongs at the top of the module,
    unless it is heavy (torch, Ray, Jinja ...) or would close a cycle: then a ``# lazy: why``
    comment on its line (or the line above) says so; the imports right after it share it."""
    import ast

    bare = []
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            covered, last = False, -1  # last: the end line of the previous import
            found = [n for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))]
            for node in sorted(found, key=lambda n: n.lineno):
                here, above = lines[node.lineno - 1], lines[node.lineno - 2]
                said = "# lazy:" in here or above.strip().startswith("# lazy:")
                covered = said or (covered and node.lineno - 1 == last)
                last = node.end_lineno
                if not covered:
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno}: {here.strip()}")
    assert not bare, "imports inside functions without a '# lazy: why' comment:\n" + "\n".join(bare)


def ivp(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})})


def test_version_short_flag_and_every_subcommand_registered():
    from pipeline import __version__
    assert ivp("-V").stdout.strip() == f"ivp, version {__version__}"
    help_text = ivp("--help").stdout
    for command in ("process", "models", "watch", "status", "export", "mark", "report"):
        assert f"\n  {command} " in help_text, help_text


@pytest.mark.parametrize("command", ["process", "watch"])
def test_a_bad_speaker_count_names_the_option(command, tmp_path):
    result = ivp(command, str(tmp_path), "--speakers", "two")
    assert result.returncode == 2
    assert "Invalid value for '--speakers': 'two': a number or 'auto'" in result.stderr
    assert "'--speakers': '0': at least 1" in ivp(command, str(tmp_path), "--speakers", "0").stderr


def test_subcommand_modules_import_nothing_from_the_main_cli_and_change_no_process_state():
    code = ("import os, sys; os.umask(0o027)\n"
            "import pipeline.watch.cli, pipeline.export.cli, pipeline.report.cli, pipeline.sidecar\n"
            "assert 'pipeline.cli' not in sys.modules, 'a subcommand imported pipeline.cli'\n"
            "print(oct(os.umask(0o022)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0o27"


def test_sidecars_get_the_users_umask_not_0600(tmp_path):
    code = ("import os, pathlib; os.umask(0o027)\n"
            "from pipeline.sidecar import atomic_write_text\n"
            f"atomic_write_text(pathlib.Path({str(tmp_path / 'x.json')!r}), '{{}}')\n"
            f"print(oct(os.stat({str(tmp_path / 'x.json')!r}).st_mode & 0o777))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "0o640", result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temp file left behind
