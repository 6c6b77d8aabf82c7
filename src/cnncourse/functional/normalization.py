"""Batch normalization as a pure function (Section 8.5).

Re-exported by :mod:`cnncourse.functional`.
"""

from __future__ import annotations

import torch

from cnncourse._checks import check_float_tensor, check_same_dtype, check_tensor

__all__ = ["batch_norm"]


def batch_norm(X: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, running_mean: torch.Tensor,
               running_var: torch.Tensor, training: bool, momentum: float = 0.1,
               eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch normalization with PyTorch's semantics, as a pure function (Section 8.5).

    Training: normalise each channel with the mean and biased variance of the minibatch (over the
    batch, and over height and width for 4-D input), then scale by ``gamma`` and shift by ``beta``;
    the running statistics move towards the batch ones, ``new = (1 - momentum) old + momentum
    batch``, using the unbiased variance (divide by ``m - 1``) as ``nn.BatchNorm2d`` does.
    Evaluation: normalise with the running statistics, which are returned unchanged.

    Departures from the book: the mode comes from the caller's ``training`` flag, never from
    ``torch.is_grad_enabled()`` (evaluating under ``torch.no_grad()`` and training are different
    questions); ``momentum`` weighs the new batch (PyTorch's convention, the book's weighs the old
    value); nothing is updated in place, the new running statistics are returned instead.

    Args:
        X: the input, shape ``(N, C)`` or ``(N, C, H, W)``.
        gamma: scale per channel, shape ``(C,)``.
        beta: shift per channel, shape ``(C,)``.
        running_mean: running mean per channel, shape ``(C,)``.
        running_var: running variance per channel, shape ``(C,)``.
        training: True to use and record batch statistics, False to use the running ones.
        momentum: weight of the new batch in the running statistics, in [0, 1].
        eps: added to the variance before the square root.

    Returns:
        ``(Y, new_running_mean, new_running_var)``; ``Y`` has the shape of ``X``; the statistics are
        new tensors, detached from the graph.

    Raises:
        TypeError: a tensor is not floating point, dtypes differ, ``training`` is not a bool, or
            ``momentum``/``eps`` is not a number.
        ValueError: wrong rank, a per-channel tensor of the wrong shape, momentum outside [0, 1],
            eps <= 0, or a single value per channel in training mode.
    """
    who = "batch_norm"
    X = check_float_tensor(who, "X", X, (2, 4), "(N, C) or (N, C, H, W)")
    channels = X.shape[1]
    for name, t in (("gamma", gamma), ("beta", beta), ("running_mean", running_mean),
                    ("running_var", running_var)):
        check_tensor(who, name, t, 1, "(C,)")
        check_same_dtype(who, X, name, t)
        if t.shape[0] != channels:
            raise ValueError(
                f"{who}: {name} must have one entry per channel, shape ({channels},), "
                f"got {tuple(t.shape)}; X has {channels} channels on axis 1"
            )
    if not isinstance(training, bool):
        raise TypeError(
            f"{who}: training must be a bool, got {type(training).__name__}; "
            f"pass a module's self.training"
        )
    for name, value, want in (("momentum", momentum, "in [0, 1]"), ("eps", eps, "> 0")):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{who}: {name} must be a number {want}, got {value!r}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"{who}: momentum must be in [0, 1], got {momentum!r}")
    if not eps > 0:  # also rejects NaN
        raise ValueError(f"{who}: eps must be > 0, got {eps!r}")

    dims = (0,) if X.dim() == 2 else (0, 2, 3)  # every axis but the channels
    shape = (1, channels) if X.dim() == 2 else (1, channels, 1, 1)  # broadcasts against X
    if not training:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.detach().clone(), running_var.detach().clone()
    else:
        count = X.numel() // channels  # values per channel
        if count < 2:
            raise ValueError(
                f"{who}: training needs more than one value per channel to estimate a variance, "
                f"got X of shape {tuple(X.shape)}; use a larger batch or training=False"
            )
        mean = X.mean(dim=dims)  # (C,)
        var = ((X - mean.view(shape)) ** 2).mean(dim=dims)  # (C,), biased: divide by count
        with torch.no_grad():
            unbiased = var * count / (count - 1)
            new_mean = (1 - momentum) * running_mean + momentum * mean
            new_var = (1 - momentum) * running_var + momentum * unbiased
    X_hat = (X - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
    return gamma.view(shape) * X_hat + beta.view(shape), new_mean, new_var
