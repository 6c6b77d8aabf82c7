"""cnncourse.plotting: every function returns a Figure with the expected axes and data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnncourse.images import stripes  # noqa: E402
from cnncourse.plotting import (  # noqa: E402
    NotebookFigure,
    show_feature_maps,
    show_images,
    show_kernels,
    show_matrix,
)


def image_axes(fig: Figure) -> list:
    """The axes that hold an image (colour bars hold none)."""
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def test_show_images_grid_titles_and_data():
    X = torch.rand(5, 1, 8, 6)
    fig = show_images(X, titles=list("abcde"), ncols=3)
    assert isinstance(fig, Figure)
    axes = image_axes(fig)
    assert len(fig.axes) == len(axes) == 5  # no empty sixth cell
    assert [ax.get_title() for ax in axes] == list("abcde")
    np.testing.assert_allclose(axes[4].images[0].get_array(), X[4, 0].numpy(), rtol=1e-6)
    assert axes[3].get_subplotspec().rowspan.start == 1  # the fourth image starts row two


def test_show_images_accepts_single_images_arrays_lists_and_rgb():
    assert len(show_images(np.eye(4)).axes) == 1
    assert len(show_images([np.eye(4), np.ones((4, 4))]).axes) == 2
    rgb = show_images(torch.rand(2, 3, 5, 5))
    assert rgb.axes[0].images[0].get_array().shape == (5, 5, 3)


def test_show_images_colorbars_and_grad_tensors():
    X = torch.rand(3, 4, 4, requires_grad=True)
    fig = show_images(X, colorbar=True)
    assert len(fig.axes) == 6 and len(image_axes(fig)) == 3


def test_show_images_teaching_errors():
    with pytest.raises(ValueError, match=r"images must be 2-D or 3-D or 4-D .*got a 5-D"):
        show_images(torch.zeros(1, 1, 1, 2, 2))
    with pytest.raises(ValueError, match="have 2 channels, expected 1 or 3"):
        show_images(torch.zeros(4, 2, 5, 5))
    with pytest.raises(ValueError, match="got 1 titles for 2 images"):
        show_images(torch.zeros(2, 5, 5), titles=["one"])
    with pytest.raises(TypeError, match="must be a torch.Tensor or a NumPy array"):
        show_images("cat.png")


def test_show_kernels_grid_shares_one_zero_centred_scale():
    W = torch.randn(3, 2, 3, 3)
    W[1, 1, 0, 0] = -5.0  # the largest magnitude sets the scale for every kernel
    fig = show_kernels(W)
    kernels = image_axes(fig)
    assert len(kernels) == 6 and len(fig.axes) == 7  # plus one shared colour bar
    assert {ax.images[0].get_clim() for ax in kernels} == {(-5.0, 5.0)}
    np.testing.assert_allclose(kernels[3].images[0].get_array(), W[1, 1].numpy(), rtol=1e-6)
    assert kernels[0].get_title() == "in 0" and kernels[2].get_ylabel() == "out 1"


def test_show_kernels_single_kernel_and_rank_errors():
    fig = show_kernels(torch.tensor([[1.0, -1.0]]))
    assert len(image_axes(fig)) == 1
    with pytest.raises(ValueError, match=r"got a 3-D tensor.*unsqueeze"):
        show_kernels(torch.zeros(2, 3, 3))
    with pytest.raises(ValueError, match=r"4-D \(C_out, C_in, kh, kw\)"):
        show_kernels(torch.zeros(5))


def test_show_feature_maps_one_example_and_a_batch():
    A = torch.randn(5, 6, 6)
    fig = show_feature_maps(A, ncols=2)
    maps = image_axes(fig)
    assert len(maps) == 5 and len(fig.axes) == 10  # each map has its own colour bar
    assert maps[2].get_title() == "channel 2"
    np.testing.assert_allclose(maps[2].images[0].get_array(), A[2].numpy(), rtol=1e-6)
    batch = show_feature_maps(torch.randn(2, 3, 4, 4))
    titles = [ax.get_title() for ax in image_axes(batch)]
    assert len(titles) == 6 and titles[4] == "example 1, ch 1"
    with pytest.raises(ValueError, match=r"must be 3-D or 4-D \(C, H, W\) or \(N, C, H, W\), got a 2-D"):
        show_feature_maps(torch.zeros(4, 4))


def test_show_matrix_prints_every_value():
    X = stripes()
    fig = show_matrix(X, title="input")
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 48 and texts[:8] == ["1", "1", "0", "0", "0", "0", "1", "1"]
    assert ax.get_title() == "input"
    fractions = show_matrix(np.array([[0.5, -1.25]]))
    assert [t.get_text() for t in fractions.axes[0].texts] == ["0.50", "-1.25"]
    assert len(show_matrix(X, annotate=False).axes[0].texts) == 0
    with pytest.raises(ValueError, match=r"X must be 2-D \(H, W\), got a 3-D"):
        show_matrix(torch.zeros(1, 2, 2))


def test_plotting_never_leaves_pyplot_figures_open():
    plt.close("all")
    show_images(torch.rand(2, 4, 4))
    show_kernels(torch.rand(1, 1, 2, 2))
    show_feature_maps(torch.rand(2, 3, 3))
    show_matrix(torch.eye(2))
    assert plt.get_fignums() == []


def test_figures_render_as_png_for_jupyter_without_pyplot():
    fig = show_matrix(torch.eye(2))
    assert isinstance(fig, NotebookFigure)
    assert fig._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")


def test_show_images_accepts_a_list_of_differently_sized_images():
    """An image beside its smaller cross-correlation output (Section 7.2) in one figure."""
    image, edges = torch.rand(6, 8), torch.rand(6, 7)
    fig = show_images([image, edges], titles=["X", "corr2d(X, K)"])
    shown = [ax.images[0].get_array() for ax in fig.axes]
    assert [a.shape for a in shown] == [(6, 8), (6, 7)]
    np.testing.assert_allclose(shown[1], edges.numpy())
