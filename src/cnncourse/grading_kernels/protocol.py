"""The request protocol of the two grading kernels, in one place (Sections 7.1-8.6).

``python -m autograder grade`` runs a submission's answer cells in the *student kernel* and its
test cells in a clean *test kernel*. The three parties speak through this module alone:

* the grader (which never imports torch) starts every call into a kernel with :func:`call` or
  :func:`serve_call`: no code string for a kernel is typed anywhere else;
* the test kernel (:mod:`.test_side`) asks with ``input(request_prompt(text))``; the grader reads
  the text back with :func:`request_text`, checks it with :func:`well_formed` and runs
  :func:`serve_call` in the student kernel;
* the student kernel (:mod:`.student_side`) prints its answer with :func:`framed`; the grader
  reads it out of everything printed with :func:`unframe` and replies with the answer, or with
  :func:`failure` when there is none; the test kernel tells the two apart with :func:`failure_reason`.

Request and answer text is base64 (:func:`text_of`, :func:`bytes_of`) of a ``torch.save`` of safe
data (:mod:`.wire`): requests are tuples named by :class:`Request`, values are tagged tuples
(:class:`Tag`), answers are ``(Reply.OK, value)`` or ``(Reply.RAISED, exception info)``.
This module imports only the standard library.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["STUDENT_SIDE", "TEST_SIDE", "SERVE", "TEST_SIDE_CALLS", "PROMPT", "FAILURE", "BEGIN", "END",
           "MAX_BYTES", "MAX_TEXT", "ProtocolError", "Request", "Tag", "Reply", "call", "serve_call",
           "request_prompt", "request_text", "well_formed", "failure", "failure_reason", "framed", "unframe",
           "text_of", "bytes_of"]

# Entry points: the module each kernel's side lives in, and the functions the grader calls there.
STUDENT_SIDE = "cnncourse.grading_kernels.student_side"
TEST_SIDE = "cnncourse.grading_kernels.test_side"
SERVE = "serve"  # student side: answer one request
TEST_SIDE_CALLS = frozenset({
    "remember_start",  # a fresh test kernel: remember its namespace
    "forget_submission",  # a kept test kernel, next notebook: back to that namespace
    "before_setup",  # an instructor's setup cell runs next
    "begin_test_cell",  # (names): reset to the setup's namespace, bind names from the student kernel
})

# Markers.
PROMPT = "cnncourse-request:"  # prefix of a request, sent as input()'s prompt
FAILURE = "!"  # prefix of the grader's reply when the student's kernel gave no answer (not base64)
BEGIN, END = "\x02cnncourse-answer:", "\x03"  # around the answer the student side prints

# Sizes.
MAX_BYTES = 32 << 20  # one message, before base64
MAX_TEXT = 48 << 20  # characters of one answer the grader forwards (MAX_BYTES in base64, and printed text)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class ProtocolError(ValueError):
    """Text that is not a message of this protocol (not base64, or too large)."""


class Request:
    """The first item of a request tuple: what the test kernel asks the student kernel."""

    NAMES = "names"  # ("names", [name, ...]): the values of names in the student's namespace
    CALL = "call"  # ("call", handle, args, kwargs): call a function there, answer its result
    GETATTR = "getattr"  # ("getattr", handle, name)
    LIST = "list"  # ("list", handle): iterate
    LEN = "len"  # ("len", handle)
    BOOL = "bool"  # ("bool", handle)
    GETITEM = "getitem"  # ("getitem", handle, key)


class Tag:
    """The first item of an encoded value (see :mod:`.wire`)."""

    DATA = "d"  # ("d", value): safe data as it is
    TUPLE = "t"  # ("t", [item, ...])
    LIST = "l"  # ("l", [item, ...])
    DICT = "D"  # ("D", [(key, item), ...])
    SIZE = "S"  # ("S", [int, ...]): a torch.Size
    FRACTION = "F"  # ("F", [numerator, denominator])
    MODULE = "m"  # ("m", name): never rebuilt, tests import their own modules
    HANDLE = "r"  # ("r", handle, info): an object that stays in the student's kernel


class Reply:
    """The first item of an answer."""

    OK = "ok"  # ("ok", encoded value)
    RAISED = "x"  # ("x", {"name", "message", "mro"}): the student's code raised


def call(name: str, *args: object) -> str:
    """The code that calls ``name(*args)`` of the test side in the test kernel.

    Raises:
        ValueError: ``name`` is not one of :data:`TEST_SIDE_CALLS`, or an argument is not plain data.
    """
    if name not in TEST_SIDE_CALLS:
        raise ValueError(f"call: {name!r} is not an entry point of the test side; expected one of "
                         f"{sorted(TEST_SIDE_CALLS)}")
    for arg in args:
        _check_literal(arg)
    arguments = ", ".join(repr(arg) for arg in args)
    return f'__import__("{TEST_SIDE}", fromlist=["{name}"]).{name}({arguments})'


def _check_literal(value: object) -> None:
    """Only strings and lists of strings go into code (their repr is a literal)."""
    if type(value) is str or (type(value) is list and all(type(item) is str for item in value)):
        return
    raise ValueError(f"call: an argument must be a str or a list of str, got {type(value).__name__}")


def serve_call(text: str) -> str:
    """The code that answers the request ``text`` in the student kernel.

    Raises:
        ProtocolError: ``text`` is not well formed (:func:`well_formed`).
    """
    if not well_formed(text):
        raise ProtocolError("serve_call: the request is not base64 of at most MAX_TEXT characters")
    return f'__import__("{STUDENT_SIDE}", fromlist=["{SERVE}"]).{SERVE}("{text}")'


def request_prompt(text: str) -> str:
    """The prompt of ``input()`` that carries the request ``text``."""
    return PROMPT + text


def request_text(prompt: str) -> str | None:
    """The request in an ``input()`` prompt, or None when the prompt is no request."""
    return prompt[len(PROMPT):] if prompt.startswith(PROMPT) else None


def well_formed(text: str) -> bool:
    """Whether ``text`` is base64 of at most :data:`MAX_TEXT` characters (the grader decodes nothing)."""
    return len(text) <= MAX_TEXT and _BASE64.fullmatch(text) is not None


def failure(reason: str) -> str:
    """The grader's reply when the student's kernel gave no answer."""
    return FAILURE + reason


def failure_reason(reply: str) -> str | None:
    """Why the grader had no answer, or None when ``reply`` is an answer."""
    return reply[len(FAILURE):] if reply.startswith(FAILURE) else None


def framed(answer: str) -> str:
    """The line the student side prints: ``answer`` between :data:`BEGIN` and :data:`END`."""
    return f"{BEGIN}{answer}{END}\n"


def unframe(printed: str) -> tuple[str, str]:
    """``(answer, rest)`` of what the student kernel printed: the text of the last :data:`BEGIN`
    up to the next :data:`END` ("" when there is none), and everything else it printed."""
    start = printed.rfind(BEGIN)
    end = printed.find(END, start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        return "", printed
    return printed[start + len(BEGIN):end], printed[:start] + printed[end + len(END):]


def text_of(data: bytes) -> str:
    """``data`` as the text of a message (base64)."""
    return base64.b64encode(data).decode("ascii")


def bytes_of(text: str) -> bytes:
    """The bytes of a message's text.

    Raises:
        ProtocolError: not base64, or larger than :data:`MAX_BYTES` allows.
    """
    if len(text) > 4 * MAX_BYTES // 3 + 4:
        raise ProtocolError(f"a message of {len(text)} characters is larger than the grader accepts")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise ProtocolError(f"not base64 ({error})") from None
