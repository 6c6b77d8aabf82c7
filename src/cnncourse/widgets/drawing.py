"""Grid drawings and figure plumbing shared by the explorers of Sections 7.2-7.6.

Each explorer owns one :class:`matplotlib.figure.Figure` made without pyplot, so it never
enters pyplot's registry (nothing leaks, nothing is shown twice by the inline backend). The
figure is redrawn in place and shown as a PNG in one ``ipywidgets.Image``: replacing the image's
value is a single widget-state update, where an ``Output`` widget would capture display
messages (headless executions sometimes stalled for a whole cell timeout on those).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from cnncourse.runtime import in_notebook

__all__ = ["new_figure", "figure_png", "show_figure", "CellGrid", "same_cell_size", "Heatmap", "add_legend"]


def new_figure(width: float, height: float, ncols: int) -> tuple[Figure, list]:
    """A pyplot-free figure with ``ncols`` axes side by side."""
    fig = Figure(figsize=(width, height), dpi=80, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def figure_png(fig: Figure) -> bytes:
    """The figure rendered as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def show_figure(image: widgets.Image, fig: Figure) -> None:
    """Replace the picture ``image`` shows by the figure (only inside a Jupyter kernel).

    Outside a kernel (plain Python, pytest) there is nobody to show it to, so the figure's
    artists are updated but not rasterised; :func:`figure_png` renders on demand.
    """
    if not in_notebook():
        return
    image.value = figure_png(fig)  # the browser swaps the picture in place: no flicker


class CellGrid:
    """One axes showing a grid of coloured cells, optionally numbered; redrawn in place.

    Every artist (the image, cell borders, numbers, outlines) is made once and then updated,
    because creating matplotlib artists (or ``ax.clear()``) costs tens of milliseconds.

    Args:
        ax: the axes to own.
        palette: one colour per category; cell ``(i, j)`` gets ``palette[categories[i, j]]``.
    """

    def __init__(self, ax, palette: Sequence[str]) -> None:
        self.ax = ax
        self.image = ax.imshow(np.zeros((1, 1), dtype=int), cmap=ListedColormap(list(palette)),
                               vmin=-0.5, vmax=len(palette) - 0.5, interpolation="nearest")
        # Cell borders as line segments that stop at the grid (an axes grid would run past it).
        self.borders = ax.add_collection(LineCollection([], colors="0.35", linewidths=0.6))
        self.frame = ax.add_patch(Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="0.2", linewidth=1.2))
        self.outline = ax.add_patch(Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="crimson",
                                              linewidth=2.5, visible=False))
        self.message = ax.text(0.5, 0.5, "", ha="center", va="center", transform=ax.transAxes,
                               color="#b00020", visible=False)
        self.labels: list = []  # Text artists, reused; the first `shown` are visible
        self.shown = 0
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)

    def draw(self, categories: np.ndarray, title: str = "", labels: np.ndarray | None = None,
             outline: tuple[int, int, int, int] | None = None, fmt: str = "{:g}") -> None:
        """Show ``categories`` (integer array ``(h, w)``).

        Args:
            categories: palette index per cell.
            title: axes title.
            labels: optional numbers printed in the cells (NaN prints nothing).
            outline: optional ``(row, col, height, width)`` rectangle drawn thick.
            fmt: format of the printed numbers.
        """
        h, w = categories.shape
        for artist in (self.image, self.borders, self.frame):
            artist.set_visible(True)
        self.message.set_visible(False)
        self.image.set_data(categories)
        self.image.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        self.ax.set_xlim(-0.5, w - 0.5)
        self.ax.set_ylim(h - 0.5, -0.5)
        self.borders.set_segments([[(-0.5, y), (w - 0.5, y)] for y in np.arange(0.5, h - 1, 1)]
                                  + [[(x, -0.5), (x, h - 0.5)] for x in np.arange(0.5, w - 1, 1)])
        self.frame.set_bounds(-0.5, -0.5, w, h)
        self.ax.set_title(title, fontsize=10)
        numbered = [] if labels is None else np.ndenumerate(labels)
        cells = [(i, j, v) for (i, j), v in numbered if not np.isnan(v)]
        size = max(5.0, min(10.0, 60.0 / max(h, w)))
        while len(self.labels) < len(cells):
            self.labels.append(self.ax.text(0, 0, "", ha="center", va="center"))
        for text, (i, j, value) in zip(self.labels, cells, strict=False):
            text.set_position((j, i))
            text.set_text(fmt.format(value))
            text.set_fontsize(size)
            text.set_visible(True)
        for text in self.labels[len(cells):]:
            text.set_visible(False)
        self.shown = len(cells)
        if outline is not None:
            r, c, hh, ww = outline
            self.outline.set_bounds(c - 0.5, r - 0.5, ww, hh)
        self.outline.set_visible(outline is not None)

    def label_texts(self) -> list[str]:
        """The numbers shown, row by row (what a reader sees in the cells)."""
        return [text.get_text() for text in self.labels[:self.shown]]

    def show_message(self, text: str) -> None:
        """Hide the grid and write ``text`` in the middle of the axes instead."""
        for artist in (self.image, self.borders, self.frame, self.outline, *self.labels):
            artist.set_visible(False)
        self.shown = 0
        self.ax.set_title("")
        self.message.set_text(text)
        self.message.set_visible(True)

    def hide(self) -> None:
        """Show nothing at all (an unused panel)."""
        self.show_message("")


