"""Receptive fields to point at (Sections 7.2.6, 7.6): what the drawing gets, against autograd."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnncourse.models import LeNet
from cnncourse.widgets import receptive_field_pointer
from cnncourse.widgets.fields import layer_specs
from cnncourse.widgets.geometry import LayerSpec
from cnncourse.widgets.pointer_data import number_text


def supports_by_autograd(layers: list[nn.Module], input_size: tuple[int, int], unit: tuple[int, int]):
    """Boolean maps, input first, of the cells whose value reaches ``unit`` of the last map."""
    torch.manual_seed(0)
    X = torch.randn(1, 1, *input_size, requires_grad=True)
    maps, Y = [X], X
    for layer in layers:
        Y = layer(Y)
        if isinstance(layer, nn.Conv2d | nn.AvgPool2d | nn.MaxPool2d):
            Y.retain_grad()
            maps.append(Y)
    Y[0, :, unit[0], unit[1]].sum().backward()
    return [(m.grad[0].abs().sum(0) != 0) for m in maps]


def drawn_sets(explorer, unit_index: int) -> tuple[set[int], set[int]]:
    """Input ids and middle-panel ids the drawing lights up for one unit of the last map."""
    reads = explorer.drawing.reads[unit_index]
    return {i for i, _ in reads if i >= 0}, {m for _, m in reads if m >= 0}


def test_field_pointer_on_lenet_lights_what_autograd_says_each_unit_depends_on():
    model = LeNet()
    explorer = receptive_field_pointer(model, 28)
    assert explorer.sizes == [(28, 28), (28, 28), (14, 14), (10, 10), (5, 5)]
    children = list(model.children())[:list(map(type, model.children())).index(nn.Flatten)]
    for unit in [(0, 0), (2, 2), (4, 1)]:
        supports = supports_by_autograd(children, (28, 28), unit)
        index = unit[0] * 5 + unit[1]
        inputs, middle = drawn_sets(explorer, index)
        assert inputs == set(torch.nonzero(supports[0].reshape(-1)).reshape(-1).tolist())
        expected_middle = torch.cat([s.reshape(-1) for s in supports[1:-1]])
        assert middle == set(torch.nonzero(expected_middle).reshape(-1).tolist())
        text = explorer.drawing.formulas[index]
        assert text.startswith(f"unit {unit} of layer 4 depends on {len(inputs)} ")
    feeds = explorer.drawing.feeds
    corner = sum(1 for u in range(25) if 0 in drawn_sets(explorer, u)[0])
    assert len(feeds[0]) == corner and "seen by 1 unit(s)" in explorer.drawing.feed_texts[0]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_field_pointer_follows_dilation_padding_and_strides_like_autograd():
    layers = [LayerSpec("conv", 3, 1, 2, 1), LayerSpec("pool", 2, 2), LayerSpec("conv", 2, 1, 1, "same")]
    explorer = receptive_field_pointer(layers, (13, 11))
    # Average pooling in the oracle: a max pool's gradient reaches only each window's maximum,
    # while the receptive field is every pixel that could be that maximum (the same geometry).
    modules = [nn.Conv2d(1, 2, 3, dilation=2, padding=1), nn.AvgPool2d(2, 2),
               nn.Conv2d(2, 2, 2, padding="same")]
    h, w = explorer.sizes[-1]
    for unit in [(0, 0), (h - 1, w - 1), (h // 2, 1)]:
        supports = supports_by_autograd(modules, (13, 11), unit)
        inputs, _ = drawn_sets(explorer, unit[0] * w + unit[1])
        assert inputs == set(torch.nonzero(supports[0].reshape(-1)).reshape(-1).tolist()), unit


def test_layer_specs_reads_lenet_and_refuses_what_it_cannot_follow():
    assert layer_specs(LeNet()) == [LayerSpec("conv", 5, 1, 1, 2), LayerSpec("pool", 2, 2, 1, 0),
                                    LayerSpec("conv", 5, 1, 1, 0), LayerSpec("pool", 2, 2, 1, 0)]
    with pytest.raises(TypeError, match="receptive_field_pointer: cannot follow a Linear"):
        layer_specs(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Linear(3, 3)))
    with pytest.raises(TypeError, match="non-square"):
        layer_specs(nn.Sequential(nn.Conv2d(1, 1, (3, 1))))
    with pytest.raises(ValueError, match="at most 32"):
        receptive_field_pointer(input_size=40)
    with pytest.raises(ValueError, match=r"layer 3 \(conv 3\) does not fit"):
        receptive_field_pointer(input_size=5)


def lenet_maps_by_torch(model: nn.Module, X: torch.Tensor) -> list[torch.Tensor]:
    """The image and, after each windowed layer and the activation behind it, the map averaged over
    channels, computed here from LeNet's own children (conv, sigmoid, pool, conv, sigmoid, pool)."""
    c = list(model.children())
    Y = X[None, None].float()
    maps = [X.double()]
    with torch.no_grad():
        for stage in (c[0:2], c[2:3], c[3:5], c[5:6]):
            Y = nn.Sequential(*stage)(Y)
            maps.append(Y[0].mean(0).double())
    return maps


