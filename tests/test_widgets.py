"""The explorers of cnncourse.widgets, driven without a browser, checked against PyTorch."""

from __future__ import annotations

import base64
import random

import ipywidgets
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from nbclient import NotebookClient
from torch import nn

from cnncourse import images
from cnncourse.models import lenet5
from cnncourse.widgets import (
    conv_explorer,
    feature_map_explorer,
    kernel_explorer,
    pooling_explorer,
    receptive_field_explorer,
)
from cnncourse.widgets.geometry import LayerSpec, receptive_field_masks, receptive_field_sizes, window_taps


@pytest.fixture(scope="module")
def conv():
    return conv_explorer()


@pytest.fixture(scope="module")
def pool():
    return pooling_explorer()


def conv_defaults():
    return dict(input_h=6, input_w=7, kernel_h=3, kernel_w=2, padding="numbers", padding_h=1, padding_w=0,
                stride_h=1, stride_w=2, dilation_h=1, dilation_w=1, transposed=False, output_padding_h=0,
                output_padding_w=0, position=0)


# ---------------------------------------------------------------- conv_explorer: texts and grids


def test_conv_explorer_shows_filled_in_formula_for_defaults():
    explorer = conv_explorer()
    assert explorer.shape_text.split("\n") == [
        "H_out = ⌊(6 + 2·1 − 1·(3−1) − 1)/1⌋ + 1 = 6",
        "W_out = ⌊(7 + 2·0 − 1·(2−1) − 1)/2⌋ + 1 = 3",
        "output shape: 6 × 3",
    ]
    assert 'class="cnncourse-conv-shape"' in explorer.shape_html.value
    assert "cnncourse-conv-shape" in explorer.shape_html._dom_classes


def test_conv_explorer_stride_slider_changes_text_and_drawn_output_grid(conv):
    conv.set(**conv_defaults())
    conv.controls["stride_h"].value = 2  # one slider move, as a student would
    assert "H_out = ⌊(6 + 2·1 − 1·(3−1) − 1)/2⌋ + 1 = 3" in conv.shape_text
    assert conv.output_shape == (3, 3)
    drawn = np.asarray(conv.axes[2].images[0].get_array())
    assert drawn.shape == (3, 3)
    assert conv.controls["position"].max == 3 * 3 - 1


def test_conv_explorer_formula_example_with_dilation(conv):
    conv.set(**{**conv_defaults(), "input_h": 7, "kernel_h": 3, "padding_h": 1, "stride_h": 2,
                "dilation_h": 2})
    assert conv.shape_text.split("\n")[0] == "H_out = ⌊(7 + 2·1 − 2·(3−1) − 1)/2⌋ + 1 = 3"
    kernel = conv.grids["kernel"]
    assert kernel.shape == (5, 2)  # dilation 2 stretches 3 taps over 5 rows
    assert np.array_equal(np.asarray(conv.axes[1].images[0].get_array()), kernel)


def test_conv_explorer_padding_cells_are_drawn_as_padding(conv):
    conv.set(**{**conv_defaults(), "padding_h": 2, "padding_w": 1})
    grid = conv.grids["input"]
    assert grid.shape == (6 + 4, 7 + 2)
    pad = 1  # PAD category, or window-on-padding (5) where the current window touches it
    border = np.concatenate([grid[:2].ravel(), grid[-2:].ravel(), grid[:, 0], grid[:, -1]])
    assert set(border.tolist()) <= {pad, 5}
    assert not np.isin(grid[2:-2, 1:-1], [pad, 5]).any()


def test_conv_explorer_transposed_formula(conv):
    conv.set(**{**conv_defaults(), "transposed": True, "stride_h": 2, "output_padding_h": 1})
    assert conv.shape_text.split("\n")[0] == "H_out = (6 − 1)·2 − 2·1 + 1·(3−1) + 1 + 1 = 12"
    assert conv.output_shape == (12, 14)
    assert conv.controls["position"].max == 6 * 7 - 1  # one position per input cell
    assert not conv.controls["output_padding_h"].disabled


def test_conv_explorer_kernel_too_large_explains_instead_of_crashing(conv):
    conv.set(**{**conv_defaults(), "input_h": 3, "padding_h": 0, "kernel_h": 5})
    assert conv.output_shape is None
    assert conv.shape_text.startswith("Impossible setting: along the height the dilated kernel spans")
    assert "3 + 2·0 = 3" in conv.shape_text
    assert "color: #b00020" in conv.shape_html.value
    assert conv.controls["position"].disabled


