"""Interactive explorers for Sections 7.2, 7.3, 7.5 and 7.6.

``conv_pointer``, ``channels_pointer`` and ``receptive_field_pointer`` are the ones a student points
at: an anywidget drawing (see :mod:`cnncourse.widgets.pointer`) inside sliders; the others redraw
matplotlib figures.

Each builder returns an ``ipywidgets.VBox`` subclass: make it the last expression of a cell
(or ``display`` it) and move the sliders. Every number shown comes from
:mod:`cnncourse.functional` (shapes, correlations, pooling), so an explorer can never
disagree with the functions the chapter tests against PyTorch.

For tests and for the curious, each explorer exposes its controls by name
(``explorer.controls["stride_h"]``), ``explorer.set(stride_h=2, ...)`` to change several at
once, the text it shows (``explorer.shape_text``) and the arrays it draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cnncourse._checks import check_tensor, nonnegative_pair, positive_int, positive_pair

from .channels import ChannelPointer
from .conv import ConvExplorer
from .feature_maps import FeatureMapExplorer
from .fields import FieldPointer, feature_maps, layer_specs
from .geometry import LayerSpec
from .kernel import ConvKernelExplorer
from .pointer import ConvPointer, as_pointer_image
from .pool_pointer import MODES as POOL_MODES
from .pool_pointer import PoolPointer
from .pooling import PoolingExplorer
from .receptive_field import ReceptiveFieldExplorer

__all__ = [
    "conv_pointer",
    "channels_pointer",
    "pool_pointer",
    "receptive_field_pointer",
    "conv_explorer",
    "kernel_explorer",
    "pooling_explorer",
    "receptive_field_explorer",
    "feature_map_explorer",
    "ConvExplorer",
    "ConvPointer",
    "ChannelPointer",
    "FieldPointer",
    "ConvKernelExplorer",
    "PoolingExplorer",
    "ReceptiveFieldExplorer",
    "FeatureMapExplorer",
]


# The book's kernel of Section 7.2 on a small input whose numbers are easy to multiply.
POINTER_X = (torch.arange(42, dtype=torch.float64).reshape(6, 7) % 5).tolist()
POINTER_K = [[0.0, 1.0], [2.0, 3.0]]


def conv_pointer(X: torch.Tensor | None = None, K: torch.Tensor | None = None, *,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                 dilation: int | tuple[int, int] = 1, transposed: bool = False,
                 output_padding: int | tuple[int, int] = 0,
                 flip: bool = False) -> ConvPointer:
    """Point at a convolution: hover, click to pin, paint, play, copy the code (Sections 7.2-7.3).

    Hover an output cell: the input window it reads, the weight on each input cell and the
    multiply-sum appear. Hover an input cell: every output cell it feeds lights up, with how
    many. A click pins either. Sliders set stride, padding, dilation and (for the transposed
    convolution) output padding; "convolution" flips the kernel; "paint the input" turns the
    mouse into a brush on the input grid. The code under the drawing reproduces the output
    with PyTorch. The keywords set the sliders' starting values, as ``nn.Conv2d`` names them.

    Args:
        X: your input, a 2-D real tensor of at most 16 × 16 cells (default: a 6 × 7 grid of
            small integers); it is copied, and painting changes the copy (``explorer.X``).
        K: the kernel, a 2-D real tensor (default: the book's ``[[0, 1], [2, 3]]``).

    Raises:
        TypeError: X or K is not a real 2-D tensor, or a setting is not an int or a pair.
        ValueError: X or K has more than 16 cells on a side, or a setting is out of range.
    """
    X = as_pointer_image("conv_pointer", "X", X, POINTER_X)
    K = as_pointer_image("conv_pointer", "K", K, POINTER_K)
    return ConvPointer(X, K, stride=stride, padding=padding, dilation=dilation, transposed=transposed,
                       output_padding=output_padding, flip=flip)


def pool_pointer(X: torch.Tensor | None = None, *, kernel_size: int | tuple[int, int] = 2,
                 stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0,
                 mode: str = "max") -> PoolPointer:
    """Point at max or average pooling: hover, click to pin, copy the code (Section 7.5).

    Hover an output cell: its window lights up and the max (with where it sits) or the mean is
    written out. Hover an input cell: every window that covers it lights up, and for max pooling
    how many of them it wins. Padding shows as PyTorch pools it: ``−∞`` for max, ``0`` for avg.
    The keywords set the sliders' starting values, as ``nn.MaxPool2d`` names them.

    Args:
        X: your input, a 2-D real tensor of at most 16 × 16 cells (default: the same 6 × 7 grid
            of small integers as :func:`conv_pointer`).
        stride: None means the window size, as in PyTorch.
        mode: ``"max"`` or ``"avg"``.

    Raises:
        TypeError: X is not a real 2-D tensor, or a setting is not an int or a pair.
        ValueError: X has more than 16 cells on a side, a setting is out of range, or ``mode``
            is neither ``"max"`` nor ``"avg"``.
    """
    who = "pool_pointer"
    X = as_pointer_image(who, "X", X, POINTER_X)
    kernel = positive_pair(who, "kernel_size", kernel_size)
    steps = kernel if stride is None else positive_pair(who, "stride", stride)
    if mode not in POOL_MODES:
        raise ValueError(f"{who}: mode must be 'max' or 'avg', got {mode!r}")
    return PoolPointer(X, kernel, steps, nonnegative_pair(who, "padding", padding), mode)


POINTER_CHANNELS = (torch.arange(75, dtype=torch.float64).reshape(3, 5, 5) % 4).tolist()


def channels_pointer(X: torch.Tensor | None = None, K: torch.Tensor | None = None, *,
                     out_channels: int = 3, groups: int = 1, kernel_size: int | tuple[int, int] = 2,
                     stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                     dilation: int | tuple[int, int] = 1) -> ChannelPointer:
    """Point at a multi-channel, grouped convolution (Section 7.4).

    Hover an output cell: its window lights up in every input channel it reads, each with the
    weights of its own kernel slice, and the sum is written channel by channel. Hover an input
    cell: the output cells it feeds light up, only in the output channels of its group. The
    ``groups`` dropdown splits the channels (``groups = C_in``: depthwise); ``kernel_size=1``
    shows the 1 × 1 convolution as a per-pixel matrix product.

    Args:
        X: the input ``(C_in, H, W)``, real, at most 16 on every axis (default: 3 channels of 5 × 5
            small integers); copied, and painting changes the copy.
        K: the kernels ``(C_out, C_in / groups, kh, kw)``; then ``groups`` must be
            ``C_in / K.shape[1]`` and stays fixed. Default: small seeded integers, redrawn for
            each choice of ``groups``, ``out_channels`` of them of size ``kernel_size``.

    Raises:
        TypeError: X or K is not a real tensor of the right rank, or a setting has the wrong type.
        ValueError: a size is out of range, or ``groups`` does not divide the channel counts.
    """
    who = "channels_pointer"
    X = as_pointer_image(who, "X", X, POINTER_CHANNELS, 3, "(C_in, H, W)")
    if K is not None:
        K = as_pointer_image(who, "K", K, [], 4, "(C_out, C_in / groups, kh, kw)")
        out_channels, kernel_size = K.shape[0], tuple(K.shape[2:])
    kernel_size = positive_pair(who, "kernel_size", kernel_size)
    positive_int(who, "out_channels", out_channels)
    positive_int(who, "groups", groups)
    return ChannelPointer(X, K, out_channels, groups, kernel_size, stride=stride, padding=padding,
                          dilation=dilation)


def receptive_field_pointer(model: nn.Module | Sequence[LayerSpec] | None = None,
                            input_size: int | tuple[int, int] | None = None,
                            X: torch.Tensor | None = None) -> FieldPointer:
    """Point at a unit of a deep layer and see the input pixels it depends on (Sections 7.2.6, 7.6).

    Args:
        model: a network whose children up to the first ``Flatten`` are convolutions, poolings and
            elementwise layers (e.g. ``LeNet()``, with ``input_size=28``), or a list of
            :class:`~cnncourse.widgets.geometry.LayerSpec`; default: conv 3 × 3, pool 2 × 2
            stride 2, conv 3 × 3.
        input_size: the input's ``(H, W)`` (an int for a square), at most 32 on a side; default:
            ``X``'s, or 12 without ``X``.
        X: an image, ``(H, W)`` or ``(C, H, W)``, drawn under the input cells; with a ``model``
            that is a network, the maps it makes of ``X`` are drawn under the cells of every
            later layer (each averaged over its channels) and a unit's text gives its value.

    Raises:
        TypeError: a layer the receptive field cannot follow (a Linear before the Flatten, a
            non-square kernel), or ``X`` not a real tensor.
        ValueError: a layer does not fit its input, the input is larger than 32, or ``X``'s size
            differs from ``input_size``.
    """
    who = "receptive_field_pointer"
    image = None
    if X is not None:
        image = check_tensor(who, "X", X, (2, 3), "(H, W) or (C, H, W)")
        if image.is_complex() or image.dtype == torch.bool:
            raise TypeError(f"{who}: X must hold real numbers, got dtype {image.dtype}")
        image = image.detach().to("cpu", torch.float64)
        image = image[None] if image.dim() == 2 else image
        if input_size is not None and positive_pair(who, "input_size", input_size) != tuple(image.shape[1:]):
            raise ValueError(f"{who}: input_size {positive_pair(who, 'input_size', input_size)} differs from "
                             f"X's (H, W) {tuple(image.shape[1:])}; leave input_size out to use X's")
    size = tuple(image.shape[1:]) if image is not None else positive_pair(
        who, "input_size", 12 if input_size is None else input_size)
    if max(size) > 32:
        raise ValueError(f"{who}: input_size must be at most 32 × 32 cells to point at, got {size}; "
                         "crop or downsample the image first")
    if model is None:
        layers = [LayerSpec("conv", 3), LayerSpec("pool", 2, 2), LayerSpec("conv", 3)]
    elif isinstance(model, nn.Module):
        layers = layer_specs(model, who)
    else:
        layers = list(model)
    names = [f"{layer.kind} {layer.kernel_size}×{layer.kernel_size}"
             + (f", stride {layer.stride}" if layer.stride > 1 else "")
             + (f", padding {layer.padding}" if layer.padding else "")
             + (f", dilation {layer.dilation}" if layer.dilation > 1 else "") for layer in layers]
    maps = None
    if image is not None:
        if isinstance(model, nn.Module):
            maps = feature_maps(model, image)
        else:  # layer specs have no weights: only the image is drawn
            maps = ([image.mean(0)] + [None] * len(layers), [image.shape[0]] + [1] * len(layers))
    return FieldPointer(layers, size, names, maps)


def conv_explorer() -> ConvExplorer:
    """Padding, stride, dilation and transposed convolution, one slider each (Section 7.3).

    The padding is numbers from its sliders or, as ``nn.Conv2d`` takes it, ``"same"`` (stride 1
    only; an even kernel's extra zero at the bottom/right) or ``"valid"``.

    Shows the output shape with the formula filled in, the padded input with the cells the
    current window reads, the dilated kernel and the output; ``position`` and the play
    button walk the window over every output cell. With "transposed convolution" ticked it
    shows which output cells one input cell writes to instead. Impossible settings get an
    explanation, not an exception. (The transposed convolution itself is taught in the book's
    Section 14.10; here it shows how its output shape mirrors the convolution's.)
    """
    return ConvExplorer()


def kernel_explorer(image: torch.Tensor | None = None) -> ConvKernelExplorer:
    """An image, a kernel (preset or typed in) and their cross-correlation (Section 7.2).

    Args:
        image: an optional 2-D float tensor offered first, before the built-in images
            (the book's stripes, a diagonal edge, a checkerboard and a photograph).
    """
    return ConvKernelExplorer(image)


def pooling_explorer() -> PoolingExplorer:
    """Max and average pooling with adjustable window, stride and padding (Section 7.5)."""
    return PoolingExplorer()


def receptive_field_explorer() -> ReceptiveFieldExplorer:
    """Stack up to four conv/pool layers and see one output cell's receptive field (Section 7.2.6)."""
    return ReceptiveFieldExplorer()


def feature_map_explorer(model: nn.Module,
                         images: torch.Tensor | Sequence[torch.Tensor]) -> FeatureMapExplorer:
    """Browse a network's activations by image, layer and channel (Section 7.6).

    Args:
        model: the network; forward hooks on its top-level children record their outputs
            (one forward pass in eval mode at construction; the mode is restored after).
        images: ``(N, C, H, W)`` or ``(N, H, W)`` float tensor, or a list of images.
    """
    return FeatureMapExplorer(model, images)