def same_cell_size(axes: Sequence, shapes: Sequence[tuple[int, int]]) -> None:
    """Give every axes the limits of the largest grid, so a cell is the same size everywhere."""
    h = max(shape[0] for shape in shapes)
    w = max(shape[1] for shape in shapes)
    for ax in axes:
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)


def add_legend(fig: Figure, palette: Sequence[str], names: Sequence[str]) -> None:
    """One legend below the axes naming each colour of a :class:`CellGrid` palette."""
    handles = [Patch(facecolor=c, edgecolor="0.35", label=n) for c, n in zip(palette, names, strict=True)]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8,
               frameon=False)


class Heatmap:
    """One axes showing a 2-D array with a colour bar, updated in place with :meth:`update`."""

    def __init__(self, fig: Figure, ax, cmap: str = "gray", symmetric: bool = False) -> None:
        self.ax = ax
        self.symmetric = symmetric
        self.image = ax.imshow(np.zeros((1, 1)), cmap=cmap, interpolation="nearest")
        self.colorbar = fig.colorbar(self.image, ax=ax, shrink=0.8)
        self._texts: list = []
        ax.set_xticks([])
        ax.set_yticks([])

    def update(self, values: np.ndarray, title: str, annotate: bool = False) -> None:
        """Show ``values`` (2-D); symmetric colour limits for signed maps; numbers if asked."""
        values = np.asarray(values, dtype=float)
        h, w = values.shape
        self.image.set_data(values)
        self.image.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        self.ax.set_xlim(-0.5, w - 0.5)
        self.ax.set_ylim(h - 0.5, -0.5)
        lo, hi = float(values.min()), float(values.max())
        if self.symmetric:
            lo, hi = -max(abs(lo), abs(hi), 1e-6), max(abs(lo), abs(hi), 1e-6)
        elif hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        self.image.set_clim(lo, hi)
        self.ax.set_title(title, fontsize=10)
        for text in self._texts:
            text.remove()
        self._texts = []
        if annotate:
            for (i, j), value in np.ndenumerate(values):
                self._texts.append(self.ax.text(j, i, f"{value:.3g}", ha="center", va="center",
                                                fontsize=8, color="black",
                                                bbox={"facecolor": "white", "alpha": 0.6,
                                                      "pad": 0.5, "linewidth": 0}))
