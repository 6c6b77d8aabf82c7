"""cnncourse: convolutional neural networks from cross-correlation to ResNeXt (D2L 7.1-8.6)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
