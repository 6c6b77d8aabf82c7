"""The test kernel's side: student names as safe data or stand-ins (Sections 7.1-8.6).

``python -m autograder grade`` runs a submission's test cells in a clean kernel that never runs
student code (PrairieLearn's design). Before a test cell runs there, :func:`begin_test_cell` puts
the test kernel's namespace back as the instructor's setup cells left it and fetches the names
the cell uses from the student's kernel: data arrives as data, anything else as a
:class:`Remote` stand-in whose attribute reads, calls, iteration, ``len`` and indexing are
requests answered by :mod:`.student_side` in the student's kernel. Whatever that
kernel does to itself (input transformers, event callbacks, ``sys.settrace``, patched grading
helpers, torch functions or the library's oracles) reaches the tests only as answers to the
questions they ask.

Requests travel over the kernel's stdin channel (``input()``); the grader forwards them
(:mod:`.protocol`). A request the student's kernel could not answer (it timed out, died or was
killed) raises :class:`StudentKernelError`. The grader calls :func:`remember_start`,
:func:`forget_submission`, :func:`before_setup` and :func:`begin_test_cell` here, with the code
:func:`.protocol.call` builds.
"""

from __future__ import annotations

import builtins
import sys
import warnings
from typing import Any

from cnncourse.grading_kernels.observation import Observation
from cnncourse.grading_kernels.protocol import Reply, Request, Tag, failure_reason, request_prompt
from cnncourse.grading_kernels.stand_ins import forget_stand_ins, stand_in_class
from cnncourse.grading_kernels.wire import (
    MAX_MESSAGE,
    MAX_NAME,
    SCALARS,
    WireError,
    clipped,
    from_text,
    to_text,
)

__all__ = ["Remote", "RemoteCallable", "StudentKernelError", "request", "decode",
           "encode_argument", "observe_remote", "namespace", "remember_start", "forget_submission",
           "before_setup", "snapshot", "begin_test_cell"]

_pristine: dict[str, Any] | None = None  # the namespace after the setup cells
_setup_ran: list[bool] = [False]  # a setup cell ran since the last snapshot
_start: dict[str, Any] = {}  # the namespace as the kernel started
_start_filters: list = []  # the warnings filters as the kernel started


class StudentKernelError(RuntimeError):
    """The student's kernel gave no answer (timed out, died, was killed or answered garbage)."""


def _raise_student_error(info: dict) -> None:
    """Raise the builtin exception closest to the one the student's code raised."""
    # The student's kernel may send anything: what a test's message quotes of it is clipped here.
    message = clipped(info.get("message", ""), MAX_MESSAGE)
    for module, qualname in info.get("mro", []):
        cls = getattr(builtins, qualname, None) if module == "builtins" else None
        if isinstance(cls, type) and issubclass(cls, Exception):
            raise cls(message) if qualname != "StopIteration" else StopIteration()
    name = clipped(info.get("name", "an exception"), MAX_NAME)
    raise StudentKernelError(f"the student's code raised {name}: {message}")


def request(message: tuple, raw: bool = False) -> Any:
    """Send one request to the student's kernel and return its answer (decoded unless ``raw``)."""
    reply = input(request_prompt(to_text(message)))
    reason = failure_reason(reply)
    if reason is not None:
        raise StudentKernelError(reason)
    try:
        status, payload = from_text(reply)
    except (WireError, TypeError, ValueError) as error:
        raise StudentKernelError(f"the student's kernel answered something unreadable ({error})") from None
    if status == Reply.RAISED:
        _raise_student_error(payload if isinstance(payload, dict) else {})
    return payload if raw else decode(payload)


