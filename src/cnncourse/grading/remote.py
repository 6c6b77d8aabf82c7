"""The test kernel's side: student names as safe data or stand-ins (Sections 7.1-8.6).

``python -m autograder grade`` runs a submission's test cells in a clean kernel that never runs
student code (PrairieLearn's design). Before a test cell runs there, :func:`begin_test_cell` puts
the test kernel's namespace back as the instructor's setup cells left it and fetches the names
the cell uses from the student's kernel: data arrives as data, anything else as a
:class:`Remote` stand-in whose attribute reads, calls, iteration, ``len`` and indexing are
requests answered by :mod:`cnncourse.grading.agent` in the student's kernel. Whatever that
kernel does to itself (input transformers, event callbacks, ``sys.settrace``, patched grading
helpers, torch functions or the library's oracles) reaches the tests only as answers to the
questions they ask.

Requests travel over the kernel's stdin channel (``input()``); the grader forwards them. A
request the student's kernel could not answer (it timed out, died or was killed) raises
:class:`StudentKernelError`.
"""

from __future__ import annotations

import builtins
from typing import Any

from cnncourse.grading.observe import Observation
from cnncourse.grading.stand_ins import forget_stand_ins, stand_in_class
from cnncourse.grading.wire import SCALARS, WireError, from_text, to_text

__all__ = ["PROMPT", "FAILURE", "Remote", "RemoteCallable", "StudentKernelError", "request", "decode",
           "encode_argument", "observe_remote", "namespace", "remember_start", "forget_submission",
           "set_student_code", "watch_problem", "before_setup", "snapshot", "begin_test_cell"]

PROMPT = "cnncourse-request:"  # prefix of a request sent as input()'s prompt
FAILURE = "!"  # prefix of the grader's reply when the student's kernel gave none
_pristine: dict[str, Any] | None = None  # the namespace after the setup cells
_setup_ran: list[bool] = [False]  # a setup cell ran since the last snapshot
_start: dict[str, Any] = {}  # the namespace as the kernel started
_student_code: list[str] = []  # the submission's code cells (not the instructor's), for the gate
_watch: dict[str, str | None] = {}  # the gate's verdict on _student_code, once computed


class StudentKernelError(RuntimeError):
    """The student's kernel gave no answer (timed out, died, was killed or answered garbage)."""


def _raise_student_error(info: dict) -> None:
    """Raise the builtin exception closest to the one the student's code raised."""
    message = str(info.get("message", ""))
    for module, qualname in info.get("mro", []):
        cls = getattr(builtins, qualname, None) if module == "builtins" else None
        if isinstance(cls, type) and issubclass(cls, Exception):
            raise cls(message) if qualname != "StopIteration" else StopIteration()
    raise StudentKernelError(f"the student's code raised {info.get('name', 'an exception')}: {message}")


