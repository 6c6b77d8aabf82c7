"""Residual blocks, ResNet and the ResNeXt block (Section 8.6)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from cnncourse._checks import check_divides, positive_int
from cnncourse.models._common import SequentialModel, check_pair_spec, divide_width

__all__ = ["Residual", "ResNet", "resnet18", "ResNeXtBlock"]

# ResNet-18: (num_residuals, num_channels) per stage.
_RESNET18_ARCH = ((2, 64), (2, 128), (2, 256), (2, 512))


def _check_shortcut(who: str, in_channels: int, out_channels: int, use_1x1conv: bool, stride: int) -> None:
    """An identity shortcut only adds up when the block keeps both channels and size."""
    if not isinstance(use_1x1conv, bool):
        raise TypeError(f"{who}: use_1x1conv must be True or False, got {use_1x1conv!r}")
    if not use_1x1conv and (in_channels != out_channels or stride != 1):
        raise ValueError(
            f"{who}: an identity shortcut needs in_channels == out_channels and stride == 1, got "
            f"in_channels={in_channels}, out_channels={out_channels}, stride={stride}; "
            f"pass use_1x1conv=True to reshape the shortcut"
        )


class Residual(nn.Module):
    """The residual block of Section 8.6: two 3x3 convolutions with batch norm, plus a shortcut.

    ``Y = relu(bn2(conv2(relu(bn1(conv1(X))))) + shortcut(X))`` where ``shortcut`` is the
    identity, or a 1x1 convolution with ``stride`` when ``use_1x1conv`` is set (needed when
    the block changes the number of channels or the size). The book calls that convolution
    ``conv3``; here it is ``shortcut`` in both residual blocks, and state dicts saved with
    ``conv3.*`` keys still load.

    Args:
        out_channels: channels of both 3x3 convolutions and of the output.
        use_1x1conv: use a 1x1 convolution on the shortcut instead of the identity.
        stride: stride of the first 3x3 convolution (and of the 1x1 shortcut).
        in_channels: channels of the input; defaults to ``out_channels`` so ``Residual(3)``
            works on a 3-channel input as in the book.

    Raises:
        ValueError: when an identity shortcut cannot match the block's output.

    Shape:
        ``(N, in_channels, H, W)`` -> ``(N, out_channels, ceil(H / stride), ceil(W / stride))``.
    """

    def __init__(self, out_channels: int, use_1x1conv: bool = False, stride: int = 1,
                 in_channels: int | None = None) -> None:
        super().__init__()
        in_channels = out_channels if in_channels is None else in_channels
        positive_int("Residual", "out_channels", out_channels)
        positive_int("Residual", "in_channels", in_channels)
        positive_int("Residual", "stride", stride)
        _check_shortcut("Residual", in_channels, out_channels, use_1x1conv, stride)
        self.in_channels = in_channels
        # Convolutions keep their bias as in the book, although batch norm cancels it;
        # torchvision drops it (bias=False). The pinned 11,178,378 parameters include it.
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = (nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride)
                         if use_1x1conv else nn.Identity())
        self.register_load_state_dict_pre_hook(_rename_book_shortcut)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        # No input check here: a block runs many times per step, the model checks X once.
        Y = F.relu(self.bn1(self.conv1(X)))  # (N, C_out, H_out, W_out)
        Y = self.bn2(self.conv2(Y))  # (N, C_out, H_out, W_out)
        return F.relu(Y + self.shortcut(X))  # (N, C_out, H_out, W_out)


def _rename_book_shortcut(module: nn.Module, state_dict: dict, prefix: str, *args: object) -> None:
    """Load state dicts that call the 1x1 shortcut ``conv3`` (the book's name, and ours before)."""
    for key in [k for k in state_dict if k.startswith(prefix + "conv3.")]:
        state_dict[prefix + "shortcut." + key[len(prefix + "conv3."):]] = state_dict.pop(key)


def _resnet_stage(num_residuals: int, in_channels: int, out_channels: int, first: bool) -> nn.Sequential:
    """One stage: the first block halves the size (except in the first stage), the rest keep it."""
    stride = 1 if first else 2
    # The book's first stage always uses an identity shortcut, which only works when it has
    # the stem's 64 channels; we add a 1x1 shortcut whenever the channels change, so any
    # arch works. For the book's archs this gives exactly the book's blocks.
    use_1x1conv = stride != 1 or in_channels != out_channels
    blocks = [Residual(out_channels, use_1x1conv=use_1x1conv, stride=stride, in_channels=in_channels)]
    blocks += [Residual(out_channels) for _ in range(num_residuals - 1)]
    return nn.Sequential(*blocks)


class ResNet(SequentialModel):
    """ResNet (Section 8.6): the book's stem, stages of ``Residual`` blocks, and a linear head.

    The top-level children are ``stem`` (7x7 convolution, batch norm, ReLU, 3x3 max-pool),
    ``stage1`` .. ``stageK`` (one per ``arch`` entry) and ``head`` (global average pool,
    flatten, linear), so ``layer_summary`` prints one row per stage.

    Args:
        arch: ``((num_residuals, num_channels), ...)``, one pair per stage; every stage after
            the first halves the height and width.
        in_channels: channels of the input image.
        num_classes: number of output logits.
        stem_channels: output channels of the stem's 7x7 convolution, 64 in the book.

    Shape:
        input ``(N, in_channels, H, W)``, output ``(N, num_classes)``; at 96x96 ResNet-18's
        stages give ``(N, 64, 24, 24)``, ``(N, 128, 12, 12)``, ``(N, 256, 6, 6)``, ``(N, 512, 3, 3)``.
    """

    def __init__(self, arch: Sequence[tuple[int, int]], in_channels: int = 1, num_classes: int = 10, *,
                 stem_channels: int = 64) -> None:
        spec = check_pair_spec("ResNet", arch, ("num_residuals", "num_channels"),
                               "((2, 64), (2, 128), (2, 256), (2, 512))")
        positive_int("ResNet", "in_channels", in_channels)
        positive_int("ResNet", "num_classes", num_classes)
        positive_int("ResNet", "stem_channels", stem_channels)
        channels = (stem_channels,) + tuple(c for _, c in spec)
        stages = OrderedDict(
            (f"stage{i + 1}", _resnet_stage(n, c_in, c_out, first=i == 0))  # (N, c_out, H/2**(i+2), ...)
            for i, ((n, c_out), c_in) in enumerate(zip(spec, channels[:-1], strict=True))
        )
        super().__init__(OrderedDict(
            stem=nn.Sequential(
                nn.Conv2d(in_channels, stem_channels, 7, stride=2, padding=3),  # (N, stem_channels, H/2, W/2)
                nn.BatchNorm2d(stem_channels),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # (N, stem_channels, H/4, W/4)
            ),
            **stages,
            head=nn.Sequential(
                nn.AdaptiveAvgPool2d((1, 1)),  # (N, C_last, 1, 1)
                nn.Flatten(),  # (N, C_last)
                nn.Linear(channels[-1], num_classes),  # (N, num_classes)
            ),
        ))


def resnet18(in_channels: int = 1, num_classes: int = 10, *, width_divisor: int = 1) -> ResNet:
    """ResNet-18 (Section 8.6): 11,178,378 parameters for one input channel and 10 classes.

    ``width_divisor`` divides the stem's and every stage's channels (64, 128, 256, 512); the
    laptop and quick modes of Section 8.6 use it. Each stage keeps its two residual blocks.
    """
    stem, *widths = divide_width("resnet18", width_divisor, (64, *(c for _, c in _RESNET18_ARCH)))
    arch = tuple((n, c) for (n, _), c in zip(_RESNET18_ARCH, widths, strict=True))
    return ResNet(arch, in_channels=in_channels, num_classes=num_classes, stem_channels=stem)


class ResNeXtBlock(nn.Module):
    """The ResNeXt bottleneck block of Section 8.6 with ``groups`` groups in its 3x3 convolution.

    1x1 convolution down to ``bottleneck_channels = round(out_channels * bottleneck_multiplier)``,
    a 3x3 convolution split into ``groups`` groups (each sees ``bottleneck_channels / groups``
    channels), a 1x1 convolution up to ``out_channels``, batch norm after each, and a residual
    add with the identity or a 1x1 convolution + batch norm shortcut.

    ``groups`` is the number of groups, as in ``nn.Conv2d`` and Xie et al. (2017) ("cardinality").
    The book's ``ResNeXtBlock`` also takes an argument called ``groups`` but uses it as the
    group width (its convolution gets ``bot_channels // groups`` groups); we follow PyTorch
    and the paper instead. The book's ``ResNeXtBlock(32, 16, 1)`` still runs and keeps the
    shape, but here it has 16 groups of 2 channels, the book's has 2 groups of 16.

    Args:
        out_channels: channels of the output.
        groups: number of groups of the 3x3 convolution; must divide the bottleneck channels.
        bottleneck_multiplier: bottleneck channels as a fraction of ``out_channels``.
        use_1x1conv: use a 1x1 convolution (plus batch norm) on the shortcut.
        stride: stride of the 3x3 convolution (and of the 1x1 shortcut).
        in_channels: channels of the input; defaults to ``out_channels``.

    Raises:
        ValueError: when ``groups`` does not divide the bottleneck channels, or an identity
            shortcut cannot match the output.

    Shape:
        ``(N, in_channels, H, W)`` -> ``(N, out_channels, ceil(H / stride), ceil(W / stride))``.
    """

    def __init__(self, out_channels: int, groups: int, bottleneck_multiplier: float,
                 use_1x1conv: bool = False, stride: int = 1, in_channels: int | None = None) -> None:
        super().__init__()
        who = "ResNeXtBlock"
        in_channels = out_channels if in_channels is None else in_channels
        positive_int(who, "out_channels", out_channels)
        positive_int(who, "in_channels", in_channels)
        positive_int(who, "stride", stride)
        positive_int(who, "groups", groups)
        if isinstance(bottleneck_multiplier, bool) or not isinstance(bottleneck_multiplier, (int, float)):
            raise TypeError(f"{who}: bottleneck_multiplier must be a number, got {bottleneck_multiplier!r}")
        bottleneck = int(round(out_channels * bottleneck_multiplier))
        if bottleneck < 1:
            raise ValueError(f"{who}: bottleneck_multiplier={bottleneck_multiplier} leaves "
                             f"round({out_channels} * {bottleneck_multiplier}) = {bottleneck} bottleneck "
                             f"channels; it must give at least 1")
        check_divides(who, "bottleneck channels (round(out_channels * bottleneck_multiplier))",
                      bottleneck, groups)
        _check_shortcut(who, in_channels, out_channels, use_1x1conv, stride)
        self.in_channels = in_channels
        self.bottleneck_channels = bottleneck
        self.conv1 = nn.Conv2d(in_channels, bottleneck, kernel_size=1)
        self.conv2 = nn.Conv2d(bottleneck, bottleneck, kernel_size=3, stride=stride, padding=1, groups=groups)
        self.conv3 = nn.Conv2d(bottleneck, out_channels, kernel_size=1)
        self.bn1 = nn.BatchNorm2d(bottleneck)
        self.bn2 = nn.BatchNorm2d(bottleneck)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = (
            nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride),
                          nn.BatchNorm2d(out_channels))
            if use_1x1conv else nn.Identity()
        )

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        # No input check here: a block runs many times per step, the model checks X once.
        Y = F.relu(self.bn1(self.conv1(X)))  # (N, C_bot, H, W)
        Y = F.relu(self.bn2(self.conv2(Y)))  # (N, C_bot, H_out, W_out)
        Y = self.bn3(self.conv3(Y))  # (N, C_out, H_out, W_out)
        return F.relu(Y + self.shortcut(X))  # (N, C_out, H_out, W_out)
