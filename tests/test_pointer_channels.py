"""The channels explorer (Section 7.4) without a browser: channels, groups and 1 × 1, against torch."""

from __future__ import annotations

import contextlib
import io
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnncourse.widgets import channels_pointer
from cnncourse.widgets.channels_data import channel_data
from cnncourse.widgets.geometry import ConvSettings
from cnncourse.widgets.pointer_code import channels_code


def random_channels(rng: random.Random):
    groups = rng.choice([1, 1, 2, 3])
    c_in, c_out = groups * rng.randint(1, 2), groups * rng.randint(1, 2)
    h, w, kh, kw = rng.randint(2, 5), rng.randint(2, 5), rng.randint(1, 3), rng.randint(1, 3)
    padding = rng.choice([(rng.randint(0, 2), rng.randint(0, 2)), "same", "valid"])
    stride = (1, 1) if padding == "same" else (rng.randint(1, 2), rng.randint(1, 3))
    s = ConvSettings((h, w), (kh, kw), stride, padding, (rng.randint(1, 2), rng.randint(1, 2)))
    X = torch.randn(c_in, h, w, dtype=torch.float64)
    K = torch.randn(c_out, c_in // groups, kh, kw).double()  # float32 values: exact in the float32 Jacobian
    return X, K, s, groups


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_channels_windows_weights_sums_and_fed_by_sets_equal_torch_on_random_settings():
    rng = random.Random(74)
    checked = 0
    for _ in range(60):
        X, K, s, groups = random_channels(rng)
        data = channel_data(X, K, s, groups)
        try:
            expected = F.conv2d(X[None], K, stride=s.stride, padding=s.padding, dilation=s.dilation,
                                groups=groups)[0]
        except RuntimeError:
            assert data.output is None and data.report.problem
            continue
        torch.testing.assert_close(data.output, expected, rtol=0, atol=1e-12)
        # The Jacobian by torch, one one-hot input per padded cell: J[o, i] = d Y[o] / d grid[i]
        # (float32, torch's fast path, exact here: each entry is one weight times 1).
        n = data.grid.numel()
        basis = torch.eye(n).reshape(n, *data.grid.shape)
        jacobian = F.conv2d(basis, K.float(), stride=s.stride, dilation=s.dilation,
                            groups=groups).reshape(n, -1).T.double()
        shown = np.zeros(tuple(jacobian.shape))
        products = np.zeros(jacobian.shape[0])
        _, hg, wg = data.grid.shape
        pixels = expected[0].numel()
        weights, grid = K.tolist(), data.grid.tolist()
        for o, cells in enumerate(data.reads):
            for ci, r, c, cl, a, b in cells:
                weight = weights[o // pixels][cl][a][b]
                shown[o, (ci * hg + r) * wg + c] += weight
                products[o] += grid[ci][r][c] * weight
        torch.testing.assert_close(torch.from_numpy(shown), jacobian, rtol=0, atol=1e-12)
        torch.testing.assert_close(torch.from_numpy(products), expected.reshape(-1), rtol=0, atol=1e-9)
        # Fed-by sets, by a Jacobian through all-ones kernels (a zero weight still reads its cell).
        support = F.conv2d(basis, torch.ones_like(K.float()), stride=s.stride, dilation=s.dilation,
                           groups=groups).reshape(n, -1)
        for i, outs in enumerate(data.feeds):
            assert outs == torch.nonzero(support[i]).reshape(-1).tolist()
        namespace: dict = {}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(channels_code(X, K, s, groups), namespace)  # noqa: S102 - our own generated code
        torch.testing.assert_close(namespace["Y"], expected, rtol=0, atol=1e-12)
        torch.testing.assert_close(namespace["Y_layer"], expected, rtol=0, atol=1e-12)
        assert tuple(namespace["shape"]) == tuple(expected.shape[1:])
        checked += 1
    assert checked > 30


def test_channels_depthwise_output_channel_reads_only_its_own_input_channel():
    explorer = channels_pointer(groups=3)
    assert "depthwise" in explorer.drawing.lines[-4]
    pixels = explorer.data.output[0].numel()
    for o, cells in enumerate(explorer.data.reads):
        assert {ci for ci, *_ in cells} == {o // pixels}
    explorer.set(groups=1)
    assert {ci for ci, *_ in explorer.data.reads[0]} == {0, 1, 2}
    assert explorer.drawing.formulas[0].count("[X") == 3
    assert explorer.data.kernel.shape == (3, 3, 2, 2)


def test_channels_one_by_one_is_a_matrix_product_per_pixel():
    X = torch.randn(3, 4, 5, dtype=torch.float64)
    explorer = channels_pointer(X, kernel_size=1, out_channels=2)
    K = explorer.data.kernel[:, :, 0, 0]  # (C_out, C_in)
    torch.testing.assert_close(explorer.data.output, torch.einsum("oc,chw->ohw", K, X))
    assert explorer.drawing.lines[-1].startswith("a 1 × 1 convolution")


def test_channels_painting_updates_the_output_like_torch_and_ids_map_to_channels():
    K = torch.ones(2, 2, 1, 1)
    explorer = channels_pointer(torch.zeros(2, 3, 3), K, padding=1)
    explorer.handle_event({"event": "paint", "id": (1 * 5 + 2) * 5 + 3})  # channel 1, padded (2, 3)
    explorer.handle_event({"event": "paint", "id": 0})  # a padding cell: ignored
    painted = torch.zeros(2, 3, 3, dtype=torch.float64)
    painted[1, 1, 2] = 1.0
    torch.testing.assert_close(explorer.X, painted)
    torch.testing.assert_close(explorer.data.output, F.conv2d(painted[None], K.double(), padding=1)[0])


def test_channels_drawing_ids_point_at_the_right_kernel_slice():
    explorer = channels_pointer(groups=1, out_channels=2)
    kernel_panel = explorer.drawing.panels["kernel"]
    labels = [cell for grid in kernel_panel["grids"] for row in grid["labels"] for cell in row]
    o = explorer.data.output[0].numel() + 1  # output channel 1, pixel (0, 1)
    for (_, kid), (_, _, _, cl, a, b) in zip(explorer.drawing.reads[o], explorer.data.reads[o], strict=True):
        assert labels[kid] == explorer.drawing.panels["kernel"]["grids"][1 * 3 + cl]["labels"][a][b]


def test_channels_pointer_rejects_groups_that_do_not_divide():
    with pytest.raises(ValueError, match=r"groups must divide C_in = 3 and C_out = 2.*got groups=3"):
        channels_pointer(out_channels=2, groups=3)
    with pytest.raises(ValueError, match=r"channels_pointer: X \(C_in, H, W\)"):
        channels_pointer(torch.zeros(3, 20, 2))
    with pytest.raises(ValueError, match=r"channels_pointer: groups must divide"):
        channels_pointer(torch.zeros(4, 3, 3), torch.zeros(2, 3, 1, 1))