def test_conv_explorer_output_padding_not_below_stride_or_dilation_is_explained(conv):
    conv.set(**{**conv_defaults(), "transposed": True, "stride_w": 2, "output_padding_w": 2})
    assert conv.output_shape is None
    assert "output padding 2 must be smaller than the stride 2 or the dilation 1" in conv.shape_text


def test_conv_explorer_transposed_padding_that_crops_everything_is_explained(conv):
    conv.set(**{**conv_defaults(), "transposed": True, "input_h": 1, "kernel_h": 1, "padding_h": 2})
    assert conv.output_shape is None
    assert "crops 2·2 cells" in conv.shape_text


def test_conv_explorer_play_moves_the_window(conv):
    conv.set(**conv_defaults())
    before = list(conv.cells_read)
    conv.play.value = 4  # output (6, 3): cell 4 is row 1, column 1
    assert conv.controls["position"].value == 4
    assert conv.cell == (1, 1)
    assert conv.cells_read != before
    assert conv.play.max == conv.controls["position"].max == 17


# ---------------------------------------------------------------- conv_explorer vs PyTorch


def random_conv_settings(rng: random.Random, transposed: bool) -> dict:
    return dict(input_h=rng.randint(1, 12), input_w=rng.randint(1, 12), kernel_h=rng.randint(1, 6),
                kernel_w=rng.randint(1, 6), padding_h=rng.randint(0, 4), padding_w=rng.randint(0, 4),
                stride_h=rng.randint(1, 4), stride_w=rng.randint(1, 4), dilation_h=rng.randint(1, 3),
                dilation_w=rng.randint(1, 3), transposed=transposed,
                output_padding_h=rng.randint(0, 3) if transposed else 0,
                output_padding_w=rng.randint(0, 3) if transposed else 0, position=0)


def torch_conv_shape(v: dict) -> tuple[int, int] | None:
    args = dict(kernel_size=(v["kernel_h"], v["kernel_w"]), stride=(v["stride_h"], v["stride_w"]),
                padding=(v["padding_h"], v["padding_w"]), dilation=(v["dilation_h"], v["dilation_w"]))
    x = torch.zeros(1, 1, v["input_h"], v["input_w"])
    try:
        if v["transposed"]:
            layer = nn.ConvTranspose2d(1, 1, output_padding=(v["output_padding_h"], v["output_padding_w"]),
                                       **args)
        else:
            layer = nn.Conv2d(1, 1, **args)
        return tuple(layer(x).shape[2:])
    except (RuntimeError, ValueError):
        return None


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
def test_conv_explorer_shape_matches_pytorch_on_random_settings(conv, transposed):
    rng = random.Random(7 + transposed)
    outcomes = set()
    for _ in range(120):
        v = random_conv_settings(rng, transposed)
        conv.set(**v)
        expected = torch_conv_shape(v)
        assert conv.output_shape == expected, (v, conv.shape_text)
        if expected is None:
            assert conv.shape_text.startswith("Impossible setting"), conv.shape_text
        else:
            assert conv.shape_text.endswith(f"output shape: {expected[0]} × {expected[1]}")
        outcomes.add(expected is None)
    assert outcomes == {True, False}  # the sweep saw possible and impossible settings


def test_conv_explorer_highlighted_window_is_what_autograd_says_the_cell_reads(conv):
    rng = random.Random(3)
    checked = 0
    while checked < 30:
        v = random_conv_settings(rng, transposed=False)
        shape = torch_conv_shape(v)
        if shape is None:
            continue
        v["position"] = rng.randrange(shape[0] * shape[1])
        conv.set(**v)
        layer = nn.Conv2d(1, 1, (v["kernel_h"], v["kernel_w"]), (v["stride_h"], v["stride_w"]),
                          (v["padding_h"], v["padding_w"]), (v["dilation_h"], v["dilation_w"]), bias=False)
        nn.init.ones_(layer.weight)
        x = torch.ones(1, 1, v["input_h"], v["input_w"], requires_grad=True)
        r, c = conv.cell
        layer(x)[0, 0, r, c].backward()
        expected = {tuple(ij) for ij in torch.nonzero(x.grad[0, 0]).tolist()}
        assert set(conv.cells_read) == expected, v
        checked += 1


