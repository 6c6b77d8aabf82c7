"""cnncourse.layers: the from-scratch Conv2D and BatchNorm against PyTorch's modules."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.testing import assert_close

from cnncourse.functional import corr2d
from cnncourse.images import stripes
from cnncourse.layers import BatchNorm, Conv2D


def test_conv2d_layer_output_shape_and_value():
    layer = Conv2D((2, 3))
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (1,)
    with torch.no_grad():
        layer.bias.fill_(0.5)
    X = torch.randn(6, 8)
    Y = layer(X)
    assert Y.shape == (5, 6)
    assert_close(Y, F.conv2d(X[None, None], layer.weight[None, None])[0, 0] + 0.5)


def test_conv2d_layer_every_parameter_gets_the_right_gradient():
    layer = Conv2D(3)
    X = torch.randn(5, 7)
    layer(X).square().sum().backward()
    weight = layer.weight.detach().clone().requires_grad_()
    bias = layer.bias.detach().clone().requires_grad_()
    (F.conv2d(X[None, None], weight[None, None], bias)[0, 0].square().sum()).backward()
    assert_close(layer.weight.grad, weight.grad)
    assert_close(layer.bias.grad, bias.grad)


def test_conv2d_layer_learns_edge_kernel():
    """Book, Section 7.2: ten steps of gradient descent (lr 3e-2) on the kernel recover K = [1, -1].

    As in the book only the kernel is trained; the bias stays at its initial zero (its gradient
    sums over all 42 outputs, so lr 3e-2 would make it diverge).
    """
    torch.manual_seed(0)
    X = stripes()
    Y = corr2d(X, torch.tensor([[1.0, -1.0]]))
    layer = Conv2D((1, 2))
    losses = []
    for _ in range(10):
        loss = ((layer(X) - Y) ** 2).sum()
        losses.append(loss.item())
        layer.zero_grad()
        loss.backward()
        with torch.no_grad():
            layer.weight -= 3e-2 * layer.weight.grad
    assert losses[-1] < 1.0 and losses[-1] < losses[0] / 10
    assert_close(layer.weight.detach(), torch.tensor([[1.0, -1.0]]), atol=0.15, rtol=0)


def test_conv2d_layer_rejects_bad_kernel_size():
    with pytest.raises(ValueError, match=r"Conv2D: kernel_size must be >= 1"):
        Conv2D((0, 2))


@pytest.mark.parametrize(
    ("num_dims", "reference", "shape"),
    [(2, nn.BatchNorm1d, (6, 3)), (4, nn.BatchNorm2d, (4, 3, 5, 5))],
    ids=["1d", "2d"],
)
def test_batch_norm_layer_tracks_torch_over_train_and_eval_steps(num_dims, reference, shape):
    torch.manual_seed(0)
    ours, theirs = BatchNorm(3, num_dims).double(), reference(3).double()
    with torch.no_grad():  # same non-trivial affine parameters
        ours.gamma.copy_(torch.rand(3) + 0.5)
        ours.beta.copy_(torch.randn(3))
        theirs.weight.copy_(ours.gamma)
        theirs.bias.copy_(ours.beta)
    for step in range(4):
        X = torch.randn(*shape, dtype=torch.float64) * (step + 1) + step
        assert_close(ours(X), theirs(X))
        assert_close(ours.running_mean, theirs.running_mean)
        assert_close(ours.running_var, theirs.running_var)
        assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == step + 1
    ours.eval()
    theirs.eval()
    X = torch.randn(*shape, dtype=torch.float64)
    assert_close(ours(X), theirs(X))
    assert ours.num_batches_tracked.item() == 4
    ours.train()
    theirs.train()
    X.requires_grad_()
    grad_out = torch.randn(*shape, dtype=torch.float64)
    got = torch.autograd.grad(ours(X), (X, ours.gamma, ours.beta), grad_out)
    want = torch.autograd.grad(theirs(X), (X, theirs.weight, theirs.bias), grad_out)
    assert_close(got, want)


def test_batch_norm_layer_mode_follows_train_eval_not_grad_mode():
    layer = BatchNorm(2, 2)
    X = torch.randn(16, 2) * 3 + 5
    with torch.no_grad():
        Y = layer(X)  # still training: batch statistics, running stats updated
    assert_close(Y.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    assert layer.num_batches_tracked.item() == 1
    assert_close(layer.running_mean, 0.1 * X.mean(0))
    layer.eval()
    before = layer.running_mean.clone()
    Y = layer(X)  # grad enabled, but eval: running statistics, nothing updated
    assert_close(Y, (X - layer.running_mean) / torch.sqrt(layer.running_var + 1e-5))
    assert torch.equal(layer.running_mean, before)


def test_batch_norm_layer_registers_parameters_and_buffers():
    layer = BatchNorm(5, 4)
    assert {name for name, _ in layer.named_parameters()} == {"gamma", "beta"}
    assert set(layer.state_dict()) == {"gamma", "beta", "running_mean", "running_var", "num_batches_tracked"}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: BatchNorm(3, 3), r"BatchNorm: num_dims must be 2 \(fully connected\) or 4"),
        (lambda: BatchNorm(0, 2), r"BatchNorm: num_features must be >= 1, got 0"),
        (lambda: BatchNorm(3, 4)(torch.zeros(2, 3)), r"BatchNorm: X must be 4-D for num_dims=4"),
    ],
    ids=["num-dims-3", "zero-features", "wrong-rank-input"],
)
def test_batch_norm_layer_rejects_bad_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_batch_norm_layer_rejects_non_int_num_features_with_type_error():
    with pytest.raises(TypeError, match=r"BatchNorm: num_features must be a positive int, got 3.0"):
        BatchNorm(3.0, 2)


# --- PyTorch's options (padding strings; momentum=None, affine, track_running_stats, empty batches) ---

@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@settings(max_examples=40, deadline=None)
@given(st.tuples(st.integers(1, 4), st.integers(1, 4)),
       st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 2),
                 st.tuples(st.integers(0, 2), st.integers(0, 2))),
       st.integers(4, 7), st.integers(4, 7), st.integers(0, 2**16))
def test_conv2d_layer_padding_matches_torch(kernel, padding, h, w, seed):
    torch.manual_seed(seed)
    ours = Conv2D(kernel, padding=padding).double()
    theirs = nn.Conv2d(1, 1, kernel, padding=padding).double()
    with torch.no_grad():
        theirs.weight.copy_(ours.weight[None, None])
        theirs.bias.copy_(ours.bias)
    X = torch.randn(h, w, dtype=torch.float64)
    assert_close(ours(X), theirs(X[None])[0])  # nn.Conv2d takes one image as (1, H, W)


def test_conv2d_layer_refuses_padding_torch_refuses():
    with pytest.raises(ValueError):
        nn.Conv2d(1, 1, 3, padding="full")
    message = r"Conv2D: padding must be 'same', 'valid', an int or a pair of ints, got 'full'"
    with pytest.raises(ValueError, match=message):
        Conv2D(3, padding="full")
    with pytest.raises(ValueError, match=r"Conv2D: padding must be >= 0"):
        Conv2D(3, padding=(1, -1))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([(2, nn.BatchNorm1d, (5, 3)), (4, nn.BatchNorm2d, (2, 3, 3, 2))]),
       st.sampled_from([None, 0.1, 0.8]), st.booleans(), st.booleans(), st.booleans(),
       st.lists(st.sampled_from(["train", "empty", "eval"]), min_size=1, max_size=5), st.integers(0, 2**16))
def test_batch_norm_layer_options_match_torch(kind, momentum, affine, bias, track, steps, seed):
    """Every option of nn.BatchNorm1d/2d we take, over a run of train, empty-batch and eval steps."""
    num_dims, reference, shape = kind
    torch.manual_seed(seed)
    ours = BatchNorm(3, num_dims, momentum, 1e-3, affine, track, bias=bias).double()
    theirs = reference(3, 1e-3, momentum, affine, track, bias=bias).double()
    if affine:  # non-trivial affine parameters, the same in both
        with torch.no_grad():
            ours.gamma.copy_(torch.rand(3) + 0.5)
            theirs.weight.copy_(ours.gamma)
            if bias:
                ours.beta.copy_(torch.randn(3))
                theirs.bias.copy_(ours.beta)
    renamed = {"gamma": "weight", "beta": "bias"}
    assert [renamed.get(k, k) for k in ours.state_dict()] == list(theirs.state_dict())
    for i, step in enumerate(steps):
        ours.train(step != "eval")
        theirs.train(step != "eval")
        X = torch.randn(0 if step == "empty" else shape[0], *shape[1:], dtype=torch.float64) * (i + 1) + i
        X.requires_grad_()
        Y, expected = ours(X), theirs(X)
        assert_close(Y, expected)
        for name, value in theirs.named_buffers():
            assert_close(getattr(ours, name), value, msg=f"{name} after step {i} ({step})")
        if X.numel():
            grad_out = torch.randn_like(Y)
            assert_close(torch.autograd.grad(Y, X, grad_out), torch.autograd.grad(expected, X, grad_out))
    if not track:
        assert ours.running_mean is ours.running_var is ours.num_batches_tracked is None
    assert {renamed[k] for k, _ in ours.named_parameters()} == {k for k, _ in theirs.named_parameters()}


def test_batch_norm_layer_momentum_none_is_the_cumulative_average():
    """momentum=None: the running mean is the plain average of every batch mean so far."""
    ours, theirs = BatchNorm(2, 2, momentum=None), nn.BatchNorm1d(2, momentum=None)
    batches = [torch.randn(4, 2) + i for i in range(3)]
    for X in batches:
        ours(X)
        theirs(X)
    assert_close(ours.running_mean, torch.stack([X.mean(0) for X in batches]).mean(0))
    assert_close(ours.running_mean, theirs.running_mean)
    assert_close(ours.running_var, theirs.running_var)


def test_batch_norm_layer_refuses_one_value_per_channel_like_torch():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm2d(3)(torch.zeros(1, 3, 1, 1))
    with pytest.raises(ValueError, match=r"batch_norm: training needs more than one value per channel"):
        BatchNorm(3, 4)(torch.zeros(1, 3, 1, 1))
    assert BatchNorm(3, 4).eval()(torch.zeros(1, 3, 1, 1)).shape == (1, 3, 1, 1)  # evaluation: fine


def test_batch_norm_layer_flags_must_be_bools():
    with pytest.raises(TypeError, match=r"BatchNorm: track_running_stats must be True or False, got 'no'"):
        BatchNorm(3, 4, track_running_stats="no")
