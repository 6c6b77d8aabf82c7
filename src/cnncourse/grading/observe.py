"""Calling a student's function where it lives, and reading its arguments back (Section 8.5).

Test cells never watch *how* a student's code computes: a kernel that ran the student's code can
be made to report anything about its own workings. They check what the code returns. The one thing
a test needs from the kernel where the function lives is the state of the arguments after the call:
did the function change a tensor it was given in place? In a clean test kernel the function gets
copies, so only its own kernel can tell. :func:`observe` asks there (through
:mod:`cnncourse.grading_kernels.test_side` for a stand-in) or here, and test cells written with it
grade the same in one kernel (``nbgrader validate``, a student's own run) and in two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnncourse.grading_kernels.observation import Observation, observe_here
from cnncourse.grading_kernels.test_side import Remote, observe_remote

__all__ = ["Observation", "observe"]


def observe(fn: Callable[..., Any], *args: Any, return_args: bool = False, **kwargs: Any) -> Observation:
    """Call ``fn(*args, **kwargs)`` where ``fn`` lives.

    Args:
        return_args: also read the positional arguments back after the call, where ``fn`` ran.
    """
    if isinstance(fn, Remote):
        return observe_remote(fn, args, kwargs, {"return_args": return_args})
    return observe_here(fn, args, kwargs, return_args=return_args)