def test_field_pointer_draws_the_image_and_what_the_network_makes_of_it():
    torch.manual_seed(0)
    model, X = LeNet(), torch.rand(28, 28)
    model.train()
    before = [p.clone() for p in model.parameters()]
    explorer = receptive_field_pointer(model, X=X)
    expected = lenet_maps_by_torch(model.eval(), X)
    assert [m.shape for m in explorer.maps] == [m.shape for m in expected]
    for drawn, wanted in zip(explorer.maps, expected, strict=True):
        torch.testing.assert_close(drawn, wanted, rtol=1e-5, atol=1e-6)
    panels = explorer.drawing.panels
    grids = panels["input"]["grids"] + panels["kernel"]["grids"] + panels["output"]["grids"]
    for grid, wanted in zip(grids, expected, strict=True):  # black = smallest, white = largest
        scaled = (wanted - wanted.min()) / (wanted.max() - wanted.min())
        drawn = torch.tensor(grid["shades"], dtype=torch.float64)
        torch.testing.assert_close(drawn, scaled, atol=6e-4, rtol=0)
    assert panels["output"]["title"].endswith("(mean of 16 channels)")
    assert panels["kernel"]["grids"][0]["title"].endswith("(mean of 6 channels)")
    unit = (2, 3)
    assert explorer.drawing.formulas[2 * 5 + 3].endswith(
        f"its value here is {number_text(float(expected[-1][unit]))} (mean of 16 channels)")
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_field_pointer_keeps_the_models_mode_and_batch_norm_statistics():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
    model.train()
    mean = model[1].running_mean.clone()
    explorer = receptive_field_pointer(model, X=torch.randn(10, 10))
    assert model.training and torch.equal(model[1].running_mean, mean)
    assert [tuple(m.shape) for m in explorer.maps] == [(10, 10), (8, 8), (4, 4)]


def test_field_pointer_with_an_image_refuses_what_does_not_fit_and_layer_lists_draw_the_image_only():
    with pytest.raises(ValueError, match=r"first convolution takes 1 channel\(s\), X has 3"):
        receptive_field_pointer(LeNet(), X=torch.rand(3, 28, 28))
    with pytest.raises(ValueError, match=r"input_size \(20, 20\) differs from X's \(H, W\) \(28, 28\)"):
        receptive_field_pointer(LeNet(), 20, X=torch.rand(28, 28))
    with pytest.raises(ValueError, match=r"at most 32 × 32 .* got \(40, 40\)"):
        receptive_field_pointer(X=torch.rand(40, 40))
    with pytest.raises(TypeError, match="X must be a torch.Tensor, got list"):
        receptive_field_pointer(X=[[1.0]])
    explorer = receptive_field_pointer(None, X=torch.rand(12, 12))
    panels = explorer.drawing.panels
    assert "shades" in panels["input"]["grids"][0] and "shades" not in panels["output"]["grids"][0]
    assert "its value" not in explorer.drawing.formulas[0]
