"""cnncourse.functional against PyTorch's own operators, and the book's printed results."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from cnncourse import functional as cf

FAST = settings(max_examples=25, deadline=None)
DTYPE = torch.float64


def reference_corr2d(X, K):
    """Single-channel cross-correlation through F.conv2d (which is a cross-correlation)."""
    return F.conv2d(X[None, None], K[None, None])[0, 0]


@st.composite
def image_and_kernel(draw, max_side=9):
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    return torch.randn(h, w, generator=g, dtype=DTYPE), torch.randn(kh, kw, generator=g, dtype=DTYPE)


@st.composite
def conv_case(draw):
    """A small F.conv2d call: (X, K, bias, stride, padding, dilation, groups), kernel always fits.

    Padding is a pair, "valid" or "same" (then stride 1: PyTorch refuses it otherwise); X is
    (N, C_in, H, W), or (C_in, H, W) one time in four.
    """
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    n = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["pair", "pair", "valid", "same"]))
    if padding == "pair":
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    elif padding == "same":
        stride = draw(st.sampled_from([(1, 1), 1]))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    pad_h, pad_w = padding if isinstance(padding, tuple) else (0, 0)
    fits = padding == "same"  # "same" pads up to the kernel's span: any input fits
    h = draw(st.integers(1 if fits else max(1, span_h - 2 * pad_h), 8))
    w = draw(st.integers(1 if fits else max(1, span_w - 2 * pad_w), 8))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    X = torch.randn(n, c_in, h, w, generator=g, dtype=DTYPE)
    if draw(st.integers(0, 3)) == 0:
        X = X[0]  # (C_in, H, W): one image without a batch axis
    K = torch.randn(c_out, c_in // groups, kh, kw, generator=g, dtype=DTYPE)
    bias = torch.randn(c_out, generator=g, dtype=DTYPE) if draw(st.booleans()) else None
    return X, K, bias, stride, padding, dilation, groups


# --- single-channel cross-correlation (Section 7.2) ---------------------------------------------

@FAST
@given(image_and_kernel())
def test_corr2d_family_matches_conv2d(case):
    X, K = case
    expected = reference_corr2d(X, K)
    assert_close(cf.corr2d(X, K), expected)
    assert_close(cf.corr2d_fast(X, K), expected)
    assert_close(cf.corr2d_as_matmul(X, K), expected)


@FAST
@given(image_and_kernel(max_side=6))
def test_corr2d_family_gradients_match_conv2d(case):
    X, K = case
    X.requires_grad_()
    K.requires_grad_()
    grad_out = torch.randn(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1, dtype=DTYPE)
    expected = torch.autograd.grad(reference_corr2d(X, K), (X, K), grad_out)
    for fn in (cf.corr2d, cf.corr2d_fast, cf.corr2d_as_matmul):
        assert_close(torch.autograd.grad(fn(X, K), (X, K), grad_out), expected)


def test_corr2d_book_example():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.arange(4.0).reshape(2, 2)
    expected = torch.tensor([[19.0, 25.0], [37.0, 43.0]])
    for fn in (cf.corr2d, cf.corr2d_fast, cf.corr2d_as_matmul):
        assert torch.equal(fn(X, K), expected), fn.__name__


def stripes():
    """The book's 6x8 image: ones with a black band in columns 2..5."""
    X = torch.ones(6, 8)
    X[:, 2:6] = 0
    return X


def test_corr2d_detects_vertical_edges_only():
    K = torch.tensor([[1.0, -1.0]])
    expected = torch.zeros(6, 7)
    expected[:, 1] = 1  # white to black
    expected[:, 5] = -1  # black to white
    for fn in (cf.corr2d, cf.corr2d_fast, cf.corr2d_as_matmul):
        assert torch.equal(fn(stripes(), K), expected), fn.__name__
        assert torch.equal(fn(stripes().t(), K), torch.zeros(8, 5)), fn.__name__


# --- multiple channels (Section 7.4) ------------------------------------------------------------

def book_multi_in():
    X = torch.stack([torch.arange(9.0).reshape(3, 3), torch.arange(1.0, 10.0).reshape(3, 3)])
    K = torch.stack([torch.arange(4.0).reshape(2, 2), torch.arange(1.0, 5.0).reshape(2, 2)])
    return X, K


def test_corr2d_multi_in_book_example():
    X, K = book_multi_in()
    assert torch.equal(cf.corr2d_multi_in(X, K), torch.tensor([[56.0, 72.0], [104.0, 120.0]]))


