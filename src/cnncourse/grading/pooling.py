"""Checks for pooling written by hand: the student returns the windows, the check reduces them (Section 7.5).

Nothing here watches how the student's function computes. It returns every pooling window as
data; the check builds the same windows itself (``Tensor.unfold``), reduces the student's windows
with a max or a mean and compares the result with PyTorch's pooling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["torch_pool", "reference_windows", "check_pad_fill", "check_pool_windows"]

MODES = ("max", "avg")
_SIZE_HINT = ("stride=None means the stride equals the window, padding counts at both ends, and windows "
              "sticking out are dropped")


def _pair(size: Any) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def torch_pool(X: torch.Tensor, kernel_size: Any, stride: int | None = None, padding: int = 0,
               mode: str = "max") -> torch.Tensor:
    """PyTorch's pooling of a 2-D ``X`` viewed as a batch of one single-channel image (the oracle)."""
    stride = kernel_size if stride is None else stride
    if mode == "max":
        return F.max_pool2d(X[None, None], kernel_size, stride=stride, padding=padding)[0, 0]
    pooled = F.avg_pool2d(X[None, None], kernel_size, stride=stride, padding=padding, count_include_pad=True)
    return pooled[0, 0]


def reference_windows(X: torch.Tensor, kernel_size: Any, stride: int | None = None, padding: int = 0,
                      fill: float = 0.0) -> torch.Tensor:
    """Every pooling window of the 2-D ``X`` padded with ``fill``: (H_out, W_out, p_h, p_w).

    ``stride=None`` means the window size (PyTorch); windows sticking out are dropped.
    """
    p_h, p_w = _pair(kernel_size)
    s_h, s_w = (p_h, p_w) if stride is None else _pair(stride)
    padded = F.pad(X, (padding, padding, padding, padding), value=fill)  # (H + 2p, W + 2p)
    return padded.unfold(0, p_h, s_h).unfold(1, p_w, s_w)  # (H_out, W_out, p_h, p_w)


def check_pad_fill(name: str, table: object) -> dict[str, float]:
    """Check that ``table`` maps "max" and "avg" to numbers; return them as floats."""
    if not isinstance(table, dict) or set(table) != set(MODES):
        keys = sorted(map(repr, table)) if isinstance(table, dict) else table.__class__.__name__
        raise AssertionError(f"{name} should be a dict with the keys 'max' and 'avg', got {keys}")
    for mode in MODES:
        value = table[mode]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AssertionError(f"{name}[{mode!r}] should be a number (an int or a float), "
                                 f"got a {value.__class__.__name__}")
    return {mode: float(table[mode]) for mode in MODES}


def _first_wrong_window(got: torch.Tensor, want: torch.Tensor) -> tuple[int, int] | None:
    bad = ~torch.isclose(got, want, rtol=1e-5, atol=1e-6)  # float32 windows of a float64 X are fine
    bad = bad.flatten(2).any(dim=2)  # (H_out, W_out): which windows differ
    if not bad.any():
        return None
    first = bad.nonzero()[0]
    return int(first[0]), int(first[1])


def check_pool_windows(fn: Callable[..., Any], X: torch.Tensor, kernel_size: Any, stride: int | None = None,
                       padding: int = 0, mode: str = "max", fill: float = 0.0, hint: str = "",
                       name: str = "pool2d_windows") -> None:
    """Check ``fn(X, kernel_size, stride=, padding=, fill=)``'s windows and their ``mode`` reduction.

    The windows must be a plain floating-point tensor of shape (H_out, W_out, p_h, p_w) equal to
    the windows of ``X`` padded with ``fill``; reduced over their last two axes (amax or mean)
    they must give PyTorch's pooling, which only the right ``fill`` for ``mode`` achieves once
    there is padding.

    Args:
        fn: the student's window function (or a stand-in for it).
        fill: the padding value handed to ``fn`` (the student's ``PAD_FILL[mode]`` where it matters).
        hint: what to look at when the reduced windows differ from PyTorch's pooling.
        name: how the message names ``fn``.
    """
    call = (f"{name}(X of shape {tuple(X.shape)}, {kernel_size}, stride={stride}, padding={padding}, "
            f"fill={fill})")
    got = fn(X, kernel_size, stride=stride, padding=padding, fill=fill)
    if not isinstance(got, torch.Tensor):
        raise AssertionError(f"{call} should return a torch.Tensor, but it returned a "
                             f"{got.__class__.__name__}")
    if not got.is_floating_point():
        raise AssertionError(f"{call} returned a tensor of dtype {got.dtype}; the windows hold X's "
                             "floating-point values")
    want = reference_windows(X, kernel_size, stride, padding, fill)
    if tuple(got.shape) != tuple(want.shape):
        raise AssertionError(f"{call} has shape {tuple(got.shape)}; it should be (H_out, W_out, p_h, p_w): "
                             f"one window of p_h x p_w values per output position ({_SIZE_HINT})")
    got = got.detach().to(torch.float64)
    wrong = _first_wrong_window(got, want.to(torch.float64))
    if wrong is not None:
        raise AssertionError(f"{call} has the right shape, but the window of output position {wrong} holds "
                             "other values than the input there; the window of output (i, j) starts at row "
                             "i * stride, column j * stride of the padded input, and padding adds fill on "
                             "all four sides")
    reduced = got.amax(dim=(-2, -1)) if mode == "max" else got.mean(dim=(-2, -1))  # (H_out, W_out)
    pytorch = "F.max_pool2d" if mode == "max" else "F.avg_pool2d"
    expected = torch_pool(X, kernel_size, stride, padding, mode).to(torch.float64)
    bad = ~torch.isclose(reduced, expected, rtol=1e-5, atol=1e-6)
    if bad.any():
        first = tuple(int(i) for i in bad.nonzero()[0])
        raise AssertionError(f"the windows of {call} are right, but reduced by {mode} they differ from "
                             f"{pytorch} at output position {first}; {hint}".rstrip("; "))
