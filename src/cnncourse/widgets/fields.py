"""Receptive fields you can point at (Sections 7.2.6 and 7.6): a unit of a deep layer, its input pixels.

The same anywidget drawing as :mod:`cnncourse.widgets.pointer` (inline ES module, offline). The
input panel is the image, the middle panel the feature maps in between, the output panel the
deepest map. Hover (or click to pin) a unit: the input pixels it depends on light up, and the
cells of every map in between that carry them. Hover an input pixel: every deep unit that sees
it lights up. The sets come from :func:`cnncourse.widgets.geometry.receptive_field_masks`, the
sizes from :func:`cnncourse.functional.conv_output_shape` and ``receptive_field_sizes``.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import torch
from torch import nn

from cnncourse.functional import conv_output_shape

from .geometry import LayerSpec, receptive_field_masks, receptive_field_sizes
from .pointer import PointerDrawing, grid_panel
from .pointer_data import number_text

__all__ = ["FieldPointer", "layer_specs", "feature_maps", "FIELD_CELL"]

FIELD_CELL = 16  # pixels per cell: a LeNet input (28 × 28) fits on a screen
ELEMENTWISE = (nn.Sigmoid, nn.ReLU, nn.Tanh, nn.BatchNorm2d, nn.Identity, nn.Dropout)
WINDOWED = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


def _followed(model: nn.Module) -> list[nn.Module]:
    """``model``'s children before its first ``Flatten``."""
    children = []
    for child in model.children():
        if isinstance(child, nn.Flatten):
            break
        children.append(child)
    return children


def layer_specs(model: nn.Module, who: str = "receptive_field_pointer") -> list[LayerSpec]:
    """The convolutions and poolings of ``model``'s children, in order, up to the first ``Flatten``.

    Elementwise layers (activations, batch norm, dropout) do not change a receptive field and are
    skipped; anything else (a Linear, a block with branches) ends the list with a TypeError.
    """
    specs = []
    for child in _followed(model):
        if isinstance(child, ELEMENTWISE):
            continue
        if isinstance(child, WINDOWED):
            kind = "conv" if isinstance(child, nn.Conv2d) else "pool"
            values = [child.kernel_size, child.stride, getattr(child, "dilation", 1), child.padding]
            pairs = [v if isinstance(v, str | tuple) else (v, v) for v in values]
            if any(not isinstance(p, str) and p[0] != p[1] for p in pairs):
                raise TypeError(f"{who}: {type(child).__name__} has a non-square setting {pairs}; "
                                f"expected square kernels, strides, dilations and paddings")
            k, s, d, p = (v if isinstance(v, str) else v[0] for v in pairs)
            specs.append(LayerSpec(kind, k, s, d, p))
            continue
        raise TypeError(f"{who}: cannot follow a {type(child).__name__} layer; expected Conv2d, MaxPool2d, "
                        f"AvgPool2d or elementwise layers before the first Flatten")
    if not specs:
        raise ValueError(f"{who}: the model has no convolution or pooling layer before its Flatten")
    return specs


def feature_maps(model: nn.Module, X: torch.Tensor) -> tuple[list[torch.Tensor], list[int]]:
    """What ``model`` makes of one image ``X`` ``(C, H, W)``: the image and the map after each of
    its convolutions and poolings (with the elementwise layers that follow it), each averaged over
    its channels to one ``(H, W)`` map, and how many channels each had. Runs in eval mode without
    gradients and leaves the model's mode as it was."""
    first_conv = next((c for c in _followed(model) if isinstance(c, nn.Conv2d)), None)
    if first_conv is not None and first_conv.in_channels != X.shape[0]:
        raise ValueError(f"receptive_field_pointer: the model's first convolution takes "
                         f"{first_conv.in_channels} channel(s), X has {X.shape[0]} (X is (C, H, W), or "
                         f"(H, W) for one channel)")
    parameter = next(model.parameters(), torch.zeros(()))
    Y = X[None].to(parameter.device, parameter.dtype)
    maps, channels = [X.mean(0).to(torch.float64)], [X.shape[0]]
    children, training = _followed(model), model.training
    first = next(i for i, child in enumerate(children) if isinstance(child, WINDOWED))
    model.eval()
    try:
        with torch.no_grad():
            for i, child in enumerate(children):
                Y = child(Y)
                if i >= first and (i == len(children) - 1 or isinstance(children[i + 1], WINDOWED)):
                    maps.append(Y[0].mean(0).to("cpu", torch.float64))
                    channels.append(Y.shape[1])
    finally:
        model.train(training)
    return maps, channels


def _sizes(who: str, layers: Sequence[LayerSpec], input_size: tuple[int, int]) -> list[tuple[int, int]]:
    sizes = [tuple(input_size)]
    for i, layer in enumerate(layers, start=1):
        pad = layer.padding if isinstance(layer.padding, str) else (layer.padding, layer.padding)
        try:
            sizes.append(conv_output_shape(sizes[-1], layer.kernel_size, layer.stride, pad, layer.dilation))
        except ValueError as err:
            raise ValueError(f"{who}: layer {i} ({layer.kind} {layer.kernel_size}) does not fit its input "
                             f"{sizes[-1]}; use a larger input_size or fewer layers ({err})") from err
    return sizes


