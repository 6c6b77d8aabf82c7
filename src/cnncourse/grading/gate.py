"""Can a check of *how* a student computed be trusted? A static look at the code (Sections 7.2-8.6).

Values are checked in the clean test kernel, but some checks watch the student's code at work:
ready-made functions refused while it runs, the matrix products it makes, the modules it builds.
That watching happens in the student's kernel, where the notebook's own code could have changed
the watcher. So those checks count only when the notebook's code (every cell that is not the
instructor's) cannot have done that: it imports only ordinary modules, uses none of the
interpreter's back doors (``exec``, ``eval``, ``compile``, ``__import__``, ``getattr`` and
friends, ``globals``, ``vars``), reads no private attribute (``_x``) but its own objects'
(``self._x``), no special one beyond a handful (``__init__``, ``__name__``, ...), none of torch's
machinery (``ops``, ``overrides``, ``jit``, ...), and runs no IPython magic or shell command but
``%time``, ``%timeit`` and ``%matplotlib``. Honest solutions to the exercises need none of it.
"""

from __future__ import annotations

import ast
import importlib
from types import ModuleType

__all__ = ["ALLOWED_MODULES", "BACK_DOORS", "DENIED_TORCH", "SPECIAL_OK", "MODULE_ATTRIBUTES",
           "FRAME_PREFIXES", "back_door"]

# The modules student code may reach, by import or as an attribute (torch.nn.functional): the
# course's tools and nothing that reaches the interpreter (torch.utils.cpp_extension,
# numpy.ctypeslib, ...). cnncourse's own packages, except its grading, are allowed too.
ALLOWED_MODULES = frozenset({
    "__future__", "math", "random", "itertools", "collections", "collections.abc", "typing", "dataclasses",
    "statistics", "fractions", "time", "functools", "textwrap", "pprint", "decimal", "numbers",
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.modules", "torch.nn.parameter",
    "torch.linalg", "torch.fft", "torch.special", "torch.optim", "torch.autograd", "torch.cuda",
    "torch.backends", "torch.distributions", "torch.testing", "torch.random", "torch.types",
    "numpy", "numpy.linalg", "numpy.random", "matplotlib", "matplotlib.pyplot",
})
DENIED_MODULES = ("cnncourse.grading",)
DENIED_TORCH = frozenset({"ops", "overrides", "library", "jit", "fx", "compiler", "multiprocessing",
                          "distributed", "utils", "hub", "package"})
BACK_DOORS = frozenset({"exec", "eval", "compile", "__import__", "getattr", "setattr", "delattr",
                        "globals", "locals", "vars", "open", "breakpoint", "get_ipython", "__builtins__",
                        "memoryview", "attrgetter", "methodcaller", "get_type_hints", "ForwardRef"})
# Attributes that lead to the interpreter: modules that other modules import (``torch.sys``), and
# frames, code and tracebacks (a frame's ``f_back.f_globals`` reaches the watcher's globals).
MODULE_ATTRIBUTES = frozenset({"sys", "os", "builtins", "importlib", "ctypes", "gc", "inspect", "types",
                               "subprocess", "threading", "multiprocessing", "signal", "marshal", "pickle",
                               "shutil", "posix", "io", "runpy", "pkgutil", "site", "atexit", "faulthandler",
                               "traceback", "weakref", "code", "codeop", "linecache", "string", "operator",
                               "ctypeslib", "cpp_extension", "load_inline", "load_library", "cdll", "CDLL",
                               "pythonapi", "dlopen"})
FRAME_PREFIXES = ("f_", "gi_", "cr_", "ag_", "tb_", "co_")
SPECIAL_OK = frozenset({"__init__", "__name__", "__class__", "__len__", "__getitem__", "__call__",
                        "__repr__", "__str__", "__iter__", "__next__", "__doc__", "__eq__", "__hash__"})
_MAGICS_WITH_CODE = frozenset({"time", "timeit"})
_MAGICS_HARMLESS = frozenset({"matplotlib"})


def _python(source: str) -> str:
    """IPython syntax (magics, ``!shell``) turned into Python calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # plain Python: the source is what it is
        return source
    return TransformerManager().transform_cell(source)


def _magic_code(node: ast.Call) -> tuple[str | None, str | None]:
    """``(problem, code)`` of ``get_ipython().run_line_magic/run_cell_magic(...)`` calls."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name) and func.value.func.id == "get_ipython"):
        return None, None
    args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
    if func.attr in ("run_line_magic", "run_cell_magic") and args and args[0] in _MAGICS_HARMLESS:
        return "", None
    with_code = bool(args) and args[0] in _MAGICS_WITH_CODE
    if func.attr == "run_line_magic" and len(args) == 2 and with_code and args[1] is not None:
        words = args[1].split()
        while words and (words[0].startswith("-") or words[0].isdigit()):
            words.pop(0)  # options such as -n 10 -r 3
        return "", " ".join(words)
    if func.attr == "run_cell_magic" and len(args) == 3 and with_code and args[2] is not None:
        return "", args[2]
    what = args[0] if args and args[0] else func.attr
    return f"the IPython command {what!r}", None


def _import_problem(name: str) -> str | None:
    """Why student code may not reach the module ``name`` (None: it may)."""
    if name in ALLOWED_MODULES or name.startswith("cnncourse") and not name.startswith(DENIED_MODULES) \
            and not any(part.startswith("_") for part in name.split(".")):
        return None
    return f"import {name}"


