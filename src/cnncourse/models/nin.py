"""Network in Network (Section 8.3)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from cnncourse._checks import nonnegative_pair, positive_int, positive_pair
from cnncourse.models._common import SequentialModel, divide_width

__all__ = ["nin_block", "NiN"]


def nin_block(in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
              stride: int | Sequence[int], padding: int | Sequence[int]) -> nn.Sequential:
    """One NiN block (Section 8.3): a convolution, then two 1x1 convolutions, each with ReLU.

    The 1x1 convolutions act as a small per-pixel MLP across channels (the "mlpconv" layer).

    Args:
        in_channels: channels entering the block.
        out_channels: channels of all three convolutions.
        kernel_size: kernel of the first convolution.
        stride: stride of the first convolution.
        padding: zero padding of the first convolution.

    Shape:
        ``(N, in_channels, H, W)`` -> ``(N, out_channels, H_out, W_out)`` with ``H_out, W_out``
        given by the first convolution; the 1x1 convolutions keep the size.
    """
    positive_int("nin_block", "in_channels", in_channels)
    positive_int("nin_block", "out_channels", out_channels)
    kernel_hw = positive_pair("nin_block", "kernel_size", kernel_size)
    stride_hw = positive_pair("nin_block", "stride", stride)
    padding_hw = nonnegative_pair("nin_block", "padding", padding)
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_hw, stride=stride_hw, padding=padding_hw),
        nn.ReLU(),  # (N, C_out, H_out, W_out)
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
    )


class NiN(SequentialModel):
    """Network in Network as laid out in Section 8.3.

    Four NiN blocks with AlexNet's kernel sizes (11, 5, 3, 3) and max-pools between them; the
    last block has ``num_classes`` channels and a global average pool turns each channel into
    one logit, so there are no fully connected layers. The top-level children are the
    blocks, pools, dropout, global pool and flatten, one ``layer_summary`` row each.

    Departs from Lin et al. (2014) the way the book does: the kernel sizes and channel counts
    follow AlexNet (the paper used its own per-dataset settings), and one dropout sits before
    the last block (the paper put dropout after every mlpconv layer but the last).

    Args:
        in_channels: channels of the input image.
        num_classes: number of output logits (channels of the last block).
        width_divisor: divide the channels of the first three blocks (96, 256, 384) by this;
            the last block keeps ``num_classes``. The laptop and quick modes of Section 8.3
            use it.

    Raises:
        ValueError: when ``width_divisor`` does not divide 96, 256 and 384.

    Shape:
        input ``(N, in_channels, H, W)`` with ``H, W >= 67``, output ``(N, num_classes)``.
        Any size works because the global average pool removes the spatial axes.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, *, width_divisor: int = 1) -> None:
        positive_int("NiN", "in_channels", in_channels)
        positive_int("NiN", "num_classes", num_classes)
        c1, c2, c3 = divide_width("NiN", width_divisor, (96, 256, 384))
        super().__init__(
            nin_block(in_channels, c1, kernel_size=11, stride=4, padding=0),  # (N, 96, 54, 54) at 224
            nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 96, 26, 26)
            nin_block(c1, c2, kernel_size=5, stride=1, padding=2),  # (N, 256, 26, 26)
            nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 256, 12, 12)
            nin_block(c2, c3, kernel_size=3, stride=1, padding=1),  # (N, 384, 12, 12)
            nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 384, 5, 5)
            nn.Dropout(p=0.5),
            nin_block(c3, num_classes, kernel_size=3, stride=1, padding=1),  # (N, num_classes, 5, 5)
            nn.AdaptiveAvgPool2d((1, 1)),  # (N, num_classes, 1, 1)
            nn.Flatten(),  # (N, num_classes)
        )
