"""conv_output_shape and conv_transpose_output_shape against real nn.Conv2d / nn.ConvTranspose2d."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnncourse.functional import conv_output_shape, conv_transpose_output_shape

FAST = settings(max_examples=40, deadline=None)
sides = st.tuples(st.integers(1, 9), st.integers(1, 9))
kernels = st.tuples(st.integers(1, 4), st.integers(1, 4))
steps = st.tuples(st.integers(1, 3), st.integers(1, 3))
pads = st.tuples(st.integers(0, 2), st.integers(0, 2))


def as_arg(pair, draw_int):
    """Pass a square pair as a plain int half of the time, to cover both spellings."""
    return pair[0] if draw_int and pair[0] == pair[1] else pair


@FAST
@given(sides, kernels, steps, pads, steps, st.booleans())
def test_conv_output_shape_matches_conv2d(size, kernel, stride, padding, dilation, ints):
    layer = nn.Conv2d(1, 1, kernel, stride, padding, dilation, bias=False)
    args = [as_arg(p, ints) for p in (size, kernel, stride, padding, dilation)]
    try:
        expected = tuple(layer(torch.zeros(1, 1, *size)).shape[2:])
    except RuntimeError:
        with pytest.raises(ValueError, match=r"conv_output_shape: kernel .* spans \d+ pixels"):
            conv_output_shape(*args)
        return
    assert conv_output_shape(*args) == expected


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@FAST
@given(sides, kernels, st.one_of(steps, st.just(1)), st.sampled_from(["same", "valid"]), steps)
def test_conv_output_shape_takes_padding_strings_like_conv2d(size, kernel, stride, padding, dilation):
    """"valid" is no padding; "same" keeps the input size and, like nn.Conv2d, refuses a stride > 1."""
    try:
        layer = nn.Conv2d(1, 1, kernel, stride, padding, dilation, bias=False)
        expected = tuple(layer(torch.zeros(1, 1, *size)).shape[2:])
    except ValueError:  # nn.Conv2d refuses "same" with a stride: so must we
        with pytest.raises(ValueError, match=r"conv_output_shape: padding='same' needs stride 1, got stride"):
            conv_output_shape(size, kernel, stride, padding, dilation)
        return
    except RuntimeError:  # "valid" and a kernel larger than the input
        with pytest.raises(ValueError, match=r"conv_output_shape: kernel .* spans \d+ pixels"):
            conv_output_shape(size, kernel, stride, padding, dilation)
        return
    assert conv_output_shape(size, kernel, stride, padding, dilation) == expected


@FAST
@given(sides, kernels, steps, pads, pads, steps, st.booleans())
def test_conv_transpose_output_shape_matches_conv_transpose2d(size, kernel, stride, padding,
                                                              output_padding, dilation, ints):
    args = [as_arg(p, ints) for p in (size, kernel, stride, padding, output_padding, dilation)]
    try:
        layer = nn.ConvTranspose2d(1, 1, kernel, stride, padding, output_padding, dilation=dilation,
                                   bias=False)
        expected = tuple(layer(torch.zeros(1, 1, *size)).shape[2:])
    except (RuntimeError, ValueError):
        with pytest.raises(ValueError, match=r"conv_transpose_output_shape: (output_padding|padding)"):
            conv_transpose_output_shape(*args)
        return
    assert conv_transpose_output_shape(*args) == expected


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(kernel_size=3, padding=1), (8, 8)),
        (dict(kernel_size=(5, 3), padding=(2, 1)), (8, 8)),
        (dict(kernel_size=3, padding=1, stride=2), (4, 4)),
        (dict(kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)), (2, 2)),
    ],
    ids=["3x3-pad1", "5x3-pad2x1", "stride2", "3x5-stride3x4"],
)
def test_conv_output_shape_book_examples(kwargs, expected):
    """Section 7.3's 8x8 examples."""
    assert conv_output_shape(8, **kwargs) == expected


def test_conv_transpose_output_shape_undoes_a_strided_conv():
    """A stride-2 conv maps 7 and 8 to 4; output_padding picks which one the transpose returns."""
    assert conv_output_shape(8, 3, 2, 1) == conv_output_shape(7, 3, 2, 1) == (4, 4)
    assert conv_transpose_output_shape(4, 3, 2, 1) == (7, 7)
    assert conv_transpose_output_shape(4, 3, 2, 1, output_padding=1) == (8, 8)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: conv_output_shape(4, 5), ValueError,
         r"kernel \(5, 5\) with dilation \(1, 1\) spans 5 pixels, more than the padded input's 4"),
        (lambda: conv_output_shape((4, 9), 3, dilation=(2, 1)), ValueError, r"spans 5 pixels, .* 4"),
        (lambda: conv_output_shape(8, 3, stride=0), ValueError, r"stride must be >= 1"),
        (lambda: conv_output_shape(8, 3, padding=(0, -1)), ValueError, r"padding must be >= 0"),
        (lambda: conv_output_shape(0, 3), ValueError, r"input_size must be >= 1"),
        (lambda: conv_output_shape(8, (3, 3, 3)), TypeError, r"kernel_size must be an int or a pair"),
        (lambda: conv_output_shape(8.0, 3), TypeError, r"input_size must be an int or a pair"),
        (lambda: conv_transpose_output_shape(4, 3, stride=2, output_padding=2), ValueError,
         r"output_padding \(2, 2\) must be smaller than either stride \(2, 2\) or dilation \(1, 1\)"),
        (lambda: conv_transpose_output_shape(4, 3, output_padding=(0, 1)), ValueError,
         r"PyTorch's rule"),
        (lambda: conv_transpose_output_shape(1, 1, padding=1), ValueError,
         r"padding \(1, 1\) removes every output pixel"),
        (lambda: conv_output_shape(8, 3, stride=(2, 1), padding="same"), ValueError,
         r"conv_output_shape: padding='same' needs stride 1, got stride \(2, 1\); PyTorch refuses"),
        (lambda: conv_output_shape(8, 3, padding="full"), ValueError,
         r"conv_output_shape: padding must be 'same', 'valid', an int or a pair of ints, got 'full'"),
        (lambda: conv_output_shape(8, 3, padding=None), TypeError,
         r"conv_output_shape: padding must be 'same', 'valid', an int or a pair of ints \(h, w\), got None"),
    ],
    ids=["kernel-too-big", "dilated-too-big", "stride-0", "negative-padding", "empty-input",
         "triple-kernel", "float-size", "output-padding-2", "output-padding-stride-1", "padding-eats-all",
         "same-strided", "unknown-padding-string", "padding-none"],
)
def test_shape_errors_explain_the_numbers(call, error, message):
    with pytest.raises(error, match=message):
        call()
