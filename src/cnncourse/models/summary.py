"""Layer-by-layer output shapes of a sequential model (Sections 7.6 and 8.1-8.6)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["layer_summary"]


def _top_level_layers(model: object) -> list[tuple[str, nn.Module]]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"layer_summary: model must be an nn.Module, got {type(model).__name__}")
    net = model if isinstance(model, nn.Sequential) else getattr(model, "net", None)
    if not isinstance(net, nn.Sequential):
        raise TypeError(
            f"layer_summary: model must be an nn.Sequential or have an nn.Sequential attribute `net` "
            f"whose layers run in order, got {type(model).__name__}; wrap the layers in nn.Sequential"
        )
    return list(net.named_children())


def _check_input_shape(input_shape: object) -> tuple[int, ...]:
    if not isinstance(input_shape, Sequence) or isinstance(input_shape, str) or len(input_shape) == 0:
        raise TypeError(f"layer_summary: input_shape must be a tuple of ints such as (1, 1, 28, 28), "
                        f"got {input_shape!r}")
    if any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in input_shape):
        raise ValueError(f"layer_summary: input_shape must hold positive ints such as (1, 1, 28, 28), "
                         f"got {tuple(input_shape)!r}")
    return tuple(input_shape)


def _print_table(names: list[str], rows: list[tuple[str, tuple[int, ...]]], params: list[int]) -> None:
    cells = [(f"{name} ({kind})", str(list(shape)), f"{count:,}")
             for name, (kind, shape), count in zip(names, rows, params, strict=True)]
    header = ("layer", "output shape", "parameters")
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(3)]
    lines = [f"{header[0]:<{widths[0]}}  {header[1]:<{widths[1]}}  {header[2]:>{widths[2]}}"]
    lines.append("-" * (sum(widths) + 4))
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in cells]
    lines.append(f"{'total':<{widths[0] + widths[1] + 2}}  {sum(params):>{widths[2]},}")
    print("\n".join(lines))


def layer_summary(model: nn.Module, input_shape: Sequence[int]) -> list[tuple[str, tuple[int, ...]]]:
    """Push a zero tensor through a model's top-level layers and report each output shape.

    Section 7.6 introduces this check for LeNet and Chapter 8 repeats it for every network.
    The model runs in eval mode under ``torch.no_grad()`` (so dropout and batch norm behave
    deterministically and nothing is recorded); every submodule's train/eval mode is restored
    afterwards. The input lives on the model's device, so a model built under
    ``torch.device("meta")`` is summarised without computing anything.

    Args:
        model: an ``nn.Sequential``, or a module with an ``nn.Sequential`` attribute ``net``.
        input_shape: shape of the input batch, e.g. ``(1, 1, 28, 28)``.

    Returns:
        One ``(layer class name, output shape)`` pair per top-level layer, in order. A table
        with the layer names, output shapes and parameter counts is printed as well.

    Raises:
        TypeError: when ``model`` is not sequential or ``input_shape`` is not a tuple of ints.
        ValueError: when a layer rejects its input; the message names the layer and the shape.
    """
    layers = _top_level_layers(model)
    shape = _check_input_shape(input_shape)
    first = next(model.parameters(), None)
    X = torch.zeros(shape, dtype=first.dtype if first is not None else torch.float32,
                    device=first.device if first is not None else None)
    modes = {module: module.training for module in model.modules()}
    rows: list[tuple[str, tuple[int, ...]]] = []
    model.eval()
    try:
        with torch.no_grad():
            for index, (name, layer) in enumerate(layers):
                try:
                    X = layer(X)
                except (RuntimeError, ValueError) as err:
                    raise ValueError(
                        f"layer_summary: layer {index} ({name}: {type(layer).__name__}) failed on an input "
                        f"of shape {tuple(X.shape)} (model input {shape}): {err}"
                    ) from err
                rows.append((type(layer).__name__, tuple(X.shape)))
    finally:
        for module, training in modes.items():
            module.training = training
    params = [sum(p.numel() for p in layer.parameters()) for _, layer in layers]
    _print_table([name for name, _ in layers], rows, params)
    return rows
