"""Pictures of images, kernels, feature maps and small matrices (Sections 7.1-7.5, 8.x).

Every function returns a :class:`NotebookFigure`, a matplotlib Figure made without pyplot: it
shows when it is the value of a notebook cell (or via ``display(fig)``), it never piles up in
pyplot's list of open figures, and it can be saved with ``fig.savefig(...)``.
Inputs may be tensors (detached and moved to the CPU here) or NumPy arrays.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib import colors
from matplotlib.figure import Figure

from cnncourse._checks import check_tensor, positive_int

__all__ = ["NotebookFigure", "show_images", "show_kernels", "show_feature_maps", "show_matrix"]

_CELL = 1.8  # inches per grid cell


class NotebookFigure(Figure):
    """A matplotlib Figure that Jupyter shows as a PNG without pyplot (Sections 7.2-8.6).

    Jupyter's PNG display of plain Figures is only switched on once pyplot has loaded its
    inline backend; ``_repr_png_`` makes these figures show either way.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def _as_tensor(who: str, name: str, x: object) -> torch.Tensor:
    """Accept a tensor, an array or nested lists; return a detached float64 CPU tensor."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().to(torch.float64)
    if isinstance(x, (np.ndarray, list, tuple)):
        try:
            return torch.as_tensor(np.asarray(x, dtype=np.float64))
        except (TypeError, ValueError) as err:
            raise TypeError(f"{who}: {name} must be numeric (a tensor or an array), got {x!r:.60}") from err
    raise TypeError(f"{who}: {name} must be a torch.Tensor or a NumPy array, got {type(x).__name__}")


def _grid(n: int, ncols: int | None, who: str) -> tuple[int, int]:
    if ncols is None:
        ncols = min(n, 8)
    ncols = min(positive_int(who, "ncols", ncols), n)
    return math.ceil(n / ncols), ncols


def _titles(who: str, titles: Sequence[str] | None, n: int) -> list[str | None]:
    if titles is None:
        return [None] * n
    titles = list(titles)
    if len(titles) != n:
        raise ValueError(f"{who}: got {len(titles)} titles for {n} images; give one title per image")
    return titles


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _batch(who: str, X: torch.Tensor) -> torch.Tensor:
    """One tensor of images as ``(N, H, W)`` (grayscale) or ``(N, H, W, 3)`` (RGB)."""
    check_tensor(who, "images", X, ndim=(2, 3, 4), layout="(H, W), (N, H, W) or (N, C, H, W)")
    if X.dim() == 2:
        X = X[None]  # (1, H, W)
    if X.dim() == 4:
        if X.shape[1] not in (1, 3):
            raise ValueError(f"{who}: images of shape {tuple(X.shape)} have {X.shape[1]} channels, "
                             "expected 1 or 3; show channels separately with show_feature_maps")
        X = X[:, 0] if X.shape[1] == 1 else X.permute(0, 2, 3, 1)  # (N, H, W) or (N, H, W, 3)
    return X


def show_images(images: torch.Tensor | np.ndarray | Sequence, titles: Sequence[str] | None = None,
                ncols: int | None = None, cmap: str = "gray", colorbar: bool = False) -> NotebookFigure:
    """Show a batch of images in a grid, like the book's ``show_images`` (Sections 7.2, 7.6).

    Args:
        images: one image ``(H, W)``, a batch ``(N, H, W)``, or ``(N, C, H, W)`` with C = 1
            (grayscale) or C = 3 (RGB in [0, 1]); or a list of ``(H, W)`` images, sizes may differ.
        titles: one title per image, e.g. class names from ``cnncourse.data.text_labels``.
        ncols: images per row (default up to 8).
        cmap: colour map for one-channel images.
        colorbar: add a colour bar next to every image.

    Returns:
        The figure, with one axes per image (plus one per colour bar).
    """
    who = "show_images"
    if isinstance(images, (list, tuple)) and images and all(np.ndim(im) == 2 for im in images):
        # A list of 2-D images may mix sizes (an image beside its smaller feature map).
        frames = [_as_tensor(who, f"images[{i}]", im) for i, im in enumerate(images)]
    else:
        frames = list(_batch(who, _as_tensor(who, "images", images)))
    n = len(frames)
    if n == 0:
        raise ValueError(f"{who}: images is empty; pass at least one image")
    labels = _titles(who, titles, n)
    nrows, ncols = _grid(n, ncols, who)
    fig = NotebookFigure(figsize=(_CELL * ncols, _CELL * nrows), layout="constrained")
    for i in range(n):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        img = frames[i].numpy()
        shown = ax.imshow(img.clip(0, 1) if img.ndim == 3 else img, cmap=cmap)
        _bare(ax)
        if labels[i] is not None:
            ax.set_title(str(labels[i]), fontsize=9)
        if colorbar and img.ndim == 2:
            fig.colorbar(shown, ax=ax, shrink=0.8)
    return fig


def show_kernels(weight: torch.Tensor | np.ndarray, title: str | None = None) -> NotebookFigure:
    """Show convolution kernels on one shared, zero-centred colour scale (Sections 7.2, 7.4).

    Rows are output channels, columns input channels. Red is positive, blue negative, white
    zero, the same in every cell, so kernels can be compared by eye.

    Args:
        weight: a conv weight ``(C_out, C_in, kh, kw)`` such as ``conv.weight``, or a single
            kernel ``(kh, kw)``.
        title: an optional figure title.

    Returns:
        The figure: ``C_out * C_in`` kernel axes and one colour bar axes.
    """
    who = "show_kernels"
    W = _as_tensor(who, "weight", weight)
    if W.dim() == 3:
        raise ValueError(f"{who}: weight must be 2-D (kh, kw) or 4-D (C_out, C_in, kh, kw), got a 3-D "
                         f"tensor of shape {tuple(W.shape)}; add the missing axis with W.unsqueeze(0) "
                         "(one output channel) or W.unsqueeze(1) (one input channel)")
    check_tensor(who, "weight", W, ndim=(2, 4), layout="(C_out, C_in, kh, kw) or (kh, kw)")
    if W.dim() == 2:
        W = W[None, None]  # (1, 1, kh, kw)
    c_out, c_in = W.shape[:2]
    bound = float(W.abs().max()) or 1.0
    norm = colors.Normalize(vmin=-bound, vmax=bound)
    fig = NotebookFigure(figsize=(1.4 * c_in + 1.0, 1.4 * c_out + 0.4), layout="constrained")
    axes = fig.subplots(c_out, c_in, squeeze=False)
    for o in range(c_out):
        for i in range(c_in):
            ax = axes[o, i]
            shown = ax.imshow(W[o, i].numpy(), cmap="RdBu_r", norm=norm)
            _bare(ax)
            if o == 0:
                ax.set_title(f"in {i}", fontsize=9)
            if i == 0:
                ax.set_ylabel(f"out {o}", fontsize=9)
    fig.colorbar(shown, ax=axes, shrink=0.8, label="weight")
    if title:
        fig.suptitle(title)
    return fig


def show_feature_maps(activations: torch.Tensor | np.ndarray, ncols: int | None = None,
                      cmap: str = "viridis", title: str | None = None) -> NotebookFigure:
    """Show the channels of a layer's output, each with its own colour bar (Sections 7.4, 8.x).

    Args:
        activations: one example ``(C, H, W)`` or a batch ``(N, C, H, W)``.
        ncols: maps per row for one example (default up to 8); a batch is drawn with one row
            per example and one column per channel.
        cmap: the colour map.
        title: an optional figure title.

    Returns:
        The figure: one axes per map, each followed by its colour bar axes.
    """
    who = "show_feature_maps"
    A = _as_tensor(who, "activations", activations)
    check_tensor(who, "activations", A, ndim=(3, 4), layout="(C, H, W) or (N, C, H, W)")
    if A.dim() == 3:
        n_maps = A.shape[0]
        nrows, ncols = _grid(n_maps, ncols, who)
        maps = [(A[c], f"channel {c}") for c in range(n_maps)]
    else:
        n, c = A.shape[:2]
        nrows, ncols = n, c
        maps = [(A[i, j], f"example {i}, ch {j}") for i in range(n) for j in range(c)]
    if not maps:
        raise ValueError(f"{who}: activations has no channels (shape {tuple(A.shape)})")
    fig = NotebookFigure(figsize=(2.2 * ncols, 1.9 * nrows), layout="constrained")
    for k, (fmap, label) in enumerate(maps):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        shown = ax.imshow(fmap.numpy(), cmap=cmap)
        _bare(ax)
        ax.set_title(label, fontsize=8)
        fig.colorbar(shown, ax=ax, shrink=0.8)
    if title:
        fig.suptitle(title)
    return fig


def _fmt(values: np.ndarray) -> str:
    """Print integers as integers and everything else with two decimals."""
    return "{:.0f}" if np.all(np.isfinite(values)) and np.all(values == np.round(values)) else "{:.2f}"


def show_matrix(X: torch.Tensor | np.ndarray, annotate: bool = True, title: str | None = None,
                cmap: str = "Blues", fmt: str | None = None) -> NotebookFigure:
    """Show a small matrix as coloured cells with its values written in (Sections 7.2-7.5).

    Used for the worked cross-correlation, padding and pooling examples, where every number
    matters.

    Args:
        X: a 2-D tensor or array ``(H, W)``.
        annotate: write each value in its cell.
        title: an optional axes title, e.g. ``"input"`` or ``"output"``.
        cmap: the colour map.
        fmt: a format string such as ``"{:.1f}"``; default integers without decimals, else two.

    Returns:
        The figure with one axes.
    """
    who = "show_matrix"
    M = _as_tensor(who, "X", X)
    check_tensor(who, "X", M, ndim=2, layout="(H, W)")
    values = M.numpy()
    h, w = values.shape
    fmt = _fmt(values) if fmt is None else fmt
    fig = NotebookFigure(figsize=(0.55 * w + 0.6, 0.55 * h + 0.6), layout="constrained")
    ax = fig.add_subplot()
    shown = ax.imshow(values, cmap=cmap)
    ax.set_xticks(range(w))
    ax.set_yticks(range(h))
    if title:
        ax.set_title(title)
    if annotate:
        # dark text on light cells and light text on dark ones
        lo, hi = shown.get_clim()
        middle = (lo + hi) / 2
        for r in range(h):
            for c in range(w):
                v = values[r, c]
                ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=9,
                        color="white" if v > middle else "black")
    return fig
