"""The pointing convolution explorer without a browser: what it sends the page, checked against torch.

The oracle for "which input cells, with which weights, make output cell o" is torch's Jacobian:
the derivative of ``Y[o]`` with respect to the (padded) input is exactly the weight on each cell
it reads. Every setting the sliders allow is drawn at random, transposed convolutions included.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import random
from pathlib import Path

import pytest
import tomllib
import torch
import torch.nn.functional as F

from cnncourse.functional import conv_output_shape, conv_transpose_output_shape
from cnncourse.widgets import conv_pointer
from cnncourse.widgets.geometry import ConvSettings
from cnncourse.widgets.pointer_code import pointer_code
from cnncourse.widgets.pointer_data import multiply_sum_text, number_text, pointer_data


def torch_output(X, K, s: ConvSettings):
    """PyTorch's own answer for one 2-D image and kernel, or None where PyTorch refuses."""
    try:
        if s.transposed:
            return F.conv_transpose2d(X[None, None], K[None, None], stride=s.stride, padding=s.padding,
                                      output_padding=s.output_padding, dilation=s.dilation)[0, 0]
        return F.conv2d(X[None, None], K[None, None], stride=s.stride, padding=s.padding,
                        dilation=s.dilation)[0, 0]
    except (RuntimeError, TypeError):  # TypeError: a string padding for conv_transpose2d
        return None


def random_case(rng: random.Random) -> tuple[torch.Tensor, torch.Tensor, ConvSettings, bool]:
    transposed = rng.random() < 0.4
    h, w, kh, kw = rng.randint(1, 7), rng.randint(1, 7), rng.randint(1, 4), rng.randint(1, 4)
    numbers = (rng.randint(0, 3), rng.randint(0, 3))
    padding = rng.choice([numbers] * 4 + ["valid"] + ["same"] * (not transposed))
    stride = (1, 1) if padding == "same" else (rng.randint(1, 3), rng.randint(1, 3))
    s = ConvSettings((h, w), (kh, kw), stride, padding, (rng.randint(1, 3), rng.randint(1, 3)), transposed,
                     (rng.randint(0, 2), rng.randint(0, 2)) if transposed else (0, 0))
    X = torch.randn(h, w, dtype=torch.float64)
    K = torch.randn(kh, kw).double()  # no zero weights (every read shows), float32 values (exact below)
    return X, K, s, rng.random() < 0.5


def weights_by_torch(data, applied: torch.Tensor) -> torch.Tensor:
    """``J[o, g] = d Y[o] / d grid[g]``: the weight output cell o puts on each cell of the input panel.

    The convolution is linear, so that derivative is torch's output for a one-hot input: the
    whole Jacobian in one batched call (what autograd would give cell by cell). In float32,
    torch's fast path, and exact: every entry is one float32 weight times 1.
    """
    s, (hg, wg) = data.settings, data.grid.shape
    basis = torch.eye(hg * wg).reshape(hg * wg, 1, hg, wg)  # one one-hot grid each
    weight = applied.float()[None, None]
    if s.transposed:
        Y = F.conv_transpose2d(basis, weight, stride=s.stride, padding=s.padding,
                               output_padding=s.output_padding, dilation=s.dilation)
    else:  # the grid is already padded
        Y = F.conv2d(basis, weight, stride=s.stride, dilation=s.dilation)
    return Y.reshape(hg * wg, -1).T.double()  # (outputs, grid cells)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_pointer_windows_weights_sums_and_fed_by_sets_equal_torch_on_random_settings():
    rng = random.Random(22)
    checked = 0
    for _ in range(200):
        X, K, s, flip = random_case(rng)
        data = pointer_data(X, K, s, flip)
        applied = K.flip(0, 1) if flip else K
        expected = torch_output(X, applied, s)
        if expected is None:
            assert data.output is None and data.report.problem, s
            continue
        assert data.output is not None, (s, data.report.problem)
        torch.testing.assert_close(data.output, expected, rtol=0, atol=1e-12)
        torch.testing.assert_close(data.kernel, applied)
        jacobian = weights_by_torch(data, applied)  # (outputs, grid cells)
        width = data.grid.shape[1]
        shown = torch.zeros_like(jacobian)  # the weight the page writes on each cell of each window
        products = torch.zeros(jacobian.shape[0], dtype=torch.float64)
        grid, kernel = data.grid.tolist(), data.kernel.tolist()
        for o, cells in enumerate(data.reads):
            for r, c, a, b in cells:
                shown[o, r * width + c] += kernel[a][b]
                products[o] += grid[r][c] * kernel[a][b]
        torch.testing.assert_close(shown, jacobian, rtol=0, atol=1e-12)  # windows and weights
        torch.testing.assert_close(products, expected.reshape(-1), rtol=0, atol=1e-9)  # the multiply-sums
        for g, outs in enumerate(data.feeds):  # hover an input cell: the outputs it feeds
            assert sorted(outs) == torch.nonzero(jacobian[:, g]).reshape(-1).tolist()
        checked += 1
    assert checked > 100


