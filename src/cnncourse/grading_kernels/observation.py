"""What a call of a student's function returned (Section 8.5).

Both kernels' sides build an :class:`Observation`: the student side after calling the function
where it lives (:func:`observe_here`), the test side from the answer to a ``call`` request.
:func:`cnncourse.grading.observe` is what test cells call. Only the result comes back: what a
call did to its arguments in the student's kernel is known only to that kernel, which a
submission can make report anything, so no test asks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Observation", "observe_here"]


@dataclass
class Observation:
    """What a call returned.

    Attributes:
        result: the return value.
    """

    result: Any


def observe_here(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Observation:
    """Call ``fn`` that lives in this process."""
    return Observation(fn(*args, **kwargs))
