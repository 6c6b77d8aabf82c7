"""Refusal and forbidden-call helpers: what torch functions a student's code calls (Section 7.2).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

from torch.overrides import TorchFunctionMode

__all__ = ["torch_calls", "forbid_calls", "MATRIX_PRODUCTS", "check_one_matrix_product"]


class _Recorder(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        self.names.append(getattr(func, "__name__", repr(func)))
        return func(*args, **(kwargs or {}))


def torch_calls(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """Call ``fn`` and return its result with the names of the torch functions it called.

    Only the outermost calls are recorded (``X @ W`` is ``"matmul"``, not what it calls inside).
    """
    recorder = _Recorder()
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


# Torch functions that multiply matrices (or vectors), by the name TorchFunctionMode sees.
MATRIX_PRODUCTS = frozenset({
    "matmul", "__matmul__", "__rmatmul__", "mm", "mv", "bmm", "dot", "vdot", "inner", "einsum",
    "tensordot", "linear", "addmm", "addmv", "addbmm", "baddbmm", "multi_dot", "chain_matmul",
})
_CONVOLUTIONS = frozenset({
    "conv1d", "conv2d", "conv3d", "convolution", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d",
})


def check_one_matrix_product(name: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Check that ``fn(*args)`` does its work with exactly one matrix product and no convolution op.

    Returns:
        The result of the call, for further checks.
    """
    result, calls = torch_calls(fn, *args)
    convolutions = sorted(set(calls) & _CONVOLUTIONS)
    if convolutions:
        raise AssertionError(f"{name} calls {', '.join(convolutions)}; build the matrix product yourself")
    products = [call for call in calls if call in MATRIX_PRODUCTS]
    if not products:
        raise AssertionError(
            f"{name} performs no matrix product (@, torch.matmul, torch.mm, torch.mv, ...); "
            "the exercise asks for the whole cross-correlation as one matrix product"
        )
    if len(products) > 1:
        raise AssertionError(
            f"{name} performs {len(products)} matrix products for one input; arrange the numbers so "
            "that a single product computes every output entry at once"
        )
    return result
