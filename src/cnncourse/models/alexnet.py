"""AlexNet as the book builds it (Section 8.1)."""

from __future__ import annotations

from torch import nn

from cnncourse._checks import positive_int
from cnncourse.models._common import SequentialModel, dense_classifier, divide_width, feature_map_size

__all__ = ["AlexNet"]


_ALEXNET_WIDTHS = (96, 256, 384, 384, 256)  # output channels of the five convolutions


def _alexnet_features(in_channels: int, widths: list[int]) -> list[nn.Module]:
    """The five convolution layers and three max-pools, shape comments for a 224x224 input."""
    c1, c2, c3, c4, c5 = widths  # 96, 256, 384, 384, 256 in the book
    return [
        nn.Conv2d(in_channels, c1, kernel_size=11, stride=4, padding=1),  # (N, 96, 54, 54)
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 96, 26, 26)
        nn.Conv2d(c1, c2, kernel_size=5, padding=2),  # (N, 256, 26, 26)
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 256, 12, 12)
        nn.Conv2d(c2, c3, kernel_size=3, padding=1),  # (N, 384, 12, 12)
        nn.ReLU(),
        nn.Conv2d(c3, c4, kernel_size=3, padding=1),  # (N, 384, 12, 12)
        nn.ReLU(),
        nn.Conv2d(c4, c5, kernel_size=3, padding=1),  # (N, 256, 12, 12)
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 256, 5, 5)
    ]


class AlexNet(SequentialModel):
    """AlexNet, single-GPU variant, layer for layer as in Section 8.1.

    Departs from Krizhevsky et al. (2012) the way the book does: one tower instead of two
    GPU halves, no local response normalisation, padding 1 on the first convolution, and a
    one-channel 224x224 input (Fashion-MNIST resized) with 10 classes by default.

    Departs from the book: ``image_size`` sets the first linear layer's ``in_features``
    explicitly (6400 at 224) instead of a lazy layer, so the chapter notebook can train on
    smaller images in quick mode.

    Args:
        in_channels: channels of the input image.
        num_classes: number of output logits.
        image_size: height = width of the square input the model will see.
        width_divisor: divide every convolution's channels by this (1, 2, 4, 8, 16 or 32);
            the laptop and quick modes of Section 8.1 both use 8.
        hidden_units: width of the two hidden dense layers, 4096 in the book.

    Raises:
        ValueError: when ``image_size`` is so small a layer would shrink it to nothing, or
            ``width_divisor`` does not divide every width.

    Shape:
        input ``(N, in_channels, image_size, image_size)``, output ``(N, num_classes)``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 224, *,
                 width_divisor: int = 1, hidden_units: int = 4096) -> None:
        positive_int("AlexNet", "in_channels", in_channels)
        positive_int("AlexNet", "num_classes", num_classes)
        positive_int("AlexNet", "hidden_units", hidden_units)
        widths = divide_width("AlexNet", width_divisor, _ALEXNET_WIDTHS)
        features = _alexnet_features(in_channels, widths)
        h, w = feature_map_size("AlexNet", image_size, features)
        super().__init__(
            *features,
            nn.Flatten(),  # (N, 256 * h * w), 6400 at 224
            *dense_classifier(widths[-1] * h * w, num_classes, hidden_units),  # (N, num_classes)
        )
