"""Maximum and average pooling (Section 7.5).

Re-exported by :mod:`cnncourse.functional`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnncourse._checks import (
    IntPair,
    check_bool,
    check_float_tensor,
    nonnegative_pair,
    nonzero_int,
    positive_pair,
)
from cnncourse.functional.convolution import windows
from cnncourse.functional.shapes import output_hw

__all__ = ["pool2d", "pool2d_batched"]

MODES = ("max", "avg")


def _pool_args(who: str, size_name: str, size: IntPair, mode: str, stride: IntPair | None,
               default_stride: tuple[int, int] | None,
               padding: IntPair) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    if mode not in MODES:
        raise ValueError(f"{who}: mode must be 'max' or 'avg', got {mode!r}")
    window = positive_pair(who, size_name, size)
    if stride is None:
        step = default_stride if default_stride is not None else window
    else:
        step = positive_pair(who, "stride", stride)
    pad = nonnegative_pair(who, "padding", padding)
    if pad[0] > window[0] // 2 or pad[1] > window[1] // 2:
        # PyTorch's rule: otherwise a window could hold nothing but padding.
        raise ValueError(
            f"{who}: padding {pad} must be at most half the {size_name} {window} "
            f"(PyTorch's rule: pad <= {size_name} // 2); use a smaller padding"
        )
    return window, step, pad


def _pad(X: torch.Tensor, padding: tuple[int, int], mode: str) -> torch.Tensor:
    """Pad the last two axes with -inf for max pooling (never chosen) or 0 for average pooling."""
    ph, pw = padding
    fill = float("-inf") if mode == "max" else 0.0
    return F.pad(X, (pw, pw, ph, ph), value=fill)


def pool2d(X: torch.Tensor, kernel_size: IntPair, mode: str = "max", stride: IntPair | None = None,
           padding: IntPair = 0) -> torch.Tensor:
    """Max or average pooling of one 2-D map, one output pixel at a time (Section 7.5).

    Like :func:`corr2d`, a window slides over the input, but instead of a weighted sum it takes the
    window's maximum or mean; there is no kernel to learn. ``stride=None`` means stride 1, as in the
    book's ``pool2d`` (PyTorch's pooling layers default to the window size instead; see
    :func:`pool2d_batched`). Padding uses -inf for ``"max"`` and zeros for ``"avg"`` (the zeros
    count in the mean, as with ``count_include_pad=True``). A max window's gradient goes to one
    input pixel, the one PyTorch picks, even when several pixels tie for the maximum (the first
    in row-major order); ``torch.amax`` would split it among them instead.

    Args:
        X: the input, shape ``(H, W)``.
        kernel_size: window height and width, int or ``(h, w)`` (as in ``nn.MaxPool2d``).
        mode: ``"max"`` or ``"avg"``.
        stride: step between windows, int or ``(h, w)``; None means 1.
        padding: pixels added on each side, at most half the window.

    Returns:
        The pooled map, shape from :func:`conv_output_shape` with the window as kernel.

    Raises:
        TypeError: X is not a floating-point tensor or a size is not an int or pair.
        ValueError: wrong rank, unknown mode, bad stride/padding, or window larger than padded input.
    """
    who = "pool2d"
    X = check_float_tensor(who, "X", X, 2, "(H, W)")
    window, step, pad = _pool_args(who, "kernel_size", kernel_size, mode, stride, (1, 1), padding)
    out_h, out_w = output_hw(who, tuple(X.shape), window, step, pad)
    inside = _inside(X, pad)  # (H_pad, W_pad), False on padding
    X = _pad(X, pad, mode)
    (kh, kw), (sh, sw) = window, step

    def reduce(i: int, j: int) -> torch.Tensor:
        rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
        if mode == "avg":
            return X[rows, cols].mean()
        # The maximum taken at one pixel, so that pixel alone receives its gradient, as in PyTorch.
        flat = X[rows, cols].flatten()  # (kh kw,)
        return flat[_pick_max(flat, inside[rows, cols].flatten())]

    rows = [torch.stack([reduce(i, j) for j in range(out_w)]) for i in range(out_h)]
    return torch.stack(rows)  # (H', W')


def _inside(X: torch.Tensor, padding: tuple[int, int]) -> torch.Tensor:
    """True on the pixels of ``X``'s last two axes, False on the padding around them."""
    (ph, pw), (h, w) = padding, X.shape[-2:]
    return F.pad(torch.ones(h, w, dtype=torch.bool, device=X.device), (pw, pw, ph, ph))  # (H_pad, W_pad)


