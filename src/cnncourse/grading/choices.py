"""Multiple-choice and numeric answers compared through a salted hash (Sections 7.1-8.6).

A released notebook stores only :func:`answer_digest` of the right answer, never the letter.
"""

from __future__ import annotations

import hashlib
import math

import torch

__all__ = ["normalise_answer", "answer_digest", "check_letter", "check_choice"]


def _canonical_number(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    if float(x).is_integer():
        return str(int(x))
    return format(x, ".9g")


def normalise_answer(value: object) -> str:
    """Turn an answer into a canonical string: ``" b) "`` -> ``"B"``, ``2.0`` -> ``"2"``.

    Raises:
        TypeError: for values that are not strings, numbers or one-element tensors.
    """
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(f"expected a single value, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, (int, float)):
        return _canonical_number(float(value))
    if isinstance(value, str):
        text = value.strip().strip("()[].:'\" ").strip().upper()
        try:
            return _canonical_number(float(text))
        except ValueError:
            return text
    raise TypeError(f"expected a letter or a number, got {value.__class__.__name__}")


def answer_digest(value: object, salt: str) -> str:
    """The sha256 hex digest of ``salt`` and the normalised answer (what a test cell stores)."""
    text = f"{salt}\x00{normalise_answer(value)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_letter(name: str, value: object, choices: str = "ABCD") -> None:
    """Check only that a multiple-choice answer is well-formed: exactly one of ``choices``.

    The visible self-check of a question uses this, so four tries cannot find the answer;
    the hidden :func:`check_choice` decides the grade.
    """
    try:
        answer = normalise_answer(value)
    except TypeError as error:
        raise AssertionError(f"{name} should be one letter such as 'A' ({error})") from None
    if answer not in tuple(choices):  # a letter, not a substring ("AB")
        raise AssertionError(f"{name} should be one of the letters {', '.join(choices)}; got {value!r}")


def check_choice(name: str, value: object, digest: str, hint: str = "", choices: str | None = None) -> None:
    """Check a multiple-choice (or numeric) answer against a digest made by :func:`answer_digest`.

    Args:
        name: the variable's name, also the salt of the digest.
        value: the student's answer.
        digest: ``answer_digest(correct_answer, salt=name)``.
        hint: where to look when the answer is wrong.
        choices: the allowed letters, e.g. ``"ABCD"``; anything else is rejected as malformed.
    """
    if choices is not None:
        check_letter(name, value, choices)
    try:
        answer = normalise_answer(value)
    except TypeError as error:
        raise AssertionError(f"{name} should be one letter such as 'A' ({error})") from None
    if answer_digest(answer, salt=name) != digest:
        raise AssertionError(f"{name} = {value!r} is not the right choice. {hint}".rstrip())