def test_corr2d_multi_in_out_book_example():
    X, K = book_multi_in()
    K3 = torch.stack([K, K + 1, K + 2])  # (3, 2, 2, 2)
    expected = torch.tensor([
        [[56.0, 72.0], [104.0, 120.0]],
        [[76.0, 100.0], [148.0, 172.0]],
        [[96.0, 128.0], [192.0, 224.0]],
    ])
    assert torch.equal(cf.corr2d_multi_in_out(X, K3), expected)


@FAST
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(2, 6), st.integers(2, 6), st.integers(0, 2**16))
def test_multi_channel_correlations_match_conv2d(c_in, c_out, kh, kw, h, w, seed):
    g = torch.Generator().manual_seed(seed)
    kh, kw = min(kh, h), min(kw, w)
    X = torch.randn(c_in, h, w, generator=g, dtype=DTYPE)
    K = torch.randn(c_out, c_in, kh, kw, generator=g, dtype=DTYPE)
    expected = F.conv2d(X[None], K)[0]  # (C_out, H', W')
    assert_close(cf.corr2d_multi_in_out(X, K), expected)
    assert_close(cf.corr2d_multi_in(X, K[0]), expected[0])
    K1 = K[:, :, :1, :1]
    assert_close(cf.corr2d_multi_in_out_1x1(X, K1), F.conv2d(X[None], K1)[0])
    assert_close(cf.corr2d_multi_in_out_1x1(X, K1[:, :, 0, 0]), cf.corr2d_multi_in_out(X, K1))


# --- batched convolution (Sections 7.3-7.4) -------------------------------------------------------

SAME_EVEN_WARNING = "ignore:Using padding='same' with even kernel lengths"  # PyTorch's, about its speed


@pytest.mark.filterwarnings(SAME_EVEN_WARNING)
@settings(max_examples=60, deadline=None)
@given(conv_case())
def test_conv2d_matches_torch(case):
    X, K, bias, stride, padding, dilation, groups = case
    expected = F.conv2d(X, K, bias, stride, padding, dilation, groups)
    assert_close(cf.conv2d(X, K, bias, stride, padding, dilation, groups), expected)


@pytest.mark.filterwarnings(SAME_EVEN_WARNING)
@FAST
@given(conv_case())
def test_conv2d_gradients_match_torch(case):
    X, K, bias, stride, padding, dilation, groups = case
    inputs = [t.requires_grad_() for t in (X, K, bias) if t is not None]
    expected_out = F.conv2d(X, K, bias, stride, padding, dilation, groups)
    grad_out = torch.randn_like(expected_out)
    expected = torch.autograd.grad(expected_out, inputs, grad_out)
    ours = cf.conv2d(X, K, bias, stride, padding, dilation, groups)
    assert_close(torch.autograd.grad(ours, inputs, grad_out), expected)


