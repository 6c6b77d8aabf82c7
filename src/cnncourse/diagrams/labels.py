"""What the architecture diagrams write in their boxes (Section 7.6, Sections 8.1-8.6).

Every label is read from the module's own attributes (kernel size, channels, stride, padding,
groups), so a drawing always says what the code builds.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from cnncourse.models import Inception, Residual, ResNeXtBlock

__all__ = ["COLOURS", "layer_label", "layer_colour", "group_layers", "group_text", "block_title",
           "block_lines", "shortcut_layers", "inception_channels"]

# Fill colour of a box by the kind of its first layer.
COLOURS = {"conv": "#d6e6f5", "pool": "#fbe0c3", "dense": "#d7efd0", "block": "#e6dcf2",
           "merge": "#fff1b0", "other": "#ececec"}

# Layers that share the box of the layer before them: they change no shape worth a box.
_JOINS = (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Dropout, nn.BatchNorm1d, nn.BatchNorm2d)

Named = tuple[str, nn.Module]


def _pair(value: int | tuple) -> tuple:
    return value if isinstance(value, tuple) else (value, value)


def _one(value: int | tuple) -> str:
    """``2`` for (2, 2), ``1×2`` for (1, 2)."""
    h, w = _pair(value)
    return str(h) if h == w else f"{h}×{w}"


def _conv_label(m: nn.Conv2d) -> str:
    h, w = m.kernel_size
    parts = [f"Conv {h}×{w}", f"{m.out_channels} ch"]
    if _pair(m.stride) != (1, 1):
        parts.append(f"stride {_one(m.stride)}")
    if isinstance(m.padding, str) or _pair(m.padding) != (0, 0):
        parts.append(f"pad {m.padding if isinstance(m.padding, str) else _one(m.padding)}")
    if m.groups > 1:
        parts.append(f"{m.groups} groups of {m.in_channels // m.groups} ch")
    return ", ".join(parts)


def shortcut_layers(block: Residual | ResNeXtBlock) -> list[nn.Module]:
    """The layers on a residual block's shortcut; empty for the identity (Section 8.6)."""
    shortcut = block.shortcut  # nn.Identity, or the layers that reshape X to match the main path
    if isinstance(shortcut, nn.Identity):
        return []
    return list(shortcut) if isinstance(shortcut, nn.Sequential) else [shortcut]


def inception_channels(block: Inception) -> list[int]:
    """Output channels of an Inception block's four paths, read from their last convolutions (Section 8.4)."""
    paths = (block.path1, block.path2, block.path3, block.path4)
    return [[m for m in path.modules() if isinstance(m, nn.Conv2d)][-1].out_channels for path in paths]


def layer_label(m: nn.Module) -> str:
    """One line naming a layer and its key settings, e.g. ``Conv 5×5, 6 ch, pad 2`` (Section 7.6)."""
    if isinstance(m, nn.Conv2d):
        return _conv_label(m)
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        kind = "MaxPool" if isinstance(m, nn.MaxPool2d) else "AvgPool"
        pad = f", pad {_one(m.padding)}" if _pair(m.padding) != (0, 0) else ""
        return f"{kind} {'×'.join(map(str, _pair(m.kernel_size)))}, stride {_one(m.stride)}{pad}"
    if isinstance(m, nn.AdaptiveAvgPool2d):
        size = _pair(m.output_size)
        return "Global AvgPool" if size == (1, 1) else f"AdaptiveAvgPool to {_one(size)}"
    if isinstance(m, nn.Linear):
        return f"Linear {m.in_features} → {m.out_features}"
    if isinstance(m, nn.Dropout):
        return f"Dropout {m.p:g}"
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return "BatchNorm"
    if isinstance(m, Inception):
        return f"Inception {'+'.join(map(str, inception_channels(m)))} = {m.out_channels} ch"
    shortcut = ", 1×1 shortcut" if isinstance(m, (Residual, ResNeXtBlock)) and shortcut_layers(m) else ""
    if isinstance(m, Residual):
        stride = _one(m.conv1.stride)
        stride = f", stride {stride}" if stride != "1" else ""
        return f"Residual {m.conv2.out_channels} ch{stride}{shortcut}"
    if isinstance(m, ResNeXtBlock):
        g = m.conv2.groups
        return f"ResNeXt {m.conv3.out_channels} ch, {g} groups of {m.conv2.in_channels // g} ch" + shortcut
    return type(m).__name__


def layer_colour(m: nn.Module) -> str:
    """The fill colour of a box that starts with layer ``m``."""
    if isinstance(m, nn.Conv2d):
        return COLOURS["conv"]
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
        return COLOURS["pool"]
    if isinstance(m, nn.Linear):
        return COLOURS["dense"]
    if isinstance(m, (nn.Sequential, Inception, Residual, ResNeXtBlock)):
        return COLOURS["block"]
    return COLOURS["other"]


def group_layers(children: Sequence[Named]) -> list[list[Named]]:
    """Split layers into boxes: an activation, dropout or batch norm joins the box before it."""
    groups: list[list[Named]] = []
    for name, m in children:
        if groups and isinstance(m, _JOINS):
            groups[-1].append((name, m))
        else:
            groups.append([(name, m)])
    return groups


def group_text(group: Sequence[Named]) -> str:
    """The layers of one box on one line, e.g. ``Conv 5×5, 6 ch, pad 2 · Sigmoid``."""
    return " · ".join(layer_label(m) for _, m in group)


def _compress(lines: list[str]) -> list[str]:
    """Write a run of identical lines once, as ``2 × line``."""
    runs: list[tuple[int, str]] = []
    for line in lines:
        if runs and runs[-1][1] == line:
            runs[-1] = (runs[-1][0] + 1, line)
        else:
            runs.append((1, line))
    return [line if n == 1 else f"{n} × {line}" for n, line in runs]


def block_title(name: str, block: nn.Sequential) -> str:
    """Name a nested block; VGG (Section 8.2) and NiN (Section 8.3) blocks are recognised by their layers."""
    layers = list(block)
    convs = [m for m in layers if isinstance(m, nn.Conv2d)]
    if (convs and isinstance(layers[-1], nn.MaxPool2d) and len(layers) == 2 * len(convs) + 1
            and all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs)):
        return f"VGG block ({len(convs)} conv{'s' if len(convs) > 1 else ''})"
    if len(layers) == 6 and len(convs) == 3 and all(c.kernel_size == (1, 1) for c in convs[1:]):
        return "NiN block"
    return "block" if name.isdigit() else name


def block_lines(group: Sequence[Named]) -> tuple[str | None, list[str]]:
    """Title and lines of one box: a nested block lists its layers, repeated lines written once."""
    name, first = group[0]
    if isinstance(first, nn.Sequential):
        inner = [group_text(g) for g in group_layers(list(first.named_children()))]
        return block_title(name, first), _compress(inner) + [layer_label(m) for _, m in group[1:]]
    return None, [group_text(group)]
