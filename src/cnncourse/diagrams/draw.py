"""Architecture diagrams as figures: ``draw_network`` and ``draw_networks`` (Section 7.6, Chapter 8).

The drawing walks the modules of the network it is given, so it cannot drift from the code:
change a channel count and the picture changes with it. A sequential network is a column of
boxes; an activation, dropout or batch norm joins the box of the layer before it. Blocks nested
inside a network (a VGG or NiN block, a GoogLeNet or ResNet stage) are one box listing their
layers; an ``Inception``, ``Residual`` or ``ResNeXtBlock`` drawn on its own shows its branches.
With an input shape, one real forward pass (eval mode, no gradients) labels every arrow with
the shape of the tensor it carries.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import nn

from cnncourse.plotting import NotebookFigure

from .labels import block_title
from .layout import CHAR, LINE, Arrow, Box, scene

__all__ = ["draw_network", "draw_networks"]

_FONT, _PAD, _TITLE = 8.5, 0.3, 0.35  # font size in points; margin and title band in inches


def _extent(items: list) -> tuple[float, float, float, float]:
    """(left, right, bottom, top) of a scene in inches, arrow labels included."""
    xs, ys = [], []
    for it in items:
        if isinstance(it, Box):
            xs += [it.x - it.w / 2, it.x + it.w / 2]
            ys += [it.y, it.bottom]
        else:
            xs += [p[0] for p in it.points]
            xs += [it.points[-2][0] + CHAR * len(it.label) + 0.1] if it.label else []
            ys += [p[1] for p in it.points]
    return min(xs), max(xs), min(ys), max(ys)


def _draw_box(ax, box: Box) -> None:
    ax.add_patch(FancyBboxPatch((box.x - box.w / 2, box.bottom), box.w, box.h, facecolor=box.colour,
                                edgecolor="#555555", linewidth=0.8,
                                boxstyle="round,pad=0,rounding_size=0.06"))
    lines = ([box.title] if box.title else []) + box.lines
    for k, line in enumerate(lines):
        ax.text(box.x, box.y - 0.07 - LINE * (k + 0.5), line, ha="center", va="center", fontsize=_FONT,
                fontweight="bold" if box.title and k == 0 else "normal")


def _draw_arrow(ax, arrow: Arrow) -> None:
    points = arrow.points
    if len(points) > 2:
        xs, ys = zip(*points[:-1], strict=True)
        ax.plot(xs, ys, color="#444444", linewidth=1.0)
    ax.add_patch(FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>", mutation_scale=10,
                                 color="#444444", linewidth=1.0, shrinkA=0, shrinkB=0))
    if arrow.label:
        # beside the middle of the last vertical run of the line
        (x0, y0), (x1, y1) = (points[-3], points[-2]) if len(points) > 2 else (points[0], points[1])
        ax.text(x1 + 0.08, (y0 + y1) / 2, arrow.label, ha="left", va="center", fontsize=_FONT - 1,
                color="#333333", style="italic")


def _figure(scenes: list[list], titles: list[str | None]) -> NotebookFigure:
    extents = [_extent(items) for items in scenes]
    widths = [right - left + 2 * _PAD for left, right, _, _ in extents]
    height = max(top - bottom for _, _, bottom, top in extents) + 2 * _PAD + _TITLE
    total = sum(widths)
    fig = NotebookFigure(figsize=(total, height))
    x = 0.0
    for items, title, (left, right, _, top), w in zip(scenes, titles, extents, widths, strict=True):
        ax = fig.add_axes((x / total, 0.0, w / total, 1.0))
        ax.set_xlim(left - _PAD, right + _PAD)
        ax.set_ylim(top + _PAD + _TITLE - height, top + _PAD + _TITLE)  # one data unit = one inch
        ax.set_axis_off()
        if title:
            ax.text((left + right) / 2, top + 0.2, title, ha="center", va="bottom", fontsize=_FONT + 2,
                    fontweight="bold")
        for it in items:
            (_draw_box if isinstance(it, Box) else _draw_arrow)(ax, it)
        x += w
    return fig


def _default_title(model: nn.Module) -> str:
    if type(model) is nn.Sequential:
        return block_title("", model) or "Sequential"
    return type(model).__name__


def draw_network(model: nn.Module, input_shape: tuple[int, ...] | None = None, *,
                 title: str | None = None) -> NotebookFigure:
    """Draw a network or block as boxes and arrows, read from the module itself (Section 7.6, Ch. 8).

    Args:
        model: a sequential network (``LeNet()``, ``vgg11()``, ``vgg_block(2, 64, 128)``, ...),
            an ``Inception``, ``Residual`` or ``ResNeXtBlock`` block, or a single layer.
        input_shape: shape of an input batch, e.g. ``(1, 1, 28, 28)``; when given, every arrow
            is labelled with the shape a real forward pass produces there. A model built under
            ``torch.device("meta")`` gets its shapes without any arithmetic (VGG-11 at 224x224).
        title: text above the drawing; default the model's class name (or the block's kind).

    Returns:
        The figure; it shows itself as the last expression of a notebook cell.

    Raises:
        TypeError: when ``model`` is not an ``nn.Module`` or its layer order cannot be read.
        ValueError: when ``input_shape`` is not a shape of positive ints or the model rejects it.
    """
    items = scene(model, input_shape)
    return _figure([items], [_default_title(model) if title is None else title])


def draw_networks(models: Sequence[nn.Module], input_shapes: Sequence[tuple[int, ...]] | None = None, *,
                  titles: Sequence[str] | None = None) -> NotebookFigure:
    """Draw several networks side by side in one figure, e.g. LeNet next to AlexNet (Section 8.1).

    Args:
        models: the networks or blocks, each as accepted by :func:`draw_network`.
        input_shapes: one input shape per model, or None for no shape labels.
        titles: one title per model; default their class names.

    Returns:
        One figure with a drawing per model, left to right.

    Raises:
        TypeError: when ``models`` is not a non-empty sequence of modules.
        ValueError: as :func:`draw_network`, and when ``input_shapes`` or ``titles`` does not
            give one entry per model.
    """
    if isinstance(models, nn.Module) or not isinstance(models, Sequence) or len(models) == 0:
        raise TypeError(f"draw_networks: models must be a non-empty list of nn.Module, got {models!r:.60}")
    for name, given in (("input_shapes", input_shapes), ("titles", titles)):
        if given is not None and (isinstance(given, str) or len(given) != len(models)):
            raise ValueError(f"draw_networks: {name} must give one entry per model ({len(models)} models), "
                             f"got {given!r}")
    shapes = [None] * len(models) if input_shapes is None else list(input_shapes)
    scenes = [scene(m, s) for m, s in zip(models, shapes, strict=True)]
    return _figure(scenes, [_default_title(m) for m in models] if titles is None else list(titles))
