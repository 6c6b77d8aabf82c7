"""Inception blocks and GoogLeNet (Section 8.4)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from cnncourse._checks import positive_int
from cnncourse.models._common import SequentialModel, divide_width

__all__ = ["Inception", "GoogLeNet"]


def _channel_pair(who: str, name: str, value: object) -> tuple[int, int]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise TypeError(f"{who}: {name} must be a pair (reduce_channels, out_channels), got {value!r}")
    return (positive_int(who, f"{name}[0]", value[0]), positive_int(who, f"{name}[1]", value[1]))


class Inception(nn.Module):
    """Inception block (Section 8.4): four parallel paths concatenated along channels.

    Path 1 is a 1x1 convolution; path 2 a 1x1 reduction then a 3x3 convolution; path 3 a 1x1
    reduction then a 5x5 convolution; path 4 a 3x3 max-pool then a 1x1 convolution. Every
    convolution is followed by ReLU and every path keeps the spatial size.

    Args:
        in_channels: channels entering the block.
        c1: output channels of path 1.
        c2: ``(reduce, out)`` channels of path 2's 1x1 and 3x3 convolutions.
        c3: ``(reduce, out)`` channels of path 3's 1x1 and 5x5 convolutions.
        c4: output channels of path 4's 1x1 convolution.

    Shape:
        ``(N, in_channels, H, W)`` -> ``(N, c1 + c2[1] + c3[1] + c4, H, W)``.
    """

    def __init__(self, in_channels: int, c1: int, c2: Sequence[int], c3: Sequence[int], c4: int) -> None:
        super().__init__()
        positive_int("Inception", "in_channels", in_channels)
        positive_int("Inception", "c1", c1)
        c2 = _channel_pair("Inception", "c2", c2)
        c3 = _channel_pair("Inception", "c3", c3)
        positive_int("Inception", "c4", c4)
        self.in_channels = in_channels
        self.out_channels = c1 + c2[1] + c3[1] + c4
        self.path1 = nn.Sequential(nn.Conv2d(in_channels, c1, kernel_size=1), nn.ReLU())
        self.path2 = nn.Sequential(
            nn.Conv2d(in_channels, c2[0], kernel_size=1), nn.ReLU(),
            nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1), nn.ReLU(),
        )
        self.path3 = nn.Sequential(
            nn.Conv2d(in_channels, c3[0], kernel_size=1), nn.ReLU(),
            nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2), nn.ReLU(),
        )
        self.path4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
            nn.Conv2d(in_channels, c4, kernel_size=1), nn.ReLU(),
        )

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        # No input check here: a block runs many times per step, the model checks X once.
        paths = (self.path1(X), self.path2(X), self.path3(X), self.path4(X))  # (N, c_i, H, W) each
        return torch.cat(paths, dim=1)  # (N, c1 + c2[1] + c3[1] + c4, H, W)


# (c1, c2, c3, c4) of the nine Inception blocks, from Szegedy et al. (2015), Table 1.
_STAGE3 = ((64, (96, 128), (16, 32), 32), (128, (128, 192), (32, 96), 64))
_STAGE4 = ((192, (96, 208), (16, 48), 64), (160, (112, 224), (24, 64), 64), (128, (128, 256), (24, 64), 64),
           (112, (144, 288), (32, 64), 64), (256, (160, 320), (32, 128), 128))
_STAGE5 = ((256, (160, 320), (32, 128), 128), (384, (192, 384), (48, 128), 128))


def _inception_stage(in_channels: int, specs: tuple, width_divisor: int) -> tuple[list[Inception], int]:
    """Chain Inception blocks, every width divided by ``width_divisor``; return them and the
    channels coming out of the last one."""
    blocks = []
    for spec in specs:
        widths = [spec[0], *spec[1], *spec[2], spec[3]]  # c1, c2 reduce/out, c3 reduce/out, c4
        c1, c2r, c2, c3r, c3, c4 = divide_width("GoogLeNet", width_divisor, widths)
        blocks.append(Inception(in_channels, c1, (c2r, c2), (c3r, c3), c4))
        in_channels = blocks[-1].out_channels
    return blocks, in_channels


class GoogLeNet(SequentialModel):
    """GoogLeNet as laid out in Section 8.4.

    The top-level children are the book's five blocks ``b1`` .. ``b5`` and the final linear
    layer ``head``, so ``layer_summary`` prints the book's six rows. ``b1`` is the 7x7 stem,
    ``b2`` the 1x1 + 3x3 convolutions, ``b3`` .. ``b5`` the Inception stages (2, 5, 2
    blocks) separated by max-pools; ``b5`` ends with global average pooling to 1024 features.

    Departs from Szegedy et al. (2015) the way the book does: no local response normalisation,
    no auxiliary classifiers, no dropout before the classifier, one input channel and 10
    classes by default (Fashion-MNIST resized to 96x96 in the book).

    Args:
        in_channels: channels of the input image.
        num_classes: number of output logits.
        width_divisor: divide every convolution's channels by this (1, 2, 4 or 8); the laptop
            and quick modes of Section 8.4 use it. The paths keep their kernels and order.

    Raises:
        ValueError: when ``width_divisor`` does not divide every channel count.

    Shape:
        input ``(N, in_channels, H, W)``, output ``(N, num_classes)``; at 96x96 the blocks give
        ``(N, 64, 24, 24)``, ``(N, 192, 12, 12)``, ``(N, 480, 6, 6)``, ``(N, 832, 3, 3)``, ``(N, 1024)``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, *, width_divisor: int = 1) -> None:
        positive_int("GoogLeNet", "in_channels", in_channels)
        positive_int("GoogLeNet", "num_classes", num_classes)
        s1, s2 = divide_width("GoogLeNet", width_divisor, (64, 192))  # the stem's widths
        stage3, c3 = _inception_stage(s2, _STAGE3, width_divisor)
        stage4, c4 = _inception_stage(c3, _STAGE4, width_divisor)
        stage5, c5 = _inception_stage(c4, _STAGE5, width_divisor)
        pool = dict(kernel_size=3, stride=2, padding=1)
        super().__init__(OrderedDict(
            b1=nn.Sequential(
                nn.Conv2d(in_channels, s1, kernel_size=7, stride=2, padding=3),  # (N, 64, H/2, W/2)
                nn.ReLU(),
                nn.MaxPool2d(**pool),  # (N, 64, H/4, W/4)
            ),
            b2=nn.Sequential(
                nn.Conv2d(s1, s1, kernel_size=1), nn.ReLU(),
                nn.Conv2d(s1, s2, kernel_size=3, padding=1), nn.ReLU(),  # (N, 192, H/4, W/4)
                nn.MaxPool2d(**pool),  # (N, 192, H/8, W/8)
            ),
            b3=nn.Sequential(*stage3, nn.MaxPool2d(**pool)),  # (N, 480, H/16, W/16)
            b4=nn.Sequential(*stage4, nn.MaxPool2d(**pool)),  # (N, 832, H/32, W/32)
            b5=nn.Sequential(*stage5, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten()),  # (N, 1024)
            head=nn.Linear(c5, num_classes),  # (N, num_classes)
        ))
