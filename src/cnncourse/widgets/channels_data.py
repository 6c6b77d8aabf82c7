"""What the channels explorer shows, computed by :mod:`cnncourse.functional` (Section 7.4).

C_in input slices, each read through its own kernel slice and summed into one output channel;
C_out such kernels; with ``groups`` an output channel reads only the input channels of its group
(``groups = C_in`` is the depthwise convolution); a 1 × 1 kernel makes each output pixel a
matrix-vector product over the channels. Pure, like :mod:`cnncourse.widgets.pointer_data`: the
output comes from :func:`cnncourse.functional.conv2d`, the windows from ``conv_windows``.

Cell ids (what the drawing and the events use): input ``(ci, row, col)`` of the padded grid, output
``(co, row, col)`` and kernel ``(co, cl, a, b)``, each numbered row-major.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnncourse import functional as ops

from .geometry import ConvSettings, ShapeReport, conv_padding_sides, conv_report
from .pointer_data import conv_windows, number_text, products_text

__all__ = ["ChannelData", "channel_data", "group_text", "channel_span"]


def channel_span(first: int, count: int) -> str:
    """``channel 2`` or ``channels 2..3``."""
    return f"channel {first}" if count == 1 else f"channels {first}..{first + count - 1}"


def group_text(c_in: int, c_out: int, groups: int) -> list[str]:
    """Which input channels each output channel reads, one line per group."""
    per_in, per_out = c_in // groups, c_out // groups
    if groups == 1:
        return [f"groups=1: every output channel reads all {c_in} input channel(s)"]
    kind = " (depthwise: one input channel per group)" if groups == c_in else ""
    return [f"groups={groups}{kind}:"] + [
        f"  output {channel_span(g * per_out, per_out)} read(s) input {channel_span(g * per_in, per_in)} only"
        for g in range(groups)]


@dataclass(frozen=True)
class ChannelData:
    """Everything the channels explorer shows for one input, kernel stack and setting.

    Attributes:
        settings: the spatial settings (``input_size`` ``(H, W)``, ``kernel_size`` ``(kh, kw)``).
        groups: how many groups the channels are split into.
        report: the output shape with its formulas, or why the settings are impossible.
        grid: the padded input, ``(C_in, Hg, Wg)``; ``padding_mask``: ``(Hg, Wg)`` True on padding.
        offset: ``(top, left)`` where ``X[:, 0, 0]`` sits in ``grid``.
        kernel: ``(C_out, C_in / groups, kh, kw)``.
        output: ``(C_out, H_out, W_out)`` from ``conv2d``, or None for impossible settings.
        reads: per output id, the ``(input channel, grid row, grid col, kernel slice, a, b)`` it
            multiplies and adds; the weight is ``kernel[co, slice, a, b]``.
        feeds: per input id, the output ids it contributes to.
    """

    settings: ConvSettings
    groups: int
    report: ShapeReport
    grid: torch.Tensor
    padding_mask: np.ndarray
    offset: tuple[int, int]
    kernel: torch.Tensor
    output: torch.Tensor | None
    reads: list[list[tuple[int, int, int, int, int, int]]]
    feeds: list[list[int]]

    def formulas(self) -> list[str]:
        """Each output cell's sum, channel by channel: ``Y[1, 0, 2] = [X0] 1·0 + … + [X1] … = 3``."""
        if self.output is None:
            return []
        c_out, h_out, w_out = self.output.shape
        grid, kernel, values = self.grid.tolist(), self.kernel.tolist(), self.output.reshape(-1).tolist()
        texts = []
        for o, cells in enumerate(self.reads):
            co = o // (h_out * w_out)
            row, col = divmod(o % (h_out * w_out), w_out)
            parts: dict[int, list[tuple[float, float]]] = {}
            for ci, r, c, cl, a, b in cells:
                parts.setdefault(ci, []).append((grid[ci][r][c], kernel[co][cl][a][b]))
            body = " + ".join(f"[X{ci}] {products_text(terms)}" for ci, terms in parts.items())
            texts.append(f"Y[{co}, {row}, {col}] = {body} = {number_text(values[o])}")
        return texts

    def feed_texts(self) -> list[str]:
        """For every input cell: how many output cells of which output channels it feeds."""
        c_in, hg, wg = self.grid.shape
        c_out = self.kernel.shape[0]
        per_in, per_out = c_in // self.groups, c_out // self.groups
        h_out, w_out = (0, 0) if self.output is None else self.output.shape[1:]
        grid, (top, left) = self.grid.tolist(), self.offset
        texts = []
        for i, outs in enumerate(self.feeds):
            ci, rest = divmod(i, hg * wg)
            row, col = divmod(rest, wg)
            channels = sorted({o // max(h_out * w_out, 1) for o in outs})
            group = ci // per_in
            where = (f"a zero of the padding of channel {ci}" if self.padding_mask[row, col]
                     else f"X[{ci}, {row - top}, {col - left}] = {number_text(grid[ci][row][col])}")
            texts.append(f"{where} is read by {len(outs)} output cell(s) in output channel(s) "
                         f"{', '.join(map(str, channels)) or 'none'} (its group {group} feeds output "
                         f"{channel_span(group * per_out, per_out)})")
        return texts


def channel_data(X: torch.Tensor, K: torch.Tensor, s: ConvSettings, groups: int = 1) -> ChannelData:
    """What the channels explorer shows for X ``(C_in, H, W)`` and K ``(C_out, C_in / groups, kh, kw)``.

    ``s`` carries stride, padding and dilation (``transposed`` must be False); impossible spatial
    settings give ``output=None`` and the explanation in ``report``.
    """
    c_in, c_out, per_in = X.shape[0], K.shape[0], K.shape[1]
    if per_in * groups != c_in or c_out % groups or s.transposed:
        raise ValueError(f"channel_data: K {tuple(K.shape)} must be (C_out, C_in / groups, kh, kw) with "
                         f"C_in = {c_in} and groups = {groups} dividing C_out, and no transposed "
                         f"convolution; got K.shape[1] = {per_in}, C_out = {c_out}, "
                         f"transposed = {s.transposed}")
    report = conv_report(s)
    top = left = 0
    grid = X
    if report.shape is not None:
        left, right, top, bottom = conv_padding_sides(s)
        grid = F.pad(X, (left, right, top, bottom))  # (C_in, Hg, Wg)
    hg, wg = grid.shape[1:]
    mask = np.ones((hg, wg), dtype=bool)
    mask[top:top + X.shape[1], left:left + X.shape[2]] = False
    if report.shape is None:
        return ChannelData(s, groups, report, grid, mask, (0, 0), K, None, [],
                           [[] for _ in range(grid.numel())])
    output = ops.conv2d(X, K, stride=s.stride, padding=s.padding, dilation=s.dilation,
                        groups=groups)  # (C_out, H_out, W_out)
    spatial = conv_windows((hg, wg), s)  # per output pixel: (row, col, a, b)
    reads, feeds = [], [[] for _ in range(grid.numel())]
    per_out = c_out // groups
    for co in range(c_out):
        channels = range((co // per_out) * per_in, (co // per_out + 1) * per_in)  # its group's inputs
        for cells in spatial:
            o = len(reads)
            reads.append([(ci, r, c, cl, a, b) for cl, ci in enumerate(channels) for r, c, a, b in cells])
            for ci, r, c, _, _, _ in reads[-1]:
                feeds[(ci * hg + r) * wg + c].append(o)
    return ChannelData(s, groups, report, grid, mask, (top, left), K, output, reads, feeds)