def test_conv_explorer_transposed_highlights_the_cells_one_input_writes(conv):
    rng = random.Random(4)
    checked = 0
    while checked < 30:
        v = random_conv_settings(rng, transposed=True)
        if torch_conv_shape(v) is None:
            continue
        v["position"] = rng.randrange(v["input_h"] * v["input_w"])
        conv.set(**v)
        layer = nn.ConvTranspose2d(1, 1, (v["kernel_h"], v["kernel_w"]), (v["stride_h"], v["stride_w"]),
                                   (v["padding_h"], v["padding_w"]),
                                   (v["output_padding_h"], v["output_padding_w"]), bias=False,
                                   dilation=(v["dilation_h"], v["dilation_w"]))
        nn.init.ones_(layer.weight)
        x = torch.zeros(1, 1, v["input_h"], v["input_w"])
        x[0, 0, conv.cell[0], conv.cell[1]] = 1.0
        with torch.no_grad():
            written = {tuple(ij) for ij in torch.nonzero(layer(x)[0, 0]).tolist()}
        assert set(conv.cells_written) == written, v
        checked += 1


# ---------------------------------------------------------------- conv_explorer: padding "same"/"valid"

PAD_CATEGORIES = (1, 5)  # padding, and padding under the current window


def explorer_conv_output(conv, x: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The convolution computed from what the explorer draws: its padded input and its windows."""
    s, grid = conv.settings(), conv.grids["input"]
    padded = torch.zeros(grid.shape, dtype=x.dtype)
    padded[torch.from_numpy(~np.isin(grid, PAD_CATEGORIES))] = x.flatten()  # input cells, row-major
    out = torch.zeros(conv.output_shape, dtype=x.dtype)
    for r in range(out.shape[0]):
        rows = window_taps(r, s.kernel_size[0], s.stride[0], s.dilation[0])
        for c in range(out.shape[1]):
            cols = window_taps(c, s.kernel_size[1], s.stride[1], s.dilation[1])
            out[r, c] = (padded[np.ix_(rows, cols)] * K).sum()
    return out


def random_string_padding_settings(rng: random.Random, padding: str) -> dict:
    v = random_conv_settings(rng, transposed=False)
    if padding == "same":  # nn.Conv2d refuses "same" with a stride; refusals have their own test
        v.update(stride_h=1, stride_w=1)
    return {**v, "padding": padding}


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv_explorer_string_padding_matches_nn_conv2d_shapes_values_and_windows(conv, padding):
    """Output shape, every output value (from the drawn padded input) and the read cells equal PyTorch's."""
    rng = random.Random(21 if padding == "same" else 22)
    outcomes, uneven = set(), 0
    for _ in range(60):
        v = random_string_padding_settings(rng, padding)
        layer = nn.Conv2d(1, 1, (v["kernel_h"], v["kernel_w"]), padding=padding,
                          dilation=(v["dilation_h"], v["dilation_w"]), stride=(v["stride_h"], v["stride_w"]),
                          bias=False, dtype=torch.float64)
        x = torch.randn(1, 1, v["input_h"], v["input_w"], dtype=torch.float64, requires_grad=True)
        try:
            expected = layer(x)
        except RuntimeError:  # "valid" with a kernel larger than the input
            expected = None
        conv.set(**v)
        outcomes.add(expected is None)
        if expected is None:
            assert conv.output_shape is None and conv.shape_text.startswith("Impossible setting"), v
            continue
        assert conv.output_shape == tuple(expected.shape[2:]), (v, conv.shape_text)
        assert conv.shape_text.split("\n")[0].startswith(f"padding='{padding}': ")
        assert conv.shape_text.endswith(f"output shape: {expected.shape[2]} × {expected.shape[3]}")
        with torch.no_grad():
            ours = explorer_conv_output(conv, x[0, 0], layer.weight[0, 0])
        torch.testing.assert_close(ours, expected[0, 0].detach())
        left, right, top, bottom = conv.padding_sides
        uneven += (left, top) != (right, bottom)
        r, c = rng.randrange(expected.shape[2]), rng.randrange(expected.shape[3])
        conv.set(position=r * expected.shape[3] + c)
        assert conv.cell == (r, c)
        (grad,) = torch.autograd.grad(expected[0, 0, r, c], x)
        assert set(conv.cells_read) == {tuple(ij) for ij in torch.nonzero(grad[0, 0]).tolist()}, v
        assert all(conv.controls[f"padding_{a}"].disabled for a in "hw")
    assert outcomes == ({False} if padding == "same" else {True, False})
    assert uneven > 0 or padding == "valid"  # even kernels were drawn with their extra zero


def test_conv_explorer_same_with_even_kernel_draws_the_extra_zero_bottom_right(conv):
    conv.set(**{**conv_defaults(), "padding": "same", "kernel_h": 4, "kernel_w": 2, "stride_w": 1})
    grid = conv.grids["input"]
    assert conv.padding_sides == (0, 1, 1, 2)  # (left, right, top, bottom), like F.pad and PyTorch
    assert grid.shape == (1 + 6 + 2, 7 + 1)
    is_pad = np.isin(grid, PAD_CATEGORIES)
    assert is_pad[0].all() and is_pad[-2:].all() and is_pad[:, -1].all()
    assert not is_pad[1:-2, :-1].any()
    assert conv.shape_text.split("\n")[1:] == [
        "H_out = ⌊(6 + 1 + 2 − 1·(4−1) − 1)/1⌋ + 1 = 6",
        "W_out = ⌊(7 + 0 + 1 − 1·(2−1) − 1)/1⌋ + 1 = 7",
        "output shape: 6 × 7",
    ]
    assert "PyTorch puts the extra zero at the bottom/right" in conv.shape_text
    assert conv.render_png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_conv_explorer_same_with_a_stride_is_explained_not_raised(conv):
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=(1, 2), padding="same")
    conv.set(**{**conv_defaults(), "padding": "same"})  # stride (1, 2)
    assert conv.output_shape is None
    assert conv.shape_text.startswith("Impossible setting: padding='same' needs stride 1, but the stride is")
    assert "stride is 1 × 2" in conv.shape_text
    assert "Set the strides to 1, or give the padding as numbers" in conv.shape_text
    assert "color: #b00020" in conv.shape_html.value
    assert conv.controls["position"].disabled
    assert conv.render_png()[:8] == b"\x89PNG\r\n\x1a\n"  # drawn, not a traceback
    conv.set(stride_w=1)  # the refusal lifts as soon as the stride is 1
    assert conv.output_shape == (6, 7)


