"""AlexNet as the book builds it (Section 8.1)."""

from __future__ import annotations

from torch import nn

from cnncourse._checks import positive_int
from cnncourse.models._common import SequentialModel, dense_classifier, feature_map_size

__all__ = ["AlexNet"]


def _alexnet_features(in_channels: int) -> list[nn.Module]:
    """The five convolution layers and three max-pools, shape comments for a 224x224 input."""
    return [
        nn.Conv2d(in_channels, 96, kernel_size=11, stride=4, padding=1),  # (N, 96, 54, 54)
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 96, 26, 26)
        nn.Conv2d(96, 256, kernel_size=5, padding=2),  # (N, 256, 26, 26)
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 256, 12, 12)
        nn.Conv2d(256, 384, kernel_size=3, padding=1),  # (N, 384, 12, 12)
        nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1),  # (N, 384, 12, 12)
        nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1),  # (N, 256, 12, 12)
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

    Raises:
        ValueError: when ``image_size`` is so small a layer would shrink it to nothing.

    Shape:
        input ``(N, in_channels, image_size, image_size)``, output ``(N, num_classes)``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 224) -> None:
        positive_int("AlexNet", "in_channels", in_channels)
        positive_int("AlexNet", "num_classes", num_classes)
        features = _alexnet_features(in_channels)
        h, w = feature_map_size("AlexNet", image_size, features)
        super().__init__(
            *features,
            nn.Flatten(),  # (N, 256 * h * w), 6400 at 224
            *dense_classifier(256 * h * w, num_classes),  # (N, num_classes)
        )
