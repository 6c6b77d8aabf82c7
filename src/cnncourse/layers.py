"""Small ``nn.Module`` wrappers of :mod:`cnncourse.functional`, written from scratch (Sections 7.2, 8.5)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cnncourse._checks import positive_int, positive_pair
from cnncourse.functional import batch_norm, corr2d_fast

__all__ = ["Conv2D", "BatchNorm"]


class Conv2D(nn.Module):
    """A convolutional layer for one single-channel image: a learnable kernel and bias (Section 7.2).

    ``forward(x) = corr2d_fast(x, weight) + bias``. Like the book's layer, the weight starts
    uniform in [0, 1) and the bias at zero.

    Args:
        kernel_size: kernel height and width, int or ``(kh, kw)``.

    Shape:
        Input ``(H, W)``, output ``(H - kh + 1, W - kw + 1)``.
    """

    def __init__(self, kernel_size: int | Sequence[int]) -> None:
        super().__init__()
        kh, kw = positive_pair("Conv2D", "kernel_size", kernel_size)
        self.weight = nn.Parameter(torch.rand(kh, kw))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return corr2d_fast(x, self.weight) + self.bias  # (H', W')

    def extra_repr(self) -> str:
        return f"kernel_size={tuple(self.weight.shape)}"


class BatchNorm(nn.Module):
    """Batch normalization from scratch, for fully connected or convolutional layers (Section 8.5).

    Behaves like ``nn.BatchNorm1d`` (``num_dims=2``) or ``nn.BatchNorm2d`` (``num_dims=4``) with
    ``momentum=0.1``: learnable ``gamma`` (ones) and ``beta`` (zeros), buffers ``running_mean``
    (zeros), ``running_var`` (ones) and ``num_batches_tracked``. The mode is ``self.training``, set
    by ``.train()`` / ``.eval()``; unlike the book's layer, ``torch.no_grad()`` does not switch it.

    Args:
        num_features: number of channels ``C``.
        num_dims: 2 for ``(N, C)`` input, 4 for ``(N, C, H, W)`` input.
        momentum: weight of each new batch in the running statistics.
        eps: added to the variance before the square root.
    """

    def __init__(self, num_features: int, num_dims: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        positive_int("BatchNorm", "num_features", num_features)
        if num_dims not in (2, 4) or isinstance(num_dims, bool):
            raise ValueError(
                f"BatchNorm: num_dims must be 2 (fully connected) or 4 (convolutional), got {num_dims!r}"
            )
        self.num_features, self.num_dims = num_features, num_dims
        self.momentum, self.eps = momentum, eps
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if isinstance(X, torch.Tensor) and X.dim() != self.num_dims:
            raise ValueError(
                f"BatchNorm: X must be {self.num_dims}-D for num_dims={self.num_dims}, "
                f"got shape {tuple(X.shape)}"
            )
        Y, new_mean, new_var = batch_norm(
            X, self.gamma, self.beta, self.running_mean, self.running_var,
            training=self.training, momentum=self.momentum, eps=self.eps,
        )
        if self.training:
            self.running_mean.copy_(new_mean)
            self.running_var.copy_(new_var)
            self.num_batches_tracked.add_(1)
        return Y

    def extra_repr(self) -> str:
        return f"{self.num_features}, num_dims={self.num_dims}, momentum={self.momentum}, eps={self.eps}"
