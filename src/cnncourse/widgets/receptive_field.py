"""The receptive-field explorer (Section 7.2.6): which input pixels one output cell sees."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from cnncourse.functional import conv_output_shape

from .base import Explorer, int_slider, problem_html
from .drawing import CellGrid, add_legend, new_figure
from .geometry import LayerSpec, pad_before, pooling_problem, receptive_field_masks, receptive_field_sizes

__all__ = ["ReceptiveFieldExplorer", "MAX_LAYERS"]

MAX_LAYERS = 4
# A layer's padding: numbers, or nn.Conv2d's strings (pooling layers take numbers only).
PADDINGS = [0, 1, 2, "same", "valid"]
PLAIN, FIELD, CELL = range(3)
PALETTE = ["white", "#9cc3ec", "#d9534f"]
CSS_CLASS = "cnncourse-field-table"
# Default stack: conv 3x3, pool 2x2 stride 2, conv 3x3, and a hidden dilated conv for layer 4.
DEFAULT_LAYERS = [LayerSpec("conv", 3), LayerSpec("pool", 2, 2), LayerSpec("conv", 3),
                  LayerSpec("conv", 3, 1, 2)]


class ReceptiveFieldExplorer(Explorer):
    """A stack of up to four conv/pool layers and the receptive field of one output cell.

    Attributes:
        layers: the active :class:`LayerSpec` list.
        sizes: feature-map sizes, input first; ``None`` when some layer is impossible.
        masks: boolean maps, input first, of the cells the chosen output cell depends on.
        sizes_table: ``(r_l, j_l, formula)`` per layer from ``receptive_field_sizes``.
        shape_text: the table as text (or the explanation of impossible settings).
    """

    def __init__(self) -> None:
        controls: dict[str, widgets.Widget] = {
            "layers": int_slider("layers", 3, 1, MAX_LAYERS),
            "input_h": int_slider("input h", 14, 4, 32),
            "input_w": int_slider("input w", 18, 4, 32),
        }
        rows = []
        for i, spec in enumerate(DEFAULT_LAYERS):
            row = {
                f"kind_{i}": widgets.Dropdown(options=["conv", "pool"], value=spec.kind,
                                              description=f"layer {i + 1}",
                                              style={"description_width": "4em"},  # room for "pool"
                                              layout=widgets.Layout(width="11em")),
                f"kernel_{i}": int_slider("kernel", spec.kernel_size, 1, 5, "4em", "15em"),
                f"stride_{i}": int_slider("stride", spec.stride, 1, 3, "4em", "15em"),
                f"dilation_{i}": int_slider("dilation", spec.dilation, 1, 3, "4.5em", "15.5em"),
                f"padding_{i}": widgets.Dropdown(options=PADDINGS, value=spec.padding, description="padding",
                                                 style={"description_width": "4.5em"},
                                                 layout=widgets.Layout(width="12em")),
            }
            controls.update(row)
            rows.append(widgets.HBox(list(row.values()), layout=widgets.Layout(flex_flow="row wrap")))
        self.layer_rows = rows
        controls["row"] = int_slider("output row", 0, 0, 0)
        controls["col"] = int_slider("output col", 0, 0, 0)
        self.table_html = widgets.HTML()
        self.table_html.add_class(CSS_CLASS)
        fig, self.axes = new_figure(14, 3.6, MAX_LAYERS + 1)
        self.cell_grids = [CellGrid(ax, PALETTE) for ax in self.axes]
        add_legend(fig, PALETTE, ["not seen", "in the receptive field", "chosen output cell"])
        children = [widgets.HBox([controls["layers"], controls["input_h"], controls["input_w"]]),
                    *rows, widgets.HBox([controls["row"], controls["col"]]), self.table_html]
        super().__init__(controls, fig, children)
        self.refresh()

    def _layer(self, i: int) -> LayerSpec:
        c = self.controls
        kind = c[f"kind_{i}"].value
        dilation = c[f"dilation_{i}"].value if kind == "conv" else 1  # pooling here has no dilation
        return LayerSpec(kind, c[f"kernel_{i}"].value, c[f"stride_{i}"].value, dilation,
                         c[f"padding_{i}"].value)

    def _compute(self) -> None:
        count = self.controls["layers"].value
        for i, row in enumerate(self.layer_rows):
            row.layout.display = None if i < count else "none"
            self.controls[f"dilation_{i}"].disabled = self.controls[f"kind_{i}"].value == "pool"
        self.layers = [self._layer(i) for i in range(count)]
        self.sizes_table = receptive_field_sizes(self.layers)
        self.sizes, self.masks, problem = [(self.controls["input_h"].value,
                                            self.controls["input_w"].value)], [], ""
        for i, layer in enumerate(self.layers, start=1):
            if layer.kind == "pool" and isinstance(layer.padding, str):
                problem = (f"pooling takes its padding as numbers only; nn.MaxPool2d and nn.AvgPool2d "
                           f"refuse padding='{layer.padding}' (only convolutions take 'same' and "
                           f"'valid'). Choose 0, 1 or 2.")
            elif layer.kind == "pool":
                problem = pooling_problem(self.sizes[-1], (layer.kernel_size,) * 2, (layer.padding,) * 2)
            if not problem:
                try:
                    self.sizes.append(conv_output_shape(self.sizes[-1], layer.kernel_size, layer.stride,
                                                        layer.padding, layer.dilation))
                except ValueError as err:
                    problem = str(err)
            if problem:
                self.sizes = None
                self.shape_text = f"Impossible setting in layer {i} ({layer.kind}): {problem}"
                self.table_html.value = problem_html(self.shape_text, CSS_CLASS)
                return
        last = self.sizes[-1]
        for name, size in (("row", last[0]), ("col", last[1])):
            self.controls[name].max = size - 1
        self.cell = (self.controls["row"].value, self.controls["col"].value)
        self.masks = receptive_field_masks(self.layers, self.sizes, self.cell)
        self._table()

    def _table(self) -> None:
        head = ["feature map", "made by (kind k s d p)", "size", "jump j_l",
                "span r_l of one cell, in input pixels", "cells feeding the chosen output cell"]
        body, lines = [], []
        for level, (size, mask, (_, j, formula)) in enumerate(
                zip(self.sizes, self.masks, self.sizes_table, strict=True)):
            rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            if mask.any():
                extent = f"{rows[-1] - rows[0] + 1} × {cols[-1] - cols[0] + 1} box, {int(mask.sum())} cells"
            else:  # the chosen cell's window (or an earlier one) lies entirely on padding
                extent = "no cells (only padding)"
            if level == 0:
                name, spec = "input", ""
            else:
                layer = self.layers[level - 1]
                name = f"after layer {level}"
                spec = f"{layer.kind} {layer.kernel_size} {layer.stride} {layer.dilation} {layer.padding}"
            body.append([name, spec, f"{size[0]} × {size[1]}", str(j), formula, extent])
            lines.append(f"{name}: {formula}; feeding the chosen cell: {extent}")
        self.shape_text = "\n".join(lines + [f"receptive field span: {self.sizes_table[-1][0]} input pixels"])
        cells = "".join("<tr>" + "".join(f"<td style='padding: 0 0.8em; white-space: nowrap'>{c}</td>"
                                         for c in row) + "</tr>" for row in body)
        heads = "".join(f"<th style='padding: 0 0.8em'>{h}</th>" for h in head)
        self.table_html.value = (f'<table class="{CSS_CLASS}"><tr>{heads}</tr>{cells}</table>'
                                 f"<p>r_l counts the span, holes and padding included; the last column "
                                 f"counts the cells that really feed the chosen output cell.</p>")

    def _draw(self) -> None:
        for grid in self.cell_grids[len(self.masks):]:
            grid.hide()
        if self.sizes is None:
            self.cell_grids[0].show_message("impossible settings:\nsee the explanation")
            return
        r_total = self.sizes_table[-1][0]
        for level, (grid, mask) in enumerate(zip(self.cell_grids, self.masks, strict=False)):
            categories = np.where(mask, FIELD, PLAIN)
            title = "input" if level == 0 else f"after layer {level} ({self.layers[level - 1].kind})"
            outline = None
            if level == len(self.layers):
                categories[self.cell] = CELL
            elif level == 0:  # the span the formula predicts, starting where the first window starts
                start = [self._origin(a) for a in range(2)]
                outline = (start[0], start[1], r_total, r_total)
            grid.draw(categories, f"{title}: {mask.shape[0]} × {mask.shape[1]}", outline=outline)

    def _origin(self, axis: int) -> int:
        """Input index where the receptive field's span starts: cell·j_L − Σ p_l·j_{l−1}."""
        start = self.cell[axis] * self.sizes_table[-1][1]
        for layer, (_, j, _) in zip(self.layers, self.sizes_table[:-1], strict=True):
            start -= pad_before(layer) * j  # "same": the zeros above/left, by PyTorch's rule
        return start
