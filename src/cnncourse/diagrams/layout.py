"""Where the boxes and arrows of an architecture diagram go (Section 7.6, Sections 8.1-8.6).

A scene is a list of :class:`Box` and :class:`Arrow` in inches, growing downwards from y = 0.
Shapes on the arrows come from one real forward pass with hooks (:func:`forward_shapes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from cnncourse.models import Inception, Residual, ResNeXtBlock
from cnncourse.training import evaluation_mode

from .labels import (
    COLOURS,
    block_lines,
    group_layers,
    group_text,
    inception_channels,
    layer_colour,
    layer_label,
    shortcut_layers,
)

__all__ = ["Box", "Arrow", "CHAR", "LINE", "GAP", "INPUT", "forward_shapes", "scene"]

CHAR, LINE, GAP = 0.068, 0.2, 0.42  # inches per character, per text line, between boxes
INPUT = nn.Identity()  # the key under which forward_shapes stores the input's shape


@dataclass
class Box:
    """A rounded box: centre ``x``, top edge ``y``, width ``w``; an optional bold title line."""

    x: float
    y: float
    w: float
    lines: list[str]
    colour: str
    title: str | None = None

    @property
    def h(self) -> float:
        return LINE * (len(self.lines) + bool(self.title)) + 0.14

    @property
    def bottom(self) -> float:
        return self.y - self.h


@dataclass
class Arrow:
    """A polyline with an arrow head at its last point, and an optional label (a tensor shape)."""

    points: list[tuple[float, float]]
    label: str | None = None


def _width(lines: Sequence[str]) -> float:
    return CHAR * max(len(s) for s in lines) + 0.3


def _shape(shapes: dict[nn.Module, tuple[int, ...]], module: nn.Module | None) -> str | None:
    return str(shapes[module]) if module is not None and module in shapes else None


def _check_input_shape(input_shape: object) -> tuple[int, ...]:
    if not isinstance(input_shape, Sequence) or isinstance(input_shape, str):
        raise TypeError(f"draw_network: input_shape must be a tuple of ints such as (1, 1, 28, 28), got "
                        f"{type(input_shape).__name__} {input_shape!r}")
    if not input_shape or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in input_shape):
        raise ValueError(f"draw_network: input_shape must hold positive ints such as (1, 1, 28, 28), "
                         f"got {tuple(input_shape)!r}")
    return tuple(input_shape)


def forward_shapes(model: nn.Module, input_shape: object) -> dict[nn.Module, tuple[int, ...]]:
    """Output shape of every submodule for a zero input, from a real forward pass (Section 7.6).

    The model runs in eval mode without gradients; every submodule's mode is restored after.
    The input's own shape is stored under :data:`INPUT`.
    """
    shape = _check_input_shape(input_shape)
    first = next(model.parameters(), None)
    X = torch.zeros(shape) if first is None else torch.zeros(shape, dtype=first.dtype, device=first.device)
    shapes: dict[nn.Module, tuple[int, ...]] = {INPUT: shape}

    def record(module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        shapes[module] = tuple(output.shape)

    handles = [m.register_forward_hook(record) for m in model.modules()]
    try:
        with evaluation_mode(model), torch.no_grad():
            model(X)
    except (RuntimeError, ValueError, TypeError) as err:
        raise ValueError(f"draw_network: {type(model).__name__} rejects an input of shape {shape} "
                         f"({err}); pass the shape of a batch it accepts, e.g. (1, 1, 28, 28)") from err
    finally:
        for handle in handles:
            handle.remove()
    return shapes


Entry = tuple[str | None, list[str], str, nn.Module | None]  # title, lines, colour, module whose shape leaves


def _column(entries: list[Entry], x: float, y: float, width: float, shapes: dict) -> tuple[list, float]:
    """Stack boxes downwards from ``y``; the arrow under each box carries its output shape."""
    items: list = []
    for title, lines, colour, last in entries:
        box = Box(x, y, width, lines, colour, title)
        y = box.bottom - GAP
        items += [box, Arrow([(x, box.bottom), (x, y)], _shape(shapes, last))]
    return items, y


def _sequential(model: nn.Module, shapes: dict) -> list:
    children = list(model.named_children()) if isinstance(model, nn.Sequential) else [("", model)]
    entries: list[Entry] = [("input", [], COLOURS["other"], INPUT)]
    for group in group_layers(children):
        title, lines = block_lines(group)
        entries.append((title, lines, layer_colour(group[0][1]), group[-1][1]))
    width = max(_width([t or "", *lines]) for t, lines, _, _ in entries)
    return _column(entries, 0.0, 0.0, width, shapes)[0]


def _inception(block: Inception, shapes: dict) -> list:
    """Input on top, the four paths side by side, their outputs meeting at the concatenation."""
    paths = (block.path1, block.path2, block.path3, block.path4)
    columns = [[(group_text(g), layer_colour(g[0][1])) for g in group_layers(list(p.named_children()))]
               for p in paths]
    widths = [_width([text for text, _ in col]) for col in columns]
    xs = [sum(widths[:i]) + widths[i] / 2 + 0.3 * i for i in range(4)]
    centre = (xs[0] + xs[-1]) / 2
    top = Box(centre, 0.0, 1.2, [], COLOURS["other"], "input")
    fork = top.bottom - 0.15
    items: list = [top, Arrow([(centre, top.bottom), (centre, fork)], _shape(shapes, INPUT))]
    lasts = []
    for x, w, col in zip(xs, widths, columns, strict=True):
        y = fork - GAP
        items.append(Arrow([(centre, fork), (x, y)]))
        for j, (text, colour) in enumerate(col):
            if j:
                items.append(Arrow([(x, y + GAP), (x, y)]))
            box = Box(x, y, w, [text], colour)
            items.append(box)
            y = box.bottom - GAP
        lasts.append(box)
    merge_y = min(box.bottom for box in lasts) - GAP - 0.1
    for x, box, path in zip(xs, lasts, paths, strict=True):
        items.append(Arrow([(x, box.bottom), (x, merge_y)], _shape(shapes, path)))
    span = xs[-1] + widths[-1] / 2 - (xs[0] - widths[0] / 2)
    total = " + ".join(map(str, inception_channels(block)))
    merge = Box(centre, merge_y, span, [f"{total} = {block.out_channels} channels"], COLOURS["merge"],
                "concatenate along channels")
    out = Arrow([(centre, merge.bottom), (centre, merge.bottom - GAP)], _shape(shapes, block))
    return [*items, merge, out]


def _residual(block: Residual | ResNeXtBlock, shapes: dict) -> list:
    """Main path on the left, shortcut on the right, meeting at the addition (Section 8.6)."""
    # The blocks call F.relu in forward(), so the ReLUs are written in here.
    if isinstance(block, Residual):
        main = [(block.conv1, block.bn1, nn.ReLU()), (block.conv2, block.bn2)]
    else:
        main = [(block.conv1, block.bn1, nn.ReLU()), (block.conv2, block.bn2, nn.ReLU()),
                (block.conv3, block.bn3)]
    entries: list[Entry] = [("input", [], COLOURS["other"], INPUT)]
    entries += [(None, [" · ".join(map(layer_label, layers))], COLOURS["conv"], layers[1]) for layers in main]
    width = _width([text for _, lines, _, _ in entries for text in lines])
    items, y = _column(entries, 0.0, 0.0, width, shapes)
    top = items[0]
    add = Box(0.0, y, 1.6, ["main + shortcut"], COLOURS["merge"], "add")
    shortcut = shortcut_layers(block)
    text = " · ".join(map(layer_label, shortcut))
    x_sc = width / 2 + 0.5 + (_width([text]) / 2 if shortcut else 0.4)
    start = [(top.x + top.w / 2, top.y - top.h / 2), (x_sc, top.y - top.h / 2)]
    end = (add.x + add.w / 2, add.y - add.h / 2)
    if shortcut:
        box = Box(x_sc, (top.bottom + y) / 2 + 0.2, _width([text]), [text], COLOURS["conv"], "shortcut")
        items += [box, Arrow([*start, (x_sc, box.y)]),
                  Arrow([(x_sc, box.bottom), (x_sc, end[1]), end], _shape(shapes, shortcut[-1]))]
    else:
        items.append(Arrow([*start, (x_sc, end[1]), end], "identity"))
    relu = Box(0.0, add.bottom - GAP, 1.2, ["ReLU"], COLOURS["other"])
    return items + [add, Arrow([(0.0, add.bottom), (0.0, relu.y)]), relu,
                    Arrow([(0.0, relu.bottom), (0.0, relu.bottom - GAP)], _shape(shapes, block))]


def scene(model: object, input_shape: object) -> list:
    """The boxes and arrows that draw ``model`` (Section 7.6, Chapter 8); see ``draw_network``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"draw_network: model must be an nn.Module such as LeNet(), "
                        f"got {type(model).__name__}")
    shapes = {} if input_shape is None else forward_shapes(model, input_shape)
    if isinstance(model, Inception):
        return _inception(model, shapes)
    if isinstance(model, (Residual, ResNeXtBlock)):
        return _residual(model, shapes)
    if isinstance(model, nn.Sequential) or not list(model.children()):
        return _sequential(model, shapes)
    raise TypeError(f"draw_network: cannot tell in which order a {type(model).__name__}'s layers run; "
                    "pass an nn.Sequential, Inception, Residual, ResNeXtBlock or a single layer")
