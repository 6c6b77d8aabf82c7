"""Code for what you see: the PyTorch calls that reproduce the pointing explorer (Sections 7.2-7.3).

:func:`pointer_code` writes a short, runnable script: the input and kernel the explorer shows,
``F.conv2d`` (or ``F.conv_transpose2d``), the same with ``nn.Conv2d`` (``nn.ConvTranspose2d``),
and the output shape from :func:`cnncourse.functional.conv_output_shape`. Running it defines
``X``, ``K``, ``Y`` (the functional call), ``Y_layer`` (the layer) and ``shape``.
"""

from __future__ import annotations

import torch

from .geometry import ConvSettings

__all__ = ["pointer_code", "channels_code", "pool_code", "tensor_literal"]


IMPORTS = ("import torch", "import torch.nn.functional as F", "from torch import nn")


def _nested(values: list, indent: int) -> str:
    if not values or not isinstance(values[0], list):
        return "[" + ", ".join(repr(float(v)) for v in values) + "]"
    return "[" + f",\n{' ' * (indent + 1)}".join(_nested(v, indent + 1) for v in values) + "]"


def tensor_literal(T: torch.Tensor) -> str:
    """A tensor as ``torch.tensor([[...], ...], dtype=torch.float64)``, rebuilding it exactly."""
    return f"torch.tensor({_nested(T.tolist(), len('torch.tensor('))}, dtype=torch.float64)"


def _pair(value: tuple[int, int]) -> str:
    return f"({value[0]}, {value[1]})"


def pointer_code(X: torch.Tensor, K: torch.Tensor, s: ConvSettings, flip: bool = False) -> str:
    """The script that computes the explorer's output with PyTorch itself.

    Args:
        X: the input shown, ``(H, W)``.
        K: the kernel as the student gave it, ``(kh, kw)``; with ``flip`` the script flips it,
            because PyTorch's layers compute cross-correlation (Section 7.2).
        s: the explorer's settings.
        flip: the explorer computes a true convolution.
    """
    padding = repr(s.padding) if isinstance(s.padding, str) else _pair(s.padding)
    weight = "K.flip(0, 1)" if flip else "K"
    note = (": a true convolution flips K, PyTorch's layers cross-correlate" if flip
            else ": PyTorch's convolution layers cross-correlate")
    lines = [
        *IMPORTS,
    ]
    common = f"stride={_pair(s.stride)}, padding={padding}"
    if s.transposed:
        common += f", output_padding={_pair(s.output_padding)}"
        lines.append("from cnncourse.functional import conv_transpose_output_shape")
    else:
        lines.append("from cnncourse.functional import conv_output_shape")
    lines += [
        "",
        f"X = {tensor_literal(X)}  # {tuple(X.shape)}",
        f"K = {tensor_literal(K)}  # {tuple(K.shape)}",
        f"W = {weight}[None, None]  # (1, 1, kh, kw){note}",
    ]
    if s.transposed:
        lines += [
            f"Y = F.conv_transpose2d(X[None, None], W, {common}, dilation={_pair(s.dilation)})[0, 0]",
            f"layer = nn.ConvTranspose2d(1, 1, kernel_size={_pair(s.kernel_size)}, {common}, "
            f"dilation={_pair(s.dilation)}, bias=False, dtype=torch.float64)",
            f"shape = conv_transpose_output_shape({_pair(s.input_size)}, {_pair(s.kernel_size)}, "
            f"stride={_pair(s.stride)}, padding={padding}, output_padding={_pair(s.output_padding)}, "
            f"dilation={_pair(s.dilation)})",
        ]
    else:
        lines += [
            f"Y = F.conv2d(X[None, None], W, {common}, dilation={_pair(s.dilation)})[0, 0]",
            f"layer = nn.Conv2d(1, 1, kernel_size={_pair(s.kernel_size)}, {common}, "
            f"dilation={_pair(s.dilation)}, bias=False, dtype=torch.float64)",
            f"shape = conv_output_shape({_pair(s.input_size)}, {_pair(s.kernel_size)}, "
            f"stride={_pair(s.stride)}, padding={padding}, dilation={_pair(s.dilation)})",
        ]
    lines += [
        "with torch.no_grad():",
        "    layer.weight.copy_(W)",
        "    Y_layer = layer(X[None, None])[0, 0]",
        "print(shape, tuple(Y.shape))",
        "print(Y)",
    ]
    return "\n".join(lines) + "\n"


def channels_code(X: torch.Tensor, K: torch.Tensor, s: ConvSettings, groups: int = 1) -> str:
    """The script for the channels explorer (Section 7.4): ``F.conv2d`` and ``nn.Conv2d`` with ``groups``.

    Args:
        X: the input shown, ``(C_in, H, W)``.
        K: the kernels, ``(C_out, C_in / groups, kh, kw)``.
        s: the spatial settings (stride, padding, dilation).
        groups: how many groups.
    """
    padding = repr(s.padding) if isinstance(s.padding, str) else _pair(s.padding)
    common = f"stride={_pair(s.stride)}, padding={padding}, dilation={_pair(s.dilation)}, groups={groups}"
    lines = [
        *IMPORTS,
        "from cnncourse.functional import conv_output_shape",
        "",
        f"X = {tensor_literal(X)}  # (C_in, H, W) = {tuple(X.shape)}",
        f"K = {tensor_literal(K)}  # (C_out, C_in / groups, kh, kw) = {tuple(K.shape)}",
        f"Y = F.conv2d(X[None], K, {common})[0]  # (C_out, H_out, W_out)",
        f"layer = nn.Conv2d({X.shape[0]}, {K.shape[0]}, kernel_size={_pair(s.kernel_size)}, {common}, "
        f"bias=False, dtype=torch.float64)",
        f"shape = conv_output_shape({_pair(s.input_size)}, {_pair(s.kernel_size)}, "
        f"stride={_pair(s.stride)}, padding={padding}, dilation={_pair(s.dilation)})",
        "with torch.no_grad():",
        "    layer.weight.copy_(K)",
        "    Y_layer = layer(X[None])[0]",
        "print(shape, tuple(Y.shape))",
        "print(Y)",
    ]
    return "\n".join(lines) + "\n"


def pool_code(X: torch.Tensor, kernel_size: tuple[int, int], stride: tuple[int, int],
              padding: tuple[int, int], mode: str) -> str:
    """The script that pools the explorer's input with PyTorch itself (Section 7.5): defines ``X``,
    ``Y`` (``F.max_pool2d`` / ``F.avg_pool2d``), ``Y_layer`` (``nn.MaxPool2d`` / ``nn.AvgPool2d``)
    and ``shape`` (:func:`cnncourse.functional.conv_output_shape`, which pooling shares)."""
    function, layer = ("max_pool2d", "MaxPool2d") if mode == "max" else ("avg_pool2d", "AvgPool2d")
    common = f"kernel_size={_pair(kernel_size)}, stride={_pair(stride)}, padding={_pair(padding)}"
    lines = [
        *IMPORTS,
        "from cnncourse.functional import conv_output_shape",
        "",
        f"X = {tensor_literal(X)}  # {tuple(X.shape)}",
        f"Y = F.{function}(X[None, None], {common})[0, 0]",
        f"Y_layer = nn.{layer}({common})(X[None, None])[0, 0]",
        f"shape = conv_output_shape({_pair(tuple(X.shape))}, {_pair(kernel_size)}, stride={_pair(stride)}, "
        f"padding={_pair(padding)})",
        "print(shape, tuple(Y.shape))",
        "print(Y)",
    ]
    return "\n".join(lines) + "\n"
