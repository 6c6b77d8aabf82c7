"""Argument and shape validation shared by every public function.

Section 7.2 onwards: every public function validates its arguments with these helpers (the
package's convention: other modules import these public names from this private module).
Every message follows one pattern: who complained, what was expected, what came,
and (where it helps) a hint, e.g.
``corr2d: kernel (3, 3) is larger than input (2, 5); pad the input or use a smaller kernel``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

# A size argument as PyTorch takes it: one int for both sides, or (height, width).
IntPair = int | Sequence[int]

# The strings a convolution's padding may be, as in ``nn.Conv2d``: output as large as the input
# (stride 1 only), or no padding at all.
PADDING_STRINGS = ("same", "valid")

__all__ = [
    "IntPair",
    "check_tensor",
    "check_floating",
    "check_float_tensor",
    "check_same_dtype",
    "check_kernel_size",
    "pair",
    "positive_pair",
    "nonnegative_pair",
    "conv_padding",
    "check_divides",
    "positive_int",
    "nonzero_int",
    "check_bool",
    "PADDING_STRINGS",
]


def _shape(x: torch.Tensor) -> tuple[int, ...]:
    return tuple(x.shape)


def check_tensor(who: str, name: str, x: object, ndim: int | Sequence[int] | None = None,
                 layout: str = "") -> torch.Tensor:
    """Raise TypeError unless ``x`` is a tensor, ValueError unless its rank is ``ndim``.

    Args:
        who: the public function doing the check, e.g. ``"corr2d"``.
        name: the argument's name, e.g. ``"X"``.
        x: the value received.
        ndim: the allowed rank (or ranks).
        layout: a human description of the expected axes, e.g. ``"(N, C, H, W)"``.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who}: {name} must be a torch.Tensor, got {type(x).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.dim() not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            axes = f" {layout}" if layout else ""
            raise ValueError(
                f"{who}: {name} must be {want}{axes}, got a {x.dim()}-D tensor of shape {_shape(x)}"
            )
    return x


def check_floating(who: str, name: str, x: torch.Tensor) -> torch.Tensor:
    """Raise TypeError unless ``x`` holds floating-point numbers."""
    if not x.is_floating_point():
        raise TypeError(
            f"{who}: {name} must be a floating-point tensor, got dtype {x.dtype}; "
            f"convert it with {name}.float()"
        )
    return x


def check_float_tensor(who: str, name: str, x: object, ndim: int | tuple[int, ...],
                       layout: str) -> torch.Tensor:
    """A floating-point tensor of the given rank, or a TypeError/ValueError naming ``who``."""
    return check_floating(who, name, check_tensor(who, name, x, ndim, layout))


def check_same_dtype(who: str, X: torch.Tensor, name: str, other: torch.Tensor) -> None:
    """Raise TypeError unless ``other`` has the dtype of the input ``X``."""
    if other.dtype != X.dtype:
        raise TypeError(
            f"{who}: {name} must have the input's dtype {X.dtype}, got {other.dtype}; "
            f"convert it with {name}.to(X.dtype)"
        )


def check_kernel_size(who: str, K: torch.Tensor, layout: str = "") -> tuple[int, int]:
    """The kernel's ``(kh, kw)`` (its last two axes), or ValueError when one of them is 0."""
    kh, kw = K.shape[-2:]
    if kh < 1 or kw < 1:
        axes = f" (K is {layout})" if layout else ""
        raise ValueError(f"{who}: kernel must be at least 1x1, got shape {(kh, kw)}; "
                         f"give K a nonzero height and width{axes}")
    return kh, kw


def pair(who: str, name: str, value: IntPair) -> tuple[int, int]:
    """Turn an int or a pair of ints into ``(height, width)``; reject anything else."""
    if isinstance(value, bool):
        raise TypeError(f"{who}: {name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, Sequence) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return (int(value[0]), int(value[1]))
    raise TypeError(f"{who}: {name} must be an int or a pair of ints (h, w), got {value!r}")


def positive_pair(who: str, name: str, value: IntPair) -> tuple[int, int]:
    """Like :func:`pair`, but every entry must be at least 1 (kernel sizes, strides, dilations)."""
    hw = pair(who, name, value)
    if min(hw) < 1:
        raise ValueError(f"{who}: {name} must be >= 1 in each dimension, got {value!r}")
    return hw


def nonnegative_pair(who: str, name: str, value: IntPair) -> tuple[int, int]:
    """Like :func:`pair`, but every entry must be at least 0 (paddings)."""
    hw = pair(who, name, value)
    if min(hw) < 0:
        raise ValueError(f"{who}: {name} must be >= 0 in each dimension, got {value!r}")
    return hw


def conv_padding(who: str, name: str, value: IntPair | str) -> tuple[int, int] | str:
    """A convolution's padding as ``nn.Conv2d`` takes it: ``"same"``, ``"valid"``, or a pair of ints >= 0."""
    if isinstance(value, str):
        if value not in PADDING_STRINGS:
            raise ValueError(
                f"{who}: {name} must be 'same', 'valid', an int or a pair of ints, got {value!r}; "
                f"PyTorch knows only these two strings, in lower case"
            )
        return value
    if isinstance(value, bool) or not isinstance(value, (int, Sequence)):
        raise TypeError(
            f"{who}: {name} must be 'same', 'valid', an int or a pair of ints (h, w), got {value!r}"
        )
    return nonnegative_pair(who, name, value)


def positive_int(who: str, name: str, value: object) -> int:
    """Return ``value`` if it is an int >= 1 (bools rejected); raise TypeError/ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{who}: {name} must be a positive int, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{who}: {name} must be >= 1, got {value}")
    return value


def check_divides(who: str, what: str, total: int, groups: int) -> None:
    """Raise TypeError unless ``groups`` is an int, ValueError unless it is >= 1 and divides ``total``."""
    positive_int(who, "groups", groups)
    if total % groups:
        raise ValueError(
            f"{who}: groups={groups} must divide {what}={total}; "
            f"choose groups among the divisors of {total}"
        )


def nonzero_int(who: str, name: str, value: object) -> int:
    """Return ``value`` if it is an int other than 0 (bools rejected), as PyTorch's divisors are."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{who}: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value == 0:
        raise ValueError(f"{who}: {name} must not be 0, got 0; it divides every window's sum")
    return value


def check_bool(who: str, name: str, value: object) -> bool:
    """Return ``value`` if it is True or False; raise TypeError otherwise (1, "yes" and None included)."""
    if not isinstance(value, bool):
        raise TypeError(f"{who}: {name} must be True or False, got {value!r} ({type(value).__name__})")
    return value
