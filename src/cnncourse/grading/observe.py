"""Calling a student's function where it lives, and reading its arguments back (Section 8.5).

Test cells never watch *how* a student's code computes: a kernel that ran the student's code can
be made to report anything about its own workings. They check what the code returns. The one thing
a test needs from the kernel where the function lives is the state of the arguments after the call:
did the function change a tensor it was given in place? In a clean test kernel the function gets
copies, so only its own kernel can tell. :func:`observe` asks there (through
:mod:`cnncourse.grading.remote` for a stand-in) or here, and test cells written with it grade the
same in one kernel (``nbgrader validate``, a student's own run) and in two.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Observation", "observe", "observe_here", "user_namespace"]


@dataclass
class Observation:
    """What a call returned, and its positional arguments as they were afterwards.

    Attributes:
        result: the return value.
        args: the positional arguments after the call (with ``return_args``; else empty).
    """

    result: Any
    args: tuple = ()


def user_namespace() -> dict:
    """The namespace a notebook's cells run in (IPython's ``user_ns``, else ``__main__``)."""
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821 (defined in IPython kernels)
        return shell.user_ns
    except NameError:
        return vars(sys.modules["__main__"])


def observe_here(fn: Callable[..., Any], args: tuple, kwargs: dict, return_args: bool = False) -> Observation:
    """:func:`observe` for a function that lives in this process."""
    result = fn(*args, **kwargs)
    return Observation(result, args=tuple(args) if return_args else ())


def observe(fn: Callable[..., Any], *args: Any, return_args: bool = False, **kwargs: Any) -> Observation:
    """Call ``fn(*args, **kwargs)`` where ``fn`` lives.

    Args:
        return_args: also read the positional arguments back after the call, where ``fn`` ran.
    """
    from cnncourse.grading.remote import Remote, observe_remote

    if isinstance(fn, Remote):
        return observe_remote(fn, args, kwargs, {"return_args": return_args})
    return observe_here(fn, args, kwargs, return_args=return_args)
