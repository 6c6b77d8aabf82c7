"""Problem-specific checker: finite-difference kernels, tested on polynomials (Section 7.2).

The d-th derivative of a polynomial of degree below d is zero and that of ``x ** d`` is the
constant ``d!``. A 1 x w kernel computes the d-th derivative up to a constant factor exactly
when cross-correlating with it sends every such polynomial to the matching result (zero, or
one nonzero constant), which is what :func:`check_difference_kernel` tries.
"""

from __future__ import annotations

import math

import torch

from cnncourse.grading.checks import check_tensor_like

__all__ = ["difference_kernel_problem", "check_difference_kernel"]


def _rows(kernel: torch.Tensor, degree: int, shift: float) -> torch.Tensor:
    """corr2d of the row ``(x - shift) ** degree`` (x = 0, 1, ...) with a 1 x w kernel, in float64."""
    width = kernel.shape[1]
    x = torch.arange(width + 5, dtype=torch.float64) - shift
    row = x ** degree
    windows = row.unfold(0, width, 1)  # (positions, width)
    return windows @ kernel[0].to(torch.float64)


def difference_kernel_problem(kernel: object, order: int, name: str = "the kernel") -> str | None:
    """Why ``kernel`` is not a narrowest 1 x w kernel for the derivative of ``order``, or None if it is.

    The message names the polynomial the kernel gets wrong, never the coefficients.
    """
    try:
        check_tensor_like(name, kernel, ndim=2)
    except AssertionError as error:
        return str(error)
    if kernel.shape[0] != 1:
        return f"{name} has shape {tuple(kernel.shape)}; it should be one row (1 x w), applied along a row"
    if not torch.isfinite(kernel).all():
        return f"{name} contains inf or nan values"
    scale = float(kernel.abs().max())
    if scale == 0:
        return f"{name} is all zeros, so it responds to nothing, not even to a polynomial of degree {order}"
    # Scaled to a largest coefficient of 1, no product overflows to inf (and inf - inf to nan); the
    # comparisons are written so that a nan would fail them too.
    unit = kernel.detach().to(torch.float64) / scale
    for degree in range(order):
        for shift in (0.0, 2.5):
            response = _rows(unit, degree, shift)
            bound = 1e-6 * (kernel.shape[1] + 5 + shift) ** degree
            if not float(response.abs().max()) <= bound:
                row = "x" if shift == 0 else f"(x - {shift:g})"
                return (f"{name} responds to a row that is a polynomial of degree {degree} (for example "
                        f"{row} ** {degree}), but the derivative of order {order} of such a row is zero "
                        "everywhere; take differences of differences")
    if kernel.shape[1] > order + 1:
        return (f"{name} has width {kernel.shape[1]}, but a narrower kernel computes the derivative of order "
                f"{order} too; how many pixels does each further difference add?")
    top = _rows(unit, order, 0.0)
    size = float(top.abs().max())
    if not (size > 0 and float((top - top[0]).abs().max()) <= 1e-6 * size):
        return (f"{name} does not give a nonzero constant on the row x ** {order}, whose derivative of order "
                f"{order} is the constant {math.factorial(order)}")
    return None


def check_difference_kernel(name: str, kernel: object, order: int) -> None:
    """Raise AssertionError unless ``kernel`` computes the derivative of ``order`` up to a factor."""
    problem = difference_kernel_problem(kernel, order, name)
    if problem is not None:
        raise AssertionError(problem)
