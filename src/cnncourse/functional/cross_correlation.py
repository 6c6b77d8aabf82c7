"""Cross-correlation of one image with one kernel, and its multi-channel versions (Sections 7.2, 7.4).

Re-exported by :mod:`cnncourse.functional`.
"""

from __future__ import annotations

import torch

from cnncourse._checks import check_float_tensor, check_kernel_size, check_same_dtype

__all__ = [
    "corr2d",
    "corr2d_fast",
    "corr2d_as_matmul",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
]

# corr2d_as_matmul refuses to build a matrix larger than this many entries (256 MiB of float32).
MAX_MATRIX_ENTRIES = 2**26


def _check_kernel_fits(who: str, X: torch.Tensor, K: torch.Tensor) -> tuple[int, int]:
    """The output (height, width) of a valid correlation, or ValueError if K is larger than X."""
    h, w = X.shape[-2:]
    kh, kw = check_kernel_size(who, K)
    if kh > h or kw > w:
        raise ValueError(
            f"{who}: kernel {(kh, kw)} is larger than input {(h, w)}; "
            f"pad the input or use a smaller kernel"
        )
    return h - kh + 1, w - kw + 1


def _check_2d(who: str, X: object, K: object) -> tuple[int, int]:
    X = check_float_tensor(who, "X", X, 2, "(H, W)")
    K = check_float_tensor(who, "K", K, 2, "(kh, kw)")
    check_same_dtype(who, X, "K", K)
    return _check_kernel_fits(who, X, K)


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Two-dimensional cross-correlation, one output pixel at a time (Section 7.2).

    Each output ``Y[i, j]`` is the sum of the window ``X[i:i+kh, j:j+kw]`` multiplied elementwise
    by the kernel. No padding, stride 1. Slow on purpose: it spells out the definition. It is
    differentiable in ``X`` and ``K``, so a kernel can be learned with it.

    Args:
        X: the image, shape ``(H, W)``.
        K: the kernel, shape ``(kh, kw)``.

    Returns:
        The output, shape ``(H - kh + 1, W - kw + 1)``.

    Raises:
        TypeError: an argument is not a floating-point tensor, or the dtypes differ.
        ValueError: a rank is wrong or the kernel is larger than the image.
    """
    out_h, out_w = _check_2d("corr2d", X, K)
    kh, kw = K.shape
    # Each entry is a 0-d tensor that stays in the autograd graph; stacking them builds Y.
    rows = [
        torch.stack([(X[i:i + kh, j:j + kw] * K).sum() for j in range(out_w)])
        for i in range(out_h)
    ]
    return torch.stack(rows)  # (H - kh + 1, W - kw + 1)


def corr2d_fast(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The same cross-correlation as :func:`corr2d`, vectorised over the output (Section 7.2).

    Instead of visiting each output pixel, visit each of the ``kh * kw`` kernel taps: tap
    ``(a, b)`` multiplies the whole shifted image ``X[a:a+H', b:b+W']`` by ``K[a, b]`` and adds it
    to the output. That is ``kh * kw`` passes over the image and no intermediate copies. Gathering
    every window first (``unfold`` + ``einsum``) gives the same answer but materialises a
    ``kh * kw`` times larger matrix, and for one channel memory traffic, not arithmetic, is the
    limit. Differentiable in ``X`` and ``K``.

    Args:
        X: the image, shape ``(H, W)``.
        K: the kernel, shape ``(kh, kw)``.

    Returns:
        The output, shape ``(H - kh + 1, W - kw + 1)``.

    Raises:
        TypeError: an argument is not a floating-point tensor, or the dtypes differ.
        ValueError: a rank is wrong or the kernel is larger than the image.
    """
    out_h, out_w = _check_2d("corr2d_fast", X, K)
    kh, kw = K.shape
    Y = X[:out_h, :out_w] * K[0, 0]  # (H', W'), a fresh tensor we may accumulate into
    for a in range(kh):
        for b in range(kw):
            if a or b:
                Y.addcmul_(X[a:a + out_h, b:b + out_w], K[a, b])
    return Y


