"""Small ``nn.Module`` wrappers of :mod:`cnncourse.functional`, written from scratch (Sections 7.2, 8.5)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse._checks import check_bool, conv_padding, positive_int, positive_pair
from cnncourse.functional import batch_norm, corr2d_fast
from cnncourse.functional.shapes import conv_pads

__all__ = ["Conv2D", "BatchNorm"]


class Conv2D(nn.Module):
    """A convolutional layer for one single-channel image: a learnable kernel and bias (Section 7.2).

    ``forward(x) = corr2d_fast(x, weight) + bias``, after padding ``x`` with zeros when asked
    (Section 7.3). Like the book's layer, the weight starts uniform in [0, 1) and the bias at zero.

    Args:
        kernel_size: kernel height and width, int or ``(kh, kw)``.
        padding: zeros added on each side, int or ``(ph, pw)``, or as in ``nn.Conv2d``
            ``"valid"`` (none) or ``"same"`` (output as large as the input; an even kernel gets
            its extra zero at the bottom and right).

    Shape:
        Input ``(H, W)``, output ``(H + 2 ph - kh + 1, W + 2 pw - kw + 1)``.
    """

    def __init__(self, kernel_size: int | Sequence[int], padding: int | Sequence[int] | str = 0) -> None:
        super().__init__()
        kh, kw = positive_pair("Conv2D", "kernel_size", kernel_size)
        self.padding = conv_padding("Conv2D", "padding", padding)
        self.pads = conv_pads("Conv2D", self.padding, (kh, kw))  # (left, right, top, bottom)
        self.weight = nn.Parameter(torch.rand(kh, kw))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(self.pads):
            x = F.pad(x, self.pads)  # (H + top + bottom, W + left + right)
        return corr2d_fast(x, self.weight) + self.bias  # (H', W')

    def extra_repr(self) -> str:
        padding = f", padding={self.padding!r}" if self.padding != (0, 0) else ""
        return f"kernel_size={tuple(self.weight.shape)}{padding}"


class BatchNorm(nn.Module):
    """Batch normalization from scratch, for fully connected or convolutional layers (Section 8.5).

    Behaves like ``nn.BatchNorm1d`` (``num_dims=2``) or ``nn.BatchNorm2d`` (``num_dims=4``):
    learnable ``gamma`` (ones) and ``beta`` (zeros), buffers ``running_mean`` (zeros),
    ``running_var`` (ones) and ``num_batches_tracked``. The mode is ``self.training``, set by
    ``.train()`` / ``.eval()``; unlike the book's layer, ``torch.no_grad()`` does not switch it.
    PyTorch's options keep their names and meaning: ``momentum=None`` averages every batch seen
    so far equally (a cumulative average, weight ``1 / num_batches_tracked``); ``affine=False``
    drops ``gamma`` and ``beta`` (``bias=False`` only ``beta``); ``track_running_stats=False``
    keeps no buffers and normalises with the batch's statistics in evaluation mode too.

    Args:
        num_features: number of channels ``C``.
        num_dims: 2 for ``(N, C)`` input, 4 for ``(N, C, H, W)`` input.
        momentum: weight of each new batch in the running statistics, or None for the
            cumulative average.
        eps: added to the variance before the square root.
        affine: whether to learn ``gamma`` and ``beta``.
        track_running_stats: whether to keep running statistics for evaluation mode.
        bias: whether to learn ``beta`` (when ``affine``).
    """

    def __init__(self, num_features: int, num_dims: int, momentum: float | None = 0.1, eps: float = 1e-5,
                 affine: bool = True, track_running_stats: bool = True, *, bias: bool = True) -> None:
        super().__init__()
        who = "BatchNorm"
        positive_int(who, "num_features", num_features)
        if num_dims not in (2, 4) or isinstance(num_dims, bool):
            raise ValueError(
                f"{who}: num_dims must be 2 (fully connected) or 4 (convolutional), got {num_dims!r}"
            )
        for name, flag in (("affine", affine), ("track_running_stats", track_running_stats), ("bias", bias)):
            check_bool(who, name, flag)
        self.num_features, self.num_dims = num_features, num_dims
        self.momentum, self.eps = momentum, eps
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("gamma", nn.Parameter(torch.ones(num_features)) if affine else None)
        self.register_parameter("beta", nn.Parameter(torch.zeros(num_features)) if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:  # registered as None, like nn.BatchNorm2d: the names exist, the state_dict has none
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if isinstance(X, torch.Tensor) and X.dim() != self.num_dims:
            raise ValueError(
                f"BatchNorm: X must be {self.num_dims}-D for num_dims={self.num_dims}, "
                f"got shape {tuple(X.shape)}"
            )
        update = self.training and self.track_running_stats
        momentum = self.momentum
        if momentum is None:  # cumulative average: this batch weighs as much as each earlier one
            momentum = 1.0 / (int(self.num_batches_tracked) + 1) if update else 0.0
        Y, new_mean, new_var = batch_norm(
            X, self.gamma, self.beta, self.running_mean, self.running_var,
            # without running statistics, batch statistics in evaluation mode too (as PyTorch)
            training=self.training or not self.track_running_stats, momentum=momentum, eps=self.eps,
        )
        if update:
            self.running_mean.copy_(new_mean)
            self.running_var.copy_(new_var)
            self.num_batches_tracked.add_(1)
        return Y

    def extra_repr(self) -> str:
        return (f"{self.num_features}, num_dims={self.num_dims}, momentum={self.momentum}, eps={self.eps}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")
