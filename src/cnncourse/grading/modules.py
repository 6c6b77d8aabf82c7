"""Checks for network blocks a student builds from torch.nn layers (Sections 7.6-8.6).

A block can arrive as a module (a stand-in for the student's) or as a *layer specification*,
a list of ``(layer_name, kwargs)`` pairs: plain data that :func:`build_layers` checks and turns
into an ``nn.Sequential`` with the grader's own ``torch.nn``, so nothing of the student's runs.
A student's ``nn.Sequential`` is turned into such a specification by :func:`layers_of` (its
layers' kinds and constructor sizes, read as data) and rebuilt, weights and all, by
:func:`rebuild`: a forward pass of the rebuilt network is the grader's, whatever the student's
``forward`` would have returned.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["SPEC_LAYERS", "MAX_SPEC_PARAMETERS", "parameter_count", "forward_or_explain", "same_forward",
           "check_layers", "build_layers", "layers_of", "rebuild"]

# The torch.nn classes a layer specification may name: layers of the course's networks.
SPEC_LAYERS = ("Conv2d", "ReLU", "Sigmoid", "Tanh", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
               "AdaptiveMaxPool2d", "BatchNorm2d", "BatchNorm1d", "Linear", "Flatten", "Dropout", "Identity")
MAX_SPEC_PARAMETERS = 1 << 24  # a specification is built in the grader's kernel: keep it small
_MAX_SPEC_LAYERS = 256
_SPEC = "a list of (layer_name, kwargs) pairs such as (\"Conv2d\", {\"in_channels\": 3, ...})"


def parameter_count(module: nn.Module) -> int:
    """Number of learnable values in ``module``."""
    return sum(p.numel() for p in module.parameters())


def forward_or_explain(call: str, block: Any, X: torch.Tensor, hint: str = "does every convolution read "
                       "the channels the layer before it writes?", show_error: bool = True) -> torch.Tensor:
    """``block(X)``, turning a shape error inside the block into an AssertionError that names ``call``.

    Pass a block the grader built (:func:`build_layers`, :func:`rebuild`): a student's own module
    computes its forward pass in the student's kernel, which can return anything.

    Args:
        show_error: quote PyTorch's message; turn it off where that message would print the
            size the student is asked to work out (a Linear layer's expected in_features).
    """
    try:
        return block(X)
    except RuntimeError as error:
        detail = f" ({str(error).splitlines()[0]})" if show_error else ""
        raise AssertionError(f"{call} fails on an input of shape {tuple(X.shape)}{detail}; {hint}") from None


def check_layers(call: str, model: object, kinds: list[str], hint: str) -> None:
    """Check that ``model`` is an ``nn.Sequential`` whose layers have the class names ``kinds``, in order.

    The message names the first layer that does not fit and gives ``hint`` (the idea of the
    design), never the whole expected list.
    """
    if not isinstance(model, nn.Sequential):
        raise AssertionError(f"{call} should return an nn.Sequential, got {model.__class__.__name__}")
    got = [layer.__class__.__name__ for layer in model]  # a stand-in reports its remote class
    for index, (mine, wanted) in enumerate(zip(got, kinds, strict=False)):
        if mine != wanted:
            raise AssertionError(f"layer {index} of {call} is a {mine}, which does not fit the design "
                                 f"at that place; {hint}")
    if len(got) != len(kinds):
        more = "more" if len(got) > len(kinds) else "fewer"
        raise AssertionError(f"{call} has {len(got)} layers, {more} than the design asks for; {hint}")


def _state_dict_problem(error: RuntimeError) -> str:
    lines = [line.strip() for line in str(error).splitlines()[1:] if line.strip()]
    return "; ".join(lines)[:300]


def same_forward(block: nn.Module, reference: nn.Module, X: torch.Tensor, atol: float = 1e-6) -> bool:
    """Copy ``block``'s weights into ``reference`` (strictly, by name) and compare the two outputs.

    Raises:
        AssertionError: when the weights do not fit (missing, unexpected or differently sized layers).
    """
    try:
        reference.load_state_dict(block.state_dict())
    except RuntimeError as error:
        raise AssertionError("the block's layers do not match the expected layers in order, kind and size "
                             f"({_state_dict_problem(error)})") from None
    return bool(torch.allclose(block(X), reference(X), atol=atol))


def _spec_value(value: object) -> object:
    """An argument of a specified layer: a number, a bool, a str, or a tuple of ints (a list becomes one)."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) and not isinstance(v, bool)
                                                for v in value):
        return tuple(int(v) for v in value)
    raise TypeError(value.__class__.__name__)


def _spec_layer(call: str, index: int, item: object) -> tuple[str, dict[str, object]]:
    where = f"item {index} of {call}"
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        size = f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""
        raise AssertionError(f"{where} should be a (layer_name, kwargs) pair, got a "
                             f"{item.__class__.__name__}{size}")
    name, kwargs = item
    if not isinstance(name, str) or name not in SPEC_LAYERS:
        named = repr(name[:40]) if isinstance(name, str) else f"a {name.__class__.__name__}"
        raise AssertionError(f"{where} names the layer {named}; use the name of a torch.nn class, one of "
                             f"{', '.join(SPEC_LAYERS)}")
    if not isinstance(kwargs, dict) or not all(isinstance(key, str) for key in kwargs):
        raise AssertionError(f"{where}: the second element should be a dict of keyword arguments "
                             f"(str -> value), got a {kwargs.__class__.__name__}")
    clean = {}
    for key, value in kwargs.items():
        try:
            clean[key] = _spec_value(value)
        except TypeError:
            raise AssertionError(f"{where}: argument {key[:40]!r} is a {value.__class__.__name__}; arguments "
                                 "are numbers, bools, strs or tuples of ints") from None
    return name, clean


