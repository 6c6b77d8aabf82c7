"""The convolution explorer (Sections 7.2-7.3 and transposed convolution): shapes and windows."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import numpy as np

from .base import Explorer, int_slider, lines_html, problem_html
from .drawing import CellGrid, add_legend, new_figure, same_cell_size
from .geometry import (
    ConvSettings,
    ShapeReport,
    conv_padding_sides,
    conv_report,
    transposed_targets,
    window_taps,
)

__all__ = ["ConvExplorer"]

# Cell categories of the grid drawings, and their colours.
PLAIN, PAD, UNUSED, SKIPPED, ACTIVE, ACTIVE_PAD = range(6)
PALETTE = ["white", "#d9d9d9", "#f6d5d5", "#fff2b3", "#4a90d9", "#8fa3b8"]
NAMES = {
    False: ["input / output cell", "padding (zeros)", "never read", "skipped by dilation",
            "read by the current window", "window on padding"],
    True: ["input / output cell", "cropped by padding", "never written", "skipped by dilation",
           "written by the current input cell", "written, then cropped"],
}
CSS_CLASS = "cnncourse-conv-shape"
# The "padding" dropdown: numbers from the sliders, or one of nn.Conv2d's two strings.
PADDING_CHOICES = [("numbers (sliders)", "numbers"), ("'same'", "same"), ("'valid'", "valid")]

# name: (description, default, min, max); defaults are deliberately non-square.
SLIDERS = {
    "input_h": ("input h", 6, 1, 12), "input_w": ("input w", 7, 1, 12),
    "kernel_h": ("kernel h", 3, 1, 6), "kernel_w": ("kernel w", 2, 1, 6),
    "padding_h": ("padding h", 1, 0, 4), "padding_w": ("padding w", 0, 0, 4),
    "stride_h": ("stride h", 1, 1, 4), "stride_w": ("stride w", 2, 1, 4),
    "dilation_h": ("dilation h", 1, 1, 3), "dilation_w": ("dilation w", 1, 1, 3),
    "output_padding_h": ("output padding h", 0, 0, 3), "output_padding_w": ("output padding w", 0, 0, 3),
}


def _taps_1d(kernel: int, dilation: int) -> np.ndarray:
    """One axis of the dilated kernel: True on a tap, False on a hole."""
    taps = np.zeros(dilation * (kernel - 1) + 1, dtype=bool)
    taps[::dilation] = True
    return taps


def _kernel_grid(s: ConvSettings) -> np.ndarray:
    """The dilated kernel's footprint: ACTIVE where a tap reads, SKIPPED in the holes between."""
    taps = np.outer(_taps_1d(s.kernel_size[0], s.dilation[0]), _taps_1d(s.kernel_size[1], s.dilation[1]))
    return np.where(taps, ACTIVE, SKIPPED)


def _reached(shape: tuple[int, int], sources: tuple[int, int], reach: Callable,
             s: ConvSettings) -> np.ndarray:
    """A boolean grid of ``shape``: True where the window of some source cell lands.

    ``reach(i, k, stride, dilation)`` lists the cells one source index touches along an axis
    (``window_taps`` for a convolution, ``transposed_targets`` for its transpose). Rows and
    columns are independent, so the set is a product of one set per axis.
    """
    per_axis = [sorted({t for i in range(sources[a])
                        for t in reach(i, s.kernel_size[a], s.stride[a], s.dilation[a])}) for a in range(2)]
    mask = np.zeros(shape, dtype=bool)
    mask[np.ix_(per_axis[0], per_axis[1])] = True
    return mask