class Remote:
    """A stand-in for an object that lives in the student's kernel."""

    __slots__ = ("_handle", "_info")

    def __init__(self, handle: int, info: dict) -> None:
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_info", info)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105  (isinstance and __class__.__name__ see the remote class)
        return stand_in_class(self._info.get("mro", []))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_ipython") or name.startswith("_repr_"):
            raise AttributeError(name)  # IPython's display probes stay local
        return request((Request.GETATTR, self._handle, name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError(f"a test cannot change the student's object ({name} = ...); build a local copy")

    def __repr__(self) -> str:
        return clipped(self._info.get("repr", "<student object>"), MAX_MESSAGE)

    def __iter__(self):  # noqa: ANN204
        return iter(request((Request.LIST, self._handle)))

    def __len__(self) -> int:
        return request((Request.LEN, self._handle))

    def __bool__(self) -> bool:
        return request((Request.BOOL, self._handle))

    def __getitem__(self, key: Any) -> Any:
        return request((Request.GETITEM, self._handle, encode_argument(key)))


class RemoteCallable(Remote):
    """A stand-in for a function, class or callable object of the student's kernel."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return observe_remote(self, args, kwargs).result


def decode(value: Any) -> Any:
    """A value as encoded by the student's kernel, with stand-ins for its handles."""
    tag = value[0] if isinstance(value, tuple) and value else None
    if tag == Tag.DATA and type(value[1]) in SCALARS:
        return value[1]
    if tag == Tag.DATA and _is_tensor(value[1]):
        return _plain(value[1])
    if tag == Tag.FRACTION and isinstance(value[1], list) and len(value[1]) == 2:
        from fractions import Fraction

        numerator, denominator = value[1]
        if type(numerator) is int and type(denominator) is int and denominator > 0:
            return Fraction(numerator, denominator)
    if tag in (Tag.TUPLE, Tag.LIST) and isinstance(value[1], list):
        items = [decode(item) for item in value[1]]
        return tuple(items) if tag == Tag.TUPLE else items
    if tag == Tag.DICT and isinstance(value[1], list):
        return {key: decode(item) for key, item in value[1] if isinstance(key, SCALARS)}
    if tag == Tag.SIZE and isinstance(value[1], list):
        import torch

        return torch.Size(int(n) for n in value[1])
    if tag == Tag.HANDLE and isinstance(value[1], int) and isinstance(value[2], dict):
        info = value[2]
        return (RemoteCallable if info.get("callable") else Remote)(value[1], info)
    if tag == Tag.MODULE:
        module = clipped(value[1], MAX_NAME)
        raise StudentKernelError(f"the student's kernel sent the module {module!r}; tests import their "
                                 "own modules")
    raise StudentKernelError("the student's kernel sent a value the grader does not know")


def _is_tensor(value: Any) -> bool:
    import torch

    return type(value) in (torch.Tensor, torch.nn.Parameter)


def _plain(value: Any) -> Any:
    """A tensor or parameter that arrived as data, rebuilt without what the sender attached to it.

    ``torch.load`` restores a tensor's instance attributes (``t.is_floating_point = torch.Size``) and
    backward hooks; the test kernel reads none of them: every method comes from torch's class again.
    """
    import torch

    requires_grad = torch.Tensor.requires_grad.__get__(value)  # the C attribute, never an instance's
    data = torch.Tensor.detach(value)  # a new plain tensor: no instance attributes, no hooks
    if type(value) is torch.nn.Parameter:
        return torch.nn.Parameter(data, requires_grad=requires_grad)
    return data.requires_grad_(requires_grad) if requires_grad else data


def encode_argument(value: Any) -> tuple:
    """An argument for the student's kernel: data, containers of data, or a stand-in's handle."""
    if isinstance(value, Remote):
        return (Tag.HANDLE, object.__getattribute__(value, "_handle"))
    if type(value) in SCALARS or _is_tensor(value):
        return (Tag.DATA, value.detach().clone() if _is_tensor(value) else value)
    if type(value) in (tuple, list):
        return (Tag.TUPLE if type(value) is tuple else Tag.LIST, [encode_argument(item) for item in value])
    if isinstance(value, dict):
        return (Tag.DICT, [(key, encode_argument(item)) for key, item in value.items()])
    import torch

    if isinstance(value, torch.Size):
        return (Tag.SIZE, list(value))
    raise TypeError(f"a test cannot pass a {type(value).__name__} to the student's code; pass tensors, "
                    "numbers, strings or containers of them")


def observe_remote(fn: Remote, args: tuple, kwargs: dict) -> Observation:
    """:func:`cnncourse.grading.observe` for a function in the student's kernel."""
    handle = object.__getattribute__(fn, "_handle")
    encoded_kwargs = {key: encode_argument(value) for key, value in kwargs.items()}
    answer = request((Request.CALL, handle, encode_argument(tuple(args)), encoded_kwargs))
    if not isinstance(answer, dict):
        raise StudentKernelError("the student's kernel answered a call with something else")
    return Observation(answer.get("result"))


def namespace() -> dict:
    """The test kernel's namespace (IPython's ``user_ns``)."""
    return get_ipython().user_ns  # type: ignore[name-defined]  # noqa: F821 (the test kernel is IPython)


def _restore(namespace: dict, saved: dict) -> None:
    for key in [key for key in namespace if key not in saved]:
        del namespace[key]
    namespace.update(saved)


def remember_start() -> None:
    """Remember the namespace of the freshly started kernel (see :func:`forget_submission`)."""
    _start.clear()
    _start.update(namespace())
    _start_filters[:] = warnings.filters


def _forget_warnings() -> None:
    """Every warning shows again, as in a fresh kernel: Python shows a warning once per place, so a
    test that warns would otherwise fail (stderr) only for the first submission of a test kernel."""
    warnings.filters[:] = _start_filters or warnings.filters
    warnings.onceregistry.clear()
    for module in list(sys.modules.values()):
        registry = getattr(module, "__warningregistry__", None)
        if isinstance(registry, dict):
            registry.clear()


def forget_submission() -> None:
    """Back to the kernel's starting namespace: nothing of the last submission stays."""
    global _pristine
    _restore(namespace(), _start)
    _pristine = None
    _setup_ran[0] = False
    _forget_warnings()
    forget_stand_ins()  # no gc.collect(): 90 ms a submission, and the names above are gone already


def before_setup() -> None:
    """An instructor's setup cell runs next: back to the last snapshot (nothing a test cell left), and
    the next :func:`begin_test_cell` takes a new snapshot first."""
    if _pristine is not None:
        _restore(namespace(), _pristine)
    _setup_ran[0] = True


def snapshot() -> None:
    """Remember the namespace as it is now (after an instructor's setup cell)."""
    global _pristine
    _pristine = dict(namespace())


def begin_test_cell(names: list[str]) -> None:
    """Reset the namespace to the last snapshot and bind ``names`` from the student's kernel.

    Names the setup cells defined, builtins and names the student's kernel lacks stay unbound
    from there (a NameError in the test tells the student what is missing).
    """
    space = namespace()
    if _pristine is None or _setup_ran[0]:
        snapshot()
        _setup_ran[0] = False
    _restore(space, _pristine)
    wanted = [n for n in names if n.isidentifier() and n not in space and not hasattr(builtins, n)]
    if not wanted:
        return
    found = request((Request.NAMES, wanted), raw=True)
    for name, value in (found if isinstance(found, list) else ()):
        if isinstance(name, str) and name in wanted:
            try:
                space[name] = decode(value)
            except StudentKernelError:
                continue  # a module or an unknown value: the name stays unbound