def build_layers(call: str, layers: object) -> nn.Sequential:
    """Check the layer specification ``layers`` and build it: ``nn.Sequential`` of ``nn.<name>(**kwargs)``.

    Only data is read (see :data:`SPEC_LAYERS` for the allowed names); each layer is first
    built on the meta device, so a specification too large for the grader fails cleanly.

    Args:
        call: how messages name the specification, e.g. ``"vgg_block_layers(2, 3, 8)"``.
        layers: a list (or tuple) of ``(layer_name, kwargs)`` pairs.

    Raises:
        AssertionError: naming the first item that is not a valid layer, or a layer torch.nn refuses.
    """
    if not isinstance(layers, (list, tuple)):
        raise AssertionError(f"{call} should return {_SPEC}, got a {layers.__class__.__name__}")
    if len(layers) > _MAX_SPEC_LAYERS:
        raise AssertionError(f"{call} has {len(layers)} layers, more than a block of this course ever needs")
    spec = [_spec_layer(call, index, item) for index, item in enumerate(layers)]
    total = 0
    for index, (name, kwargs) in enumerate(spec):
        try:
            with torch.device("meta"):  # sizes only, no memory
                total += parameter_count(getattr(nn, name)(**kwargs))
        except (TypeError, ValueError, OverflowError, RuntimeError) as error:
            raise AssertionError(f"item {index} of {call}: nn.{name} does not accept these arguments "
                                 f"({str(error).splitlines()[0][:200]})") from None
    if total > MAX_SPEC_PARAMETERS:
        raise AssertionError(f"{call} describes {total:,} parameters, far more than the block asked for; "
                             "check the channel counts")
    return nn.Sequential(*(getattr(nn, name)(**kwargs) for name, kwargs in spec))


# The constructor arguments of each SPEC_LAYERS kind, read back from a built layer's attributes.
_LAYER_ARGUMENTS = {
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
               "padding_mode"),
    "Linear": ("in_features", "out_features"),
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    "AdaptiveAvgPool2d": ("output_size",),
    "AdaptiveMaxPool2d": ("output_size",),
    "BatchNorm2d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "BatchNorm1d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "Flatten": ("start_dim", "end_dim"),
    "Dropout": ("p",),
    "ReLU": (), "Sigmoid": (), "Tanh": (), "Identity": (),
}


def layers_of(call: str, model: object) -> list[tuple[str, dict[str, object]]]:
    """The layer specification of a student's flat ``nn.Sequential``: each layer's kind and sizes.

    Only what a layer *is* is read: its class name and the attributes its constructor set
    (``Conv2d``'s channels, kernel size, stride, padding, dilation, groups and whether it has a
    bias; ``Linear``'s features and bias; a pooling's window, stride and padding; ...). Arguments
    left at ``None`` (a pooling's ``divisor_override``) are left out. Nothing of the model runs.

    Raises:
        AssertionError: ``model`` is no ``nn.Sequential``, or a layer is of a kind outside
            :data:`SPEC_LAYERS` (a nested ``nn.Sequential``, a ``Lazy`` layer, a class of the
            student's) or lacks an attribute of its kind.
    """
    if not isinstance(model, nn.Sequential):
        raise AssertionError(f"{call} should return an nn.Sequential, got {model.__class__.__name__}")
    spec = []
    for index, layer in enumerate(model):
        kind = str(layer.__class__.__name__)[:40]  # a stand-in reports its remote class
        if kind.startswith("Lazy"):
            raise AssertionError(f"layer {index} of {call} is a {kind}: give every layer explicit sizes (no "
                                 "Lazy layers), so its parameters exist before the first forward pass")
        if kind not in _LAYER_ARGUMENTS:
            raise AssertionError(f"layer {index} of {call} is a {kind}; the grader rebuilds networks made of "
                                 f"the torch.nn layers {', '.join(SPEC_LAYERS)} (flat, with explicit sizes)")
        names = _LAYER_ARGUMENTS[kind] + (("bias",) if kind in ("Conv2d", "Linear") else ())
        kwargs: dict[str, object] = {}
        for name in names:
            try:
                value = getattr(layer, name)
            except AttributeError:
                raise AssertionError(f"layer {index} of {call} is a {kind} without the attribute {name!r} "
                                     f"that nn.{kind} sets; build it with nn.{kind}(...)") from None
            if name == "bias":
                value = value is not None  # the argument says whether there is one
            if value is not None:
                kwargs[name] = value
        spec.append((kind, kwargs))
    return spec


def rebuild(call: str, model: object) -> nn.Sequential:
    """``model`` rebuilt in the grader's kernel: :func:`layers_of`, :func:`build_layers`, its weights.

    The student's ``state_dict()`` (data) is loaded strictly into the rebuilt layers, so the
    result computes what the student's layers compute, with the grader's ``torch.nn``, and a
    network whose weights do not fit the sizes its layers report is refused.

    Raises:
        AssertionError: as :func:`layers_of` and :func:`build_layers`, or when the weights do not fit.
    """
    network = build_layers(call, layers_of(call, model))
    state = model.state_dict()  # type: ignore[attr-defined]
    if not isinstance(state, dict) or not all(isinstance(key, str) and isinstance(value, torch.Tensor)
                                              for key, value in state.items()):
        raise AssertionError(f"{call}.state_dict() should map names to tensors, "
                             f"got a {state.__class__.__name__}")
    try:
        network.load_state_dict(dict(state))
    except RuntimeError as error:
        raise AssertionError(f"the weights of {call} do not fit the sizes its layers report "
                             f"({_state_dict_problem(error)})") from None
    return network
