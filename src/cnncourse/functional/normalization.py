"""Batch normalization as a pure function (Section 8.5).

Re-exported by :mod:`cnncourse.functional`.
"""

from __future__ import annotations

import torch

from cnncourse._checks import check_float_tensor, check_same_dtype, check_tensor

__all__ = ["batch_norm"]


def batch_norm(X: torch.Tensor, gamma: torch.Tensor | None, beta: torch.Tensor | None,
               running_mean: torch.Tensor | None, running_var: torch.Tensor | None, training: bool,
               momentum: float = 0.1,
               eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
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

    As in ``F.batch_norm``: ``gamma``/``beta`` may be None (no scale / no shift, a layer with
    ``affine=False``); ``running_mean`` and ``running_var`` may both be None (no running
    statistics, ``track_running_stats=False``: training only); an empty batch gives an empty
    output and leaves the running statistics as they were. The cumulative average
    (``momentum=None``) belongs to the layer, which passes ``1 / batches seen`` as ``momentum``.

    Args:
        X: the input, shape ``(N, C)`` or ``(N, C, H, W)``.
        gamma: scale per channel, shape ``(C,)``, or None for 1.
        beta: shift per channel, shape ``(C,)``, or None for 0.
        running_mean: running mean per channel, shape ``(C,)``, or None (with ``running_var``).
        running_var: running variance per channel, shape ``(C,)``, or None (with ``running_mean``).
        training: True to use and record batch statistics, False to use the running ones.
        momentum: weight of the new batch in the running statistics, in [0, 1].
        eps: added to the variance before the square root.

    Returns:
        ``(Y, new_running_mean, new_running_var)``; ``Y`` has the shape of ``X``; the statistics are
        new tensors, detached from the graph (None when no running statistics were given).

    Raises:
        TypeError: a tensor is not floating point, dtypes differ, ``training`` is not a bool, or
            ``momentum``/``eps`` is not a number.
        ValueError: wrong rank, a per-channel tensor of the wrong shape, momentum outside [0, 1],
            eps <= 0, a single value per channel in training mode, only one running statistic,
            or evaluation without running statistics.
    """
    who = "batch_norm"
    X = check_float_tensor(who, "X", X, (2, 4), "(N, C) or (N, C, H, W)")
    channels = X.shape[1]
    for name, t in (("gamma", gamma), ("beta", beta), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is None:
            continue
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
            hint = "; the cumulative average (momentum=None) is the layer's option" if value is None else ""
            raise TypeError(f"{who}: {name} must be a number {want}, got {value!r}{hint}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"{who}: momentum must be in [0, 1], got {momentum!r}")
    if not eps > 0:  # also rejects NaN
        raise ValueError(f"{who}: eps must be > 0, got {eps!r}")
    tracking = running_mean is not None
    if tracking != (running_var is not None):
        raise ValueError(
            f"{who}: running_mean and running_var must both be tensors or both be None, got "
            f"running_mean={'None' if running_mean is None else 'a tensor'} and "
            f"running_var={'None' if running_var is None else 'a tensor'}"
        )
    if not training and not tracking:
        raise ValueError(
            f"{who}: training=False normalises with the running statistics, but running_mean and "
            f"running_var are None; pass them, or training=True to use the batch's statistics"
        )

    dims = (0,) if X.dim() == 2 else (0, 2, 3)  # every axis but the channels
    shape = (1, channels) if X.dim() == 2 else (1, channels, 1, 1)  # broadcasts against X
    count = X.numel() // channels if channels else 0  # values per channel
    if not training:
        mean, var = running_mean, running_var
    elif count == 1:
        raise ValueError(
            f"{who}: training needs more than one value per channel to estimate a variance, "
            f"got X of shape {tuple(X.shape)}; use a larger batch or training=False"
        )
    else:
        mean = X.mean(dim=dims)  # (C,); NaN for an empty batch, whose output is empty anyway
        var = ((X - mean.view(shape)) ** 2).mean(dim=dims)  # (C,), biased: divide by count
    if not tracking:
        new_mean = new_var = None
    elif not training or count == 0:  # nothing learnt: PyTorch leaves the statistics as they were
        new_mean, new_var = running_mean.detach().clone(), running_var.detach().clone()
    else:
        with torch.no_grad():
            unbiased = var * count / (count - 1)
            new_mean = (1 - momentum) * running_mean + momentum * mean
            new_var = (1 - momentum) * running_var + momentum * unbiased
    Y = (X - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)  # X_hat
    if gamma is not None:
        Y = gamma.view(shape) * Y
    if beta is not None:
        Y = Y + beta.view(shape)
    return Y, new_mean, new_var