def test_pointer_formula_writes_every_product_and_the_library_value():
    X = torch.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=torch.float64)
    K = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    data = pointer_data(X, K, ConvSettings((2, 2), (1, 2)))
    assert data.formulas() == ["Y[0, 0] = 0·1 + 1·(−1) = −1", "Y[1, 0] = 2·1 + 3·(−1) = −1"]
    assert multiply_sum_text("Y[0, 0]", [], 0.0).endswith("no input cell reaches this output cell")
    assert number_text(-0.0) == "0" and number_text(-2.5) == "−2.5"


def test_pointer_fed_by_counts_explain_the_border_and_the_crop():
    explorer = conv_pointer(torch.ones(5, 5), torch.ones(3, 3))
    texts = explorer.drawing.feed_texts
    assert texts[0] == "X[0, 0] = 1 is read by 1 output cell(s), fewer than the 9 of the busiest cell: " \
                       "fewer windows reach it near the border"
    assert texts[12] == "X[2, 2] = 1 is read by 9 output cell(s)"
    explorer.set(transposed=True, padding_h=1, padding_w=1)
    assert explorer.drawing.feed_texts[0] == ("X[0, 0] = 1 writes to 4 output cell(s): "
                                              "the padding crops 5 of its 9 writes")


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_pointer_generated_code_runs_and_reproduces_shape_and_values():
    rng = random.Random(7)
    ran = 0
    for _ in range(80):
        X, K, s, flip = random_case(rng)
        data = pointer_data(X, K, s, flip)
        if data.output is None:
            continue
        namespace: dict = {}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(pointer_code(X, K, s, flip), namespace)  # noqa: S102 - our own generated code
        if s.transposed:
            expected_shape = conv_transpose_output_shape(s.input_size, s.kernel_size, s.stride, s.padding,
                                                         s.output_padding, s.dilation)
        else:
            expected_shape = conv_output_shape(s.input_size, s.kernel_size, s.stride, s.padding, s.dilation)
        assert tuple(namespace["shape"]) == tuple(expected_shape) == tuple(data.output.shape)
        torch.testing.assert_close(namespace["Y"], data.output, rtol=0, atol=1e-12)
        torch.testing.assert_close(namespace["Y_layer"], data.output, rtol=0, atol=1e-12)
        ran += 1
    assert ran > 20


def test_pointer_explorer_code_follows_the_sliders():
    explorer = conv_pointer(stride=(2, 1), padding=1, dilation=(1, 2))
    explorer.set(flip=True)
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(explorer.code, namespace)  # noqa: S102
    assert "K.flip(0, 1)" in explorer.code and "stride=(2, 1)" in explorer.code
    torch.testing.assert_close(namespace["Y"], explorer.data.output, rtol=0, atol=0)
    assert explorer.drawing.code == explorer.code


