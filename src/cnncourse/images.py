"""Small test images for the cross-correlation and edge-detection lessons (Section 7.2).

Every function returns a fresh ``float32`` tensor of shape ``(H, W)`` that can be
changed freely without affecting later calls.
"""

from __future__ import annotations

import functools

import matplotlib.cbook
import matplotlib.image
import torch
import torch.nn.functional as F

from cnncourse._checks import positive_pair

__all__ = [
    "stripes",
    "diagonal_edge",
    "anti_diagonal_edge",
    "diagonal_line",
    "checkerboard",
    "photo",
]

# ITU-R BT.601 luma weights, the usual RGB -> grayscale conversion.
_LUMA = (0.299, 0.587, 0.114)
_PHOTO_FILE = "grace_hopper.jpg"  # ships with matplotlib (matplotlib.cbook.get_sample_data)


def _side(who: str, size: int) -> int:
    """Validate a square image's side length: a positive int."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"{who}: size must be an int, got {size!r}")
    if size < 2:
        raise ValueError(f"{who}: size must be >= 2 to contain an edge, got {size}")
    return size


def stripes() -> torch.Tensor:
    """The book's 6x8 image: ones, with a black (zero) band in columns 2 to 5 (Section 7.2).

    Its two vertical edges are what the kernel ``[[1, -1]]`` detects.

    Returns:
        A ``(6, 8)`` float32 tensor.
    """
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    return X


def diagonal_edge(size: int = 8) -> torch.Tensor:
    """A 45-degree step edge: ones on and below the main diagonal, zeros above (Section 7.2).

    Used in the exercise that asks what the horizontal and vertical edge kernels make
    of an edge that is neither.

    Args:
        size: side length of the square image (at least 2).

    Returns:
        A ``(size, size)`` float32 tensor, ``X[i, j] = 1`` where ``j <= i``.
    """
    n = _side("diagonal_edge", size)
    return torch.tril(torch.ones((n, n)))


def anti_diagonal_edge(size: int = 8) -> torch.Tensor:
    """The mirror image of :func:`diagonal_edge`: a step edge along the anti-diagonal (Section 7.2).

    Args:
        size: side length of the square image (at least 2).

    Returns:
        A ``(size, size)`` float32 tensor, ``X[i, j] = 1`` where ``i + j >= size - 1``.
    """
    return torch.flip(diagonal_edge(size), dims=(1,)).contiguous()


def diagonal_line(size: int = 8) -> torch.Tensor:
    """A thin diagonal line (the identity matrix as an image), the book's exercise image (Section 7.2).

    Args:
        size: side length of the square image (at least 2).

    Returns:
        A ``(size, size)`` float32 tensor with ones on the main diagonal.
    """
    return torch.eye(_side("diagonal_line", size))


def checkerboard(size: int | tuple[int, int] = 8, square: int = 2) -> torch.Tensor:
    """A checkerboard of ``square`` x ``square`` tiles, starting with a zero tile (Section 7.2).

    Every tile border is an edge, horizontal and vertical at once, which makes it a good
    image for comparing edge kernels and pooling.

    Args:
        size: image side length, or ``(height, width)``.
        square: side length of one tile in pixels.

    Returns:
        A float32 tensor of shape ``(height, width)`` with values 0 and 1.
    """
    h, w = positive_pair("checkerboard", "size", size)
    s, _ = positive_pair("checkerboard", "square", square)
    rows = torch.arange(h).unsqueeze(1) // s  # (h, 1)
    cols = torch.arange(w).unsqueeze(0) // s  # (1, w)
    return ((rows + cols) % 2).to(torch.float32)  # (h, w)


@functools.lru_cache(maxsize=1)
def _photo_gray() -> torch.Tensor:
    """Read the bundled photograph once and convert it to grayscale in [0, 1]."""
    with matplotlib.cbook.get_sample_data(_PHOTO_FILE) as f:
        rgb = matplotlib.image.imread(f, format="jpg")  # (H, W, 3) uint8
    rgb = torch.as_tensor(rgb[..., :3].copy(), dtype=torch.float32) / 255.0
    return (rgb @ torch.tensor(_LUMA)).clamp(0.0, 1.0)  # (H, W); clamp: float rounding of the weights


def photo(size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """A real photograph (Grace Hopper, shipped with matplotlib) as a grayscale image (Section 7.2).

    Real images show what an edge detector finds beyond toy stripes: outlines, texture
    and noise.

    Args:
        size: ``None`` for the original 600x512 pixels, an int for a square image, or
            ``(height, width)``; resizing is bilinear with anti-aliasing.

    Returns:
        A float32 tensor of shape ``(height, width)`` with values in [0, 1].
    """
    X = _photo_gray()
    if size is not None:
        hw = positive_pair("photo", "size", size)
        X = F.interpolate(X[None, None], size=hw, mode="bilinear", align_corners=False,
                          antialias=True)[0, 0]  # (h, w)
        X = X.clamp(0.0, 1.0)  # bilinear filtering can overshoot by rounding error
    return X.clone()