def test_conv_explorer_transposed_with_string_padding_is_explained(conv):
    with pytest.raises(TypeError):
        nn.ConvTranspose2d(1, 1, 3, padding="same")(torch.zeros(1, 1, 4, 4))
    conv.set(**{**conv_defaults(), "transposed": True, "padding": "valid"})
    assert conv.output_shape is None
    assert conv.shape_text.startswith("Impossible setting: nn.ConvTranspose2d takes its padding as numbers")
    conv.set(padding="numbers")
    assert conv.output_shape == torch_conv_shape({**conv_defaults(), "transposed": True}) == (6, 14)
    assert not conv.controls["padding_h"].disabled


# ---------------------------------------------------------------- kernel_explorer


def test_kernel_explorer_default_is_the_books_edge_detector():
    explorer = kernel_explorer()
    X, K = images.stripes(), torch.tensor([[1.0, -1.0]])
    torch.testing.assert_close(explorer.output, F.conv2d(X[None, None], K[None, None])[0, 0])
    assert explorer.shape_text == "input 6 × 8 ⋆ kernel 1 × 2 → output (6 − 1 + 1) × (8 − 2 + 1) = 6 × 7"
    assert np.array_equal(explorer.maps["output"].image.get_array(), explorer.output.numpy())


def test_kernel_explorer_every_preset_on_every_image_matches_conv2d():
    explorer = kernel_explorer()
    for image_name in explorer.controls["image"].options:
        for preset in explorer.controls["preset"].options[:-1]:
            explorer.set(image=image_name, preset=preset)
            X, K = explorer.image, explorer.kernel
            assert tuple(K.shape) == np.shape(KERNELS[preset])
            torch.testing.assert_close(K, torch.tensor(KERNELS[preset], dtype=torch.float32))
            expected = F.conv2d(X[None, None], K[None, None])[0, 0]
            torch.testing.assert_close(explorer.output, expected, rtol=1e-5, atol=1e-5)


