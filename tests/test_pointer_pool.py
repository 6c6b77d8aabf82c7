"""The pooling pointer (Section 7.5): every window, value, maximum and line of code against PyTorch."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from cnncourse.widgets import pool_pointer
from cnncourse.widgets.pointer_data import number_text

SETTINGS = list(itertools.product([1, 2, 3, 4], [1, 2, 3], [0, 1, 2]))  # kernel, stride, padding per axis


def torch_pool(X: torch.Tensor, kernel, stride, padding, mode: str) -> torch.Tensor:
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return pool(X[None, None], kernel_size=kernel, stride=stride, padding=padding)[0, 0]


def windows_by_autograd(X: torch.Tensor, kernel, stride, padding) -> list[set[tuple[int, int]]]:
    """Per output cell, the padded-grid cells its window covers: the support of d Y / d grid for an
    average pooling of the explicitly padded grid (so padding cells count too)."""
    grid = F.pad(X, (padding[1], padding[1], padding[0], padding[0])).requires_grad_(True)
    Y = F.avg_pool2d(grid[None, None], kernel_size=kernel, stride=stride)[0, 0].reshape(-1)
    return [{tuple(rc) for rc in torch.nonzero(torch.autograd.grad(y, grid, retain_graph=True)[0]).tolist()}
            for y in Y]


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_pointer_agrees_with_torch_in_every_setting_its_sliders_allow(mode):
    generator = torch.Generator().manual_seed(7)
    explorer = pool_pointer(mode=mode)
    checked = refused = 0
    for (k_h, s_h, p_h), (k_w, s_w, p_w) in itertools.product(SETTINGS[::5], SETTINGS[::4]):
        X = torch.randint(-5, 6, (6, 7), generator=generator).double()
        explorer.X = X
        explorer.set(kernel_size_h=k_h, stride_h=s_h, padding_h=p_h, kernel_size_w=k_w, stride_w=s_w,
                     padding_w=p_w)
        kernel, stride, padding = (k_h, k_w), (s_h, s_w), (p_h, p_w)
        data = explorer.data
        try:
            expected = torch_pool(X, kernel, stride, padding, mode)
        except RuntimeError:
            assert data.output is None and data.report.problem.startswith("Impossible setting")
            assert explorer.drawing.problem == data.report.problem and explorer.code == ""
            refused += 1
            continue
        checked += 1
        torch.testing.assert_close(data.output, expected)
        assert [set(cells) for cells in data.reads] == windows_by_autograd(X, kernel, stride, padding)
        formulas = explorer.drawing.formulas
        for o, value in enumerate(expected.reshape(-1).tolist()):
            assert formulas[o].startswith(f"Y[{o // expected.shape[1]}, {o % expected.shape[1]}] = ")
            assert f"= {number_text(value)}" in formulas[o]
        if mode == "max":
            _, where = F.max_pool2d(X[None, None], kernel, stride, padding, return_indices=True)
            for o, index in enumerate(where.reshape(-1).tolist()):
                r, c = divmod(index, X.shape[1])
                assert formulas[o].split("; ")[0].endswith(f", at X[{r}, {c}]")
                assert data.winners[o] == (r + padding[0], c + padding[1])
        namespace: dict = {}
        exec(explorer.code, namespace)  # noqa: S102 - the explorer's own generated code
        torch.testing.assert_close(namespace["Y"], expected)
        torch.testing.assert_close(namespace["Y_layer"], expected)
        assert tuple(namespace["shape"]) == tuple(expected.shape)
    assert checked > 20 and refused > 0, (checked, refused)


def test_pool_pointer_writes_the_max_and_the_mean_out_with_the_padding_as_torch_treats_it():
    X = torch.tensor([[1.0, 5.0, 2.0], [0.0, 3.0, 4.0]])
    explorer = pool_pointer(X, kernel_size=2, stride=1, padding=1)
    grid = explorer.drawing.panels["input"]["grids"][0]["labels"]
    assert grid[0] == ["−∞"] * 5 and grid[1] == ["−∞", "1", "5", "2", "−∞"]
    assert explorer.drawing.formulas[0] == ("Y[0, 0] = max(1) = 1, at X[0, 0]; the 3 padding cell(s) hold −∞ "
                                            "and never win")
    assert explorer.drawing.formulas[5] == "Y[1, 1] = max(1, 5, 0, 3) = 5, at X[0, 1]"
    assert explorer.drawing.feed_texts[1 * 5 + 2] == ("X[0, 1] = 5 lies in 4 window(s) and is the maximum "
                                                      "of 4 of them")
    explorer.set(mode="avg")
    assert explorer.drawing.panels["input"]["grids"][0]["labels"][0] == ["0"] * 5
    assert explorer.drawing.formulas[5] == "Y[1, 1] = (1 + 5 + 0 + 3) / 4 = 2.25"
    assert explorer.drawing.formulas[0] == "Y[0, 0] = (1 + 0 × 3 padding cell(s)) / 4 = 0.25"
    assert explorer.drawing.panels["kernel"]["grids"][0]["labels"] == [["1/4", "1/4"], ["1/4", "1/4"]]
    explorer.set(stride_h=2, stride_w=2, padding_h=0, padding_w=0)
    assert explorer.drawing.feed_texts[1 * 3 + 2].endswith("the stride steps over it, no output sees it")


def test_pool_pointer_refuses_bad_arguments_with_the_argument_named():
    with pytest.raises(ValueError, match="pool_pointer: mode must be 'max' or 'avg', got 'min'"):
        pool_pointer(mode="min")
    with pytest.raises(ValueError, match="pool_pointer: X must be 2-D"):
        pool_pointer(torch.zeros(1, 3, 3))
    with pytest.raises(ValueError, match="kernel_size"):
        pool_pointer(kernel_size=0)
    with pytest.raises(ValueError, match="padding"):
        pool_pointer(padding=-1)
