"""Every time bound a test gives a subprocess, a socket or a thread is a hang detector stretched by
``kit.patient`` (``IVP_TEST_PATIENCE``), so a loaded machine only makes the run longer. A bare
number in such a call fails here; a line that must stay short says why with ``# not stretched``."""
from __future__ import annotations

import ast
from pathlib import Path

from kit import PATIENCE, patient

TESTS = Path(__file__).resolve().parent
# calls whose ``timeout=`` bounds a wait on another process, a socket or a thread
TIMEOUT_KW = frozenset({"run", "check_output", "check_call", "communicate", "wait", "join", "open",
                        "urlopen", "create_connection", "HTTPConnection", "result", "get"})
# calls whose first argument is that bound (``proc.wait(30)``, ``event.wait(5)``, ``thread.join(5)``)
TIMEOUT_ARG = frozenset({"wait", "join", "communicate"})
EXEMPT = "# not stretched"


def _number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
        and not isinstance(node.value, bool)


def bare_bounds(source: str) -> list[int]:
    """Lines of ``source`` where one of those calls gets a bare number as its time bound."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        bounds = [k.value for k in node.keywords if k.arg == "timeout" and name in TIMEOUT_KW]
        if name in TIMEOUT_ARG and node.args:
            bounds.append(node.args[0])
        if any(_number(b) for b in bounds):
            span = lines[node.lineno - 1:(node.end_lineno or node.lineno)]
            if not any(EXEMPT in line for line in span):
                found.append(node.lineno)
    return found


def test_no_test_bounds_a_wait_with_a_bare_number():
    offenders = [f"{path.name}:{line}" for path in sorted(TESTS.glob("*.py"))
                 for line in bare_bounds(path.read_text(encoding="utf-8"))]
    assert offenders == [], f"wrap these bounds in kit.patient(...): {offenders}"


def test_the_check_sees_each_kind_of_bare_bound():
    assert bare_bounds("subprocess.run(['x'], timeout=60)\n") == [1]
    assert bare_bounds("proc.wait(30)\n") == [1]
    assert bare_bounds("done.wait(timeout=5.0)\n") == [1]
    assert bare_bounds("t.join(5)\n") == [1]
    assert bare_bounds("p.communicate(timeout=300)\n") == [1]
    assert bare_bounds("socket.create_connection(a,\n    timeout=2)\n") == [1]
    assert bare_bounds("subprocess.run(['x'], timeout=patient(60))\nproc.wait(patient(30))\n") == []
    assert bare_bounds("t.join(0.3)  # not stretched: only a pause\n") == []
    assert bare_bounds("ivp('process', timeout=600)\nd.get('k', 1)\n") == []  # own helpers stretch


def test_patience_stretches():
    assert PATIENCE >= 1 and patient(2.0) == 2.0 * PATIENCE
