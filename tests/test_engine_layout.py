"""The grading engine's shape (issue 20): no import cycle, one home for the kernels' protocol.

- no import cycle among the modules of ``src/cnncourse`` and ``autograder`` (read statically,
  imports inside functions included), and every module of the grading packages and the engine
  imports on its own in a fresh interpreter;
- the protocol module imports only the standard library, so the grader imports it without
  torch; the engine imports no torch at all;
- code sent to a kernel is built by the protocol module and typed nowhere else.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from cnncourse.grading_kernels import protocol
from cnncourse.grading_kernels.wire import from_text, to_text

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "src" / "cnncourse", ROOT / "autograder"]


def module_name(path: Path) -> str:
    base = ROOT / "src" if path.is_relative_to(ROOT / "src") else ROOT
    parts = list(path.relative_to(base).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for folder in SOURCES for path in sorted(folder.rglob("*.py"))}


def imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports anywhere in it (its package's ``__init__`` for a name
    imported from a package)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of ``graph`` with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_sees_a_cycle_through_an_import_inside_a_function(tmp_path):
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from a import g\n")
    (tmp_path / "c.py").write_text("import a\n")
    modules = {name: tmp_path / f"{name}.py" for name in "abc"}
    graph = {name: imported(name, path, modules) for name, path in modules.items()}
    assert cycles(graph) == [["a", "b"]]


def test_no_module_of_the_package_or_the_grader_imports_itself_through_others():
    graph = {name: imported(name, path, MODULES) for name, path in MODULES.items()}
    assert graph["cnncourse.grading.observe"] >= {"cnncourse.grading_kernels.test_side"}
    assert cycles(graph) == [], "import cycles: break each by moving what both need into a third module"


def test_nothing_in_the_kernels_package_imports_the_test_cell_helpers():
    kernels = {name: path for name, path in MODULES.items() if name.startswith("cnncourse.grading_kernels")}
    assert "cnncourse.grading_kernels.protocol" in kernels
    for name, path in kernels.items():
        helpers = {m for m in imported(name, path, MODULES) if m.startswith("cnncourse.grading.")
                   or m == "cnncourse.grading"}
        assert not helpers, f"{name} imports {helpers}: test cells' helpers use the kernels, not back"


def test_the_protocol_module_imports_only_the_standard_library():
    path = MODULES["cnncourse.grading_kernels.protocol"]
    tops = {alias.name.split(".")[0] for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Import) for alias in node.names}
    tops |= {(node.module or "").split(".")[0] for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.ImportFrom) and not node.level}
    assert tops <= set(sys.stdlib_module_names), tops - set(sys.stdlib_module_names)


def test_code_for_a_kernel_is_written_only_by_the_protocol_module():
    typed = [name for name, path in MODULES.items() if name != "cnncourse.grading_kernels.protocol"
             and not name.startswith("autograder.gates") and '__import__("cnncourse' in path.read_text()]
    assert typed == [], f"{typed} type code for a kernel: build it with cnncourse.grading_kernels.protocol"


def fresh(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_the_grader_imports_the_protocol_and_the_engine_without_torch():
    done = fresh("import sys\nimport cnncourse.grading_kernels.protocol\nassert 'torch' not in sys.modules\n"
                 "import autograder.engine.execute, autograder.engine.test_kernel, autograder.engine.bridge\n"
                 "assert 'torch' not in sys.modules, 'the engine imported torch'\n")
    assert done.returncode == 0, done.stderr[-2000:]


GRADING = sorted(name for name in MODULES if name.startswith(("cnncourse.grading", "autograder.engine")))


@pytest.mark.slow
@pytest.mark.parametrize("name", GRADING)
def test_every_grading_module_imports_on_its_own(name):
    """Imported first in a fresh interpreter, no module meets a half-initialised one (an import cycle)."""
    done = fresh(f"import {name}")
    assert done.returncode == 0, done.stderr[-2000:]


# ------------------------------------------------------------------ the protocol itself
def test_a_call_into_the_test_kernel_is_code_that_calls_the_test_side(monkeypatch):
    code = protocol.call("begin_test_cell", ["X", "K"])
    assert code == ('__import__("cnncourse.grading_kernels.test_side", fromlist=["begin_test_cell"])'
                    ".begin_test_cell(['X', 'K'])")
    assert ast.parse(code)  # one expression, nothing else
    with pytest.raises(ValueError, match="entry point"):
        protocol.call("os.system")
    with pytest.raises(ValueError, match="str or a list of str"):
        protocol.call("begin_test_cell", object())


def test_the_grader_sends_only_base64_to_the_student_kernel():
    assert protocol.serve_call("QUJD") == ('__import__("cnncourse.grading_kernels.student_side", '
                                           'fromlist=["serve"]).serve("QUJD")')
    for text in ['") ; import os; ("', "QUJD\n", "Q" * (protocol.MAX_TEXT + 4)]:
        assert not protocol.well_formed(text)
        with pytest.raises(protocol.ProtocolError):
            protocol.serve_call(text)


def test_an_answer_is_read_from_the_last_begin_marker_and_the_rest_is_what_the_student_printed():
    printed = f"hello\n{protocol.framed('Zm9v')}{protocol.BEGIN}QUJD{protocol.END}\nbye\n"
    assert protocol.unframe(printed) == ("QUJD", f"hello\n{protocol.framed('Zm9v')}\nbye\n")
    assert protocol.unframe("no answer\n") == ("", "no answer\n")
    assert protocol.unframe(f"{protocol.BEGIN}QUJD") == ("", f"{protocol.BEGIN}QUJD")


def test_a_request_prompt_and_a_failure_reply_read_back():
    assert protocol.request_text(protocol.request_prompt("QUJD")) == "QUJD"
    assert protocol.request_text("Password: ") is None
    assert protocol.failure_reason(protocol.failure("it died")) == "it died"
    assert protocol.failure_reason("QUJD") is None
    assert protocol.bytes_of(protocol.text_of(b"\x00\xff")) == b"\x00\xff"
    with pytest.raises(protocol.ProtocolError, match="not base64"):
        protocol.bytes_of("!!")


def test_request_names_tags_and_replies_are_plain_strings_that_safe_loading_accepts():
    for holder in (protocol.Request, protocol.Tag, protocol.Reply):
        values = [value for key, value in vars(holder).items() if key.isupper()]
        assert values and all(type(value) is str for value in values), holder
        assert len(set(values)) == len(values), holder
        assert from_text(to_text(values)) == values  # torch.load(weights_only=True) rebuilds them
