"""Checks for network blocks a student builds from torch.nn layers (Sections 7.6-8.6)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["parameter_count", "forward_or_explain", "same_forward", "check_layers"]


def parameter_count(module: nn.Module) -> int:
    """Number of learnable values in ``module``."""
    return sum(p.numel() for p in module.parameters())


def forward_or_explain(call: str, block: Any, X: torch.Tensor, hint: str = "does every convolution read "
                       "the channels the layer before it writes?", show_error: bool = True) -> torch.Tensor:
    """``block(X)``, turning a shape error inside the block into an AssertionError that names ``call``.

    Args:
        show_error: quote PyTorch's message; turn it off where that message would print the
            size the student is asked to work out (a Linear layer's expected in_features).
    """
    try:
        return block(X)
    except RuntimeError as error:
        detail = f" ({str(error).splitlines()[0]})" if show_error else ""
        raise AssertionError(f"{call} fails on an input of shape {tuple(X.shape)}{detail}; {hint}") from None


def check_layers(call: str, model: object, kinds: list[str], hint: str) -> None:
    """Check that ``model`` is an ``nn.Sequential`` whose layers have the class names ``kinds``, in order.

    The message names the first layer that does not fit and gives ``hint`` (the idea of the
    design), never the whole expected list.
    """
    if not isinstance(model, nn.Sequential):
        raise AssertionError(f"{call} should return an nn.Sequential, got {model.__class__.__name__}")
    got = [layer.__class__.__name__ for layer in model]  # a stand-in reports its remote class
    for index, (mine, wanted) in enumerate(zip(got, kinds, strict=False)):
        if mine != wanted:
            raise AssertionError(f"layer {index} of {call} is a {mine}, which does not fit the design "
                                 f"at that place; {hint}")
    if len(got) != len(kinds):
        more = "more" if len(got) > len(kinds) else "fewer"
        raise AssertionError(f"{call} has {len(got)} layers, {more} than the design asks for; {hint}")


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