def corr2d_as_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The cross-correlation as one matrix-vector product with a Toeplitz-like matrix (Section 7.2).

    Correlation is linear in ``X``, so there is a matrix ``W`` of shape ``(H' W', H W)`` with
    ``Y.flatten() == W @ X.flatten()``. Row ``r = i W' + j`` (output pixel ``(i, j)``) holds
    ``K[a, b]`` in column ``(i + a) W + (j + b)`` and zeros elsewhere: each row is the kernel laid
    over the flattened image, shifted by one pixel from the row before (by ``kw - 1`` more at the
    end of an output row) - a doubly blocked Toeplitz matrix. The transpose ``W.T`` is what a
    transposed convolution (Section 14.10) multiplies by. The other classic matrix form, im2col,
    swaps the roles: a ``(H' W', kh kw)`` matrix of windows times the flattened kernel (that is
    how :func:`conv2d` works). ``W`` has ``H' W' H W`` entries, so this is for small images only.

    Args:
        X: the image, shape ``(H, W)``.
        K: the kernel, shape ``(kh, kw)``.

    Returns:
        The output, shape ``(H - kh + 1, W - kw + 1)``; differentiable in ``X`` and ``K``.

    Raises:
        TypeError: an argument is not a floating-point tensor, or the dtypes differ.
        ValueError: a rank is wrong, the kernel is larger than the image, or ``W`` would be too big.
    """
    who = "corr2d_as_matmul"
    out_h, out_w = _check_2d(who, X, K)
    (h, w), (kh, kw) = X.shape, K.shape
    if out_h * out_w * h * w > MAX_MATRIX_ENTRIES:
        raise ValueError(
            f"{who}: input {(h, w)} needs a {out_h * out_w} x {h * w} matrix, more than "
            f"{MAX_MATRIX_ENTRIES} entries; use corr2d_fast for large images"
        )
    i = torch.arange(out_h, device=X.device).view(out_h, 1, 1, 1)
    j = torch.arange(out_w, device=X.device).view(1, out_w, 1, 1)
    a = torch.arange(kh, device=X.device).view(1, 1, kh, 1)
    b = torch.arange(kw, device=X.device).view(1, 1, 1, kw)
    rows = (i * out_w + j).expand(out_h, out_w, kh, kw)  # (H', W', kh, kw): output pixel index
    cols = (i + a) * w + (j + b)  # (H', W', kh, kw): input pixel each tap reads
    values = K.expand(out_h, out_w, kh, kw)  # (H', W', kh, kw)
    W = X.new_zeros(out_h * out_w, h * w).index_put((rows.flatten(), cols.flatten()), values.flatten())
    return (W @ X.flatten()).view(out_h, out_w)  # (H' W',) -> (H', W')


def corr2d_multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation with several input channels, summed into one output channel (Section 7.4).

    Each input channel is correlated with its own slice of the kernel and the results are added.

    Args:
        X: the input, shape ``(C, H, W)``.
        K: the kernel, shape ``(C, kh, kw)``.

    Returns:
        The output, shape ``(H - kh + 1, W - kw + 1)``.

    Raises:
        TypeError: an argument is not a floating-point tensor, or the dtypes differ.
        ValueError: a rank is wrong, the channel counts differ, or the kernel is larger than the image.
    """
    who = "corr2d_multi_in"
    X = check_float_tensor(who, "X", X, 3, "(C, H, W)")
    K = check_float_tensor(who, "K", K, 3, "(C, kh, kw)")
    _check_channels(who, X.shape[0], K.shape[0], "K.shape[0]")
    check_same_dtype(who, X, "K", K)
    _check_kernel_fits(who, X, K)
    return sum(corr2d_fast(x, k) for x, k in zip(X, K, strict=True))  # (H', W')


def corr2d_multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation with several input and output channels (Section 7.4).

    Output channel ``o`` is :func:`corr2d_multi_in` of ``X`` with the kernel ``K[o]``.

    Args:
        X: the input, shape ``(C, H, W)``.
        K: the kernels, shape ``(C_out, C, kh, kw)``.

    Returns:
        The output, shape ``(C_out, H - kh + 1, W - kw + 1)``.

    Raises:
        TypeError: an argument is not a floating-point tensor, or the dtypes differ.
        ValueError: a rank is wrong, the channel counts differ, or the kernel is larger than the image.
    """
    who = "corr2d_multi_in_out"
    X = check_float_tensor(who, "X", X, 3, "(C, H, W)")
    K = check_float_tensor(who, "K", K, 4, "(C_out, C, kh, kw)")
    _check_channels(who, X.shape[0], K.shape[1], "K.shape[1]")
    check_same_dtype(who, X, "K", K)
    _check_kernel_fits(who, X, K)
    return torch.stack([corr2d_multi_in(X, k) for k in K])  # (C_out, H', W')


def corr2d_multi_in_out_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """A 1x1 convolution as one matrix product over channels (Section 7.4).

    A 1x1 kernel mixes channels pixel by pixel: with the pixels as columns, ``(C, H W)``, the
    output is ``K (C_out, C) @ X (C, H W)``, a fully connected layer applied at every pixel.

    Args:
        X: the input, shape ``(C, H, W)``.
        K: the kernels, shape ``(C_out, C, 1, 1)`` or ``(C_out, C)``.

    Returns:
        The output, shape ``(C_out, H, W)``.

    Raises:
        TypeError: an argument is not a floating-point tensor, or the dtypes differ.
        ValueError: a rank is wrong, the kernel is not 1x1, or the channel counts differ.
    """
    who = "corr2d_multi_in_out_1x1"
    X = check_float_tensor(who, "X", X, 3, "(C, H, W)")
    K = check_float_tensor(who, "K", K, (2, 4), "(C_out, C, 1, 1) or (C_out, C)")
    if K.dim() == 4 and K.shape[2:] != (1, 1):
        raise ValueError(
            f"{who}: K must be a 1x1 kernel (C_out, C, 1, 1), got shape {tuple(K.shape)}; "
            f"use corr2d_multi_in_out for larger kernels"
        )
    _check_channels(who, X.shape[0], K.shape[1], "K.shape[1]")
    check_same_dtype(who, X, "K", K)
    c, h, w = X.shape
    Y = K.reshape(K.shape[0], c) @ X.reshape(c, h * w)  # (C_out, C) @ (C, H W) -> (C_out, H W)
    return Y.view(-1, h, w)  # (C_out, H, W)


def _check_channels(who: str, x_channels: int, k_channels: int, where: str) -> None:
    if x_channels != k_channels:
        raise ValueError(
            f"{who}: {where} must equal the input's {x_channels} channels, got {k_channels}; "
            f"give the kernel one slice per input channel"
        )
