"""Point at a pooling (Section 7.5): an output cell, its window, and the max or mean written out.

The same anywidget drawing as :mod:`cnncourse.widgets.pointer`. Every number comes from
:func:`cnncourse.functional.pool2d_batched` (the pooled values and, for max pooling, where each
maximum sits); this module only lists which cells each window covers and writes the sums out.
Padding is drawn as PyTorch treats it: ``−∞`` for max pooling (it never wins) and ``0`` for
average pooling (counted in the mean, ``count_include_pad=True``).
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import torch

from cnncourse.functional import pool2d_batched

from .geometry import ShapeReport, pooling_report, window_taps
from .pointer import PointerDrawing, grid_panel, pair_sliders, set_controls
from .pointer_code import pool_code
from .pointer_data import number_text

__all__ = ["PoolData", "pool_data", "PoolPointer"]

MODES = ("max", "avg")
RANGES = {"kernel_size": (1, 4), "stride": (1, 4), "padding": (0, 2)}  # its sliders' (low, high)


@dataclass(frozen=True)
class PoolData:
    """What the pooling pointer shows for one input and setting.

    Attributes:
        mode: ``"max"`` or ``"avg"``; ``kernel_size``, ``stride``, ``padding``: pairs.
        report: the output shape with its formulas, or why PyTorch refuses the settings.
        grid: the padded input as drawn, ``(Hg, Wg)``: X in the middle, the padding around it
            (``−∞`` for max, ``0`` for avg); ``padding_mask`` is True on the padding.
        output: ``(H_out, W_out)`` from the library, or None for impossible settings.
        winners: max pooling: per output cell (row-major) the grid cell of its maximum.
        reads: per output cell the grid cells ``(row, col)`` of its window, in reading order.
        feeds: per grid cell (row-major) the output cells whose window covers it.
    """

    mode: str
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    report: ShapeReport
    grid: torch.Tensor
    padding_mask: torch.Tensor
    output: torch.Tensor | None
    winners: list[tuple[int, int]]
    reads: list[list[tuple[int, int]]]
    feeds: list[list[int]]

    def formulas(self) -> list[str]:
        """``Y[0, 1] = max(3, 1, 0, 2) = 3 at X[0, 2]`` or ``Y[0, 1] = (3 + 1 + 0 + 2) / 4 = 1.5``."""
        if self.output is None:
            return []
        grid, w_out = self.grid.tolist(), self.output.shape[1]
        (top, left), values = self.padding, self.output.reshape(-1).tolist()
        texts = []
        for o, cells in enumerate(self.reads):
            name, total = f"Y[{o // w_out}, {o % w_out}]", number_text(values[o])
            padded = sum(bool(self.padding_mask[r, c]) for r, c in cells)
            if self.mode == "max":
                inside = ", ".join(number_text(grid[r][c]) for r, c in cells if not self.padding_mask[r, c])
                r, c = self.winners[o]
                text = f"{name} = max({inside}) = {total}, at X[{r - top}, {c - left}]"
                if padded:
                    text += f"; the {padded} padding cell(s) hold −∞ and never win"
            else:  # the padding's zeros named apart: X may hold zeros too
                terms = " + ".join(number_text(grid[r][c]) for r, c in cells if not self.padding_mask[r, c])
                zeros = f" + 0 × {padded} padding cell(s)" if padded else ""
                text = f"{name} = ({terms}{zeros}) / {len(cells)} = {total}"
            texts.append(text)
        return texts

    def feed_texts(self) -> list[str]:
        """For every grid cell: how many windows cover it, and what that means for it."""
        width, (top, left) = self.grid.shape[1], self.padding
        texts = []
        for g, outs in enumerate(self.feeds):
            row, col = divmod(g, width)
            if self.padding_mask[row, col]:
                texts.append(f"a padding cell (row {row}, column {col} of the padded input) lies in "
                             f"{len(outs)} window(s)" + (": it never wins a max" if self.mode == "max"
                                                         else ": it adds 0 to each mean"))
                continue
            value = number_text(float(self.grid[row, col]))
            text = f"X[{row - top}, {col - left}] = {value} lies in {len(outs)} window(s)"
            if not outs:
                text += ": the stride steps over it, no output sees it"
            elif self.mode == "max":
                won = sum(1 for o in outs if self.winners[o] == (row, col))
                text += f" and is the maximum of {won} of them"
            texts.append(text)
        return texts


def pool_data(X: torch.Tensor, kernel_size: tuple[int, int], stride: tuple[int, int],
              padding: tuple[int, int], mode: str) -> PoolData:
    """Windows, values and maxima of pooling the 2-D ``X``, computed by ``pool2d_batched``."""
    (h, w), (ph, pw), (kh, kw) = tuple(X.shape), padding, kernel_size
    report = pooling_report((h, w), kernel_size, stride, padding)
    grid = torch.full((h + 2 * ph, w + 2 * pw), -torch.inf if mode == "max" else 0.0, dtype=torch.float64)
    grid[ph:ph + h, pw:pw + w] = X
    mask = torch.ones(grid.shape, dtype=torch.bool)
    mask[ph:ph + h, pw:pw + w] = False
    feeds: list[list[int]] = [[] for _ in range(grid.numel())]
    if report.shape is None:
        return PoolData(mode, kernel_size, stride, padding, report, grid, mask, None, [], [], feeds)
    if mode == "max":
        output, where = pool2d_batched(X[None], kernel_size, "max", stride, padding, return_indices=True)
        winners = [(int(i) // w + ph, int(i) % w + pw) for i in where.reshape(-1)]
    else:
        output, winners = pool2d_batched(X[None], kernel_size, "avg", stride, padding), []
    output = output[0]
    h_out, w_out = tuple(output.shape)
    reads = []
    for o in range(h_out * w_out):
        i, j = divmod(o, w_out)
        cells = [(r, c) for r in window_taps(i, kh, stride[0], 1) for c in window_taps(j, kw, stride[1], 1)]
        reads.append(cells)
        for r, c in cells:
            feeds[r * grid.shape[1] + c].append(o)
    return PoolData(mode, kernel_size, stride, padding, report, grid, mask, output, winners, reads, feeds)


class PoolPointer(widgets.VBox):
    """Point at max or average pooling: sliders around a :class:`PointerDrawing` (Section 7.5).

    Attributes:
        controls: ``mode``, ``kernel_size_h/w``, ``stride_h/w``, ``padding_h/w``.
        X: the input, float64; ``data``: the :class:`PoolData` on show; ``code``: the script.
    """

    def __init__(self, X: torch.Tensor, kernel_size: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[int, int], mode: str) -> None:
        self.X = X
        c: dict[str, widgets.Widget] = {"mode": widgets.ToggleButtons(options=list(MODES), value=mode,
                                                                      description="pooling")}
        c.update(pair_sliders({"kernel_size": kernel_size, "stride": stride, "padding": padding}, RANGES))
        self.controls = c
        self.drawing = PointerDrawing()
        columns = [widgets.VBox([c[f"{name}_{axis}"] for name in ("kernel_size", "stride", "padding")])
                   for axis in "hw"]
        super().__init__(children=[c["mode"], widgets.HBox(columns), self.drawing])
        for control in c.values():
            control.observe(lambda _change: self.refresh(), names="value")
        self._holding = False
        self.refresh()

    def settings(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], str]:
        """``(kernel_size, stride, padding, mode)`` from the controls."""
        v = {name: control.value for name, control in self.controls.items()}
        kernel_size, stride, padding = ((v[f"{name}_h"], v[f"{name}_w"])
                                        for name in ("kernel_size", "stride", "padding"))
        return kernel_size, stride, padding, v["mode"]

    def set(self, **values: object) -> None:
        """Set controls by name (``explorer.set(mode="avg", stride_h=1)``), then refresh once."""
        set_controls(self, values)

    def refresh(self) -> None:
        """Recompute from X and the controls, and send it to the drawing."""
        if self._holding:
            return
        kernel_size, stride, padding, mode = self.settings()
        self.data = pool_data(self.X, kernel_size, stride, padding, mode)
        self.code = "" if self.data.output is None else pool_code(self.X, kernel_size, stride, padding, mode)
        d, (kh, kw) = self.drawing, kernel_size
        width = self.data.grid.shape[1]
        outputs = [] if self.data.output is None else [self.data.output]
        if mode == "avg":  # the same numbers as a convolution with these weights
            weights = [torch.full(kernel_size, 1.0 / (kh * kw), dtype=torch.float64)]
            kernel_title = f"average pooling = a convolution with these weights (1/{kh * kw} each)"
        else:
            weights, kernel_title = [], f"max pooling has no weights: a {kh} × {kw} window, its largest value"
        with d.hold_sync():
            out = self.data.output
            (h, w), (hg, wg) = tuple(self.X.shape), tuple(self.data.grid.shape)
            source = f"padded input {hg} × {wg} (X is {h} × {w})" if any(padding) else f"input X {h} × {w}"
            result = "no output" if out is None else f"{mode} pooled Y {out.shape[0]} × {out.shape[1]}"
            kernel = grid_panel(kernel_title, weights)
            for grid in kernel["grids"]:  # written as the fraction, which also fits in a cell
                grid["labels"] = [[f"1/{kh * kw}"] * kw for _ in range(kh)]
            wide = 44 if mode == "avg" else 34  # means such as 1.111 need the room
            d.panels = {"input": grid_panel(source, [self.data.grid], pad=self.data.padding_mask.tolist()),
                        "kernel": kernel, "output": grid_panel(result, outputs, cell=wide)}
            # A window's cells come in reading order, as the weights do: cell k takes weight k.
            d.reads = [[[r * width + col, k if mode == "avg" else -1] for k, (r, col) in enumerate(cells)]
                       for cells in self.data.reads]
            d.feeds, d.formulas, d.feed_texts = self.data.feeds, self.data.formulas(), self.data.feed_texts()
            d.lines = self.data.report.text.split("\n") if out is not None else []
            d.problem, d.code = self.data.report.problem, self.code
            d.pinned_output = d.pinned_output if out is not None and d.pinned_output < out.numel() else -1
            d.pinned_input = d.pinned_input if d.pinned_input < self.data.grid.numel() else -1