def test_conv2d_passes_gradcheck():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(2, 2, 4, 5, dtype=DTYPE, generator=g, requires_grad=True)
    K = torch.randn(4, 1, 2, 3, dtype=DTYPE, generator=g, requires_grad=True)
    bias = torch.randn(4, dtype=DTYPE, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x, k, b: cf.conv2d(x, k, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
        (X, K, bias),
        fast_mode=True,
    )


def test_conv2d_splits_large_batches_into_chunks():
    """A batch larger than one im2col chunk is processed piecewise; the pieces must line up."""
    g = torch.Generator().manual_seed(1)
    X = torch.randn(12, 8, 32, 32, generator=g)
    K = torch.randn(16, 8, 3, 3, generator=g)
    assert_close(cf.conv2d(X, K, padding=1), F.conv2d(X, K, padding=1), rtol=1e-4, atol=1e-4)


# --- pooling (Section 7.5) -----------------------------------------------------------------------

def test_pool2d_book_examples():
    X = torch.arange(9.0).reshape(3, 3)
    assert torch.equal(cf.pool2d(X, (2, 2)), torch.tensor([[4.0, 5.0], [7.0, 8.0]]))
    assert torch.equal(cf.pool2d(X, 2, "avg"), torch.tensor([[2.0, 3.0], [5.0, 6.0]]))


@st.composite
def pool_case(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    h = draw(st.integers(max(1, kh - 2 * padding[0]), 7))
    w = draw(st.integers(max(1, kw - 2 * padding[1]), 7))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    X = torch.randn(draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w, generator=g, dtype=DTYPE)
    return X, (kh, kw), stride, padding


@FAST
@given(pool_case())
def test_pool2d_matches_torch(case):
    X, kernel, stride, padding = case
    assert_close(cf.pool2d(X[0, 0], kernel, "max", stride, padding),
                 F.max_pool2d(X, kernel, stride, padding)[0, 0])
    assert_close(cf.pool2d(X[0, 0], kernel, "avg", stride, padding),
                 F.avg_pool2d(X, kernel, stride, padding, count_include_pad=True)[0, 0])


@FAST
@given(pool_case(), st.booleans())
def test_pool2d_batched_matches_torch_with_gradients(case, default_stride):
    X, kernel, stride, padding = case
    stride = None if default_stride else stride
    X.requires_grad_()
    for mode, reference in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
        expected = reference(X, kernel, stride, padding)
        ours = cf.pool2d_batched(X, kernel, mode, stride, padding)
        assert_close(ours, expected)
        grad_out = torch.randn_like(expected)  # random X has no ties, so max has one winner
        assert_close(torch.autograd.grad(ours, X, grad_out), torch.autograd.grad(expected, X, grad_out))


# --- batch normalization (Section 8.5) -----------------------------------------------------------

@FAST
@given(st.sampled_from([(5, 3), (4, 2, 3, 3), (2, 3, 1, 2)]), st.booleans(),
       st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_batch_norm_matches_torch(shape, training, momentum, seed):
    g = torch.Generator().manual_seed(seed)
    c = shape[1]
    X = torch.randn(*shape, generator=g, dtype=DTYPE, requires_grad=True)
    gamma = torch.randn(c, generator=g, dtype=DTYPE, requires_grad=True)
    beta = torch.randn(c, generator=g, dtype=DTYPE, requires_grad=True)
    mean, var = torch.randn(c, generator=g, dtype=DTYPE), torch.rand(c, generator=g, dtype=DTYPE) + 0.5
    torch_mean, torch_var = mean.clone(), var.clone()  # F.batch_norm updates these in place
    expected = F.batch_norm(X, torch_mean, torch_var, gamma, beta, training, momentum, 1e-5)
    Y, new_mean, new_var = cf.batch_norm(X, gamma, beta, mean, var, training, momentum, 1e-5)
    assert_close(Y, expected)
    assert_close((new_mean, new_var), (torch_mean, torch_var))
    grad_out = torch.randn_like(Y)
    assert_close(torch.autograd.grad(Y, (X, gamma, beta), grad_out),
                 torch.autograd.grad(expected, (X, gamma, beta), grad_out))


def test_batch_norm_is_pure_and_ignores_grad_mode():
    X = torch.randn(8, 3)
    mean, var = torch.zeros(3), torch.ones(3)
    with torch.no_grad():
        Y, new_mean, new_var = cf.batch_norm(X, torch.ones(3), torch.zeros(3), mean, var, training=True)
    assert torch.equal(mean, torch.zeros(3)) and torch.equal(var, torch.ones(3))  # inputs untouched
    assert_close(Y.mean(0), torch.zeros(3), atol=1e-6, rtol=0)  # batch statistics used under no_grad
    assert_close(new_mean, 0.1 * X.mean(0))
    assert_close(new_var, 0.9 + 0.1 * X.var(0, unbiased=True))


# --- validation ----------------------------------------------------------------------------------

X2, K2 = torch.zeros(4, 5), torch.zeros(2, 2)
X4, K4 = torch.zeros(1, 4, 6, 6), torch.zeros(4, 4, 3, 3)
BAD_CALLS = [
    (lambda: cf.corr2d([[1.0]], K2), TypeError, r"corr2d: X must be a torch.Tensor, got list"),
    (lambda: cf.corr2d_fast(torch.zeros(1, 4, 5), K2), ValueError, r"corr2d_fast: X must be 2-D \(H, W\)"),
    (lambda: cf.corr2d(X2.long(), K2), TypeError, r"corr2d: X must be a floating-point tensor.*int64"),
    (lambda: cf.corr2d_as_matmul(X2, K2.double()), TypeError, r"corr2d_as_matmul: K must have .*float32"),
    (lambda: cf.corr2d(torch.zeros(2, 5), torch.zeros(3, 3)), ValueError,
     r"corr2d: kernel \(3, 3\) is larger than input \(2, 5\); pad the input"),
    (lambda: cf.corr2d_as_matmul(torch.zeros(200, 200), K2), ValueError, r"use corr2d_fast"),
    (lambda: cf.corr2d_multi_in(torch.zeros(2, 3, 3), torch.zeros(3, 2, 2)), ValueError,
     r"corr2d_multi_in: K.shape\[0\] must equal the input's 2 channels, got 3"),
    (lambda: cf.corr2d_multi_in_out(torch.zeros(2, 3, 3), torch.zeros(2, 2, 2)), ValueError,
     r"corr2d_multi_in_out: K must be 4-D"),
    (lambda: cf.corr2d_multi_in_out_1x1(torch.zeros(2, 3, 3), torch.zeros(4, 2, 3, 3)), ValueError,
     r"corr2d_multi_in_out_1x1: K must be a 1x1 kernel"),
    (lambda: cf.conv2d(X4[0, 0], K4), ValueError,
     r"conv2d: X must be 3-D or 4-D \(N, C_in, H, W\) or \(C_in, H, W\), got a 2-D"),
    (lambda: cf.conv2d(X4, K4, stride=0), ValueError, r"conv2d: stride must be >= 1"),
    (lambda: cf.conv2d(X4, K4, dilation=(1, 0)), ValueError, r"conv2d: dilation must be >= 1"),
    (lambda: cf.conv2d(X4, K4, padding=-1), ValueError, r"conv2d: padding must be >= 0"),
    (lambda: cf.conv2d(X4, K4, stride=1.5), TypeError, r"conv2d: stride must be an int or a pair"),
    (lambda: cf.conv2d(X4, torch.zeros(4, 2, 3, 3), groups=3), ValueError,
     r"conv2d: groups=3 must divide in_channels=4"),
    (lambda: cf.conv2d(X4, torch.zeros(6, 2, 3, 3), groups=4), ValueError,
     r"conv2d: groups=4 must divide out_channels=6"),
    (lambda: cf.conv2d(X4, torch.zeros(4, 3, 3, 3)), ValueError,
     r"conv2d: K.shape\[1\] must be in_channels / groups = 4 / 1 = 4, got 3"),
    (lambda: cf.conv2d(X4, torch.zeros(4, 4, 7, 3)), ValueError,
     r"conv2d: kernel \(7, 3\) with dilation \(1, 1\) spans 7 pixels, more than the padded input's 6"),
    (lambda: cf.conv2d(X4, torch.zeros(4, 4, 3, 3), dilation=3), ValueError, r"spans 7 pixels"),
    (lambda: cf.conv2d(X4, K4, bias=torch.zeros(3)), ValueError, r"conv2d: bias must have C_out = 4"),
    (lambda: cf.pool2d(X2, 2, mode="min"), ValueError, r"pool2d: mode must be 'max' or 'avg', got 'min'"),
    (lambda: cf.pool2d(X2, 2, padding=2), ValueError, r"pool2d: padding \(2, 2\) must be at most half"),
    (lambda: cf.pool2d(X2, 6), ValueError, r"pool2d: kernel \(6, 6\) .* more than the padded input's 4"),
    (lambda: cf.pool2d_batched(X2, 2), ValueError,
     r"pool2d_batched: X must be 3-D or 4-D \(N, C, H, W\) or \(C, H, W\), got a 2-D"),
    (lambda: cf.pool2d_batched(X4, 3, stride=0), ValueError, r"pool2d_batched: stride must be >= 1"),
    (lambda: cf.pool2d_batched(X4, (1, 3), padding=1), ValueError,
     r"pool2d_batched: padding \(1, 1\) must be at most half the kernel_size \(1, 3\)"),
    (lambda: cf.batch_norm(torch.zeros(4, 3, 2), torch.ones(3), torch.zeros(3), torch.zeros(3),
                           torch.ones(3), True), ValueError, r"batch_norm: X must be 2-D or 4-D"),
    (lambda: cf.batch_norm(torch.zeros(4, 3), torch.ones(1, 3), torch.zeros(3), torch.zeros(3),
                           torch.ones(3), True), ValueError, r"batch_norm: gamma must be 1-D \(C,\)"),
    (lambda: cf.batch_norm(torch.zeros(4, 3), torch.ones(2), torch.zeros(3), torch.zeros(3),
                           torch.ones(3), True), ValueError,
     r"batch_norm: gamma must have one entry per channel, shape \(3,\), got \(2,\)"),
    (lambda: cf.batch_norm(torch.zeros(4, 3), torch.ones(3), torch.zeros(3), torch.zeros(3),
                           torch.ones(3), training=1), TypeError, r"batch_norm: training must be a bool"),
    (lambda: cf.batch_norm(torch.zeros(1, 3), torch.ones(3), torch.zeros(3), torch.zeros(3),
                           torch.ones(3), True), ValueError, r"batch_norm: training needs more than one"),
    (lambda: cf.batch_norm(torch.zeros(4, 3), torch.ones(3), torch.zeros(3), torch.zeros(3),
                           torch.ones(3), True, momentum=1.5), ValueError, r"momentum must be in \[0, 1\]"),
    (lambda: cf.corr2d(torch.zeros(3, 3), torch.zeros(0, 2)), ValueError,
     r"corr2d: kernel must be at least 1x1, got shape \(0, 2\)"),
    (lambda: cf.corr2d_as_matmul(torch.zeros(3, 3), torch.zeros(2, 0)), ValueError,
     r"corr2d_as_matmul: kernel must be at least 1x1, got shape \(2, 0\)"),
    (lambda: cf.corr2d_fast(torch.zeros(3, 3), torch.zeros(0, 2)), ValueError,
     r"corr2d_fast: kernel must be at least 1x1"),
    (lambda: cf.corr2d_multi_in_out(torch.zeros(1, 3, 3), torch.zeros(1, 1, 2, 0)), ValueError,
     r"corr2d_multi_in_out: kernel must be at least 1x1"),
    (lambda: cf.conv2d(X4, torch.zeros(4, 4, 0, 3)), ValueError,
     r"conv2d: kernel must be at least 1x1, got shape \(0, 3\)"),
    (lambda: cf.conv2d(X4, K4, groups=1.5), TypeError, r"conv2d: groups must be a positive int, got 1.5"),
    (lambda: cf.conv2d(X4, K4, groups="1"), TypeError, r"conv2d: groups must be a positive int, got '1'"),
    (lambda: cf.conv2d(X4, K4, groups=0), ValueError, r"conv2d: groups must be >= 1, got 0"),
    (lambda: cf.batch_norm(torch.zeros(4, 3), torch.ones(3), torch.zeros(3), torch.zeros(3),
                           torch.ones(3), True, momentum="0.1"), TypeError,
     r"batch_norm: momentum must be a number in \[0, 1\], got '0.1'"),
    (lambda: cf.batch_norm(torch.zeros(4, 3), torch.ones(3), torch.zeros(3), torch.zeros(3),
                           torch.ones(3), True, eps=None), TypeError,
     r"batch_norm: eps must be a number > 0, got None"),
    (lambda: cf.batch_norm(torch.zeros(4, 3), torch.ones(3), torch.zeros(3), torch.zeros(3),
                           torch.ones(3), True, eps=float("nan")), ValueError,
     r"batch_norm: eps must be > 0, got nan"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_CALLS, ids=[m for _, _, m in BAD_CALLS])
def test_bad_input_raises_helpful_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- PyTorch's options: what nn.Conv2d, MaxPool2d, AvgPool2d and BatchNorm2d accept ------------

@pytest.mark.filterwarnings(SAME_EVEN_WARNING)
def test_conv2d_same_padding_puts_the_extra_zero_at_the_end():
    """An even kernel needs an odd number of zeros; PyTorch puts the extra one at the bottom/right."""
    g = torch.Generator().manual_seed(3)
    X = torch.randn(2, 3, 5, 6, generator=g, dtype=DTYPE)
    K = torch.randn(4, 3, 2, 4, generator=g, dtype=DTYPE)
    expected = F.conv2d(X, K, padding="same")
    assert expected.shape[2:] == X.shape[2:]
    assert_close(cf.conv2d(X, K, padding="same"), expected)
    assert_close(cf.conv2d(F.pad(X, (1, 2, 0, 1)), K), expected)  # (left, right, top, bottom)
    assert_close(cf.conv2d(X, K, padding="valid"), F.conv2d(X, K, padding="valid"))


@st.composite
def pool_geometry(draw, max_side):
    """(kernel, stride, padding, h, w) PyTorch's max pooling accepts: padding at most half the kernel."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    h = draw(st.integers(max(1, kh - 2 * padding[0]), max_side))
    w = draw(st.integers(max(1, kw - 2 * padding[1]), max_side))
    return (kh, kw), stride, padding, h, w


@st.composite
def tied_batch(draw, max_side=6):
    """(X, kernel, stride, padding): few distinct values, so windows tie; sometimes NaN or -inf."""
    (kh, kw), stride, padding, h, w = draw(pool_geometry(max_side))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    X = torch.randint(-2, 3, (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w), generator=g).to(DTYPE)
    special = draw(st.sampled_from([None, float("nan"), float("-inf")]))
    if special is not None:
        X[torch.rand(X.shape, generator=g) < draw(st.sampled_from([0.3, 0.7]))] = special
    return X, (kh, kw), stride, padding


def test_max_pool_indices_follow_torch_on_ties_nan_and_padding():
    """First maximum in row-major order, last NaN, never a padding cell (a window of -inf)."""
    nan, inf = float("nan"), float("-inf")
    ties_and_nan = [[1.0, 3.0, 3.0, nan], [3.0, 0.0, nan, nan], [nan, 2.0, 1.0, 2.0], [inf, inf, 2.0, 2.0]]
    minus_inf_corner = [[inf, inf, inf, 0.0], [inf, inf, inf, 0.0], [0.0] * 4, [0.0] * 4]
    X = torch.tensor([[ties_and_nan, minus_inf_corner]], dtype=DTYPE)  # (1, 2, 4, 4)
    for kernel, stride, padding in ((2, 1, 0), (2, 1, 1), (3, 1, 1), ((2, 3), (1, 2), (1, 1))):
        values, indices = F.max_pool2d(X, kernel, stride, padding, return_indices=True)
        ours, our_indices = cf.pool2d_batched(X, kernel, "max", stride, padding, return_indices=True)
        assert_close(ours, values, equal_nan=True)
        assert torch.equal(our_indices, indices), (kernel, stride, padding)


@settings(max_examples=60, deadline=None)
@given(tied_batch(), st.booleans(), st.booleans())
def test_max_pool_return_indices_matches_torch(case, unbatched, default_stride):
    """Values and indices equal F.max_pool2d's, ties, NaN and -inf included; so do the gradients."""
    X, kernel, stride, padding = case
    stride = None if default_stride else stride
    X = (X[0] if unbatched else X).requires_grad_()
    values, indices = F.max_pool2d(X, kernel, stride, padding, return_indices=True)
    ours, our_indices = cf.pool2d_batched(X, kernel, "max", stride, padding, return_indices=True)
    assert_close(ours, values, equal_nan=True)
    assert our_indices.dtype == indices.dtype and torch.equal(our_indices, indices)
    assert_close(cf.pool2d_batched(X, kernel, "max", stride, padding), values, equal_nan=True)
    if not X.isnan().any():  # the gradient goes to the pixel the index names, one per window
        grad_out = torch.randn_like(values)
        assert_close(torch.autograd.grad(ours, X, grad_out), torch.autograd.grad(values, X, grad_out))


@st.composite
def tie_heavy_batch(draw, max_side=7):
    """(X, kernel, stride, padding) with tied maxima in most windows: a ReLU's zeros or small ints."""
    (kh, kw), stride, padding, h, w = draw(pool_geometry(max_side))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    if draw(st.booleans()):
        X = torch.relu(torch.randn(shape, generator=g, dtype=DTYPE) - 0.5)  # about 70% exact zeros
    else:
        X = torch.randint(0, draw(st.integers(1, 3)), shape, generator=g).to(DTYPE)  # 0, 1 or 2
    return X, (kh, kw), stride, padding


def test_max_pool_gradient_of_a_tie_goes_to_the_first_pixel_only():
    """A 2x2 window of four zeros: PyTorch sends the whole gradient to (0, 0), not 1/4 to each."""
    X = torch.zeros(1, 1, 2, 2, dtype=DTYPE, requires_grad=True)
    expected = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]], dtype=DTYPE)
    (theirs,) = torch.autograd.grad(F.max_pool2d(X, 2), X)
    assert torch.equal(theirs, expected)
    assert torch.equal(torch.autograd.grad(cf.pool2d_batched(X, 2), X)[0], expected)
    assert torch.equal(torch.autograd.grad(cf.pool2d(X[0, 0], 2).sum(), X)[0], expected)


@settings(max_examples=80, deadline=None)
@given(tie_heavy_batch(), st.booleans(), st.booleans())
def test_max_pool_gradient_with_ties_matches_torch(case, unbatched, default_stride):
    """Without return_indices too, each window's gradient reaches the one pixel F.max_pool2d picks."""
    X, kernel, stride, padding = case
    X.requires_grad_()
    image = X[0] if unbatched else X  # (C, H, W) or (N, C, H, W)
    step = None if default_stride else stride
    expected = F.max_pool2d(image, kernel, step, padding)
    ours = cf.pool2d_batched(image, kernel, "max", step, padding)
    assert torch.equal(ours, expected)
    grad_out = torch.randn_like(expected)
    assert_close(torch.autograd.grad(ours, X, grad_out), torch.autograd.grad(expected, X, grad_out))
    # The teaching pool2d (one map; its stride defaults to 1, so it is always given) agrees too.
    expected = F.max_pool2d(X[0, :1], kernel, stride, padding)[0]  # (H', W')
    ours = cf.pool2d(X[0, 0], kernel, "max", stride, padding)
    assert torch.equal(ours, expected)
    grad_out = torch.randn_like(expected)
    assert_close(torch.autograd.grad(ours, X, grad_out), torch.autograd.grad(expected, X, grad_out))


@FAST
@given(pool_case(), st.integers(-5, 5).filter(bool), st.booleans())
def test_avg_pool_divisor_override_matches_torch(case, divisor, unbatched):
    X, kernel, stride, padding = case
    X = (X[0] if unbatched else X).requires_grad_()
    expected = F.avg_pool2d(X, kernel, stride, padding, divisor_override=divisor)
    ours = cf.pool2d_batched(X, kernel, "avg", stride, padding, divisor_override=divisor)
    assert_close(ours, expected)
    grad_out = torch.randn_like(expected)
    assert_close(torch.autograd.grad(ours, X, grad_out), torch.autograd.grad(expected, X, grad_out))


@FAST
@given(pool_case())
def test_pool2d_batched_takes_one_image_without_batch_axis(case):
    X, kernel, stride, padding = case
    image = X[0]  # (C, H, W)
    assert_close(cf.pool2d_batched(image, kernel, "max", stride, padding),
                 F.max_pool2d(image, kernel, stride, padding))
    assert_close(cf.pool2d_batched(image, kernel, "avg", stride, padding),
                 F.avg_pool2d(image, kernel, stride, padding))


@FAST
@given(st.sampled_from([(5, 3), (4, 2, 3, 3), (0, 3, 2, 2), (2, 3, 0, 2), (0, 3)]), st.booleans(),
       st.booleans(), st.booleans(), st.booleans(), st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_batch_norm_optional_tensors_and_empty_batches_match_torch(shape, scale, shift, tracking,
                                                                   training, momentum, seed):
    """gamma/beta None (affine=False), no running statistics (training only), empty batches."""
    training = training or not tracking  # F.batch_norm refuses evaluation without running stats
    g = torch.Generator().manual_seed(seed)
    c = shape[1]
    X = torch.randn(*shape, generator=g, dtype=DTYPE, requires_grad=True)
    gamma = torch.randn(c, generator=g, dtype=DTYPE, requires_grad=True) if scale else None
    beta = torch.randn(c, generator=g, dtype=DTYPE, requires_grad=True) if shift else None
    mean = torch.randn(c, generator=g, dtype=DTYPE) if tracking else None
    var = torch.rand(c, generator=g, dtype=DTYPE) + 0.5 if tracking else None
    torch_mean, torch_var = (mean.clone(), var.clone()) if tracking else (None, None)
    expected = F.batch_norm(X, torch_mean, torch_var, gamma, beta, training, momentum, 1e-5)
    Y, new_mean, new_var = cf.batch_norm(X, gamma, beta, mean, var, training, momentum, 1e-5)
    assert_close(Y, expected)
    assert_close((new_mean, new_var), (torch_mean, torch_var))
    inputs = [t for t in (X, gamma, beta) if t is not None]
    if X.numel():
        grad_out = torch.randn_like(Y)
        expected_grads = torch.autograd.grad(expected, inputs, grad_out)
        assert_close(torch.autograd.grad(Y, inputs, grad_out), expected_grads)


X3, K3 = torch.zeros(2, 3, 5, 5), torch.zeros(4, 3, 2, 2)
STATS = (torch.zeros(3), torch.ones(3))
# (PyTorch's call, ours, our error, our message): PyTorch refuses each, and so must we, clearly.
REFUSED_LIKE_TORCH = [
    (lambda: F.conv2d(X3, K3, padding="same", stride=2), lambda: cf.conv2d(X3, K3, padding="same", stride=2),
     ValueError, r"conv2d: padding='same' needs stride 1, got stride \(2, 2\); PyTorch refuses"),
    (lambda: F.conv2d(X3, K3, padding="same", stride=(1, 2)),
     lambda: cf.conv2d(X3, K3, padding="same", stride=(1, 2)), ValueError, r"got stride \(1, 2\)"),
    (lambda: F.conv2d(X3, K3, padding="SAME"), lambda: cf.conv2d(X3, K3, padding="SAME"), ValueError,
     r"conv2d: padding must be 'same', 'valid', an int or a pair of ints, got 'SAME'"),
    (lambda: F.conv2d(X3, K3, padding=1.5), lambda: cf.conv2d(X3, K3, padding=1.5), TypeError,
     r"conv2d: padding must be 'same', 'valid', an int or a pair of ints \(h, w\), got 1.5"),
    (lambda: F.conv2d(X3, torch.zeros(4, 3, 6, 2), padding="valid"),
     lambda: cf.conv2d(X3, torch.zeros(4, 3, 6, 2), padding="valid"), ValueError,
     r"conv2d: kernel \(6, 2\) with dilation \(1, 1\) spans 6 pixels, more than the padded input's 5"),
    (lambda: F.max_pool2d(X3, 2, padding="same"), lambda: cf.pool2d_batched(X3, 2, padding="same"),
     TypeError, r"pool2d_batched: padding must be an int or a pair of ints \(h, w\), got 'same'"),
    (lambda: F.max_pool2d(X3[0, 0], 2), lambda: cf.pool2d_batched(X3[0, 0], 2), ValueError,
     r"pool2d_batched: X must be 3-D or 4-D"),
    (lambda: F.avg_pool2d(X3, 2, divisor_override=0),
     lambda: cf.pool2d_batched(X3, 2, "avg", divisor_override=0), ValueError,
     r"pool2d_batched: divisor_override must not be 0, got 0"),
    (lambda: F.avg_pool2d(X3, 2, divisor_override=1.5),
     lambda: cf.pool2d_batched(X3, 2, "avg", divisor_override=1.5), TypeError,
     r"pool2d_batched: divisor_override must be an int, got 1.5 \(float\)"),
    (lambda: F.avg_pool2d(X3, 2, divisor_override=True),
     lambda: cf.pool2d_batched(X3, 2, "avg", divisor_override=True), TypeError,
     r"pool2d_batched: divisor_override must be an int, got True \(bool\)"),
    (lambda: F.max_pool2d(X3, 2, divisor_override=2), lambda: cf.pool2d_batched(X3, 2, divisor_override=2),
     ValueError, r"pool2d_batched: divisor_override is for mode='avg' only, got mode='max'"),
    (lambda: F.avg_pool2d(X3, 2, return_indices=True),
     lambda: cf.pool2d_batched(X3, 2, "avg", return_indices=True), ValueError,
     r"pool2d_batched: return_indices is for mode='max' only, got mode='avg'"),
    (lambda: F.batch_norm(X3, None, None, training=False),
     lambda: cf.batch_norm(X3, None, None, None, None, training=False), ValueError,
     r"batch_norm: training=False normalises with the running statistics, but running_mean and "
     r"running_var are None"),
    (lambda: F.batch_norm(X3, STATS[0], None, training=True),
     lambda: cf.batch_norm(X3, None, None, STATS[0], None, training=True), ValueError,
     r"batch_norm: running_mean and running_var must both be tensors or both be None"),
    (lambda: F.batch_norm(X3[:1, :, :1, :1], *STATS, training=True),
     lambda: cf.batch_norm(X3[:1, :, :1, :1], None, None, *STATS, training=True), ValueError,
     r"batch_norm: training needs more than one value per channel"),
    (lambda: F.batch_norm(X3, *STATS, training=True, momentum=None),
     lambda: cf.batch_norm(X3, None, None, *STATS, training=True, momentum=None), TypeError,
     r"batch_norm: momentum must be a number in \[0, 1\], got None; the cumulative average"),
]


@pytest.mark.parametrize(("theirs", "ours", "error", "message"), REFUSED_LIKE_TORCH,
                         ids=[m for *_, m in REFUSED_LIKE_TORCH])
def test_what_torch_refuses_we_refuse_with_a_clear_message(theirs, ours, error, message):
    with pytest.raises((RuntimeError, TypeError, ValueError)):
        theirs()
    with pytest.raises(error, match=message):
        ours()


def test_pool2d_batched_return_indices_must_be_a_bool():
    message = r"pool2d_batched: return_indices must be True or False, got 1 \(int\)"
    with pytest.raises(TypeError, match=message):
        cf.pool2d_batched(X3, 2, return_indices=1)