class ConvExplorer(Explorer):
    """Sliders for every argument of ``nn.Conv2d`` / ``nn.ConvTranspose2d`` and what they do.

    The ``padding`` dropdown picks the sliders' numbers or ``nn.Conv2d``'s ``"same"`` /
    ``"valid"``; settings PyTorch refuses ("same" with a stride, a string for the transposed
    convolution) are explained in the text.

    Attributes:
        report: the :class:`ShapeReport` for the current settings.
        shape_text: the filled-in formulas and shape, or the explanation of impossible settings.
        output_shape: ``(H_out, W_out)`` or ``None``.
        cell: the current output cell (or, when transposed, input cell) as ``(row, col)``.
        cells_read: input cells (unpadded coordinates, padding is outside ``0..H-1``) the window
            at ``cell`` reads; for a transposed convolution, ``cells_written``: output cells
            written by input ``cell`` (cropped ones left out).
        padding_sides: zeros drawn around the input, ``(left, right, top, bottom)`` (uneven for
            ``"same"`` with an even kernel, as in PyTorch).
        grids: the category arrays drawn, keyed ``"input"``, ``"kernel"``, ``"output"``.
    """

    def __init__(self) -> None:
        controls: dict[str, widgets.Widget] = {
            name: int_slider(desc, value, lo, hi) for name, (desc, value, lo, hi) in SLIDERS.items()
        }
        controls["padding"] = widgets.Dropdown(options=PADDING_CHOICES, value="numbers",
                                               description="padding")
        controls["transposed"] = widgets.Checkbox(value=False, description="transposed convolution")
        controls["position"] = int_slider("position", 0, 0, 0)
        self.play = widgets.Play(value=0, min=0, max=0, interval=700, description="play")
        widgets.link((self.play, "value"), (controls["position"], "value"))
        self.shape_html = widgets.HTML()
        self.shape_html.add_class(CSS_CLASS)
        fig, self.axes = new_figure(11, 4.2, 3)
        self.cell_grids = [CellGrid(ax, PALETTE) for ax in self.axes]
        column = [widgets.VBox([controls[f"{name}_{axis}"] for name in
                                ("input", "kernel", "padding", "stride", "dilation", "output_padding")])
                  for axis in "hw"]
        children = [widgets.HBox(column), widgets.HBox([controls["padding"], controls["transposed"]]),
                    widgets.HBox([self.play, controls["position"]]), self.shape_html]
        super().__init__(controls, fig, children)
        self._mode = None
        self.refresh()

    def settings(self) -> ConvSettings:
        """The current slider values as a :class:`ConvSettings`."""
        v = {name: control.value for name, control in self.controls.items()}
        padding = (v["padding_h"], v["padding_w"]) if v["padding"] == "numbers" else v["padding"]
        return ConvSettings(
            input_size=(v["input_h"], v["input_w"]), kernel_size=(v["kernel_h"], v["kernel_w"]),
            stride=(v["stride_h"], v["stride_w"]), padding=padding,
            dilation=(v["dilation_h"], v["dilation_w"]), transposed=v["transposed"],
            output_padding=(v["output_padding_h"], v["output_padding_w"]),
        )

    def _compute(self) -> None:
        s = self.settings()
        self.report: ShapeReport = conv_report(s)
        self.shape_text = self.report.text
        self.output_shape = self.report.shape
        for axis in "hw":
            self.controls[f"output_padding_{axis}"].disabled = not s.transposed
            self.controls[f"padding_{axis}"].disabled = isinstance(s.padding, str)
        if self.report.shape is None:
            self.shape_html.value = problem_html(self.report.problem, CSS_CLASS)
            grid = (0, 1)
        else:
            self.shape_html.value = lines_html(self.shape_text.split("\n"), CSS_CLASS)
            grid = s.input_size if s.transposed else self.report.shape
        cells = grid[0] * grid[1]
        position = self.controls["position"]
        position.max = max(cells - 1, 0)
        position.disabled = cells == 0
        self.play.max = position.max
        self.cell = divmod(position.value, grid[1]) if cells else None
        self._settings = s
        self.grids = self._grids_transposed(s) if s.transposed else self._grids_conv(s)

    def _grids_conv(self, s: ConvSettings) -> dict[str, np.ndarray]:
        h, w = s.input_size
        try:  # zeros per side; "same" puts an even kernel's extra zero at the bottom/right
            left, right, top, bottom = conv_padding_sides(s)
        except ValueError:  # "same" with a stride: explained in the text, drawn without padding
            left = right = top = bottom = 0
        self.padding_sides = (left, right, top, bottom)
        grid = np.full((top + h + bottom, left + w + right), PAD)
        grid[top:top + h, left:left + w] = PLAIN
        kernel = _kernel_grid(s)
        self.cells_read = []
        if self.output_shape is None:
            return {"input": grid, "kernel": kernel, "output": np.zeros((0, 0), dtype=int)}
        # Which padded cells does any window read? Rows and columns are independent.
        grid[(grid == PLAIN) & ~_reached(grid.shape, self.output_shape, window_taps, s)] = UNUSED
        r, c = self.cell
        row0, col0 = r * s.stride[0], c * s.stride[1]  # the window's corner, padded coordinates
        span = kernel.shape
        box = grid[row0:row0 + span[0], col0:col0 + span[1]]
        box[(kernel == SKIPPED) & (box != PAD)] = SKIPPED
        rows = window_taps(r, s.kernel_size[0], s.stride[0], s.dilation[0])
        cols = window_taps(c, s.kernel_size[1], s.stride[1], s.dilation[1])
        for i in rows:
            for j in cols:
                on_pad = grid[i, j] == PAD
                grid[i, j] = ACTIVE_PAD if on_pad else ACTIVE
                if not on_pad:
                    self.cells_read.append((i - top, j - left))
        output = np.full(self.output_shape, PLAIN)
        output[r, c] = ACTIVE
        return {"input": grid, "kernel": kernel, "output": output}

    def _grids_transposed(self, s: ConvSettings) -> dict[str, np.ndarray]:
        h, w = s.input_size
        grid = np.full((h, w), PLAIN)
        kernel = _kernel_grid(s)
        self.cells_written = []
        if self.output_shape is None:
            return {"input": grid, "kernel": kernel, "output": np.zeros((0, 0), dtype=int)}
        (ho, wo), (ph, pw) = self.output_shape, s.padding
        # The canvas is the output before cropping `padding` cells off every side.
        canvas = np.full((ho + 2 * ph, wo + 2 * pw), PAD)
        canvas[ph:ph + ho, pw:pw + wo] = PLAIN
        canvas[(canvas == PLAIN) & ~_reached(canvas.shape, s.input_size, transposed_targets, s)] = UNUSED
        r, c = self.cell
        grid[r, c] = ACTIVE
        for i in transposed_targets(r, s.kernel_size[0], s.stride[0], s.dilation[0]):
            for j in transposed_targets(c, s.kernel_size[1], s.stride[1], s.dilation[1]):
                cropped = canvas[i, j] == PAD
                canvas[i, j] = ACTIVE_PAD if cropped else ACTIVE
                if not cropped:
                    self.cells_written.append((i - ph, j - pw))
        return {"input": grid, "kernel": kernel, "output": canvas}

    def _draw(self) -> None:
        s, g = self._settings, self.grids
        (kh, kw), (dh, dw) = s.kernel_size, s.dilation
        kernel_title = f"kernel {kh} × {kw}, dilation {dh} × {dw}"
        if s.transposed:
            in_title = f"input {s.input_size[0]} × {s.input_size[1]}"
        elif isinstance(s.padding, str):
            left, right, top, bottom = self.padding_sides
            in_title = (f"padded input {g['input'].shape[0]} × {g['input'].shape[1]} "
                        f"('{s.padding}': rows {top}+{bottom}, cols {left}+{right})")
        else:
            in_title = (f"padded input {g['input'].shape[0]} × {g['input'].shape[1]} "
                        f"(padding {s.padding[0]}, {s.padding[1]})")
        self.cell_grids[0].draw(g["input"], in_title)
        self.cell_grids[1].draw(g["kernel"], kernel_title)
        if self.output_shape is None:
            self.cell_grids[2].show_message("impossible settings:\nsee the explanation")
        else:
            ho, wo = self.output_shape
            title = (f"output {ho} × {wo} before cropping padding" if s.transposed
                     else f"output {ho} × {wo}, cell {self.cell}")
            self.cell_grids[2].draw(g["output"], title)
            if s.transposed:
                self.axes[0].set_title(f"{in_title}, cell {self.cell}", fontsize=10)
            same_cell_size(self.axes, [grid.shape for grid in g.values()])
        if self._mode != s.transposed:  # the legend's words depend on the mode only
            for legend in list(self.figure.legends):
                legend.remove()
            add_legend(self.figure, PALETTE, NAMES[s.transposed])
            self._mode = s.transposed
