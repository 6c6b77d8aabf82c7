"""The student's kernel's side: answering the clean test kernel's requests (Sections 7.1-8.6).

The grader runs ``serve(request)`` in the student's kernel (the code is
:func:`.protocol.serve_call`'s) for every request a test cell makes through :mod:`.test_side`;
the answer is printed between the protocol's two markers (:func:`.protocol.framed`) and the
grader forwards it. Nothing here is trusted: student code shares this kernel and may change any of it.
It can only change the answers, and the test kernel accepts answers as safe data, checked by
tests that run where student code never does.
"""

from __future__ import annotations

import itertools
import numbers
import operator
import sys
from types import ModuleType
from typing import Any

import torch

from cnncourse.grading_kernels.observation import observe_here
from cnncourse.grading_kernels.protocol import Reply, Request, Tag, framed
from cnncourse.grading_kernels.wire import (
    MAX_ITEMS,
    MAX_MESSAGE,
    MAX_NAME,
    SCALARS,
    WireError,
    class_path,
    clipped,
    from_text,
    to_text,
)

__all__ = ["serve", "encode", "answer", "user_namespace"]

_handles: dict[int, Any] = {}
_counter = itertools.count(1)


def _keep(value: Any) -> int:
    handle = next(_counter)
    _handles[handle] = value
    return handle


def user_namespace() -> dict:
    """The namespace a notebook's cells run in (IPython's ``user_ns``, else ``__main__``)."""
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821 (defined in IPython kernels)
        return shell.user_ns
    except NameError:
        return vars(sys.modules["__main__"])


def _mro(cls: type) -> list[list[str]]:
    return [list(class_path(base)) for base in cls.__mro__[:64]]


def _info(value: Any) -> dict:
    try:
        text = repr(value)
    except Exception as error:  # a student's __repr__ may fail
        names = clipped(type(value).__name__, MAX_NAME), clipped(type(error).__name__, MAX_NAME)
        text = f"<{names[0]} object; repr failed: {names[1]}>"
    return {"mro": _mro(type(value)), "callable": callable(value), "repr": clipped(text, 300)}


def _number(value: Any) -> tuple | None:
    """A numpy or ``fractions`` scalar as the builtin number that compares equal to it, or None.

    One kernel compares ``np.int64(16) == 16`` and ``np.floor(6.5) + 1 == 7`` as true, so the test
    kernel gets ``16`` and ``7.0``, never a stand-in that equals no number. A non-integer fraction
    travels as its numerator and denominator (tag ``"F"``): a float would compare equal where the
    fraction does not (``Fraction(1, 3) == 1 / 3`` is false).
    """
    kind = type(value)
    if kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_"):
        return (Tag.DATA, bool(value))  # numpy's bool is no numbers.Integral
    if isinstance(value, numbers.Integral):
        return (Tag.DATA, int(operator.index(value)))
    if isinstance(value, numbers.Rational):
        numerator, denominator = int(value.numerator), int(value.denominator)
        return (Tag.DATA, numerator) if denominator == 1 else (Tag.FRACTION, [numerator, denominator])
    if isinstance(value, numbers.Real):
        return (Tag.DATA, float(value))
    if isinstance(value, numbers.Complex):
        return (Tag.DATA, complex(value))
    return None


