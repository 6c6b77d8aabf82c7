"""Pure tensor operations of Chapters 7-8: cross-correlation, convolution, pooling, batch norm.

The code lives in small private modules, one concept each, and is re-exported here:
``_corr`` (Sections 7.2, 7.4), ``_conv`` (7.3-7.4), ``_pool`` (7.5), ``_shapes`` (7.3) and
``_norm`` (8.5).
"""

from cnncourse._conv import conv2d
from cnncourse._corr import (
    corr2d,
    corr2d_as_matmul,
    corr2d_fast,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
)
from cnncourse._norm import batch_norm
from cnncourse._pool import pool2d, pool2d_batched
from cnncourse._shapes import conv_output_shape, conv_transpose_output_shape

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
