"""Batched, multi-channel convolution from scratch: im2col + one matrix product (Sections 7.3-7.4).

Re-exported by :mod:`cnncourse.functional`; :func:`windows` also serves pooling.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnncourse._checks import (
    IntPair,
    check_divides,
    check_float_tensor,
    check_kernel_size,
    check_same_dtype,
    check_tensor,
    conv_padding,
    positive_pair,
)
from cnncourse.functional.shapes import conv_pads, output_hw

__all__ = ["conv2d", "windows"]

# im2col copies this many bytes per batch chunk at most, so the copy and the matrix product that
# reads it stay in cache; one huge im2col matrix is slower (measured in benchmarks/bench_conv.py).
CHUNK_BYTES = 2**21


def windows(X: torch.Tensor, kernel_hw: tuple[int, int], stride: tuple[int, int],
            dilation: tuple[int, int]) -> torch.Tensor:
    """Every window of an (already padded) batch as a view, no copy: (N, C, H', W', kh, kw).

    ``Tensor.unfold(dim, size, step)`` slides a window of ``size`` along ``dim``; a dilated kernel
    spans ``d (k - 1) + 1`` pixels, of which every ``d``-th is a tap.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel_hw, stride, dilation
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    patches = X.unfold(2, span_h, sh).unfold(3, span_w, sw)  # (N, C, H', W', span_h, span_w)
    if dh == dw == 1:
        return patches  # skipping the no-op slice keeps a full-size zero fill out of the backward pass
    return patches[..., ::dh, ::dw]  # (N, C, H', W', kh, kw)


def conv2d(X: torch.Tensor, K: torch.Tensor, bias: torch.Tensor | None = None,
           stride: IntPair = 1, padding: IntPair | str = 0, dilation: IntPair = 1,
           groups: int = 1) -> torch.Tensor:
    """A batched multi-channel 2-D convolution built from scratch; equals ``F.conv2d`` (Sections 7.3-7.4).

    im2col: gather every ``C_in/groups x kh x kw`` window into a column, so the convolution becomes
    one matrix product of the ``(C_out/groups, C_in/groups * kh * kw)`` kernel matrix with the
    ``(C_in/groups * kh * kw, H' W')`` column matrix, per group and per image. Padding, stride and
    dilation (Section 7.3) only change which pixels a window gathers. The batch is processed a
    few images at a time so the gathered columns stay in cache. Differentiable everywhere.
    As in PyTorch, one image may come without a batch axis, and ``padding`` may be ``"same"``
    or ``"valid"``.

    Args:
        X: the input, shape ``(N, C_in, H, W)``, or ``(C_in, H, W)`` for one image.
        K: the kernels, shape ``(C_out, C_in / groups, kh, kw)``.
        bias: one value per output channel, shape ``(C_out,)``, or None.
        stride: step between windows, int or ``(h, w)``.
        padding: zeros added on each side, int or ``(h, w)``; ``"valid"`` for none, ``"same"`` for
            an output as large as the input (stride 1 only; an even kernel gets its extra zero at
            the bottom and right, as in PyTorch).
        dilation: spacing between kernel taps, int or ``(h, w)``.
        groups: number of groups; input and output channels are split into this many groups and
            group ``g`` of the output only sees group ``g`` of the input.

    Returns:
        The output, shape ``(N, C_out, H', W')`` with ``(H', W')`` from :func:`conv_output_shape`
        (``(C_out, H', W')`` for an unbatched input).

    Raises:
        TypeError: a tensor is not floating point, dtypes differ, or a size is not an int or pair.
        ValueError: a rank is wrong, channel counts disagree, groups do not divide the channels,
            stride/dilation < 1, padding < 0 or an unknown string, ``"same"`` with a stride > 1,
            or the dilated kernel does not fit in the padded input.
    """
    who = "conv2d"
    X = check_float_tensor(who, "X", X, (3, 4), "(N, C_in, H, W) or (C_in, H, W)")
    K = check_float_tensor(who, "K", K, 4, "(C_out, C_in / groups, kh, kw)")
    check_same_dtype(who, X, "K", K)
    stride = positive_pair(who, "stride", stride)
    padding = conv_padding(who, "padding", padding)
    dilation = positive_pair(who, "dilation", dilation)
    if X.dim() == 3:  # one image: PyTorch treats it as a batch of one and drops that axis again
        return conv2d(X[None], K, bias, stride, padding, dilation, groups)[0]  # (C_out, H', W')
    n, c_in, h, w = X.shape
    c_out, c_group, kh, kw = K.shape
    check_kernel_size(who, K, "(C_out, C_in / groups, kh, kw)")
    check_divides(who, "in_channels", c_in, groups)
    check_divides(who, "out_channels", c_out, groups)
    if c_group * groups != c_in:
        raise ValueError(
            f"{who}: K.shape[1] must be in_channels / groups = {c_in} / {groups} = {c_in // groups}, "
            f"got {c_group}; K is (C_out, C_in / groups, kh, kw)"
        )
    if bias is not None:
        bias = check_tensor(who, "bias", bias, 1, "(C_out,)")
        check_same_dtype(who, X, "bias", bias)
        if bias.shape[0] != c_out:
            raise ValueError(f"{who}: bias must have C_out = {c_out} entries, got {bias.shape[0]}")
    left, right, top, bottom = conv_pads(who, padding, (kh, kw), stride, dilation)
    if padding == "same":  # stride 1: the zeros make up for what the kernel's span takes away
        out_h, out_w = h, w
    else:  # symmetric padding: (top, left) is (ph, pw)
        out_h, out_w = output_hw(who, (h, w), (kh, kw), stride, (top, left), dilation)

    X = F.pad(X, (left, right, top, bottom))  # (N, C_in, H + top + bottom, W + left + right)
    weight = K.reshape(groups, c_out // groups, c_group * kh * kw)  # (G, C_out/G, C_in/G kh kw)
    column_bytes = c_in * kh * kw * out_h * out_w * X.element_size()
    chunk = max(1, CHUNK_BYTES // column_bytes)
    outputs = []
    for part in X.split(chunk):  # split's backward concatenates: no full-size gradient per chunk
        m = part.shape[0]
        view = windows(part, (kh, kw), stride, dilation)  # (m, C_in, H', W', kh, kw)
        view = view.permute(0, 1, 4, 5, 2, 3)  # (m, C_in, kh, kw, H', W')
        columns = view.reshape(m, groups, c_group * kh * kw, out_h * out_w)  # the copy: im2col
        Y = weight @ columns  # (G, C_out/G, .) @ (m, G, ., H'W') -> (m, G, C_out/G, H'W')
        if bias is not None:  # per chunk: small tensors, not one more pass over the full output
            Y = Y + bias.view(groups, c_out // groups, 1)
        outputs.append(Y)
    return torch.cat(outputs).view(n, c_out, out_h, out_w)  # (N, C_out, H', W')