def _imported_is_module(module: str, name: str) -> bool:
    """Whether ``from module import name`` binds a module (resolved here, on the real module)."""
    try:
        return isinstance(getattr(importlib.import_module(module), name), ModuleType)
    except Exception:  # not there: an ImportError at run time, not a back door
        return False


def _import_node_problem(node: ast.AST, modules: dict[str, str]) -> str | None:
    """Problems of an import; records the names it binds in ``modules`` (name -> module path)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            modules[bound] = alias.name if alias.asname else alias.name.split(".")[0]
            if problem := _import_problem(alias.name):
                return problem
    elif isinstance(node, ast.ImportFrom):
        module = node.module or ""
        if node.level or _import_problem(module):
            return f"from {'.' * node.level}{module} import ..."
        for alias in node.names:
            full = f"{module}.{alias.name}"
            name = alias.name
            named = name == "*" or name.startswith("_") or name in BACK_DOORS or name in MODULE_ATTRIBUTES
            if named or _imported_is_module(module, alias.name) and _import_problem(full):
                return f"from {module} import {alias.name}"
            modules[alias.asname or alias.name] = full
    return None


def _module_chain_problem(node: ast.Attribute, modules: dict[str, object]) -> str | None:
    """``torch.nn.x.y`` where a step is a module outside the allowed ones (resolved on real modules)."""
    parts: list[str] = []
    base: ast.expr = node
    while isinstance(base, ast.Attribute):
        parts.append(base.attr)
        base = base.value
    if not isinstance(base, ast.Name) or base.id not in modules:
        return None
    value = modules[base.id]
    for part in reversed(parts):
        try:
            value = getattr(value, part)
        except Exception:  # not there (an error at run time, not a back door)
            return None
        name = getattr(value, "__name__", "") if isinstance(value, ModuleType) else ""
        if name and _import_problem(name):
            return f"{base.id}.{'.'.join(reversed(parts))} (the module {name})"
    return None


def _node_problem(node: ast.AST, allowed_magics: set[int], modules: dict[str, object]) -> str | None:
    """The problem with one node that is not an import (``allowed_magics``: ids of magic-call names)."""
    if isinstance(node, ast.Name) and node.id in BACK_DOORS and id(node) not in allowed_magics:
        return node.id
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("__") and node.attr not in SPECIAL_OK:
            return f".{node.attr}"
        own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
        private = node.attr.startswith("_") and not node.attr.startswith("__")
        if not own and (private or node.attr.startswith(FRAME_PREFIXES) or node.attr in MODULE_ATTRIBUTES):
            return f".{node.attr}"
        if node.attr in DENIED_TORCH:
            return f".{node.attr}"
        if problem := _module_chain_problem(node, modules):
            return problem
    if isinstance(node, ast.Call):
        problem, _ = _magic_code(node)
        if problem == "":
            allowed_magics.add(id(node.func.value.func))  # type: ignore[union-attr]
        return problem or None
    return None


def _loaded(names: dict[str, str]) -> dict[str, object]:
    """The imported modules (or their attributes) bound to ``names``, imported here when allowed."""
    found: dict[str, object] = {}
    for alias, path in names.items():
        module_path, _, attribute = path.rpartition(".")
        for candidate, tail in ((path, ""), (module_path, attribute)):
            if candidate and not _import_problem(candidate):
                try:
                    value = importlib.import_module(candidate)
                    found[alias] = getattr(value, tail) if tail else value
                    break
                except Exception:  # not importable here: its attributes stay unresolved
                    continue
    return found


def back_door(sources: list[str], modules: dict[str, object] | None = None) -> str | None:
    """The first way ``sources`` (a notebook's student code cells) could change how it is watched.

    Args:
        sources: the code cells, in order.
        modules: names the instructor's setup cells bound to modules (``torch``, ``F``, ...).

    Returns:
        ``None`` when there is none, else ``"cell N, line L: what"`` (N counts the given cells from 1).
    """
    imported: dict[str, str] = {}
    trees: list[tuple[int, ast.AST]] = []
    pending = [(number, _python(text)) for number, text in enumerate(sources, start=1)]
    while pending:  # parse every cell (and the code inside %time / %timeit) first ...
        number, code = pending.pop(0)
        try:
            tree = ast.parse(code)
        except SyntaxError as error:
            return f"cell {number}: code that does not parse ({error.msg}, line {error.lineno})"
        trees.append((number, tree))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (nested := _magic_code(node)[1]) is not None:
                pending.append((number, nested))
    found = [(number, node) for number, tree in trees for node in ast.walk(tree)]
    for number, node in found:  # ... then every import, so an alias is known wherever it is used ...
        if problem := _import_node_problem(node, imported):
            return f"cell {number}, line {getattr(node, 'lineno', '?')}: {problem}"
    known = {name: m for name, m in (modules or {}).items() if isinstance(m, ModuleType)} | _loaded(imported)
    allowed_magics: set[int] = set()
    for number, node in found:  # ... then everything else
        if problem := _node_problem(node, allowed_magics, known):
            return f"cell {number}, line {getattr(node, 'lineno', '?')}: {problem}"
    return None