KERNELS = {
    "[1, −1] (vertical edges)": [[1, -1]],
    "[1, −1]ᵀ (horizontal edges)": [[1], [-1]],
    "Sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "Laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "box blur 3×3": [[1 / 9] * 3] * 3,
    "Gaussian blur 3×3": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "diagonal edge (Roberts)": [[1, 0], [0, -1]],
}


def test_kernel_explorer_typed_values_and_resizing_make_a_custom_kernel():
    explorer = kernel_explorer()
    explorer.set(preset="Sobel x")
    explorer.kernel_boxes[1][1].value = 3.5  # a student types into the grid
    assert explorer.controls["preset"].value.startswith("custom")
    assert explorer.kernel[1, 1].item() == 3.5
    explorer.controls["rows"].value = 2
    assert tuple(explorer.kernel.shape) == (2, 3)
    assert len(explorer.grid.children) == 6
    expected = F.conv2d(explorer.image[None, None], explorer.kernel[None, None])[0, 0]
    torch.testing.assert_close(explorer.output, expected)
    assert explorer.shape_text.endswith("= 5 × 6")


def test_kernel_explorer_takes_your_image_and_explains_a_kernel_that_does_not_fit():
    explorer = kernel_explorer(torch.arange(6.0).reshape(2, 3))
    assert explorer.controls["image"].value == "your image 2×3"
    explorer.set(preset="Sobel y")
    assert explorer.output is None
    assert explorer.shape_text.startswith("No output: the kernel 3 × 3 is larger than the image 2 × 3")


def test_kernel_explorer_takes_a_float64_image():
    image = torch.arange(30.0, dtype=torch.float64).reshape(5, 6)
    explorer = kernel_explorer(image)
    X, K = image.to(torch.float32), torch.tensor([[1.0, -1.0]])
    torch.testing.assert_close(explorer.output, F.conv2d(X[None, None], K[None, None])[0, 0])
    explorer.set(preset="Sobel x")
    assert explorer.shape_text.endswith("= 3 × 4")


