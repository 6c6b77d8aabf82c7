"""The pooling explorer (Section 7.5): max or average windows on numbers and on a photo."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch

from cnncourse import images
from cnncourse.functional import pool2d_batched

from .base import Explorer, int_slider, lines_html, problem_html
from .drawing import CellGrid, Heatmap, new_figure
from .geometry import pooling_report, window_taps

__all__ = ["PoolingExplorer", "numbers_grid"]

PLAIN, PAD, ACTIVE, ACTIVE_PAD = range(4)
PALETTE = ["white", "#d9d9d9", "#9cc3ec", "#b7c4d1"]
CSS_CLASS = "cnncourse-pool-shape"
SLIDERS = {
    "kernel_h": ("window h", 2, 1, 4), "kernel_w": ("window w", 3, 1, 4),
    "stride_h": ("stride h", 2, 1, 4), "stride_w": ("stride w", 2, 1, 4),
    "padding_h": ("padding h", 0, 0, 2), "padding_w": ("padding w", 1, 0, 2),
}


def numbers_grid(height: int = 6, width: int = 7, seed: int = 0) -> torch.Tensor:
    """Small integers 0-9 that are easy to pool in your head; the same every time for a seed."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 10, (height, width), generator=generator).to(torch.float32)


class PoolingExplorer(Explorer):
    """``pool2d_batched`` with adjustable mode, window, stride and padding.

    Attributes:
        grid: the small numeric input, a ``(6, 7)`` tensor; ``photo``: the photograph.
        output: the pooled grid ``(H_out, W_out)`` tensor, or ``None`` when impossible;
            ``photo_output`` likewise for the photograph.
        shape_text: the output-shape arithmetic, or why the settings are impossible.
        cell: the output cell whose window is highlighted; ``cells_read``: its input cells.
    """

    def __init__(self) -> None:
        controls: dict[str, widgets.Widget] = {
            "mode": widgets.ToggleButtons(options=["max", "avg"], value="max", description="pooling"),
            **{name: int_slider(desc, v, lo, hi) for name, (desc, v, lo, hi) in SLIDERS.items()},
            "position": int_slider("position", 0, 0, 0),
        }
        self.grid = numbers_grid()
        self.photo = images.photo(size=(112, 96))
        self.shape_html = widgets.HTML()
        self.shape_html.add_class(CSS_CLASS)
        fig, self.axes = new_figure(13, 3.8, 4)
        self.cell_grids = [CellGrid(self.axes[0], PALETTE), CellGrid(self.axes[1], PALETTE)]
        self.maps = {"photo": Heatmap(fig, self.axes[2], "gray"),
                     "photo_output": Heatmap(fig, self.axes[3], "gray")}
        columns = [widgets.VBox([controls[f"{name}_{axis}"] for name in ("kernel", "stride", "padding")])
                   for axis in "hw"]
        children = [controls["mode"], widgets.HBox(columns), controls["position"], self.shape_html]
        super().__init__(controls, fig, children)
        self.refresh()

    def _pool(self, X: torch.Tensor) -> torch.Tensor:
        v = {name: control.value for name, control in self.controls.items()}
        return pool2d_batched(X[None, None], kernel_size=(v["kernel_h"], v["kernel_w"]), mode=v["mode"],
                              stride=(v["stride_h"], v["stride_w"]),
                              padding=(v["padding_h"], v["padding_w"]))[0, 0]  # (H_out, W_out)

    def _compute(self) -> None:
        v = {name: control.value for name, control in self.controls.items()}
        kernel, stride = (v["kernel_h"], v["kernel_w"]), (v["stride_h"], v["stride_w"])
        padding = (v["padding_h"], v["padding_w"])
        report = pooling_report(tuple(self.grid.shape), kernel, stride, padding)
        problem = report.problem
        self.output = self.photo_output = None
        if not problem:
            try:
                self.output = self._pool(self.grid)
                self.photo_output = self._pool(self.photo)
            except ValueError as err:
                problem = f"Impossible setting: {err}"
        position = self.controls["position"]
        self.cells_read = []
        if problem:
            self.shape_text = problem
            self.shape_html.value = problem_html(problem, CSS_CLASS)
            position.max, position.disabled, self.cell = 0, True, None
            return
        (h, w), (ho, wo) = tuple(self.grid.shape), tuple(self.output.shape)
        self.shape_text = report.text
        self.shape_html.value = lines_html(self.shape_text.split("\n"), CSS_CLASS)
        position.disabled, position.max = False, ho * wo - 1
        self.cell = divmod(position.value, wo)
        rows = [t - padding[0] for t in window_taps(self.cell[0], kernel[0], stride[0], 1)]
        cols = [t - padding[1] for t in window_taps(self.cell[1], kernel[1], stride[1], 1)]
        self.cells_read = [(i, j) for i in rows for j in cols if 0 <= i < h and 0 <= j < w]

    def _draw(self) -> None:
        v = {name: control.value for name, control in self.controls.items()}
        (ph, pw), (h, w) = (v["padding_h"], v["padding_w"]), tuple(self.grid.shape)
        categories = np.full((h + 2 * ph, w + 2 * pw), PAD)
        categories[ph:ph + h, pw:pw + w] = PLAIN
        # What the library pads with: -inf for max pooling, 0 (counted) for average pooling.
        labels = np.full(categories.shape, -np.inf if v["mode"] == "max" else 0.0)
        labels[ph:ph + h, pw:pw + w] = self.grid.numpy()
        outline = None
        if self.cell is not None:
            top, left = self.cell[0] * v["stride_h"], self.cell[1] * v["stride_w"]
            box = categories[top:top + v["kernel_h"], left:left + v["kernel_w"]]
            box[...] = np.where(box == PAD, ACTIVE_PAD, ACTIVE)
            outline = (top, left, v["kernel_h"], v["kernel_w"])
        self.cell_grids[0].draw(categories, f"input {h} × {w}, padding ({ph}, {pw})", labels=labels,
                                outline=outline)
        self.drawn_input = categories
        if self.output is None:
            self.cell_grids[1].show_message("impossible settings:\nsee the explanation")
            self.maps["photo_output"].update(np.zeros((1, 1)), "no output")
        else:
            ho, wo = tuple(self.output.shape)
            out_cats = np.full((ho, wo), PLAIN)
            out_cats[self.cell] = ACTIVE
            self.cell_grids[1].draw(out_cats, f"{v['mode']} pooled {ho} × {wo}", labels=self.output.numpy(),
                                    fmt="{:.3g}", outline=(self.cell[0], self.cell[1], 1, 1))
            po = tuple(self.photo_output.shape)
            self.maps["photo_output"].update(self.photo_output.numpy(), f"pooled photo {po[0]} × {po[1]}")
        self.maps["photo"].update(self.photo.numpy(), "photo 112 × 96")
