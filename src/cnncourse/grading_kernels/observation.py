"""What a call of a student's function returned, and its arguments afterwards (Section 8.5).

Both kernels' sides build an :class:`Observation`: the student side after calling the function
where it lives (:func:`observe_here`), the test side from the answer to a ``call`` request.
:func:`cnncourse.grading.observe` is what test cells call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Observation", "observe_here"]


@dataclass
class Observation:
    """What a call returned, and its positional arguments as they were afterwards.

    Attributes:
        result: the return value.
        args: the positional arguments after the call (with ``return_args``; else empty).
    """

    result: Any
    args: tuple = ()


def observe_here(fn: Callable[..., Any], args: tuple, kwargs: dict, return_args: bool = False) -> Observation:
    """Call ``fn`` that lives in this process; with ``return_args``, keep its arguments as they are after."""
    result = fn(*args, **kwargs)
    return Observation(result, args=tuple(args) if return_args else ())
