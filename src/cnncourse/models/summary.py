"""Layer-by-layer output shapes (Sections 7.6, 8.1-8.6) and per-layer costs (Sections 8.1-8.4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from cnncourse.runtime import evaluation_mode
from cnncourse.tables import format_table

__all__ = ["LayerCost", "layer_costs", "layer_summary"]


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


def _check_input_shape(who: str, input_shape: object) -> tuple[int, ...]:
    if not isinstance(input_shape, Sequence) or isinstance(input_shape, str) or len(input_shape) == 0:
        raise TypeError(f"{who}: input_shape must be a tuple of ints such as (1, 1, 28, 28), "
                        f"got {input_shape!r}")
    if any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in input_shape):
        raise ValueError(f"{who}: input_shape must hold positive ints such as (1, 1, 28, 28), "
                         f"got {tuple(input_shape)!r}")
    return tuple(input_shape)


def _zeros_like_parameters(model: nn.Module, shape: tuple[int, ...]) -> torch.Tensor:
    """A zero input with the dtype and device of the model's weights (meta stays meta)."""
    first = next(model.parameters(), None)
    return torch.zeros(shape, dtype=first.dtype if first is not None else torch.float32,
                       device=first.device if first is not None else None)


def _print_table(names: list[str], rows: list[tuple[str, tuple[int, ...]]], params: list[int]) -> None:
    cells = [(f"{name} ({kind})", str(list(shape)), f"{count:,}")
             for name, (kind, shape), count in zip(names, rows, params, strict=True)]
    print(format_table(("layer", "output shape", "parameters"), cells,
                       footer=[("total", "", f"{sum(params):,}")], align="<<>"))


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
    shape = _check_input_shape("layer_summary", input_shape)
    X = _zeros_like_parameters(model, shape)
    rows: list[tuple[str, tuple[int, ...]]] = []
    with evaluation_mode(model), torch.no_grad():
        for index, (name, layer) in enumerate(layers):
            try:
                X = layer(X)
            except (RuntimeError, ValueError) as err:
                raise ValueError(
                    f"layer_summary: layer {index} ({name}: {type(layer).__name__}) failed on an input "
                    f"of shape {tuple(X.shape)} (model input {shape}): {err}"
                ) from err
            rows.append((type(layer).__name__, tuple(X.shape)))
    params = [sum(p.numel() for p in layer.parameters()) for _, layer in layers]
    _print_table([name for name, _ in layers], rows, params)
    return rows


class LayerCost(NamedTuple):
    """What one convolution or dense layer costs for one example (Sections 8.1-8.4).

    Attributes:
        name: the layer's dotted name inside the model, e.g. ``"0"`` or ``"stage2.0.conv1"``.
        kind: ``"Conv2d"`` or ``"Linear"``.
        params: number of weights and biases.
        macs: multiply-accumulates to compute the layer's output for one example.
        outputs: number of values the layer outputs for one example (activation memory).
    """

    name: str
    kind: str
    params: int
    macs: int
    outputs: int


def _cost(name: str, module: nn.Module, output: torch.Tensor, batch: int) -> LayerCost:
    outputs = output.numel() // batch
    if isinstance(module, nn.Conv2d):
        # every output value is a dot product over (C_in / groups) * kh * kw inputs
        kh, kw = module.kernel_size
        kind, macs = "Conv2d", outputs * (module.in_channels // module.groups) * kh * kw
    else:
        # every output value is a dot product over in_features inputs: in * out for a (N, in) input
        kind, macs = "Linear", outputs * module.in_features
    return LayerCost(name, kind, sum(p.numel() for p in module.parameters()), macs, outputs)


def _print_costs(rows: list[LayerCost]) -> None:
    cells = [(row.name, row.kind, f"{row.params:,}", f"{row.macs:,}", f"{row.outputs:,}") for row in rows]
    totals = []
    for kind in ("Conv2d", "Linear"):
        ofkind = [row for row in rows if row.kind == kind]
        if ofkind:
            totals.append((f"all {kind}", "", f"{sum(r.params for r in ofkind):,}",
                           f"{sum(r.macs for r in ofkind):,}", ""))
    totals.append(("total", "", f"{sum(r.params for r in rows):,}", f"{sum(r.macs for r in rows):,}",
                   f"{sum(r.outputs for r in rows):,}"))
    print(format_table(("layer", "kind", "params", "MACs", "outputs"), cells, footer=totals, align="<<>>>"))


def layer_costs(model: nn.Module, input_shape: Sequence[int], *, show: bool = True) -> list[LayerCost]:
    """Count parameters, multiply-accumulates and outputs of every Conv2d and Linear layer.

    Sections 8.1-8.4 use these numbers to compare AlexNet, VGG, NiN and GoogLeNet: dense
    layers hold most of the *parameters*, convolutions do most of the *arithmetic*. A
    ``Conv2d`` computes each of its ``C_out * H_out * W_out`` outputs with
    ``(C_in / groups) * kh * kw`` MACs; a ``Linear`` layer needs ``in_features * out_features``
    MACs per example. One forward pass of a zero input records the layers with forward hooks,
    in the order they run (layers nested inside blocks included). As in :func:`layer_summary`
    the model runs in eval mode under ``torch.no_grad()``, every submodule's train/eval mode
    is restored afterwards, and a model built under ``torch.device("meta")`` is counted
    without computing anything.

    Args:
        model: any module whose forward pass accepts a tensor of shape ``input_shape``.
        input_shape: shape of the input batch, e.g. ``(1, 1, 224, 224)``; the counts are per
            example, whatever the batch size.
        show: print a table with one row per layer and totals per kind of layer.

    Returns:
        One :class:`LayerCost` ``(name, kind, params, macs, outputs)`` per Conv2d or Linear
        call, in the order the forward pass makes them (a layer called twice appears twice).

    Raises:
        TypeError: when ``model`` is not an ``nn.Module`` or ``input_shape`` not a tuple of ints.
        ValueError: when the model rejects an input of shape ``input_shape``.
    """
    if isinstance(model, type) and issubclass(model, nn.Module):
        raise TypeError(f"layer_costs: model must be an nn.Module instance, got the class {model.__name__}; "
                        f"build the model first: {model.__name__}()")
    if not isinstance(model, nn.Module):
        raise TypeError(f"layer_costs: model must be an nn.Module, got {type(model).__name__}")
    shape = _check_input_shape("layer_costs", input_shape)
    X = _zeros_like_parameters(model, shape)
    rows: list[LayerCost] = []
    hooks = [
        module.register_forward_hook(
            lambda layer, inputs, output, name=name: rows.append(_cost(name, layer, output, shape[0])))
        for name, module in model.named_modules() if isinstance(module, (nn.Conv2d, nn.Linear))
    ]
    try:
        with evaluation_mode(model), torch.no_grad():
            model(X)
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"layer_costs: {type(model).__name__} failed on an input of shape {shape}: {err}; "
                         f"check the number of channels and that the image is large enough") from err
    finally:
        for hook in hooks:
            hook.remove()
    if show:
        _print_costs(rows)
    return rows
