"""Helpers shared by the model files (Sections 7.6, 8.1-8.6): spec checks, spatial-size arithmetic,
the AlexNet/VGG classifier, and the Sequential base every model uses.

A private module of public names: the model files import them, nothing else should.

The models need the flattened size of their feature maps to build the first ``nn.Linear``
with explicit ``in_features`` (no Lazy* modules). We compute it with the output-size formula
of Section 7.3 / 7.5 instead of a dry forward pass, so building VGG-11 does not cost a
7-GFLOP convolution just to learn one number.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import torch
from torch import nn

from cnncourse._checks import check_tensor, pair, positive_int

__all__ = ["check_pair_spec", "feature_map_size", "dense_classifier", "divide_width", "SequentialModel"]

_MAX_SEARCH = 4096  # largest image size tried when suggesting a minimum image_size


def _out_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    # floor((n + 2p - d(k - 1) - 1) / s) + 1, the formula of Sections 7.3 and 7.5.
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    steps = -(-span // stride) if ceil_mode else span // stride
    return steps + 1


def _walk(size: tuple[int, int], layers: Iterable[nn.Module]) -> tuple[tuple[int, int], str | None]:
    """Push ``(h, w)`` through every conv/pool layer; return the size and the first layer that hit 0."""
    h, w = size
    for index, top in enumerate(layers):
        for module in top.modules():
            if isinstance(module, nn.Conv2d):
                ceil_mode, dilation = False, module.dilation
            elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
                ceil_mode = module.ceil_mode
                dilation = pair("feature_map_size", "dilation", getattr(module, "dilation", 1))
            else:
                continue
            kernel = pair("feature_map_size", "kernel_size", module.kernel_size)
            stride = pair("feature_map_size", "stride", module.stride)
            padding = pair("feature_map_size", "padding", module.padding)
            h = _out_size(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
            w = _out_size(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
            if h < 1 or w < 1:
                return (h, w), f"layer {index} ({type(top).__name__})"
    return (h, w), None


def feature_map_size(who: str, image_size: int, layers: list[nn.Module]) -> tuple[int, int]:
    """Spatial size ``(h, w)`` after ``layers`` for a square ``image_size`` input.

    Raises:
        ValueError: when some layer would shrink the image to nothing; the message names the
            layer and the smallest image size that works.
    """
    positive_int(who, "image_size", image_size)
    size, culprit = _walk((image_size, image_size), layers)
    if culprit is None:
        return size
    smallest = next(
        (n for n in range(image_size + 1, _MAX_SEARCH + 1) if _walk((n, n), layers)[1] is None), None
    )
    hint = f"use image_size >= {smallest}" if smallest else "use a larger image"
    raise ValueError(
        f"{who}: image_size={image_size} is too small: {culprit} shrinks the feature map to "
        f"{max(size[0], 0)}x{max(size[1], 0)}; {hint}"
    )


class SequentialModel(nn.Sequential):
    """An ``nn.Sequential`` whose slices are plain ``nn.Sequential`` (used by every model here).

    ``nn.Sequential`` slices by calling ``type(self)(OrderedDict(...))``, which a model whose
    constructor takes hyperparameters cannot accept. Here ``model[:2]`` (say, LeNet's first two
    layers, to look at their activations in Section 7.6) returns a plain ``nn.Sequential`` that
    shares the layers.

    The model is the public entry point, so its ``forward`` checks the input once (a 4-D
    tensor with the channels the first convolution expects) and the blocks inside do not.
    """

    def __init__(self, *layers: nn.Module | OrderedDict) -> None:
        super().__init__(*layers)
        first = next((m for m in self.modules() if isinstance(m, nn.Conv2d)), None)
        self.in_channels = None if first is None else first.in_channels

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        who = type(self).__name__
        check_tensor(who, "X", X, ndim=4, layout="(N, C, H, W)")
        if self.in_channels is not None and X.shape[1] != self.in_channels:
            raise ValueError(f"{who}: X must have {self.in_channels} channels, got {X.shape[1]} "
                             f"(shape {tuple(X.shape)}); build the model with in_channels={X.shape[1]} "
                             f"or convert the images")
        return super().forward(X)

    def __getitem__(self, idx: int | slice) -> nn.Module:
        if isinstance(idx, slice):
            return nn.Sequential(OrderedDict(list(self._modules.items())[idx]))
        return super().__getitem__(idx)


def check_pair_spec(who: str, arch: object, names: tuple[str, str],
                    example: str) -> tuple[tuple[int, int], ...]:
    """Validate an architecture spec: a non-empty sequence of pairs of positive ints.

    Args:
        who: the model, e.g. ``"VGG"``.
        arch: the spec received, e.g. ``((1, 64), (1, 128))``.
        names: what the two numbers of a pair mean, e.g. ``("num_convs", "out_channels")``.
        example: a valid spec to show in the error message.
    """
    pair_name = f"({names[0]}, {names[1]})"
    if not isinstance(arch, Sequence) or isinstance(arch, str) or len(arch) == 0:
        raise TypeError(f"{who}: arch must be a non-empty sequence of {pair_name} pairs "
                        f"(e.g. {example}), got {arch!r}")
    for i, item in enumerate(arch):
        if not isinstance(item, Sequence) or len(item) != 2:
            raise TypeError(f"{who}: arch[{i}] must be a {pair_name} pair (e.g. {example}), got {item!r}")
        positive_int(who, f"arch[{i}][0] ({names[0]})", item[0])
        positive_int(who, f"arch[{i}][1] ({names[1]})", item[1])
    return tuple((int(n), int(c)) for n, c in arch)


def dense_classifier(in_features: int, num_classes: int, hidden_units: int = 4096) -> list[nn.Module]:
    """The two-hidden-layer dropout classifier that AlexNet (Section 8.1) and VGG (Section 8.2) share.

    ``hidden_units`` is 4096 in the book; the laptop and quick modes use fewer.
    """
    return [
        nn.Linear(in_features, hidden_units),  # (N, hidden_units)
        nn.ReLU(),
        nn.Dropout(p=0.5),
        nn.Linear(hidden_units, hidden_units),  # (N, hidden_units)
        nn.ReLU(),
        nn.Dropout(p=0.5),
        nn.Linear(hidden_units, num_classes),  # (N, num_classes)
    ]


def divide_width(who: str, width_divisor: int, channels: Sequence[int]) -> list[int]:
    """Each of ``channels`` divided by ``width_divisor``, which must divide all of them (Section 8.1).

    The laptop and quick modes of the training chapters shrink a network this way: every
    convolution keeps its kernel, stride and place, only its channel count changes.
    """
    positive_int(who, "width_divisor", width_divisor)
    if any(c % width_divisor for c in channels):
        raise ValueError(f"{who}: width_divisor must divide every channel count {sorted(set(channels))}, "
                         f"got {width_divisor}; try one of {_divisors(math.gcd(*channels))}")
    return [c // width_divisor for c in channels]


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]
