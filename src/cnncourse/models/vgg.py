"""VGG blocks and networks (Section 8.2)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from cnncourse._checks import positive_int
from cnncourse.models._common import SequentialModel, check_pair_spec, dense_classifier, feature_map_size

__all__ = ["vgg_block", "VGG", "vgg11"]

# VGG-11 (configuration "A" of Simonyan & Zisserman, 2015): (num_convs, out_channels) per block.
_VGG11_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """One VGG block (Section 8.2): ``num_convs`` 3x3 convolutions with ReLU, then a 2x2 max-pool.

    Args:
        num_convs: number of convolution + ReLU pairs.
        in_channels: channels entering the block.
        out_channels: channels of every convolution in the block.

    Shape:
        ``(N, in_channels, H, W)`` -> ``(N, out_channels, H // 2, W // 2)``.
    """
    positive_int("vgg_block", "num_convs", num_convs)
    positive_int("vgg_block", "in_channels", in_channels)
    positive_int("vgg_block", "out_channels", out_channels)
    layers: list[nn.Module] = []
    channels = in_channels
    for _ in range(num_convs):
        layers += [nn.Conv2d(channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]  # (N, C_out, H, W)
        channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))  # (N, C_out, H // 2, W // 2)
    return nn.Sequential(*layers)


def _vgg_blocks(arch: tuple[tuple[int, int], ...], in_channels: int) -> list[nn.Sequential]:
    """Chain the blocks: each block's input channels are the previous block's output channels."""
    channels = (in_channels,) + tuple(c for _, c in arch)
    return [vgg_block(n, c_in, c_out) for (n, c_out), c_in in zip(arch, channels[:-1], strict=True)]


class VGG(SequentialModel):
    """VGG network (Section 8.2): a stack of VGG blocks, then a 4096-4096 dropout classifier.

    The top-level children are the blocks followed by the classifier layers, as in the book,
    so ``layer_summary`` prints one row per block.

    Departs from the book: ``image_size`` sets the first linear layer's ``in_features``
    explicitly (25088 for VGG-11 at 224) instead of a lazy layer.

    Args:
        arch: ``((num_convs, out_channels), ...)``, one pair per block.
        in_channels: channels of the input image.
        num_classes: number of output logits.
        image_size: height = width of the square input the model will see.
        hidden_units: width of the two hidden dense layers, 4096 in the book.

    Raises:
        ValueError: when ``image_size`` is too small for the number of blocks (each halves it).

    Shape:
        input ``(N, in_channels, image_size, image_size)``, output ``(N, num_classes)``.
    """

    def __init__(self, arch: Sequence[tuple[int, int]], in_channels: int = 1, num_classes: int = 10,
                 image_size: int = 224, *, hidden_units: int = 4096) -> None:
        spec = check_pair_spec("VGG", arch, ("num_convs", "out_channels"),
                               "((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))")
        positive_int("VGG", "in_channels", in_channels)
        positive_int("VGG", "num_classes", num_classes)
        positive_int("VGG", "hidden_units", hidden_units)
        blocks = _vgg_blocks(spec, in_channels)  # block i: (N, C_i, image_size / 2**i, ...)
        h, w = feature_map_size("VGG", image_size, blocks)
        super().__init__(
            *blocks,
            nn.Flatten(),  # (N, C_last * h * w)
            *dense_classifier(spec[-1][1] * h * w, num_classes, hidden_units),  # (N, num_classes)
        )


def vgg11(in_channels: int = 1, num_classes: int = 10, image_size: int = 224,
          width_divisor: int = 1, *, hidden_units: int = 4096) -> VGG:
    """VGG-11 (Section 8.2): 128,806,154 parameters at 224x224, one channel, 10 classes.

    Args:
        in_channels: channels of the input image.
        num_classes: number of output logits.
        image_size: height = width of the square input.
        width_divisor: divide every block's channels by this; 4 gives the book's smaller
            training VGG ``((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))``. As in the book,
            the 4096-wide classifier is not shrunk.
        hidden_units: width of the two hidden dense layers, 4096 in the book; the laptop and
            quick modes of Section 8.2 shrink it too.

    Raises:
        ValueError: when ``width_divisor`` does not divide 64 (the narrowest block).
    """
    positive_int("vgg11", "width_divisor", width_divisor)
    if 64 % width_divisor:
        raise ValueError(f"vgg11: width_divisor must divide 64 (the narrowest block's channels), "
                         f"got {width_divisor}; try 1, 2, 4, 8, 16, 32 or 64")
    arch = tuple((n, c // width_divisor) for n, c in _VGG11_ARCH)
    return VGG(arch, in_channels=in_channels, num_classes=num_classes, image_size=image_size,
               hidden_units=hidden_units)
