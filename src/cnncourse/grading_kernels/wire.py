"""What travels between a clean test kernel and a student's kernel, and how (Sections 7.1-8.6).

While a submission is graded, its answer cells run in one kernel and its test cells in another
that never runs a line of student code (:mod:`.test_side`). Values cross as
*safe data* or as *handles*:

* data: ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, plain tensors and
  parameters, and tuples, lists, dicts and ``torch.Size`` of those. The receiver rebuilds them
  with ``torch.load(weights_only=True)``, which constructs only these types and never calls
  code named by the sender; the test kernel then drops whatever state the sender attached to a
  tensor. numpy's numbers travel as builtin ones, a non-integer fraction as two ints;
* handles: everything else (a student's function, module, class, iterator) stays where it lives
  and is named by a number; the other side gets a stand-in whose every use is a request.

An encoded value is a tagged tuple (the tags are :class:`.protocol.Tag`'s): ``("d", value)``,
``("t", items)``, ``("l", items)``, ``("D", [(key, item), ...])``, ``("S", ints)``,
``("F", [numerator, denominator])``, ``("m", module_name)`` or ``("r", handle, info)``. A
message's text is base64 (:func:`.protocol.text_of`).
"""

from __future__ import annotations

import io
import math
from typing import Any

import torch

from cnncourse.grading_kernels.protocol import MAX_BYTES, ProtocolError, bytes_of, text_of

__all__ = ["MAX_BYTES", "MAX_ITEMS", "MAX_NAME", "MAX_MESSAGE", "SCALARS", "WireError", "to_text",
           "from_text", "class_path", "clipped"]

MAX_ITEMS = 100_000  # elements of all containers in one message
# Student text the grader quotes (in a test's message, a stand-in's class name): both sides clip it,
# since the student's kernel may send anything.
MAX_NAME = 200  # characters of a class or module name
MAX_MESSAGE = 2000  # characters of an exception's message or an object's repr
SCALARS = (type(None), bool, int, float, complex, str)


class WireError(ValueError):
    """A message that is too large, malformed or not made of safe data."""


def to_text(message: Any) -> str:
    """``message`` (safe data only) as base64 text; raises WireError when it is too large."""
    buffer = io.BytesIO()
    torch.save(message, buffer)
    data = buffer.getvalue()
    if len(data) > MAX_BYTES:
        size = math.ceil(len(data) / (1 << 20) * 10) / 10  # never "32.0 MiB is larger than 32 MiB"
        raise WireError(f"{size:.1f} MiB is larger than the {MAX_BYTES >> 20} MiB the grader passes "
                        "from your notebook to its tests at a time (your own run has no such limit); smaller "
                        f"values pass: at most about {MAX_BYTES // 8 / 1e6:.1f} million float64 or "
                        f"{MAX_BYTES // 4 / 1e6:.1f} million float32 numbers")
    return text_of(data)


def from_text(text: str) -> Any:
    """The message in ``text``, rebuilt with ``torch.load(weights_only=True)``.

    Raises:
        WireError: not base64, too large, or not loadable as safe data.
    """
    try:
        data = bytes_of(text)
    except ProtocolError as error:
        raise WireError(str(error)) from None
    try:
        return torch.load(io.BytesIO(data), weights_only=True)
    except Exception as error:  # the unpickler refuses anything but safe data
        raise WireError(f"not safe data ({type(error).__name__}: {str(error)[:200]})") from None


def clipped(text: object, limit: int) -> str:
    """``str(text)`` cut to ``limit`` characters, saying how many more there were."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}[... {len(text) - limit} more characters]"


def class_path(cls: type) -> tuple[str, str]:
    """``(module, qualified name)`` of a class, as plain strings of at most :data:`MAX_NAME` characters."""
    return (clipped(getattr(cls, "__module__", "") or "", MAX_NAME),
            clipped(getattr(cls, "__qualname__", "") or "", MAX_NAME))
