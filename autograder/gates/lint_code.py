"""What the code of a source cell may do, read from its syntax tree (``python -m autograder lint``).

A test cell runs in the clean test kernel, where the student's names arrive as copies (data) or
stand-ins (everything else), and must grade the same there and in one ordinary kernel: the five
test-cell rules of ``course/AUTHORING.md``. The setup cell runs in both kernels first: imports,
seeds and given data only.
"""

from __future__ import annotations

import ast

from autograder.engine.names import free_names

__all__ = ["bound_names", "test_cell_problems", "setup_problems"]

_HOW_MODULES = {"inspect", "dis", "tracemalloc", "gc", "ctypes"}
_HOW_ATTRS = {"settrace", "setprofile", "_getframe", "__code__", "__globals__", "f_locals", "f_globals",
              "__closure__"}  # and sys.modules (not nn.Module.modules())
_IDENTITY_CALLS = {"id", "hash", "dir", "copy", "deepcopy", "getsizeof", "ref", "getsource"}
_MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update",
             "setdefault", "popitem", "add", "discard", "__setitem__", "__setattr__"}
_SEED = {"manual_seed", "seed"}


def bound_names(source: str) -> set[str]:
    """Names ``source`` binds at the top level of a cell (what later cells can read): assignments,
    definitions, imports and loop targets, inside if/for/while/with/try but not inside a function."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return set()
    bound: set[str] = set()
    todo = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            continue
        if isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        if not isinstance(node, (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            todo.extend(ast.iter_child_nodes(node))
    return bound


def _root(node: ast.AST) -> str | None:
    """The name at the root of ``a.b[c].d``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def test_cell_problems(source: str, students: set[str], defined: set[str]) -> list[tuple[int, str, str, str]]:
    """(line, rule, what, fix) for the clean-kernel rules 1-5 on one test cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [(error.lineno or 1, "metadata", f"the cell is not Python ({error.msg})",
                 "write plain Python in test cells (no %magics or !commands)")]
    found = []
    mine = students & set(free_names(source))
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 1)
        if isinstance(node, ast.Name) and node.id in {"globals", "locals", "vars"}:
            found.append((line, "rule1-namespace", f"reads the namespace table {node.id}()",
                          "name the variable itself, e.g. `answer_bn` instead of globals()['answer_bn']"))
        elif isinstance(node, ast.Name) and node.id == "type":
            found.append((line, "rule2-type", "calls type(), which says Remote for a student object",
                          "use `x.__class__.__name__` or `isinstance(x, nn.Conv2d)`"))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = {(a.name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
                       for a in node.names}
            if modules & _HOW_MODULES:
                found.append((line, "rule1-how", f"imports {sorted(modules & _HOW_MODULES)[0]}, which "
                              "watches how code runs", "ask the student to return what the method produces "
                              "(a matrix, the windows, a list of layers) and check that data"))
        elif isinstance(node, ast.Attribute) and (node.attr in _HOW_ATTRS or (
                node.attr == "modules" and isinstance(node.value, ast.Name) and node.value.id == "sys")):
            found.append((line, "rule1-how", f"reads .{node.attr}, which watches how code runs",
                          "ask for data the test can check (return what the method produces)"))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if isinstance(target, (ast.Attribute, ast.Subscript)) and _root(target) in mine:
                    found.append((line, "rule3-in-place", f"changes the student's {_root(target)} in place",
                                  "build a new value locally and hand it over with a call, e.g. "
                                  "`block.load_state_dict(state)`"))
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if isinstance(func, ast.Attribute) and _root(func.value) in mine and (
                    called in _MUTATORS or (called.endswith("_") and not called.endswith("__"))):
                found.append((line, "rule3-in-place", f"calls {_root(func.value)}...{called}(), which "
                              "changes a student object in place", "compute on a copy (`x.clone()`, "
                              "`list(x)`)"))
            if called in {"setattr", "delattr"} and node.args and _root(node.args[0]) in mine:
                found.append((line, "rule3-in-place", f"{called}() on the student's {_root(node.args[0])}",
                              "hand new values over with a call, e.g. `block.load_state_dict(state)`"))
            if called in _IDENTITY_CALLS and any(_root(a) in mine for a in node.args):
                found.append((line, "rule5-use", f"{called}() of a student object (a stand-in there)",
                              "use it only through calls, attributes, iteration, len, indexing, isinstance"))
    first_read = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            first_read[node.id] = min(first_read.get(node.id, node.lineno), node.lineno)
    for name in sorted(set(free_names(source)) - defined):
        found.append((first_read.get(name, 1), "rule4-names", f"reads {name!r}, which no setup cell, answer "
                      "cell or import in this cell defines (another test cell's names are forgotten)",
                      f"import or define {name!r} in this cell or in the setup cell"))
    return found


def setup_problems(source: str) -> list[tuple[int, str]]:
    try:
        body = ast.parse(source).body
    except SyntaxError as error:
        return [(error.lineno or 1, f"the setup cell is not Python ({error.msg})")]
    bad = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)):
            continue
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call) and getattr(call.func, "attr", getattr(call.func, "id", "")) in _SEED:
            continue
        bad.append((node.lineno, f"runs a {node.__class__.__name__} statement"))
    return bad