def request(message: tuple, raw: bool = False) -> Any:
    """Send one request to the student's kernel and return its answer (decoded unless ``raw``)."""
    reply = input(PROMPT + to_text(message))
    if reply.startswith(FAILURE):
        raise StudentKernelError(reply[len(FAILURE):])
    try:
        status, payload = from_text(reply)
    except (WireError, TypeError, ValueError) as error:
        raise StudentKernelError(f"the student's kernel answered something unreadable ({error})") from None
    if status == "x":
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
        return request(("getattr", self._handle, name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError(f"a test cannot change the student's object ({name} = ...); build a local copy")

    def __repr__(self) -> str:
        return str(self._info.get("repr", "<student object>"))

    def __iter__(self):  # noqa: ANN204
        return iter(request(("list", self._handle)))

    def __len__(self) -> int:
        return request(("len", self._handle))

    def __bool__(self) -> bool:
        return request(("bool", self._handle))

    def __getitem__(self, key: Any) -> Any:
        return request(("getitem", self._handle, encode_argument(key)))


class RemoteCallable(Remote):
    """A stand-in for a function, class or callable object of the student's kernel."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return observe_remote(self, args, kwargs, {}).result


def decode(value: Any) -> Any:
    """A value as encoded by the student's kernel, with stand-ins for its handles."""
    tag = value[0] if isinstance(value, tuple) and value else None
    if tag == "d" and (type(value[1]) in SCALARS or _is_tensor(value[1])):
        return value[1]
    if tag in ("t", "l") and isinstance(value[1], list):
        items = [decode(item) for item in value[1]]
        return tuple(items) if tag == "t" else items
    if tag == "D" and isinstance(value[1], list):
        return {key: decode(item) for key, item in value[1] if isinstance(key, SCALARS)}
    if tag == "S" and isinstance(value[1], list):
        import torch

        return torch.Size(int(n) for n in value[1])
    if tag == "r" and isinstance(value[1], int) and isinstance(value[2], dict):
        info = value[2]
        return (RemoteCallable if info.get("callable") else Remote)(value[1], info)
    if tag == "m":
        raise StudentKernelError(f"the student's kernel sent the module {value[1]!r}; tests import "
                                 "their own modules")
    raise StudentKernelError("the student's kernel sent a value the grader does not know")


def _is_tensor(value: Any) -> bool:
    import torch

    return type(value) in (torch.Tensor, torch.nn.Parameter)


def encode_argument(value: Any) -> tuple:
    """An argument for the student's kernel: data, containers of data, or a stand-in's handle."""
    if isinstance(value, Remote):
        return ("r", object.__getattribute__(value, "_handle"))
    if type(value) in SCALARS or _is_tensor(value):
        return ("d", value.detach().clone() if _is_tensor(value) else value)
    if type(value) in (tuple, list):
        return ("t" if type(value) is tuple else "l", [encode_argument(item) for item in value])
    if isinstance(value, dict):
        return ("D", [(key, encode_argument(item)) for key, item in value.items()])
    import torch

    if isinstance(value, torch.Size):
        return ("S", list(value))
    raise TypeError(f"a test cannot pass a {type(value).__name__} to the student's code; pass tensors, "
                    "numbers, strings or containers of them")


def observe_remote(fn: Remote, args: tuple, kwargs: dict, options: dict) -> Observation:
    """:func:`cnncourse.grading.observe.observe` for a function in the student's kernel.

    Raises:
        AssertionError: the call is to be watched (refusals, recording, no modules) but the
            submission's code could change the watcher (:func:`watch_problem`).
    """
    watched = options.get("refuse") or options.get("record") or options.get("forbid_modules")
    if watched and (problem := watch_problem()):
        raise AssertionError(
            "this part checks how your code computes (which functions it calls or builds), and your notebook "
            f"has code that could change what that check sees ({problem}); the part counts only without it")
    handle = object.__getattribute__(fn, "_handle")
    encoded_kwargs = {key: encode_argument(value) for key, value in kwargs.items()}
    answer = request(("call", handle, encode_argument(tuple(args)), encoded_kwargs, options))
    if not isinstance(answer, dict):
        raise StudentKernelError("the student's kernel answered a call with something else")
    seen = Observation(answer.get("result"))
    seen.names = list(answer.get("names", []))
    seen.products = list(answer.get("products", []))
    seen.convolutions = list(answer.get("convolutions", []))
    seen.args = tuple(answer.get("args", ()))
    return seen


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


def forget_submission() -> None:
    """Back to the kernel's starting namespace: nothing of the last submission stays."""
    global _pristine
    _restore(namespace(), _start)
    _pristine = None
    _setup_ran[0] = False
    _student_code.clear()
    _watch.clear()
    forget_stand_ins()  # no gc.collect(): 90 ms a submission, and the names above are gone already


def set_student_code(text: str) -> None:
    """The submission's own code cells (base64 of a JSON list of strings), for :func:`watch_problem`."""
    import base64
    import json

    cells = json.loads(base64.b64decode(text.encode("ascii"), validate=True))
    _student_code[:] = [str(cell) for cell in cells] if isinstance(cells, list) else [str(cells)]
    _watch.clear()


def watch_problem() -> str | None:
    """Why checks that watch the student's kernel cannot be trusted for this submission, or None.

    See :mod:`cnncourse.grading.gate`; the verdict is computed once per submission.
    """
    if "verdict" not in _watch:
        from types import ModuleType

        from cnncourse.grading.gate import back_door

        setup = {name: value for name, value in (_pristine or {}).items() if isinstance(value, ModuleType)}
        _watch["verdict"] = back_door(_student_code, setup)
    return _watch["verdict"]


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
    found = request(("names", wanted), raw=True)
    for name, value in (found if isinstance(found, list) else ()):
        if isinstance(name, str) and name in wanted:
            try:
                space[name] = decode(value)
            except StudentKernelError:
                continue  # a module or an unknown value: the name stays unbound
