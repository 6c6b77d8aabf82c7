"""Pictures of the channel arithmetic of Section 7.4, drawn from real tensors.

Each function computes its result with :mod:`cnncourse.functional` and writes every number into
its cell, so the picture shows exactly what the code computes: the per-channel correlations and
their sum, one output channel per kernel stack, and a 1x1 convolution as one matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.patches import Rectangle

from cnncourse._checks import check_float_tensor
from cnncourse.functional import corr2d, corr2d_multi_in, corr2d_multi_in_out, corr2d_multi_in_out_1x1
from cnncourse.plotting import NotebookFigure

__all__ = ["draw_multi_in", "draw_multi_in_out", "draw_1x1_as_matmul"]

_CELL, _OP, _GAP, _TITLE = 0.4, 0.35, 0.15, 0.4  # inches: matrix cell, operator, gap, title band
_HIGHLIGHT = "#d62728"


def _fmt(values: np.ndarray) -> str:
    return "{:.0f}" if np.all(values == np.round(values)) else "{:.1f}"


def _matrix(ax, M: torch.Tensor, title: str, columns: Sequence[int] = ()) -> None:
    """Draw ``M`` as a grid of cells with its values written in; outline the listed columns."""
    values = M.detach().cpu().double().numpy()
    h, w = values.shape
    lo, hi = values.min(), values.max()
    ax.imshow(values, cmap="Blues", vmin=lo - 0.15 * (hi - lo + 1), vmax=hi + 0.6 * (hi - lo + 1))
    fmt = _fmt(values)
    for r in range(h):
        for c in range(w):
            ax.text(c, r, fmt.format(values[r, c]), ha="center", va="center", fontsize=8.5)
    for c in columns:
        ax.add_patch(Rectangle((c - 0.5, -0.5), 1, h, fill=False, edgecolor=_HIGHLIGHT, linewidth=2.0))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=8.5)


def _size(entry: object) -> tuple[float, float]:
    """Width and height in inches of a matrix entry (cells of one size everywhere) or an operator."""
    if isinstance(entry, tuple):
        return entry[0].shape[1] * _CELL, entry[0].shape[0] * _CELL
    return _OP, 0.0


def _grid(rows: list[list], title: str) -> NotebookFigure:
    """Lay out rows of entries, aligned in columns, every matrix cell the same size.

    An entry is a ``(matrix, title)`` or ``(matrix, title, outlined columns)`` tuple, an operator
    symbol, or None for an empty slot.
    """
    ncols = max(len(row) for row in rows)
    widths = [max(_size(row[c])[0] for row in rows if c < len(row) and row[c] is not None) + _GAP
              for c in range(ncols)]
    heights = [max(_size(e)[1] for e in row if e is not None) + _TITLE for row in rows]
    fig_w, fig_h = sum(widths) + _GAP, sum(heights) + _TITLE + _GAP
    fig = NotebookFigure(figsize=(fig_w, fig_h))
    top = fig_h - _TITLE
    for row, height in zip(rows, heights, strict=True):
        left = _GAP
        for c, entry in enumerate(row):
            if entry is not None:
                w, h = _size(entry)
                h = h or height - _TITLE
                x, y = left + (widths[c] - _GAP - w) / 2, top - _TITLE - (height - _TITLE + h) / 2
                ax = fig.add_axes((x / fig_w, y / fig_h, w / fig_w, h / fig_h))
                if isinstance(entry, str):
                    ax.set_axis_off()
                    size = 26 if entry == "⋆" else 15  # the star glyph is drawn small
                    ax.text(0.5, 0.5, entry, ha="center", va="center", fontsize=size, transform=ax.transAxes)
                else:
                    _matrix(ax, *entry)
            left += widths[c]
        top -= height
    fig.suptitle(title, fontsize=10, y=1 - 0.1 / fig_h, va="top")
    return fig


def _inputs(who: str, X: object, K: object, kernel_ndim: int, kernel_layout: str) -> tuple:
    X = check_float_tensor(who, "X", X, 3, "(C, H, W)")
    K = check_float_tensor(who, "K", K, kernel_ndim, kernel_layout)
    channel_axis = 0 if kernel_ndim == 3 else 1
    if K.shape[channel_axis] != X.shape[0]:
        raise ValueError(f"{who}: K has {K.shape[channel_axis]} input channels (shape {tuple(K.shape)}) "
                         f"but X has {X.shape[0]} (shape {tuple(X.shape)}); give K one slice per channel")
    return X, K


def draw_multi_in(X: torch.Tensor, K: torch.Tensor) -> NotebookFigure:
    """Correlate each input channel with its kernel slice and add the results (Section 7.4).

    Args:
        X: the input, shape ``(C, H, W)``.
        K: the kernel, shape ``(C, kh, kw)``.

    Returns:
        One row per channel (``X[c] ⋆ K[c] = partial result``) and the sum, ``corr2d_multi_in(X, K)``.
    """
    X, K = _inputs("draw_multi_in", X, K, 3, "(C, kh, kw)")
    Y = corr2d_multi_in(X, K)
    rows: list[list] = [[(X[c], f"input channel {c}"), "⋆", (K[c], f"kernel slice {c}"), "=",
                         (corr2d(X[c], K[c]), f"channel {c} ⋆ slice {c}")] for c in range(X.shape[0])]
    rows.append([None, None, None, "Σ", (Y, "sum over channels")])
    return _grid(rows, f"{X.shape[0]} input channels, one kernel slice each, one output channel")


def draw_multi_in_out(X: torch.Tensor, K: torch.Tensor) -> NotebookFigure:
    """One kernel stack per output channel; the outputs are stacked along channels (Section 7.4).

    Args:
        X: the input, shape ``(C, H, W)``.
        K: the kernels, shape ``(C_out, C, kh, kw)``.

    Returns:
        A top row with the input channels, then one row per output channel ``o``: the slices
        ``K[o, c]`` under their input channels and output channel ``o`` of ``corr2d_multi_in_out(X, K)``.
    """
    X, K = _inputs("draw_multi_in_out", X, K, 4, "(C_out, C, kh, kw)")
    Y = corr2d_multi_in_out(X, K)
    rows: list[list] = [[(X[c], f"input channel {c}") for c in range(X.shape[0])]]
    for o in range(K.shape[0]):
        slices = [(K[o, c], f"K[{o}, {c}]") for c in range(X.shape[0])]
        rows.append([*slices, "→", (Y[o], f"output channel {o}")])
    return _grid(rows, f"{K.shape[0]} kernel stacks of shape {tuple(K.shape[1:])}: "
                       f"output of shape {tuple(Y.shape)}")


def draw_1x1_as_matmul(X: torch.Tensor, K: torch.Tensor, pixel: tuple[int, int] = (0, 0)) -> NotebookFigure:
    """A 1x1 convolution as one matrix product, pixels as columns (Section 7.4).

    Args:
        X: the input, shape ``(C, H, W)``.
        K: the kernels, shape ``(C_out, C, 1, 1)`` or ``(C_out, C)``.
        pixel: the ``(row, column)`` whose channel vector is outlined in the input and the output.

    Returns:
        ``K (C_out, C) @ X (C, H W) = Y (C_out, H W)``, with the outlined column of ``Y`` equal to
        ``K`` times the outlined column of ``X``; ``Y`` is ``corr2d_multi_in_out_1x1(X, K)``.
    """
    who = "draw_1x1_as_matmul"
    X = check_float_tensor(who, "X", X, 3, "(C, H, W)")
    K = check_float_tensor(who, "K", K, (2, 4), "(C_out, C, 1, 1) or (C_out, C)")
    if K.dim() == 4 and K.shape[2:] != (1, 1):
        raise ValueError(f"{who}: K must hold 1x1 kernels, got shape {tuple(K.shape)}")
    X, K = _inputs(who, X, K.reshape(K.shape[0], K.shape[1], 1, 1), 4, "(C_out, C, 1, 1)")
    c, h, w = X.shape
    if not (isinstance(pixel, tuple) and len(pixel) == 2 and 0 <= pixel[0] < h and 0 <= pixel[1] < w):
        raise ValueError(f"{who}: pixel must be a (row, column) inside the {h}x{w} input, got {pixel!r}")
    Y = corr2d_multi_in_out_1x1(X, K)  # (C_out, H, W)
    column = [pixel[0] * w + pixel[1]]
    rows = [[(K[:, :, 0, 0], f"K: {K.shape[0]}×{c}"), "@",
             (X.reshape(c, h * w), f"X: {c}×{h * w}, a column per pixel", column), "=",
             (Y.reshape(-1, h * w), f"Y: {K.shape[0]}×{h * w}", column)]]
    return _grid(rows, f"1×1 convolution: the same {K.shape[0]}×{c} matrix applied to every pixel "
                       f"(outlined: pixel {pixel})")
