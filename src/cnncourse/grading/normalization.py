"""Problem-specific checker for batch normalization written by hand (Section 8.5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from cnncourse.grading.observe import observe

__all__ = ["reference_batch_norm", "random_batch_norm_inputs", "call_batch_norm"]

def reference_batch_norm(X: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, running_mean: torch.Tensor,
                         running_var: torch.Tensor, training: bool, momentum: float = 0.1,
                         eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PyTorch's batch norm as ``(Y, new_running_mean, new_running_var)``; the inputs stay untouched."""
    mean, var = running_mean.clone(), running_var.clone()
    Y = F.batch_norm(X, mean, var, gamma, beta, training=training, momentum=momentum, eps=eps)
    return Y, mean, var


def random_batch_norm_inputs(shape: tuple[int, ...], generator: torch.Generator,
                             small_channel: bool = False) -> tuple[torch.Tensor, ...]:
    """X of ``shape`` (N, C, ...) and random (C,) gamma, beta, running_mean, running_var in float64.

    With ``small_channel`` the first channel varies by about 1e-3, so ``eps`` decides its result.
    """
    C = shape[1]
    X = 2.0 + 3.0 * torch.randn(*shape, generator=generator, dtype=torch.float64)
    if small_channel:
        X[:, 0] = 1.0 + 1e-3 * torch.randn(X[:, 0].shape, generator=generator, dtype=torch.float64)
    gamma = 1.0 + 0.5 * torch.randn(C, generator=generator, dtype=torch.float64)
    beta = torch.randn(C, generator=generator, dtype=torch.float64)
    running_mean = torch.randn(C, generator=generator, dtype=torch.float64)
    running_var = 0.5 + torch.rand(C, generator=generator, dtype=torch.float64)
    return X, gamma, beta, running_mean, running_var


def call_batch_norm(fn: Callable[..., Any], X: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
                    running_mean: torch.Tensor, running_var: torch.Tensor, training: bool,
                    momentum: float = 0.1, eps: float = 1e-5, name: str = "batch_norm_student") -> tuple:
    """Call the student's batch norm; check it returns ``(Y, new_running_mean, new_running_var)``.

    Only what the function returns is graded. Whether it also changed its arguments in place
    could be learned only by asking the student's kernel, which a submission can make say anything.
    """
    result = observe(fn, X, gamma, beta, running_mean, running_var, training, momentum=momentum,
                     eps=eps).result
    if not isinstance(result, tuple) or len(result) != 3:
        raise AssertionError(f"{name} should return a tuple (Y, new_running_mean, new_running_var)")
    return result