def gray_levels(T: torch.Tensor) -> torch.Tensor:
    """``T`` scaled to [0, 1], its smallest value black and its largest white (a flat map: mid-gray)."""
    low, high = float(T.min()), float(T.max())
    if high - low < 1e-12:
        return torch.full_like(T, 0.5, dtype=torch.float64)
    return (T.to(torch.float64) - low) / (high - low)


class FieldPointer(widgets.VBox):
    """A stack of conv/pool layers; point at a deep unit to see its receptive field (Sections 7.2.6, 7.6).

    Attributes:
        layers: the :class:`LayerSpec` stack; ``sizes``: the map sizes, input first.
        masks: per unit of the deepest map (row-major), the boolean maps input first.
        maps: the image and the feature maps drawn under the cells (see :func:`feature_maps`), or None.
        drawing: the browser drawing (a :class:`PointerDrawing`).
    """

    def __init__(self, layers: Sequence[LayerSpec], input_size: tuple[int, int],
                 names: Sequence[str] | None = None,
                 maps: tuple[list[torch.Tensor], list[int]] | None = None) -> None:
        who = "receptive_field_pointer"
        self.layers, self.sizes = list(layers), _sizes(who, layers, input_size)
        self.maps, self.channels = maps if maps else (None, None)
        drawn = [size if m is None else tuple(m.shape)
                 for m, size in zip(self.maps or [], self.sizes, strict=False)]
        if self.maps is not None and (len(self.maps) != len(self.sizes) or drawn != self.sizes):
            raise ValueError(f"{who}: the feature maps have sizes {drawn}, the layers give {self.sizes}")
        self.names = list(names) if names else [f"{layer.kind} {layer.kernel_size}×{layer.kernel_size}"
                                                for layer in self.layers]
        last = self.sizes[-1]
        self.masks = [receptive_field_masks(self.layers, self.sizes, divmod(u, last[1]))
                      for u in range(last[0] * last[1])]
        self.table = receptive_field_sizes(self.layers)
        self.drawing = PointerDrawing()
        super().__init__(children=[self.drawing])
        self._send()

    def _send(self) -> None:
        blank = [torch.zeros(size) for size in self.sizes]
        shades = [None if m is None else gray_levels(m) for m in self.maps or [None] * len(blank)]
        middle = blank[1:-1]
        offsets = np.cumsum([0] + [m.numel() for m in middle]).tolist()
        d = self.drawing
        reads, feeds = [], [[] for _ in range(blank[0].numel())]
        for u, masks in enumerate(self.masks):
            cells = [[int(i), -1] for i in np.flatnonzero(masks[0])]
            for layer, mask in enumerate(masks[1:-1]):
                cells += [[-1, offsets[layer] + int(i)] for i in np.flatnonzero(mask)]
            reads.append(cells)
            for i in np.flatnonzero(masks[0]):
                feeds[int(i)].append(u)
        span, width = self.table[-1][0], self.sizes[0][1]
        with d.hold_sync():
            d.panels = {
                "input": grid_panel(f"input {self.sizes[0][0]} × {width}", blank[:1], labels=False,
                                    cell=FIELD_CELL, shades=shades[:1]),
                "kernel": grid_panel("the maps in between", middle, titles=self._middle_titles(),
                                     columns=max(len(middle), 1), labels=False, cell=FIELD_CELL,
                                     shades=shades[1:-1]),
                "output": grid_panel(f"after layer {len(self.layers)}: {self.names[-1]}"
                                     + self._averaged(len(self.layers)), blank[-1:], labels=False,
                                     cell=FIELD_CELL, shades=shades[-1:]),
            }
            d.reads, d.feeds = reads, feeds
            last_w = self.sizes[-1][1]
            d.formulas = [self._unit_text(divmod(u, last_w), masks[0]) for u, masks in enumerate(self.masks)]
            d.feed_texts = [f"input pixel ({i // width}, {i % width}) is seen by {len(outs)} unit(s) of the "
                            f"last layer" for i, outs in enumerate(feeds)]
            d.lines = [text for _, _, text in self.table] + [f"receptive field span: {span} input pixels"]

    def _middle_titles(self) -> list[str]:
        return [f"after layer {i + 1}: {name}{self._averaged(i + 1)}"
                for i, name in enumerate(self.names[:-1])]

    def _averaged(self, layer: int) -> str:
        """How a drawn feature map was made from the layer's channels (nothing when none is drawn)."""
        if self.maps is None or self.maps[layer] is None:
            return ""
        return f" (mean of {self.channels[layer]} channels)" if self.channels[layer] > 1 else ""

    def _unit_text(self, unit: tuple[int, int], field: np.ndarray) -> str:
        """Which input pixels a deep unit depends on; a border unit's span reaches into the padding."""
        name = f"unit {unit} of layer {len(self.layers)}"
        if not field.any():
            return f"{name} sees only padding"
        rows, cols = np.flatnonzero(field.any(axis=1)), np.flatnonzero(field.any(axis=0))
        span = self.table[-1][0]
        text = (f"{name} depends on {int(field.sum())} input pixel(s): rows {rows.min()}..{rows.max()}, "
                f"columns {cols.min()}..{cols.max()}")
        if rows.max() - rows.min() + 1 < span or cols.max() - cols.min() + 1 < span:
            text += f"; the rest of its {span} × {span} span lies in the padding"
        if self.maps is not None and self.maps[-1] is not None:
            value = number_text(float(self.maps[-1][unit]))
            text += f"; its value here is {value}" + self._averaged(len(self.layers))
        return text
