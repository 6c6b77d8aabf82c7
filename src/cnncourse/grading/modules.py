"""Checks for network blocks a student builds from torch.nn layers (Sections 7.6-8.6)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["parameter_count", "forward_or_explain", "same_forward"]


def parameter_count(module: nn.Module) -> int:
    """Number of learnable values in ``module``."""
    return sum(p.numel() for p in module.parameters())


def forward_or_explain(call: str, block: Any, X: torch.Tensor, hint: str = "does every convolution read "
                       "the channels the layer before it writes?") -> torch.Tensor:
    """``block(X)``, turning a shape error inside the block into an AssertionError that names ``call``."""
    try:
        return block(X)
    except RuntimeError as error:
        raise AssertionError(f"{call} fails on an input of shape {tuple(X.shape)} "
                             f"({str(error).splitlines()[0]}); {hint}") from None


def _state_dict_problem(error: RuntimeError) -> str:
    lines = [line.strip() for line in str(error).splitlines()[1:] if line.strip()]
    return "; ".join(lines)[:300]


def same_forward(block: nn.Module, reference: nn.Module, X: torch.Tensor, atol: float = 1e-6) -> bool:
    """Copy ``block``'s weights into ``reference`` (strictly, by name) and compare the two outputs.

    Raises:
        AssertionError: when the weights do not fit (missing, unexpected or differently sized layers).
    """
    try:
        reference.load_state_dict(block.state_dict())
    except RuntimeError as error:
        raise AssertionError("the block's layers do not match the expected layers in order, kind and size "
                             f"({_state_dict_problem(error)})") from None
    return bool(torch.allclose(block(X), reference(X), atol=atol))
