"""Interactive explorers for Sections 7.2, 7.3, 7.5 and 7.6.

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

from .conv import ConvExplorer
from .feature_maps import FeatureMapExplorer
from .kernel import ConvKernelExplorer
from .pooling import PoolingExplorer
from .receptive_field import ReceptiveFieldExplorer

__all__ = [
    "conv_explorer",
    "kernel_explorer",
    "pooling_explorer",
    "receptive_field_explorer",
    "feature_map_explorer",
    "ConvExplorer",
    "ConvKernelExplorer",
    "PoolingExplorer",
    "ReceptiveFieldExplorer",
    "FeatureMapExplorer",
]


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