def _pick_max(flat: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """Which position of each window (last axis) PyTorch's max pooling picks as its maximum.

    PyTorch's kernel keeps the first maximum in row-major order, or the last NaN when a window
    holds one, and never points into the padding (a window of -inf points at its first real
    pixel). ``inside`` (broadcastable to ``flat``) is False on padding.
    """
    nan = flat.isnan()
    has_nan = nan.any(-1, keepdim=True)
    hit = torch.where(has_nan, nan, (flat == flat.amax(-1, keepdim=True)) & inside)
    first = hit.byte().argmax(-1)  # argmax returns the first of equal maxima
    last = hit.shape[-1] - 1 - hit.flip(-1).byte().argmax(-1)
    return torch.where(has_nan[..., 0], last, first)


def _max_with_indices(X: torch.Tensor, window: tuple[int, int], stride: tuple[int, int],
                      padding: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Each window's maximum and where it sits in the input (``h * W + w``), as PyTorch picks it.

    The value is gathered at that index, so its gradient reaches that one pixel only, even when
    several pixels tie (``amax`` would split it among them; PyTorch does not).
    """
    w = X.shape[-1]
    kw, (sh, sw), (ph, pw) = window[1], stride, padding
    flat = windows(_pad(X, padding, "max"), window, stride, (1, 1)).flatten(-2)  # (N, C, H', W', kh kw)
    inside = _inside(X, padding)[None, None]  # (1, 1, H_pad, W_pad)
    inside = windows(inside, window, stride, (1, 1)).flatten(-2)  # (1, 1, H', W', kh kw)
    pick = _pick_max(flat, inside)  # (N, C, H', W'), position inside the window
    values = flat.gather(-1, pick[..., None])[..., 0]  # (N, C, H', W')
    out_h, out_w = pick.shape[-2:]
    rows = torch.arange(out_h, device=X.device).view(-1, 1) * sh - ph + pick // kw  # (N, C, H', W')
    cols = torch.arange(out_w, device=X.device) * sw - pw + pick % kw  # (N, C, H', W')
    return values, rows * w + cols


def pool2d_batched(X: torch.Tensor, kernel_size: IntPair, mode: str = "max", stride: IntPair | None = None,
                   padding: IntPair = 0, *, divisor_override: int | None = None,
                   return_indices: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Max or average pooling of a batch, every channel separately; equals PyTorch's (Section 7.5).

    Gathers every window as a view with ``Tensor.unfold`` and reduces its last two axes (max: takes
    the value at the one pixel PyTorch picks, so tied maxima pass the whole gradient to that pixel
    as in PyTorch, not split among them). Matches
    ``F.max_pool2d`` and ``F.avg_pool2d`` (``count_include_pad=True``, ``ceil_mode=False``), and
    like them ``stride=None`` means the window size (non-overlapping windows), one image may come
    without a batch axis, average pooling takes ``divisor_override`` and max pooling
    ``return_indices``.

    Args:
        X: the input, shape ``(N, C, H, W)``, or ``(C, H, W)`` for one image.
        kernel_size: window height and width, int or ``(h, w)``.
        mode: ``"max"`` or ``"avg"``.
        stride: step between windows, int or ``(h, w)``; None means ``kernel_size``.
        padding: pixels added on each side, at most half the window (an int or pair: PyTorch's
            pooling takes no ``"same"``).
        divisor_override: ``"avg"`` only: divide each window's sum by this int instead of the
            window's size.
        return_indices: ``"max"`` only: also return where each maximum sits in its input map,
            as ``h * W + w`` (what ``nn.MaxUnpool2d`` takes).

    Returns:
        The pooled batch, shape ``(N, C, H', W')`` (``(C, H', W')`` unbatched); with
        ``return_indices``, a pair ``(values, indices)`` of that shape, indices int64.

    Raises:
        TypeError: X is not a floating-point tensor, a size is not an int or pair,
            ``divisor_override`` is not an int or ``return_indices`` not a bool.
        ValueError: wrong rank, unknown mode, bad stride/padding, window larger than padded input,
            ``divisor_override`` of 0, or an option given to the other mode.
    """
    who = "pool2d_batched"
    X = check_float_tensor(who, "X", X, (3, 4), "(N, C, H, W) or (C, H, W)")
    window, step, pad = _pool_args(who, "kernel_size", kernel_size, mode, stride, None, padding)
    check_bool(who, "return_indices", return_indices)
    if divisor_override is not None:
        nonzero_int(who, "divisor_override", divisor_override)
    if divisor_override is not None and mode == "max":
        raise ValueError(f"{who}: divisor_override is for mode='avg' only, got mode='max'; "
                         f"in PyTorch only F.avg_pool2d takes it")
    if return_indices and mode == "avg":
        raise ValueError(f"{who}: return_indices is for mode='max' only, got mode='avg'; "
                         f"in PyTorch only F.max_pool2d takes it")
    output_hw(who, tuple(X.shape[-2:]), window, step, pad)  # validates that a window fits
    if X.dim() == 3:  # one image: pool it as a batch of one and drop that axis again
        out = pool2d_batched(X[None], window, mode, step, pad, divisor_override=divisor_override,
                             return_indices=return_indices)
        return (out[0][0], out[1][0]) if return_indices else out[0]  # (C, H', W')
    if mode == "max":  # through the indices, so that tied maxima get PyTorch's gradient
        values, indices = _max_with_indices(X, window, step, pad)  # (N, C, H', W') twice
        return (values, indices) if return_indices else values
    view = windows(_pad(X, pad, mode), window, step, (1, 1))  # (N, C, H', W', kh, kw)
    if divisor_override is not None:
        return view.sum(dim=(-2, -1)) / divisor_override  # (N, C, H', W')
    return view.mean(dim=(-2, -1))  # (N, C, H', W')
