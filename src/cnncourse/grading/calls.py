"""Refusal and forbidden-call helpers: what torch functions a student's code calls (Section 7.2).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

__all__ = ["MATRIX_PRODUCTS", "CONVOLUTIONS", "READY_MADE_HOMES", "ProductRecorder", "torch_calls",
           "forbid_calls", "ready_made_refused", "no_modules_built"]

# Torch functions that multiply matrices (or vectors), by the name TorchFunctionMode sees.
MATRIX_PRODUCTS = frozenset({
    "matmul", "__matmul__", "__rmatmul__", "mm", "mv", "bmm", "dot", "vdot", "inner", "einsum",
    "tensordot", "linear", "addmm", "addmv", "addbmm", "baddbmm", "multi_dot", "chain_matmul",
})
CONVOLUTIONS = frozenset({
    "conv1d", "conv2d", "conv3d", "convolution", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d",
})
# Where ready-made functions live unless a check names more modules.
READY_MADE_HOMES = ("torch.nn.functional", "torch", "cnncourse.functional")
_WITH_BIAS = frozenset({"addmm", "addmv", "addbmm", "baddbmm"})  # (bias, A, B): the factors are A, B


def _tensors(values: Any) -> list[torch.Tensor]:
    found = []
    for value in values:
        if isinstance(value, torch.Tensor):
            found.append(value.detach().clone())
        elif isinstance(value, (list, tuple)):
            found += _tensors(value)
    return found


class ProductRecorder(TorchFunctionMode):
    """Records every outermost torch call by name, the factors and result of every matrix product,
    and every convolution (Sections 7.2 and 7.4)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.products: list[tuple[str, list[torch.Tensor], torch.Tensor]] = []
        self.convolutions: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        result = func(*args, **(kwargs or {}))
        name = getattr(func, "__name__", repr(func))
        self.names.append(name)
        if name in CONVOLUTIONS:
            self.convolutions.append(name)
        elif name in MATRIX_PRODUCTS and isinstance(result, torch.Tensor):
            factors = _tensors(args)
            factors = factors[1:3] if name in _WITH_BIAS else factors[:2]
            self.products.append((name, factors, result.detach().clone()))
        return result


def torch_calls(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """Call ``fn`` and return its result with the names of the torch functions it called.

    Only the outermost calls are recorded (``X @ W`` is ``"matmul"``, not what it calls inside).
    """
    recorder = ProductRecorder()
    with recorder:
        result = fn(*args, **kwargs)
    return result, recorder.names


@contextlib.contextmanager
def forbid_calls(names: Sequence[str], *namespaces: dict | ModuleType, hint: str = "") -> Iterator[None]:
    """Within the block, calling any of ``names`` found in ``namespaces`` raises AssertionError.

    A namespace is a dict such as a notebook's ``globals()`` or a module; the original
    objects are put back when the block ends.
    """
    saved: list[tuple[dict, str, object]] = []
    for namespace in namespaces:
        table = vars(namespace) if isinstance(namespace, ModuleType) else namespace
        for name in names:
            if name in table:
                saved.append((table, name, table[name]))

                def refuse(*args: Any, _name: str = name, **kwargs: Any) -> None:
                    raise AssertionError(f"this part must not call {_name}. {hint}".rstrip())

                table[name] = refuse
    try:
        yield
    finally:
        for table, name, original in reversed(saved):
            table[name] = original


def _defining_modules(names: Sequence[str], modules: Sequence[ModuleType]) -> list[ModuleType]:
    """The modules where the callables ``names`` of ``modules`` are defined (sorted by name)."""
    found = {}
    for module in modules:
        for name in names:
            value = vars(module).get(name)
            home = sys.modules.get(getattr(value, "__module__", None) or "") if callable(value) else None
            if home is not None and not isinstance(value, ModuleType):
                found[home.__name__] = home
    return [found[key] for key in sorted(found)]


def ready_made_refused(names: Sequence[str], namespace: dict, *modules: ModuleType,
                       hint: str = "") -> contextlib.ExitStack:
    """Refuse the ready-made versions of a part while the student's code runs (Sections 7.2-8.6).

    ``names`` are refused in ``modules`` (default: torch, torch.nn.functional and
    cnncourse.functional), in the modules that define them, and under any alias in
    ``namespace`` (a notebook's ``globals()``) that points at one of those objects.
    Functions the student wrote keep working, whatever their name.

    Returns:
        An ExitStack to use as ``with ready_made_refused(...):``.
    """
    if not modules:
        modules = tuple(importlib.import_module(name) for name in READY_MADE_HOMES)
    everywhere = [*modules, *(m for m in _defining_modules(names, modules) if m not in modules)]
    stack = contextlib.ExitStack()
    originals: dict[int, object] = {}
    for module in everywhere:  # only callables: a submodule that shares a name (functional.convolution) stays
        found = [name for name in names if callable(vars(module).get(name))
                 and not isinstance(vars(module)[name], ModuleType)]
        originals |= {id(vars(module)[name]): vars(module)[name] for name in found}
        stack.enter_context(forbid_calls(found, module, hint=hint))
    aliases = [key for key, value in namespace.items() if id(value) in originals]
    stack.enter_context(forbid_calls(aliases, namespace, hint=hint))
    stack.enter_context(_refused_by_identity(list(originals.values()), hint))
    return stack


@contextlib.contextmanager
def _refused_by_identity(functions: list[object], hint: str) -> Iterator[None]:
    """Refuse ``functions`` however they are reached (a default argument, a list, a closure).

    Renaming module attributes misses a reference taken earlier; a profile hook sees every call:
    Python functions by their code object, C functions (torch's) by identity.
    """
    codes = {f.__code__: getattr(f, "__name__", "?") for f in functions if hasattr(f, "__code__")}
    builtins = {id(f): getattr(f, "__name__", "?") for f in functions if not hasattr(f, "__code__")}
    previous = sys.getprofile()

    def hook(frame, event, arg):  # noqa: ANN001, ANN202
        name = None
        if event == "call":
            name = codes.get(frame.f_code)
        elif event == "c_call":
            name = builtins.get(id(arg))
        if name is not None:
            sys.setprofile(previous)
            raise AssertionError(f"this part must not call {name}. {hint}".rstrip())

    sys.setprofile(hook)
    try:
        yield
    finally:
        sys.setprofile(previous)


@contextlib.contextmanager
def no_modules_built(who: str) -> Iterator[None]:
    """Within the block, constructing any ``torch.nn.Module`` raises AssertionError (Section 8.4).

    For parts whose answer is arithmetic: the student counts, the library does not.
    """
    from torch import nn

    original = nn.Module.__init__

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{who} built a torch.nn module; count the parameters with arithmetic instead")

    nn.Module.__init__ = refuse
    try:
        yield
    finally:
        nn.Module.__init__ = original
