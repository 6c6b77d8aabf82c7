"""Problem-specific checker for pooling written by hand (Section 7.5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from cnncourse.grading.checks import check_close
from cnncourse.grading.observe import call_refusing

__all__ = ["POOLING_READY_MADE", "torch_pool", "check_pool"]

# PyTorch's and cnncourse's pooling functions: refused while a student's pooling runs.
POOLING_READY_MADE = ("max_pool2d", "avg_pool2d", "max_pool2d_with_indices", "adaptive_max_pool2d",
                      "adaptive_avg_pool2d", "lp_pool2d", "avg_pool1d", "pool2d", "pool2d_batched")
_SIZE_HINT = (" (if the shape is off: stride=None means the stride equals the window, padding counts at both "
              "ends, and windows sticking out are dropped)")


def torch_pool(X: torch.Tensor, pool_size: Any, stride: int | None = None, padding: int = 0,
               mode: str = "max") -> torch.Tensor:
    """PyTorch's pooling of a 2-D ``X`` viewed as a batch of one single-channel image (the oracle)."""
    stride = pool_size if stride is None else stride
    if mode == "max":
        return F.max_pool2d(X[None, None], pool_size, stride=stride, padding=padding)[0, 0]
    pooled = F.avg_pool2d(X[None, None], pool_size, stride=stride, padding=padding, count_include_pad=True)
    return pooled[0, 0]


def check_pool(fn: Callable[..., Any], X: torch.Tensor, pool_size: Any, stride: int | None = None,
               padding: int = 0, mode: str = "max", hint: str = "", name: str = "pool2d_student") -> None:
    """Compare ``fn(X, pool_size, stride=, padding=, mode=)`` with PyTorch, ready-made pooling refused.

    The ready-made pooling functions are refused where ``fn`` runs, under any alias in the
    notebook's namespace (:func:`cnncourse.grading.observe.call_refusing`), so this works on a
    student's function here and on a stand-in for one in the student's kernel.

    Args:
        fn: the student's pooling function.
        hint: what to look at when the values differ.
        name: how the message names ``fn``.
    """
    expected = torch_pool(X, pool_size, stride, padding, mode)
    got = call_refusing(POOLING_READY_MADE, fn, X, pool_size, stride=stride, padding=padding, mode=mode,
                        hint="write the pooling loop yourself")
    call = (f"{name}(X of shape {tuple(X.shape)}, {pool_size}, stride={stride}, padding={padding}, "
            f"mode={mode!r})")
    check_close(call, got, expected, atol=1e-6, hint=hint + _SIZE_HINT)
