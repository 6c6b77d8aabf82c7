"""LeNet-5 as the book builds it (Section 7.6)."""

from __future__ import annotations

from torch import nn

from cnncourse._checks import positive_int
from cnncourse.models._common import SequentialModel

__all__ = ["LeNet", "lenet5"]


class LeNet(SequentialModel):
    """LeNet-5 for 28x28 images, layer for layer as in Section 7.6.

    Two convolution + sigmoid + average-pooling stages, then three fully connected layers.
    The top-level children are the book's layers, so ``layer_summary`` prints one row per
    layer like the book's printout.

    Departs from LeCun et al. (1998) the way the book does: the first convolution pads by 2
    so a 28x28 Fashion-MNIST image plays the role of the paper's 32x32 input; every C3 map
    sees every S2 map (the paper used a sparse connection table); the output is a plain
    linear layer instead of Gaussian RBF units.

    Args:
        in_channels: channels of the input image (1 for grayscale).
        num_classes: number of output logits.

    Shape:
        input ``(N, in_channels, 28, 28)``, output ``(N, num_classes)``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10) -> None:
        positive_int("LeNet", "in_channels", in_channels)
        positive_int("LeNet", "num_classes", num_classes)
        super().__init__(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2),  # (N, 6, 28, 28)
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),  # (N, 6, 14, 14)
            nn.Conv2d(6, 16, kernel_size=5),  # (N, 16, 10, 10)
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),  # (N, 16, 5, 5)
            nn.Flatten(),  # (N, 400)
            nn.Linear(16 * 5 * 5, 120),  # (N, 120)
            nn.Sigmoid(),
            nn.Linear(120, 84),  # (N, 84)
            nn.Sigmoid(),
            nn.Linear(84, num_classes),  # (N, num_classes)
        )


def lenet5(in_channels: int = 1, num_classes: int = 10) -> LeNet:
    """The book's LeNet-5 (Section 7.6): 61,706 parameters for one input channel and 10 classes."""
    return LeNet(in_channels=in_channels, num_classes=num_classes)