def encode(value: Any, budget: list[int] | None = None) -> tuple:
    """``value`` as safe data where it is made of safe data, else as a handle.

    Numbers of numpy and ``fractions`` arrive as builtin numbers (:func:`_number`); numpy arrays
    stay handles, as they are no tensors in one kernel either (a test's ``isinstance(x,
    torch.Tensor)`` fails for them in both settings alike).
    """
    budget = budget if budget is not None else [MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0:
        raise WireError(f"the value holds more than {MAX_ITEMS} items")
    kind = type(value)
    if kind in SCALARS:
        return (Tag.DATA, value)
    number = _number(value)
    if number is not None:
        return number
    if kind is torch.Tensor:
        return (Tag.DATA, value.detach().clone())
    if kind is torch.nn.Parameter:
        return (Tag.DATA, torch.nn.Parameter(value.detach().clone(), requires_grad=value.requires_grad))
    if kind is torch.Size:
        return (Tag.SIZE, [int(n) for n in value])
    if kind in (tuple, list):
        return (Tag.TUPLE if kind is tuple else Tag.LIST, [encode(item, budget) for item in value])
    if isinstance(value, dict) and type(value).__module__ in ("builtins", "collections"):
        if all(type(key) in SCALARS for key in value):
            return (Tag.DICT, [(key, encode(item, budget)) for key, item in value.items()])
    if isinstance(value, ModuleType):
        return (Tag.MODULE, str(value.__name__))
    return (Tag.HANDLE, _keep(value), _info(value))


def _decode(value: Any) -> Any:
    tag = value[0]
    if tag == Tag.DATA:
        return value[1]
    if tag in (Tag.TUPLE, Tag.LIST):
        items = [_decode(item) for item in value[1]]
        return tuple(items) if tag == Tag.TUPLE else items
    if tag == Tag.DICT:
        return {key: _decode(item) for key, item in value[1]}
    if tag == Tag.SIZE:
        return torch.Size(value[1])
    if tag == Tag.HANDLE:
        if value[1] not in _handles:
            raise LookupError(f"no object {value[1]} in the student's kernel (released)")
        return _handles[value[1]]
    raise WireError(f"unknown tag {tag!r}")


def _call(handle: int, args: tuple, kwargs: dict) -> tuple:
    fn = _decode((Tag.HANDLE, handle))
    seen = observe_here(fn, _decode(args), {key: _decode(item) for key, item in kwargs.items()})
    fields: dict[str, Any] = {"result": seen.result}
    return (Tag.DICT, [(key, encode(item)) for key, item in fields.items()])


def answer(message: tuple) -> tuple:
    """The encoded answer to one request (:class:`.protocol.Request`)."""
    op = message[0]
    if op == Request.NAMES:
        _handles.clear()  # a new test cell: earlier handles are released
        namespace = user_namespace()
        return [(name, encode(namespace[name])) for name in message[1] if name in namespace]
    if op == Request.CALL:
        return _call(*message[1:])
    target = _decode((Tag.HANDLE, message[1]))
    if op == Request.GETATTR:
        return encode(getattr(target, message[2]))
    if op == Request.LIST:
        items = list(itertools.islice(iter(target), MAX_ITEMS + 1))
        if len(items) > MAX_ITEMS:
            raise WireError(f"iterating gave more than {MAX_ITEMS} items")
        return encode(items)
    if op == Request.LEN:
        return encode(int(len(target)))
    if op == Request.BOOL:
        return encode(bool(target))
    if op == Request.GETITEM:
        return encode(target[_decode(message[2])])
    raise WireError(f"unknown request {op!r}")


def _message(error: BaseException) -> str:
    try:
        return clipped(error, MAX_MESSAGE)
    except Exception:  # a student's __str__ may fail
        return "<the exception's message could not be read>"


def _asked(message: Any) -> str:
    """What a request asked for, in the words of a test's failure message."""
    op = message[0] if isinstance(message, tuple) and message else None
    if op == Request.NAMES and isinstance(message[1], list):
        names = clipped(", ".join(map(str, message[1])), 300)
        return f"the values this test reads from your notebook ({names})"
    if op == Request.CALL:
        return "what your function returned"
    return "the value this test asked for"


def serve(text: str) -> None:
    """Answer the request in ``text`` and print the answer between the protocol's markers."""
    message: Any = None
    try:
        message = from_text(text)
        reply: tuple = (Reply.OK, answer(message))
    except BaseException as error:  # noqa: BLE001 (everything the student's code raises goes back)
        reply = (Reply.RAISED, {"name": clipped(type(error).__name__, MAX_NAME), "message": _message(error),
                       "mro": _mro(type(error))})
    try:
        encoded = to_text(reply)
    except Exception as error:  # too large, or not safe data after all
        text = clipped(f"{_asked(message)}: {_message(error)}", 1000)
        encoded = to_text((Reply.RAISED, {"name": "ValueError", "message": text,
                                          "mro": [["builtins", "ValueError"]]}))
    sys.stdout.write(framed(encoded))
    sys.stdout.flush()
