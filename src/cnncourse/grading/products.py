"""Checks for a cross-correlation written as one matrix product: the student returns the matrix (Section 7.2).

Nothing here watches how the student's function computes. ``corr2d_matrix(input_shape, K)``
never sees an image, so the matrix ``M`` it returns cannot depend on one. The checks multiply
``M`` with images of their own and compare with :func:`~cnncourse.functional.corr2d`, and compare
``M`` with the one matrix that works, built here from its definition: row ``r = i * W' + j``
(output pixel ``(i, j)``) holds ``K`` over the window at ``(i, j)`` of the image laid out like
``X.reshape(-1)``, and zeros elsewhere. :func:`tensor_values` is the validation every returned
tensor goes through before a check uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from cnncourse.functional import corr2d

__all__ = ["tensor_values", "check_corr2d_matrix_product", "check_corr2d_matrix"]

SAMPLES = 3  # random images each matrix is multiplied with


def tensor_values(name: str, value: object, shape: Sequence[int], hint: str = "") -> torch.Tensor:
    """``value`` as a float64 CPU copy, once it is a plain floating-point tensor of ``shape``.

    Raises:
        AssertionError: ``value`` is not a dense floating-point ``torch.Tensor`` with real values
            (a stand-in, a sparse or meta tensor, integers), or its shape is not ``shape``; ``hint``
            says what the shape means.
    """
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{name} should return a torch.Tensor, but it returned a "
                             f"{value.__class__.__name__}")
    if value.layout != torch.strided or value.is_meta:
        raise AssertionError(f"{name} returned a {value.layout} tensor on the {value.device.type} device; "
                             "return an ordinary dense tensor that holds its numbers")
    if not value.is_floating_point():
        raise AssertionError(f"{name} returned a tensor of dtype {value.dtype}; it should hold "
                             "floating-point numbers (torch.float32 or torch.float64)")
    got, want = tuple(value.shape), tuple(int(n) for n in shape)
    if got != want:
        raise AssertionError(f"{name} has shape {got} but should have shape {want}. {hint}".rstrip())
    return value.detach().to("cpu", torch.float64)


def _sizes(input_shape: Sequence[int], K: torch.Tensor) -> tuple[int, int, int, int, int, int]:
    (h, w), (kh, kw) = (int(n) for n in input_shape), K.shape
    return h, w, kh, kw, h - kh + 1, w - kw + 1


def _matrix(fn: Callable[..., Any], input_shape: Sequence[int], K: torch.Tensor, name: str
            ) -> tuple[str, torch.Tensor]:
    """Call ``fn((h, w), K)`` and validate what it returns: (how the call reads, its matrix in float64)."""
    h, w, kh, kw, out_h, out_w = _sizes(input_shape, K)
    call = f"{name}(({h}, {w}), K of shape ({kh}, {kw}))"
    M = tensor_values(call, fn((h, w), K.clone()), (out_h * out_w, h * w),
                      hint=f"One row per output pixel ({out_h} x {out_w} = {out_h * out_w} of them) and one "
                           f"column per pixel of the {h} x {w} image ({h * w}).")
    return call, M


def _reference_matrix(input_shape: Sequence[int], K: torch.Tensor) -> torch.Tensor:
    """The matrix from its definition: row ``i * W' + j`` is ``K`` placed at ``(i, j)``, zeros elsewhere."""
    h, w, kh, kw, out_h, out_w = _sizes(input_shape, K)
    placed = torch.zeros(out_h, out_w, h, w, dtype=torch.float64)
    for i in range(out_h):
        for j in range(out_w):
            placed[i, j, i:i + kh, j:j + kw] = K
    return placed.reshape(out_h * out_w, h * w)  # (H' W', H W)


def check_corr2d_matrix_product(fn: Callable[..., Any], input_shape: Sequence[int], K: torch.Tensor,
                                name: str = "corr2d_matrix") -> None:
    """Check that ``M = fn(input_shape, K)`` computes ``corr2d(X, K)`` as ``M @ X.reshape(-1)``.

    ``M`` must be a plain floating-point ``(H' W', H W)`` tensor; this check makes the product
    itself, with random images of shape ``input_shape``, and compares it with ``corr2d``.
    """
    call, M = _matrix(fn, input_shape, K, name)
    h, w, _, _, out_h, out_w = _sizes(input_shape, K)
    generator = torch.Generator().manual_seed(7202)
    for _ in range(SAMPLES):
        X = torch.randn(h, w, generator=generator, dtype=torch.float64)
        got = M @ X.reshape(-1)  # (H' W',)
        bad = ~torch.isclose(got, corr2d(X, K.to(torch.float64)).reshape(-1), rtol=1e-4, atol=1e-5)
        if bad.any():
            r = int(bad.nonzero()[0, 0])
            raise AssertionError(
                f"M = {call} does not compute the cross-correlation: for a random {h} x {w} image X, "
                f"M @ X.reshape(-1) differs from corr2d(X, K).reshape(-1) in {int(bad.sum())} of "
                f"{got.numel()} entries, the first being entry {r}, output pixel {divmod(r, out_w)}. "
                f"Row r of M computes output pixel (r // {out_w}, r % {out_w}) from the image laid out like "
                "X.reshape(-1); check that rows and columns are not mixed up when the image and the kernel "
                "are not square")


def check_corr2d_matrix(fn: Callable[..., Any], input_shape: Sequence[int], K: torch.Tensor,
                        name: str = "corr2d_matrix") -> None:
    """Check ``fn(input_shape, K)`` row by row against the definition of the matrix.

    The message names the first wrong row, its output pixel and window, and whether the wrong
    entries lie inside the window (where ``K`` goes) or outside it (where zeros go).
    """
    call, M = _matrix(fn, input_shape, K, name)
    h, w, kh, kw, out_h, out_w = _sizes(input_shape, K)
    bad = ~torch.isclose(M, _reference_matrix(input_shape, K.to(torch.float64)), rtol=1e-5, atol=1e-6)
    if not bad.any():
        return
    r = int(bad.nonzero()[0, 0])
    i, j = divmod(r, out_w)
    window = torch.zeros(h, w, dtype=torch.bool)
    window[i:i + kh, j:j + kw] = True
    wrong = bad[r].reshape(h, w)  # (H, W): the wrong entries of row r, laid out like the image
    inside, outside = bool((wrong & window).any()), bool((wrong & ~window).any())
    where = ("inside and outside that window" if inside and outside else
             "inside that window: are K's entries in their places, not flipped or transposed?" if inside else
             "outside that window, where every entry must be zero")
    raise AssertionError(
        f"row {r} of {call} (output pixel ({i}, {j})) is wrong in {int(wrong.sum())} of its {h * w} "
        f"entries. That row holds K over the window of rows {i} to {i + kh - 1} and columns {j} to "
        f"{j + kw - 1} of the {h} x {w} image, laid out like X.reshape(-1), and zeros elsewhere; the wrong "
        f"entries lie {where}")
