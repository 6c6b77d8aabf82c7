"""The claims the prose of notebooks 7.1-7.5 makes, checked against what the library computes.

Each test pins one sentence a student reads; if the library changes so the sentence turns false,
the test says which notebook to fix.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cnncourse.functional import conv2d, conv_output_shape, corr2d, corr2d_fast, pool2d
from cnncourse.images import stripes
from cnncourse.layers import Conv2D
from cnncourse.models import AlexNet, layer_costs, vgg11


def test_7_3_an_unpadded_5x5_convolution_loses_2_pixels_per_side():
    """7.3: each unpadded 5x5 layer removes 4 rows and 4 columns, so ten of them take 240 to 200."""
    assert conv_output_shape(240, 5) == (236, 236)
    size = (240, 240)
    for _ in range(10):
        size = conv_output_shape(size, kernel_size=5)
    assert size == (200, 200)


@pytest.fixture(scope="module")
def costs() -> dict[str, list]:
    with torch.device("meta"):  # shapes only
        nets = {"AlexNet": AlexNet(), "VGG-11": vgg11()}
    return {name: layer_costs(net, (1, 1, 224, 224), show=False) for name, net in nets.items()}


def test_7_3_the_first_layer_is_cheap_and_the_cost_sits_in_the_middle(costs):
    """7.3 exercise 4: VGG-11's first conv is 29 M of 7.5 G MACs, AlexNet's 34 M of 0.94 G."""
    vgg, alex = costs["VGG-11"], costs["AlexNet"]
    vgg_total, alex_total = sum(c.macs for c in vgg), sum(c.macs for c in alex)
    assert round(vgg[0].macs / 1e6) == 29 and round(vgg_total / 1e9, 2) == 7.55
    assert round(alex[0].macs / 1e6) == 34 and round(alex_total / 1e9, 2) == 0.94
    for layers, total in ((vgg, vgg_total), (alex, alex_total)):
        assert layers[0].macs / total < 0.05  # the high-resolution first layer is a small share
        top = max(range(len(layers)), key=lambda k: layers[k].macs)
        assert 0 < top < len(layers) - 3  # the most expensive layer is a middle convolution


def test_7_3_zero_padding_marks_the_border_and_the_other_paddings_do_not():
    uniform, ones = torch.ones(1, 1, 6, 6), torch.ones(1, 1, 3, 3)
    zero_padded = conv2d(uniform, ones, padding=1)[0, 0]
    assert sorted(set(zero_padded.flatten().tolist())) == [4.0, 6.0, 9.0]  # corners, edges, inside
    for mode in ("reflect", "replicate", "circular"):
        response = conv2d(F.pad(uniform, (1, 1, 1, 1), mode=mode), ones)
        assert torch.equal(response, torch.full((1, 1, 6, 6), 9.0)), mode


def test_7_5_max_pooling_keeps_the_plus_one_mark_and_drops_the_minus_one():
    """7.5: after 2x2 max pooling (stride 1) only the +1 (white to black) edge survives a shift."""
    edge_kernel = torch.tensor([[1.0, -1.0]])
    image = stripes()
    edges = corr2d(image, edge_kernel)
    shifted = corr2d(torch.roll(image, shifts=1, dims=1), edge_kernel)
    assert (edges[0] == -1).nonzero().flatten().tolist() == [5]
    pooled, pooled_shifted = pool2d(edges, (2, 2)), pool2d(shifted, (2, 2))
    assert not (pooled < 0).any() and not (pooled_shifted < 0).any()  # max(-1, 0) = 0
    assert (pooled[0] == 1).nonzero().flatten().tolist() == [0, 1]
    assert ((pooled == 1) & (pooled_shifted == 1))[0].nonzero().flatten().tolist() == [1]


def _stable_below(loss_fn, n: int) -> float:
    hessian = torch.autograd.functional.hessian(loss_fn, torch.zeros(n, dtype=torch.float64))
    return 2 / torch.linalg.eigvalsh(hessian).max().item()


def test_7_2_the_bias_halves_the_stable_learning_rate_of_the_edge_kernel():
    """7.2: lr 0.03 works for the 1x2 kernel alone but not once a bias joins it; 0.01 works for both."""
    image = stripes().double()
    target = corr2d(image, torch.tensor([[1.0, -1.0]], dtype=torch.float64))

    def loss(p: torch.Tensor) -> torch.Tensor:
        bias = p[2] if len(p) == 3 else 0.0
        return ((corr2d(image, p[:2].reshape(1, 2)) + bias - target) ** 2).sum()

    kernel_only, with_bias = _stable_below(loss, 2), _stable_below(loss, 3)
    assert 0.01 < with_bias < 0.03 < kernel_only

    def final_loss(lr: float) -> float:
        torch.manual_seed(0)
        layer = Conv2D(kernel_size=(1, 2))
        for _ in range(10):
            value = ((layer(stripes()) - target.float()) ** 2).sum()
            layer.zero_grad()
            value.backward()
            with torch.no_grad():
                for p in layer.parameters():
                    p -= lr * p.grad
        return value.item()

    assert final_loss(0.03) > 1e3 > 10 > final_loss(0.01)


def test_7_1_one_detector_slid_over_the_page_finds_the_hidden_pattern():
    """7.1: the score map's maximum marks the hidden pattern and beats the page without it."""
    generator = torch.Generator().manual_seed(0)
    pattern = torch.tensor([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0], [1.0, 1.0, 1.0]])
    crowd = 0.6 * torch.randn(40, 60, generator=generator)
    for top, left in [(0, 0), (20, 33), (37, 57)]:
        page = crowd.clone()
        page[top:top + 3, left:left + 3] += 2 * pattern
        scores = corr2d_fast(page, pattern)
        assert divmod(int(scores.argmax()), scores.shape[1]) == (top, left)
        assert scores.max() > 1.3 * corr2d_fast(crowd, pattern).max()
