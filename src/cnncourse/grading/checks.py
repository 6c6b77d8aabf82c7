"""Generic checks for assignment test cells: tensors, shapes and values (Sections 7.1-8.6).

Every check raises ``AssertionError`` with a message that says what is wrong and where to
look, never what the expected answer is.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch

__all__ = ["quiet", "check_tensor_like", "check_shape", "check_close"]


def quiet() -> None:
    """Silence Python warnings for the rest of the session.

    nbgrader gives a test cell zero points when anything reaches stderr, so a harmless
    deprecation warning from PyTorch must not be printed while a test runs.
    """
    warnings.simplefilter("ignore")


def _shape_of(value: object) -> tuple[int, ...]:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    return tuple(int(n) for n in value)  # a torch.Size or a tuple


def check_tensor_like(name: str, value: object, shape: Sequence[int] | None = None,
                      dtype_floating: bool = True, ndim: int | None = None) -> None:
    """Check that ``value`` is a tensor (floating point, of a given rank or shape)."""
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{name} should be a torch.Tensor, but it is a {value.__class__.__name__}")
    if ndim is not None and value.dim() != ndim:
        raise AssertionError(f"{name} should be a {ndim}-D tensor, but it has shape {tuple(value.shape)}")
    if shape is not None:
        check_shape(name, value, shape)
    if dtype_floating and not value.is_floating_point():
        raise AssertionError(
            f"{name} has dtype {value.dtype}; use floating-point numbers (e.g. torch.float32 via .float())"
        )


def check_shape(name: str, actual: object, expected: object, hint: str = "") -> None:
    """Check the shape of the tensor ``actual``; ``expected`` is a tensor or a shape, ``hint`` explains it.

    ``actual`` must be a tensor: a tuple of the right numbers, or an object with a ``shape``, is not
    an output of the right shape.
    """
    if not isinstance(actual, torch.Tensor):
        raise AssertionError(f"{name} should be a torch.Tensor, but it is a {actual.__class__.__name__}")
    got, want = _shape_of(actual), _shape_of(expected)
    if got != want:
        raise AssertionError(f"{name} has shape {got} but should have shape {want}. {hint}".rstrip())


def check_close(name: str, actual: object, expected: torch.Tensor, hint: str = "",
                atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Check a tensor's shape, then its values, against ``expected``.

    The message counts the wrong entries and names the first one, but never prints
    the expected values.
    """
    check_tensor_like(name, actual, dtype_floating=False)
    check_shape(name, actual, expected, hint)
    got = actual.detach().to(torch.float64)
    want = expected.detach().to(torch.float64)
    bad = ~torch.isclose(got, want, rtol=rtol, atol=atol)
    if bad.any():
        first = tuple(int(i) for i in bad.nonzero()[0])
        raise AssertionError(
            f"{name} has the right shape {tuple(got.shape)}, but {int(bad.sum())} of {got.numel()} "
            f"entries are wrong (the first at index {first}). {hint}".rstrip()
        )
