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

__all__ = ["FieldPointer", "layer_specs", "FIELD_CELL"]

FIELD_CELL = 16  # pixels per cell: a LeNet input (28 × 28) fits on a screen
ELEMENTWISE = (nn.Sigmoid, nn.ReLU, nn.Tanh, nn.BatchNorm2d, nn.Identity, nn.Dropout)


def layer_specs(model: nn.Module, who: str = "receptive_field_pointer") -> list[LayerSpec]:
    """The convolutions and poolings of ``model``'s children, in order, up to the first ``Flatten``.

    Elementwise layers (activations, batch norm, dropout) do not change a receptive field and are
    skipped; anything else (a Linear, a block with branches) ends the list with a TypeError.
    """
    specs = []
    for child in model.children():
        if isinstance(child, nn.Flatten):
            break
        if isinstance(child, ELEMENTWISE):
            continue
        if isinstance(child, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):
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


class FieldPointer(widgets.VBox):
    """A stack of conv/pool layers; point at a deep unit to see its receptive field (Sections 7.2.6, 7.6).

    Attributes:
        layers: the :class:`LayerSpec` stack; ``sizes``: the map sizes, input first.
        masks: per unit of the deepest map (row-major), the boolean maps input first.
        drawing: the browser drawing (a :class:`PointerDrawing`).
    """

    def __init__(self, layers: Sequence[LayerSpec], input_size: tuple[int, int],
                 names: Sequence[str] | None = None) -> None:
        who = "receptive_field_pointer"
        self.layers, self.sizes = list(layers), _sizes(who, layers, input_size)
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
                                    cell=FIELD_CELL),
                "kernel": grid_panel("the maps in between", middle, titles=self._middle_titles(),
                                     columns=max(len(middle), 1), labels=False, cell=FIELD_CELL),
                "output": grid_panel(f"after layer {len(self.layers)}: {self.names[-1]}", blank[-1:],
                                     labels=False, cell=FIELD_CELL),
            }
            d.reads, d.feeds = reads, feeds
            last_w = self.sizes[-1][1]
            d.formulas = [self._unit_text(divmod(u, last_w), masks[0]) for u, masks in enumerate(self.masks)]
            d.feed_texts = [f"input pixel ({i // width}, {i % width}) is seen by {len(outs)} unit(s) of the "
                            f"last layer" for i, outs in enumerate(feeds)]
            d.lines = [text for _, _, text in self.table] + [f"receptive field span: {span} input pixels"]

    def _middle_titles(self) -> list[str]:
        return [f"after layer {i + 1}: {name}" for i, name in enumerate(self.names[:-1])]

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
        return text
