"""Output-size arithmetic for convolutions (Section 7.3) and transposed convolutions (Section 14.10).

Re-exported by :mod:`cnncourse.functional` (except :func:`output_hw` and :func:`conv_pads`, the
shared core).
"""

from __future__ import annotations

from cnncourse._checks import IntPair, conv_padding, nonnegative_pair, positive_pair

__all__ = ["conv_output_shape", "conv_transpose_output_shape", "output_hw", "conv_pads"]


def output_hw(who: str, input_hw: tuple[int, int], kernel_hw: tuple[int, int],
              stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0),
              dilation: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    """Output (height, width) of a sliding window; the already-validated core of :func:`conv_output_shape`.

    Raises:
        ValueError: when the dilated window does not fit in the padded input, naming ``who``.
    """
    out = []
    for size, k, s, p, d in zip(input_hw, kernel_hw, stride, padding, dilation, strict=True):
        span = d * (k - 1) + 1  # the kernel's extent once dilated
        padded = size + 2 * p
        if span > padded:
            raise ValueError(
                f"{who}: kernel {tuple(kernel_hw)} with dilation {tuple(dilation)} spans "
                f"{span} pixels, more than the padded input's {padded} "
                f"(input {tuple(input_hw)}, padding {tuple(padding)}); "
                f"pad the input more or use a smaller kernel or dilation"
            )
        out.append((padded - span) // s + 1)
    return out[0], out[1]


def conv_pads(who: str, padding: tuple[int, int] | str, kernel_hw: tuple[int, int],
              stride: tuple[int, int] = (1, 1),
              dilation: tuple[int, int] = (1, 1)) -> tuple[int, int, int, int]:
    """Zeros to add ``(left, right, top, bottom)`` (``F.pad``'s order) for a validated padding.

    ``padding`` is a pair, ``"valid"`` (none) or ``"same"``: ``d (k - 1)`` zeros per axis so that,
    at stride 1, the output is as large as the input; when that total is odd (an even kernel),
    the extra zero goes at the end (bottom, right), as PyTorch places it.

    Raises:
        ValueError: ``"same"`` with a stride other than 1 (PyTorch refuses it too: no padding
            keeps the size of a strided output).
    """
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding != "same":
        ph, pw = padding
        return (pw, pw, ph, ph)
    if tuple(stride) != (1, 1):
        raise ValueError(
            f"{who}: padding='same' needs stride 1, got stride {tuple(stride)}; PyTorch refuses "
            f"'same' for strided convolutions: give the padding as numbers instead"
        )
    (kh, kw), (dh, dw) = kernel_hw, dilation
    total_h, total_w = dh * (kh - 1), dw * (kw - 1)  # what a window spans beyond its first pixel
    return (total_w // 2, total_w - total_w // 2, total_h // 2, total_h - total_h // 2)


def conv_output_shape(input_size: IntPair, kernel_size: IntPair, stride: IntPair = 1,
                      padding: IntPair | str = 0, dilation: IntPair = 1) -> tuple[int, int]:
    """Height and width of a convolution's output, exactly as ``nn.Conv2d`` computes them.

    Section 7.3: an ``n``-pixel side with kernel ``k``, padding ``p`` and stride ``s`` gives
    ``floor((n + 2p - k) / s) + 1`` outputs; a dilation ``d`` stretches the kernel to
    ``d (k - 1) + 1`` pixels. Every argument is an int or an ``(h, w)`` pair; ``padding`` may
    also be ``"valid"`` (no padding) or ``"same"`` (output as large as the input, stride 1 only),
    as in ``nn.Conv2d``.

    Args:
        input_size: input height and width.
        kernel_size: kernel height and width.
        stride: step between windows.
        padding: zeros added on each side, ``"same"`` or ``"valid"``.
        dilation: spacing between kernel taps.

    Returns:
        ``(height, width)`` of the output.

    Raises:
        TypeError: an argument is not an int or a pair of ints (or a padding string).
        ValueError: a size is not positive, padding is negative or an unknown string, ``"same"``
            with a stride > 1, or the dilated kernel does not fit in the padded input.
    """
    who = "conv_output_shape"
    size = positive_pair(who, "input_size", input_size)
    kernel = positive_pair(who, "kernel_size", kernel_size)
    step = positive_pair(who, "stride", stride)
    pad = conv_padding(who, "padding", padding)
    dil = positive_pair(who, "dilation", dilation)
    left, _, top, _ = conv_pads(who, pad, kernel, step, dil)
    if pad == "same":
        return size
    return output_hw(who, size, kernel, step, (top, left), dil)


def conv_transpose_output_shape(input_size: IntPair, kernel_size: IntPair, stride: IntPair = 1,
                                padding: IntPair = 0, output_padding: IntPair = 0,
                                dilation: IntPair = 1) -> tuple[int, int]:
    """Height and width of a transposed convolution's output, as ``nn.ConvTranspose2d`` computes them.

    Section 14.10 (the transposed convolution, which undoes a convolution's shape change; the
    arithmetic mirrors Section 7.3): each side becomes ``(n - 1) s - 2p + d (k - 1) + output_padding + 1``.
    ``output_padding`` picks among the input sizes a strided convolution maps to the same output.

    Args:
        input_size: input height and width.
        kernel_size: kernel height and width.
        stride: step between the input pixels once spread out on the output.
        padding: pixels removed from each side of the full output.
        output_padding: extra pixels added on the bottom and right side.
        dilation: spacing between kernel taps.

    Returns:
        ``(height, width)`` of the output.

    Raises:
        TypeError: an argument is not an int or a pair of ints.
        ValueError: ``output_padding`` is not smaller than either the stride or the dilation
            (PyTorch's rule), or the padding leaves no output pixels.
    """
    who = "conv_transpose_output_shape"
    size = positive_pair(who, "input_size", input_size)
    kernel = positive_pair(who, "kernel_size", kernel_size)
    step = positive_pair(who, "stride", stride)
    pad = nonnegative_pair(who, "padding", padding)
    extra = nonnegative_pair(who, "output_padding", output_padding)
    dil = positive_pair(who, "dilation", dilation)
    out = []
    for n, k, s, p, op, d in zip(size, kernel, step, pad, extra, dil, strict=True):
        if op >= s and op >= d:
            raise ValueError(
                f"{who}: output_padding {tuple(extra)} must be smaller than either stride {tuple(step)} "
                f"or dilation {tuple(dil)} in each dimension (PyTorch's rule), got {op} with stride {s} "
                f"and dilation {d}; lower output_padding"
            )
        length = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        if length < 1:
            raise ValueError(
                f"{who}: padding {tuple(pad)} removes every output pixel (input {tuple(size)}, "
                f"kernel {tuple(kernel)}, stride {tuple(step)} give {length} in one dimension); "
                f"use a smaller padding"
            )
        out.append(length)
    return out[0], out[1]
