"""Pure tensor operations of Chapters 7-8, one public module per concept (Sections 7.2-7.5, 8.5).

- :mod:`~cnncourse.functional.cross_correlation`: ``corr2d`` and its vectorised, matrix and
  multi-channel versions (Sections 7.2, 7.4).
- :mod:`~cnncourse.functional.convolution`: ``conv2d``, batched and strided, built on im2col (7.3-7.4).
- :mod:`~cnncourse.functional.pooling`: ``pool2d`` and ``pool2d_batched`` (7.5).
- :mod:`~cnncourse.functional.normalization`: ``batch_norm`` as a pure function (8.5).
- :mod:`~cnncourse.functional.shapes`: output-size arithmetic (7.3, and 14.10 for transposed).

Every name below is importable from here: ``from cnncourse import functional as ops``.
"""

from cnncourse.functional.convolution import conv2d
from cnncourse.functional.cross_correlation import (
    corr2d,
    corr2d_as_matmul,
    corr2d_fast,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
)
from cnncourse.functional.normalization import batch_norm
from cnncourse.functional.pooling import pool2d, pool2d_batched
from cnncourse.functional.shapes import conv_output_shape, conv_transpose_output_shape

__all__ = [
    "corr2d",
    "corr2d_fast",
    "corr2d_as_matmul",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "conv2d",
    "pool2d",
    "pool2d_batched",
    "conv_output_shape",
    "conv_transpose_output_shape",
    "batch_norm",
]