def test_pointer_painting_a_cell_updates_the_output_like_torch():
    X = torch.zeros(5, 6)
    K = torch.tensor([[1.0, -1.0]])
    explorer = conv_pointer(X, K, padding=1)
    explorer.controls["brush"].value = 2.0
    for row, col in [(1, 1), (1, 2), (3, 4), (0, 0)]:  # panel cells; (0, 0) is padding: ignored
        explorer.handle_event({"event": "paint", "id": row * 8 + col})  # the padded panel is 7 × 8
    painted = torch.zeros(5, 6, dtype=torch.float64)
    painted[0, 0] = painted[0, 1] = painted[2, 3] = 2.0
    torch.testing.assert_close(explorer.X, painted)
    expected = F.conv2d(painted[None, None], K.double()[None, None], padding=1)[0, 0]
    torch.testing.assert_close(explorer.data.output, expected)
    assert explorer.drawing.panels["output"]["grids"][0]["labels"][1][1] == number_text(float(expected[1, 1]))
    assert X.abs().sum() == 0  # the student's tensor is copied, never changed


def test_pointer_flip_toggle_says_when_convolution_and_correlation_agree():
    symmetric = conv_pointer(K=torch.tensor([[1.0, 2.0, 1.0]]))
    assert "agree" in symmetric.drawing.lines[-1]
    explorer = conv_pointer(K=torch.tensor([[1.0, -1.0]]))
    before = explorer.data.output.clone()
    explorer.set(flip=True)
    torch.testing.assert_close(explorer.data.output, -before)  # [1, −1] flipped is −[1, −1]
    assert explorer.drawing.panels["kernel"]["title"] == "kernel K flipped (convolution)"
    assert "differ in" in explorer.drawing.lines[-1]


def test_pointer_click_position_and_play_pin_an_output_cell():
    explorer = conv_pointer()
    explorer.drawing.pinned_output = 5  # what a click in the page does
    assert explorer.controls["position"].value == 5
    explorer.play.value = 7  # the play button steps the scrubber, the scrubber pins
    assert explorer.drawing.pinned_output == 7 and explorer.drawing.pinned_input == -1
    assert explorer.play.max == explorer.data.output.numel() - 1
    explorer.controls["speed"].value = 4
    assert explorer.play.interval == 250
    explorer.steps[1].click()  # step forward
    assert explorer.drawing.pinned_output == 8
    explorer.controls["position"].value = 0
    explorer.steps[0].click()  # step back from the first cell: the last one
    assert explorer.drawing.pinned_output == explorer.data.output.numel() - 1


def test_pointer_impossible_settings_are_explained_not_raised():
    explorer = conv_pointer(K=torch.ones(3, 3))
    explorer.set(dilation_h=3)  # a 7-cell span on a 6-row input
    assert explorer.data.output is None and "Impossible setting" in explorer.drawing.problem
    assert explorer.drawing.panels["output"]["grids"] == [] and explorer.code == ""
    explorer.set(padding_h=1)
    assert explorer.data.output is not None and explorer.drawing.problem == ""


def test_pointer_rejects_bad_inputs_with_who_expected_got():
    with pytest.raises(ValueError, match=r"conv_pointer: X \(H, W\) must have between 1 and 16 .*\(20, 3\)"):
        conv_pointer(torch.zeros(20, 3))
    with pytest.raises(ValueError, match="conv_pointer: K"):
        conv_pointer(K=torch.zeros(2, 2, 2))
    with pytest.raises(TypeError, match="conv_pointer: X"):
        conv_pointer([[1.0]])
    with pytest.raises(ValueError, match="conv_pointer: stride"):
        conv_pointer(stride=0)
    with pytest.raises(ValueError, match="ConvPointer.set: no control named"):
        conv_pointer().set(kernel_h=2)


def test_pointer_ships_its_es_module_inline_and_fetches_nothing():
    from cnncourse.widgets.pointer import PointerDrawing

    drawing = PointerDrawing()
    esm, css = drawing._esm, drawing._css
    assert isinstance(esm, str) and "export default" in esm and isinstance(css, str)
    assert "import " not in esm and "http" not in esm and "fetch(" not in esm  # nothing loaded at run time


def test_pointer_es_module_and_style_are_package_data():
    """An installed cnncourse (a wheel, the hub's environment) carries pointer.js and pointer.css."""
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["cnncourse.widgets"]
    for name in ("pointer.js", "pointer.css"):
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), (name, patterns)
