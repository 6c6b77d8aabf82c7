"""One way for a test to call a student's code and watch how it computes (Sections 7.2-8.6).

:func:`observe` calls a student's function with some ready-made functions refused, the torch
calls and matrix products recorded, module construction forbidden, and the arguments read back
afterwards (were they changed in place?). Where the function lives in another kernel (a stand-in
from :mod:`cnncourse.grading.remote`), the call and the watching happen there and only the
observations come back, as safe data; otherwise they happen here. Test cells written with it
grade the same in one kernel (``nbgrader validate``, a student's own run) and in two.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import torch

from cnncourse.grading.calls import READY_MADE_HOMES, ProductRecorder, no_modules_built, ready_made_refused

__all__ = ["Observation", "observe", "observe_here", "call_refusing", "call_without_modules",
           "user_namespace"]


@dataclass
class Observation:
    """What a call returned and what was seen while it ran.

    Attributes:
        result: the return value.
        names: names of the outermost torch functions called (with ``record``).
        products: ``(name, factors, result)`` of every matrix product (with ``record``).
        convolutions: names of the convolutions called (with ``record``).
        args: the positional arguments as they were after the call (with ``return_args``).
    """

    result: Any
    names: list[str] = field(default_factory=list)
    products: list[tuple[str, list[torch.Tensor], torch.Tensor]] = field(default_factory=list)
    convolutions: list[str] = field(default_factory=list)
    args: tuple = ()


def user_namespace() -> dict:
    """The namespace a notebook's cells run in (IPython's ``user_ns``, else ``__main__``)."""
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821 (defined in IPython kernels)
        return shell.user_ns
    except NameError:
        return vars(sys.modules["__main__"])


def _modules(names: Sequence[str | ModuleType]) -> tuple[ModuleType, ...]:
    return tuple(m if isinstance(m, ModuleType) else importlib.import_module(m) for m in names)


def observe_here(fn: Callable[..., Any], args: tuple, kwargs: dict, refuse: Sequence[str] = (),
                 refuse_in: Sequence[str] = (), hint: str = "", record: bool = False,
                 forbid_modules: str = "", return_args: bool = False) -> Observation:
    """:func:`observe` for a function that lives in this process."""
    with contextlib.ExitStack() as stack:
        if refuse:
            everywhere = _modules([*READY_MADE_HOMES, *refuse_in])  # refuse_in adds to the usual homes
            stack.enter_context(ready_made_refused(list(refuse), user_namespace(), *everywhere, hint=hint))
        if forbid_modules:
            stack.enter_context(no_modules_built(forbid_modules))
        recorder = stack.enter_context(ProductRecorder()) if record else None
        result = fn(*args, **kwargs)
    seen = Observation(result, args=tuple(args) if return_args else ())
    if recorder is not None:
        seen.names, seen.products = recorder.names, recorder.products
        seen.convolutions = recorder.convolutions
    return seen


def observe(fn: Callable[..., Any], *args: Any, refuse: Sequence[str] = (),
            refuse_in: Sequence[str | ModuleType] = (), hint: str = "", record: bool = False,
            forbid_modules: str = "", return_args: bool = False, **kwargs: Any) -> Observation:
    """Call ``fn(*args, **kwargs)`` where ``fn`` lives, watching how it computes.

    Args:
        refuse: names of ready-made functions that raise AssertionError while ``fn`` runs (in
            torch, torch.nn.functional, cnncourse.functional, ``refuse_in`` and the notebook's
            namespace, under any alias there); ``hint`` ends their message.
        refuse_in: more modules (or their import names) to refuse ``refuse`` in.
        record: record the torch calls, matrix products and convolutions.
        forbid_modules: when not empty, building any torch.nn module raises an AssertionError
            that names this string as the culprit.
        return_args: read the positional arguments back after the call.
    """
    from cnncourse.grading.remote import Remote, observe_remote

    options = {"refuse": list(refuse), "refuse_in": [m.__name__ if isinstance(m, ModuleType) else m
                                                     for m in refuse_in],
               "hint": hint, "record": record, "forbid_modules": forbid_modules, "return_args": return_args}
    if isinstance(fn, Remote):
        return observe_remote(fn, args, kwargs, options)
    return observe_here(fn, args, kwargs, **options)


def call_refusing(refuse: Sequence[str], fn: Callable[..., Any], *args: Any,
                  refuse_in: Sequence[str | ModuleType] = (), hint: str = "", **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with the ready-made functions ``refuse`` refused (see :func:`observe`)."""
    return observe(fn, *args, refuse=refuse, refuse_in=refuse_in, hint=hint, **kwargs).result


def call_without_modules(who: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` where building a torch.nn module fails, naming ``who`` (Section 8.4)."""
    return observe(fn, *args, forbid_modules=who, **kwargs).result
