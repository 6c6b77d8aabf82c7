"""What the pointing convolution explorer draws, computed by :mod:`cnncourse.functional` (Sections 7.2-7.3).

Pure: two tensors and the settings in, tensors, index lists and strings out. The browser side
(:mod:`cnncourse.widgets.pointer`) only draws these and reports where the mouse is, so every
number a student reads there (the window, the weights, the multiply-sum, which outputs an input
feeds) is computed here and tested against ``F.conv2d`` / ``F.conv_transpose2d``.

Coordinates: the input panel draws ``grid``, the padded input of a convolution (``X`` at
``offset``) or ``X`` itself for a transposed convolution; cells are numbered row-major.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnncourse import functional as ops
from cnncourse.functional.convolution import windows

from .geometry import ConvSettings, ShapeReport, conv_padding_sides, conv_report, transposed_targets

__all__ = ["PointerData", "pointer_data", "transposed_output", "number_text", "products_text",
           "multiply_sum_text", "conv_windows"]

MINUS = "\u2212"


def number_text(value: float) -> str:
    """A number as the explorer writes it: 4 significant digits, a real minus sign, no ``-0``, ``∞``."""
    if math.isinf(value):
        return "∞" if value > 0 else MINUS + "∞"
    text = f"{float(value):.4g}"
    if text == "-0":
        text = "0"
    return text.replace("-", MINUS)


def _factor(value: float) -> str:
    text = number_text(value)
    return f"({text})" if text.startswith(MINUS) else text


def products_text(terms: list[tuple[float, float]]) -> str:
    """``1·0 + (−1)·1``: the products of ``(input value, weight)`` pairs, in reading order."""
    return " + ".join(f"{_factor(x)}·{_factor(w)}" for x, w in terms)


def multiply_sum_text(name: str, terms: list[tuple[float, float]], total: float) -> str:
    """``Y[1, 2] = 1·0 + (−1)·1 + … = −1``: every product of input and weight, then the output value.

    Args:
        name: what is computed, e.g. ``"Y[1, 2]"``.
        terms: ``(input value, weight)`` pairs in reading order.
        total: the output value (from the library, not from summing the terms here).
    """
    if not terms:
        return f"{name} = {number_text(total)}: no input cell reaches this output cell"
    return f"{name} = {products_text(terms)} = {number_text(total)}"


@dataclass(frozen=True)
class PointerData:
    """Everything the pointing explorer shows for one input, kernel and setting.

    Attributes:
        settings: the convolution's settings (``input_size`` and ``kernel_size`` from X and K).
        flip: True for a true convolution (the kernel flipped before it slides), False for
            cross-correlation, which is what ``nn.Conv2d`` computes.
        report: the output shape with its formulas, or why the settings are impossible.
        grid: the input panel, ``(Hg, Wg)``: the padded input, or X when transposed.
        padding_mask: ``(Hg, Wg)`` True on the zeros of the padding.
        offset: ``(top, left)`` where ``X[0, 0]`` sits in ``grid``.
        kernel: the weights as applied, ``(kh, kw)``: K, or K flipped when ``flip``.
        output: ``(H_out, W_out)``, or None for impossible settings.
        reads: per output cell (row-major) the ``(grid row, grid col, kernel row, kernel col)``
            it multiplies and adds, in reading order.
        feeds: per grid cell (row-major) the output cells it contributes to.
        other: the output of the other choice of ``flip`` (None when impossible).
    """

    settings: ConvSettings
    flip: bool
    report: ShapeReport
    grid: torch.Tensor
    padding_mask: np.ndarray
    offset: tuple[int, int]
    kernel: torch.Tensor
    output: torch.Tensor | None
    reads: list[list[tuple[int, int, int, int]]]
    feeds: list[list[int]]
    other: torch.Tensor | None

    def formulas(self) -> list[str]:
        """The multiply-sum of every output cell (row-major), numbers from ``grid`` and ``kernel``."""
        if self.output is None:
            return []
        w_out = self.output.shape[1]
        values, grid, kernel = self.output.reshape(-1).tolist(), self.grid.tolist(), self.kernel.tolist()
        return [multiply_sum_text(f"Y[{o // w_out}, {o % w_out}]",
                                  [(grid[r][c], kernel[a][b]) for r, c, a, b in cells], values[o])
                for o, cells in enumerate(self.reads)]

    def feed_texts(self) -> list[str]:
        """For every grid cell: how many output cells it feeds, and why a border cell feeds fewer."""
        counts = [len(outs) for outs in self.feeds]
        inner = [n for n, pad in zip(counts, self.padding_mask.reshape(-1), strict=True) if not pad]
        most = max(inner, default=0)
        width, (top, left) = self.grid.shape[1], self.offset
        verb = "writes to" if self.settings.transposed else "is read by"
        taps, grid = self.kernel.numel(), self.grid.tolist()
        texts = []
        for g, n in enumerate(counts):
            row, col = divmod(g, width)
            if self.padding_mask.reshape(-1)[g]:
                texts.append(f"a zero of the padding (row {row}, column {col} of the padded input) "
                             f"is read by {n} output cell(s); it adds 0 to each")
                continue
            value = number_text(grid[row][col])
            text = f"X[{row - top}, {col - left}] = {value} {verb} {n} output cell(s)"
            if self.settings.transposed and n < taps:
                text += f": the padding crops {taps - n} of its {taps} writes"
            elif not self.settings.transposed and n == 0:
                text += ": no window reaches it (the stride steps over it)"
            elif not self.settings.transposed and n < most:
                text += f", fewer than the {most} of the busiest cell: fewer windows reach it near the border"
            texts.append(text)
        return texts


def transposed_output(X: torch.Tensor, K: torch.Tensor, s: ConvSettings) -> torch.Tensor:
    """``F.conv_transpose2d`` of one 2-D image, built from :func:`cnncourse.functional.conv2d`.

    The input is spread out with ``stride − 1`` zeros between cells, padded by the dilated kernel's
    span (``output_padding`` more at the bottom/right) and correlated with the flipped kernel; the
    transposed convolution's ``padding`` then crops that many cells off each side.

    Shape:
        X ``(H, W)``, K ``(kh, kw)`` -> ``(H_out, W_out)`` of ``conv_transpose_output_shape``.
    """
    (h, w), (kh, kw) = X.shape, K.shape
    (sh, sw), (dh, dw), (oh, ow) = s.stride, s.dilation, s.output_padding
    ph, pw = s.padding
    spread = X.new_zeros((h - 1) * sh + 1, (w - 1) * sw + 1)
    spread[::sh, ::sw] = X  # ((H-1)·s+1, (W-1)·s+1)
    eh, ew = dh * (kh - 1), dw * (kw - 1)
    canvas = F.pad(spread, (ew, ew + ow, eh, eh + oh))
    full = ops.conv2d(canvas[None, None], K.flip(0, 1)[None, None], dilation=(dh, dw))[0, 0]
    h_out, w_out = ops.conv_transpose_output_shape((h, w), (kh, kw), s.stride, s.padding,
                                                   s.output_padding, s.dilation)
    return full[ph:ph + h_out, pw:pw + w_out]  # (H_out, W_out)


def conv_windows(grid_shape: tuple[int, int], s: ConvSettings) -> list[list[tuple[int, int, int, int]]]:
    """Each output cell's window ``(grid row, grid col, kernel row, kernel col)``, row-major.

    Read off the library's own ``windows`` (what ``conv2d`` gathers) applied to the cell numbers
    of the already padded ``grid_shape``.
    """
    hg, wg = grid_shape
    kh, kw = s.kernel_size
    numbers = torch.arange(hg * wg, dtype=torch.float64).reshape(1, 1, hg, wg)
    views = windows(numbers, s.kernel_size, s.stride, s.dilation)[0, 0]  # (H_out, W_out, kh, kw)
    reads = []
    for window in views.reshape(-1, kh, kw):
        cells = [divmod(int(window[a, b]), wg) for a in range(kh) for b in range(kw)]
        reads.append([(r, c, a, b) for (r, c), (a, b) in zip(cells, np.ndindex(kh, kw), strict=True)])
    return reads


def _transposed_reads(s: ConvSettings, out_shape: tuple[int, int]) -> list[list[tuple[int, int, int, int]]]:
    """Which inputs, times which weight, scatter into each output cell (after the crop)."""
    per_axis = []
    for axis in range(2):
        sources: list[list[tuple[int, int]]] = [[] for _ in range(out_shape[axis])]
        for i in range(s.input_size[axis]):
            taps = transposed_targets(i, s.kernel_size[axis], s.stride[axis], s.dilation[axis])
            for a, target in enumerate(taps):
                o = target - s.padding[axis]  # canvas -> output: the padding crops
                if 0 <= o < out_shape[axis]:
                    sources[o].append((i, a))
        per_axis.append(sources)
    rows, cols = per_axis
    return [[(i, j, a, b) for i, a in rows[r] for j, b in cols[c]]
            for r in range(out_shape[0]) for c in range(out_shape[1])]


def _invert(reads: list[list[tuple[int, int, int, int]]], grid_shape: tuple[int, int]) -> list[list[int]]:
    feeds: list[list[int]] = [[] for _ in range(grid_shape[0] * grid_shape[1])]
    for o, cells in enumerate(reads):
        for r, c, _, _ in cells:
            feeds[r * grid_shape[1] + c].append(o)
    return feeds


def _apply(X: torch.Tensor, kernel: torch.Tensor, s: ConvSettings) -> torch.Tensor:
    if s.transposed:
        return transposed_output(X, kernel, s)
    return ops.conv2d(X[None, None], kernel[None, None], stride=s.stride, padding=s.padding,
                      dilation=s.dilation)[0, 0]  # (H_out, W_out)


def pointer_data(X: torch.Tensor, K: torch.Tensor, s: ConvSettings, flip: bool = False) -> PointerData:
    """What the explorer shows for input X, kernel K and settings ``s`` (Sections 7.2-7.3).

    Args:
        X: the input, ``(H, W)`` float64; ``s.input_size`` must be ``X.shape``.
        K: the kernel as the student wrote it, ``(kh, kw)`` float64; ``s.kernel_size`` is ``K.shape``.
        s: stride, padding (a pair, ``"same"`` or ``"valid"``), dilation, transposed, output padding.
        flip: apply K flipped (a true convolution) instead of as it is (cross-correlation).

    Impossible settings give ``output=None`` and the explanation in ``report``, never an error.
    """
    if tuple(X.shape) != tuple(s.input_size) or tuple(K.shape) != tuple(s.kernel_size):
        raise ValueError(f"pointer_data: settings for input {s.input_size} and kernel {s.kernel_size}, "
                         f"got X {tuple(X.shape)} and K {tuple(K.shape)}; "
                         f"build the settings from X.shape and K.shape")
    kernel = K.flip(0, 1) if flip else K
    report = conv_report(s)
    top = left = 0
    grid = X
    if report.shape is not None and not s.transposed:
        left, right, top, bottom = conv_padding_sides(s)
        grid = F.pad(X, (left, right, top, bottom))  # (H + top + bottom, W + left + right)
    mask = np.ones(tuple(grid.shape), dtype=bool)
    mask[top:top + X.shape[0], left:left + X.shape[1]] = False
    if report.shape is None:
        return PointerData(s, flip, report, grid, mask, (0, 0), kernel, None, [],
                           [[] for _ in range(X.numel())], None)
    output = _apply(X, kernel, s)
    other = _apply(X, K if flip else K.flip(0, 1), s)
    reads = (_transposed_reads(s, report.shape) if s.transposed
             else conv_windows(tuple(grid.shape), s))
    return PointerData(s, flip, report, grid, mask, (top, left), kernel, output, reads,
                       _invert(reads, tuple(grid.shape)), other)
