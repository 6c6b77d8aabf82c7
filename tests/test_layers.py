"""cnncourse.layers: the from-scratch Conv2D and BatchNorm against PyTorch's modules."""

import pytest
import torch
import torch.nn.functional as F
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
