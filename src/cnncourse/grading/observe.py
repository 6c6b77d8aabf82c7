"""Calling a student's function where it lives (Section 8.5).

Test cells never watch *how* a student's code computes, nor what it did to its arguments: a kernel
that ran the student's code can be made to report anything about its own workings. They check
what the code returns. :func:`observe` calls the function there (through
:mod:`cnncourse.grading_kernels.test_side` for a stand-in) or here, and test cells written with it
grade the same in one kernel (``nbgrader validate``, a student's own run) and in two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnncourse.grading_kernels.observation import Observation, observe_here
from cnncourse.grading_kernels.test_side import Remote, observe_remote

__all__ = ["Observation", "observe"]


def observe(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Observation:
    """Call ``fn(*args, **kwargs)`` where ``fn`` lives; ``.result`` is what it returned."""
    if isinstance(fn, Remote):
        return observe_remote(fn, args, kwargs)
    return observe_here(fn, args, kwargs)