def test_kernel_explorer_rejects_bad_images():
    with pytest.raises(TypeError, match="kernel_explorer: image must be a floating-point tensor"):
        kernel_explorer(torch.ones(3, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"kernel_explorer: image must be 2-D \(H, W\)"):
        kernel_explorer(torch.ones(1, 3, 3))


# ---------------------------------------------------------------- pooling_explorer


def test_pooling_explorer_default_text_and_values(pool):
    pool.set(mode="max", kernel_h=2, kernel_w=3, stride_h=2, stride_w=2, padding_h=0, padding_w=1, position=0)
    assert pool.shape_text.split("\n") == ["H_out = ⌊(6 + 2·0 − 2)/2⌋ + 1 = 3",
                                           "W_out = ⌊(7 + 2·1 − 3)/2⌋ + 1 = 4", "output shape: 3 × 4"]
    expected = F.max_pool2d(pool.grid[None, None], (2, 3), (2, 2), (0, 1))[0, 0]
    torch.testing.assert_close(pool.output, expected)
    # The padding column is labelled with what max pooling pads with: -inf.
    first_row_labels = pool.cell_grids[0].label_texts()[:9]
    assert first_row_labels == ["-inf", *[f"{v:g}" for v in pool.grid[0].tolist()], "-inf"]
    pool.set(mode="avg")
    assert pool.cell_grids[0].label_texts()[0] == "0"  # average pooling pads with counted zeros
    assert pool.cells_read == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_pooling_explorer_matches_pytorch_pooling_layers_on_random_settings(pool):
    rng = random.Random(11)
    outcomes = set()
    for _ in range(120):
        v = dict(mode=rng.choice(["max", "avg"]), kernel_h=rng.randint(1, 4), kernel_w=rng.randint(1, 4),
                 stride_h=rng.randint(1, 4), stride_w=rng.randint(1, 4), padding_h=rng.randint(0, 2),
                 padding_w=rng.randint(0, 2))
        pool.set(**v)
        layer = (nn.MaxPool2d if v["mode"] == "max" else nn.AvgPool2d)(
            (v["kernel_h"], v["kernel_w"]), (v["stride_h"], v["stride_w"]), (v["padding_h"], v["padding_w"]))
        try:
            expected = layer(pool.grid[None, None])[0, 0]
        except RuntimeError:
            expected = None
        if expected is None:
            assert pool.output is None and pool.shape_text.startswith("Impossible setting"), v
        else:
            torch.testing.assert_close(pool.output, expected)
            photo = layer(pool.photo[None, None])[0, 0]
            torch.testing.assert_close(pool.photo_output, photo)
        outcomes.add(expected is None)
    assert outcomes == {True, False}


# ---------------------------------------------------------------- receptive_field_explorer


def test_receptive_field_sizes_follow_the_recursion():
    rows = receptive_field_sizes([LayerSpec("conv", 3), LayerSpec("pool", 2, 2), LayerSpec("conv", 3, 1, 2)])
    assert [(r, j) for r, j, _ in rows] == [(1, 1), (3, 1), (4, 2), (12, 2)]
    assert rows[3][2] == "r_3 = 4 + (3−1)·2·2 = 12, j_3 = 2·1 = 2"


def autograd_field(layers: list[LayerSpec], size: tuple[int, int], cell: tuple[int, int]) -> list[np.ndarray]:
    """Per feature map, input first: where the gradient of one output cell is non-zero."""
    x = torch.rand(1, 1, *size, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 0.5
    x.requires_grad_(True)
    maps, h = [x], x
    for spec in layers:
        if spec.kind == "conv":
            layer = nn.Conv2d(1, 1, spec.kernel_size, spec.stride, spec.padding, spec.dilation,
                              bias=False, dtype=torch.float64)
            nn.init.ones_(layer.weight)
        else:
            layer = nn.AvgPool2d(spec.kernel_size, spec.stride, spec.padding)
        h = layer(h)
        h.retain_grad()
        maps.append(h)
    h[0, 0, cell[0], cell[1]].backward()
    return [(m.grad[0, 0] != 0).numpy() for m in maps]


def test_receptive_field_masks_equal_nonzero_gradients_of_a_real_stack():
    rng = random.Random(5)
    checked = 0
    while checked < 40:
        layers = []
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.7:
                layers.append(LayerSpec("conv", rng.randint(1, 5), rng.randint(1, 3), rng.randint(1, 3),
                                        rng.randint(0, 2)))
            else:
                k = rng.randint(1, 4)
                layers.append(LayerSpec("pool", k, rng.randint(1, 3), 1, rng.randint(0, k // 2)))
        size = (rng.randint(4, 32), rng.randint(4, 32))
        try:
            grads = autograd_field(layers, size, (0, 0))  # shapes valid? PyTorch decides
        except RuntimeError:
            continue
        sizes = [tuple(g.shape) for g in grads]
        cell = (rng.randrange(sizes[-1][0]), rng.randrange(sizes[-1][1]))
        grads = autograd_field(layers, size, cell)
        masks = receptive_field_masks(layers, sizes, cell)
        for level, (mask, grad) in enumerate(zip(masks, grads, strict=True)):
            assert np.array_equal(mask, grad), (layers, size, cell, level)
        checked += 1


def test_receptive_field_explorer_drawn_highlight_equals_autograd():
    explorer = receptive_field_explorer()
    explorer.set(layers=3, input_h=15, input_w=20, kind_0="conv", kernel_0=3, stride_0=1, dilation_0=2,
                 padding_0=1, kind_1="pool", kernel_1=2, stride_1=2, padding_1=0, kind_2="conv",
                 kernel_2=3, stride_2=2, dilation_2=1, padding_2=1, row=2, col=3)
    assert explorer.sizes == [(15, 20), (13, 18), (6, 9), (3, 5)]
    assert explorer.cell == (2, 3)
    grads = autograd_field(explorer.layers, (15, 20), (2, 3))
    for ax, grad in zip(explorer.axes, grads, strict=False):
        drawn = np.asarray(ax.images[0].get_array())
        assert np.array_equal(drawn > 0, grad)  # FIELD and CELL are > 0, PLAIN is 0
    assert "r_3 = 6 + (3−1)·1·2 = 10" in explorer.shape_text
    explorer.controls["layers"].value = 2
    assert explorer.layer_rows[2].layout.display == "none"
    assert len(explorer.masks) == 3


def test_receptive_field_explorer_explains_a_layer_that_does_not_fit():
    explorer = receptive_field_explorer()
    explorer.set(input_h=4, input_w=4, kernel_0=5, padding_0=0)
    assert explorer.sizes is None
    assert explorer.shape_text.startswith("Impossible setting in layer 1 (conv)")
    explorer.set(kernel_0=3, kind_1="pool", kernel_1=2, padding_1=2)
    assert explorer.shape_text.startswith("Impossible setting in layer 2 (pool)")
    assert "padding ≤ window/2" in explorer.shape_text


def test_receptive_field_explorer_output_cell_that_reads_only_padding_does_not_crash():
    """A 1x1 conv with padding 1: output cell (0, 0) reads only padding, so it depends on no input cell."""
    explorer = receptive_field_explorer()
    explorer.set(layers=1, input_h=5, input_w=6, kind_0="conv", kernel_0=1, stride_0=1, dilation_0=1,
                 padding_0=1, row=0, col=0)
    assert explorer.sizes == [(5, 6), (7, 8)]
    grads = autograd_field(explorer.layers, (5, 6), (0, 0))
    for mask, grad in zip(explorer.masks, grads, strict=True):
        assert np.array_equal(mask, grad)
    assert not explorer.masks[0].any()
    assert "input: r_0 = 1, j_0 = 1; feeding the chosen cell: no cells (only padding)" in explorer.shape_text


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_receptive_field_with_same_and_valid_padding_equals_autograd():
    """Even kernels with "same": the extra zero at the bottom/right shifts the field as in PyTorch."""
    rng = random.Random(6)
    for _ in range(25):
        layers = [LayerSpec("conv", rng.randint(1, 5), 1, rng.randint(1, 3), rng.choice(["same", "valid", 1]))
                  for _ in range(rng.randint(1, 3))]
        size = (rng.randint(8, 20), rng.randint(8, 20))
        try:
            grads = autograd_field(layers, size, (0, 0))
        except RuntimeError:
            continue
        sizes = [tuple(g.shape) for g in grads]
        cell = (rng.randrange(sizes[-1][0]), rng.randrange(sizes[-1][1]))
        grads = autograd_field(layers, size, cell)
        for mask, grad in zip(receptive_field_masks(layers, sizes, cell), grads, strict=True):
            assert np.array_equal(mask, grad), (layers, size, cell)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_receptive_field_explorer_takes_same_and_explains_what_pytorch_refuses():
    explorer = receptive_field_explorer()
    explorer.set(layers=2, input_h=9, input_w=10, kind_0="conv", kernel_0=4, stride_0=1, dilation_0=1,
                 padding_0="same", kind_1="conv", kernel_1=2, stride_1=1, dilation_1=2, padding_1="same",
                 row=0, col=9)
    assert explorer.sizes == [(9, 10)] * 3
    grads = autograd_field(explorer.layers, (9, 10), (0, 9))
    for ax, grad in zip(explorer.axes, grads, strict=False):
        assert np.array_equal(np.asarray(ax.images[0].get_array()) > 0, grad)
    assert "conv 4 1 1 same" in explorer.table_html.value
    explorer.set(stride_0=2)
    assert explorer.sizes is None
    assert explorer.shape_text.startswith("Impossible setting in layer 1 (conv): ")
    assert "padding='same' needs stride 1" in explorer.shape_text
    explorer.set(stride_0=1, kind_1="pool", padding_1="valid")
    assert explorer.shape_text.startswith("Impossible setting in layer 2 (pool): pooling takes its padding")
    assert explorer.render_png()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- feature_map_explorer


def test_feature_map_explorer_shows_the_activations_of_each_layer():
    torch.manual_seed(0)
    model = lenet5().train()
    X = torch.rand(3, 1, 28, 28)
    explorer = feature_map_explorer(model, X)
    assert model.training  # the mode is restored after capturing
    assert len(explorer.activations) == len(model) == 12
    explorer.set(image=2, layer=3, channel=7)
    with torch.no_grad():
        expected = nn.Sequential(*list(model.eval())[:4])(X)[2, 7]
    torch.testing.assert_close(explorer.output, expected)
    assert explorer.controls["channel"].max == 15
    assert "Conv2d(6, 16, kernel_size=(5, 5)" in explorer.shape_text
    np.testing.assert_allclose(explorer.maps["output"].image.get_array(), expected.numpy())
    explorer.set(layer=7)  # Linear: a vector, shown as one row
    assert tuple(explorer.output.shape) == (1, 120)
    assert explorer.controls["channel"].disabled


def test_feature_map_explorer_rejects_bad_arguments():
    with pytest.raises(TypeError, match="feature_map_explorer: model must be an nn.Module"):
        feature_map_explorer(lambda x: x, torch.rand(1, 1, 28, 28))
    with pytest.raises(TypeError, match="floating-point"):
        feature_map_explorer(lenet5(), torch.zeros(1, 1, 28, 28, dtype=torch.int64))


# ---------------------------------------------------------------- all explorers


@pytest.fixture(scope="module")
def all_explorers():
    """One of each explorer, and pyplot's figure numbers from before they were built."""
    before = plt.get_fignums()
    explorers = [conv_explorer(), kernel_explorer(), pooling_explorer(), receptive_field_explorer(),
                 feature_map_explorer(lenet5(), torch.rand(2, 1, 28, 28))]
    return before, explorers


def test_explorers_do_not_leak_pyplot_figures(all_explorers):
    before, explorers = all_explorers
    for explorer in explorers:
        for _ in range(5):
            explorer.refresh()
    explorers[0].set(stride_h=3, transposed=True)
    explorers[2].set(mode="avg")
    assert plt.get_fignums() == before


def test_explorers_render_a_png_and_are_vboxes(all_explorers):
    for explorer in all_explorers[1]:
        assert isinstance(explorer, ipywidgets.VBox)
        assert explorer.render_png()[:8] == b"\x89PNG\r\n\x1a\n"
        assert explorer.plot in explorer.children


def test_explorer_set_names_unknown_controls():
    with pytest.raises(ValueError, match=r"ConvExplorer.set: no control named \['strides'\]"):
        conv_explorer().set(strides=2)


BUILD_CELLS = [
    "import torch\nfrom cnncourse.models import lenet5\n"
    "from cnncourse.widgets import (conv_explorer, feature_map_explorer, kernel_explorer,\n"
    "                               pooling_explorer, receptive_field_explorer)\ntorch.manual_seed(0)",
    "conv_explorer()",
    "e = conv_explorer()\ne.set(transposed=True, stride_h=2)\ne",
    "kernel_explorer()",
    "pooling_explorer()",
    "receptive_field_explorer()",
    "feature_map_explorer(lenet5(), torch.rand(2, 1, 28, 28))",
    "from cnncourse.widgets import conv_pointer\nconv_pointer(K=torch.ones(2, 3), padding='same')",
    "conv_pointer(transposed=True, stride=2, flip=True)",
    "from cnncourse.widgets import channels_pointer\nchannels_pointer(groups=3)",
    "from cnncourse.widgets import receptive_field_pointer\n"
    "receptive_field_pointer(lenet5()[:4], X=torch.rand(28, 28))",
]
POINTER_CELLS = 4  # the last cells: anywidget drawings, no figure


@pytest.mark.slow
def test_explorers_build_in_a_headless_kernel_without_stderr(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in BUILD_CELLS])
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    for cell in nb.cells:
        for output in cell.outputs:
            assert output["output_type"] != "error", output
            assert not (output["output_type"] == "stream" and output["name"] == "stderr"), output["text"]
    for cell in nb.cells[1:]:  # each explorer is displayed as a widget
        data = cell.outputs[-1]["data"]
        assert "application/vnd.jupyter.widget-view+json" in data, cell.source
    # The Image widgets hold the rendered figures: one PNG per explorer in the widget state.
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    pngs = [base64.b64decode(buffer["data"]) for m in state.values() if m["model_name"] == "ImageModel"
            for buffer in m.get("buffers", []) if buffer["path"] == ["value"]]
    assert len(pngs) == len(BUILD_CELLS) - 1 - POINTER_CELLS
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in pngs)
    # The pointing explorer's ES module travels inside the widget state: nothing to fetch.
    drawings = [m["state"] for m in state.values() if m["model_name"] == "AnyModel"]
    assert len(drawings) == POINTER_CELLS
    assert all("export default" in d["_esm"] and d["panels"]["output"]["grids"] for d in drawings)
