"""The kernel explorer (Section 7.2): an image, a kernel you pick or type, and their correlation."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch

from cnncourse import images
from cnncourse._checks import check_floating, check_tensor
from cnncourse.functional import corr2d_fast

from .base import Explorer, int_slider, lines_html, problem_html
from .drawing import Heatmap, new_figure

__all__ = ["ConvKernelExplorer", "KERNEL_PRESETS", "IMAGE_CHOICES"]

CUSTOM = "custom (edit the numbers)"
KERNEL_PRESETS: dict[str, list[list[float]]] = {
    "[1, −1] (vertical edges)": [[1.0, -1.0]],
    "[1, −1]ᵀ (horizontal edges)": [[1.0], [-1.0]],
    "Sobel x": [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]],
    "Sobel y": [[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]],
    "Laplacian": [[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]],
    "box blur 3×3": [[1 / 9] * 3] * 3,
    "Gaussian blur 3×3": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]],
    "diagonal edge (Roberts)": [[1.0, 0.0], [0.0, -1.0]],
}
IMAGE_CHOICES = {
    "stripes 6×8": images.stripes,
    "diagonal edge 8×8": images.diagonal_edge,
    "checkerboard 8×8": images.checkerboard,
    "photo 112×96": lambda: images.photo(size=(112, 96)),
}
MAX_KERNEL = 5
CSS_CLASS = "cnncourse-kernel-shape"


class ConvKernelExplorer(Explorer):
    """Cross-correlate an image with a preset or hand-typed kernel (``corr2d_fast``).

    Attributes:
        image: the current input, a 2-D tensor.
        kernel: the current kernel, a 2-D tensor.
        output: the feature map ``corr2d_fast(image, kernel)`` as a tensor, or ``None``.
        shape_text: the shape arithmetic, or why there is no output.
        kernel_boxes: the ``FloatText`` grid of kernel values, ``kernel_boxes[i][j]``.
    """

    def __init__(self, image: torch.Tensor | None = None) -> None:
        self._images = {name: make() for name, make in IMAGE_CHOICES.items()}
        first = next(iter(self._images))
        if image is not None:
            check_tensor("kernel_explorer", "image", image, ndim=2, layout="(H, W)")
            check_floating("kernel_explorer", "image", image)
            first = f"your image {tuple(image.shape)[0]}×{tuple(image.shape)[1]}"
            # A copy in float32, the kernels' dtype (corr2d_fast refuses mixed dtypes).
            self._images = {first: image.detach().to(torch.float32, copy=True), **self._images}
        preset = next(iter(KERNEL_PRESETS))
        controls: dict[str, widgets.Widget] = {
            "image": widgets.Dropdown(options=list(self._images), value=first, description="image"),
            "preset": widgets.Dropdown(options=[*KERNEL_PRESETS, CUSTOM], value=preset,
                                       description="kernel"),
            "rows": int_slider("kernel rows", 1, 1, MAX_KERNEL),
            "cols": int_slider("kernel cols", 2, 1, MAX_KERNEL),
        }
        self.kernel_boxes = [[widgets.FloatText(value=0.0, step=0.1, layout=widgets.Layout(width="5.5em"))
                              for _ in range(MAX_KERNEL)] for _ in range(MAX_KERNEL)]
        for row in self.kernel_boxes:
            for box in row:
                box.observe(self._on_edit, names="value")
        self.grid = widgets.GridBox(layout=widgets.Layout(grid_gap="2px"))
        self.shape_html = widgets.HTML()
        self.shape_html.add_class(CSS_CLASS)
        fig, axes = new_figure(12, 3.8, 3)
        self.maps = {"input": Heatmap(fig, axes[0], "gray"),
                     "kernel": Heatmap(fig, axes[1], "RdBu_r", symmetric=True),
                     "output": Heatmap(fig, axes[2], "RdBu_r", symmetric=True)}
        children = [widgets.HBox([controls["image"], controls["preset"]]),
                    widgets.HBox([controls["rows"], controls["cols"]]), self.grid, self.shape_html]
        super().__init__(controls, fig, children)
        self._preset_shown = None
        self.refresh()

    def _on_edit(self, change: dict) -> None:
        """A typed kernel value: from now on the kernel is the student's own."""
        if self._holding:
            return
        with self.hold():
            self.controls["preset"].value = CUSTOM
        self.refresh()

    def _compute(self) -> None:
        preset = self.controls["preset"].value
        if preset != CUSTOM and preset != self._preset_shown:
            values = KERNEL_PRESETS[preset]
            self.controls["rows"].value, self.controls["cols"].value = len(values), len(values[0])
            for i, row in enumerate(self.kernel_boxes):
                for j, box in enumerate(row):
                    box.value = values[i][j] if i < len(values) and j < len(values[0]) else 0.0
        elif preset != CUSTOM and self._kernel_shape() != np.shape(KERNEL_PRESETS[preset]):
            self.controls["preset"].value = CUSTOM  # resized by hand: no longer the preset
        self._preset_shown = self.controls["preset"].value
        rows, cols = self._kernel_shape()
        self.grid.layout.grid_template_columns = f"repeat({cols}, 5.5em)"
        self.grid.children = [self.kernel_boxes[i][j] for i in range(rows) for j in range(cols)]
        self.kernel = torch.tensor([[self.kernel_boxes[i][j].value for j in range(cols)]
                                    for i in range(rows)], dtype=torch.float32)
        self.image = self._images[self.controls["image"].value]
        (h, w), (kh, kw) = tuple(self.image.shape), (rows, cols)
        try:
            self.output = corr2d_fast(self.image, self.kernel)  # (h - kh + 1, w - kw + 1)
        except ValueError as err:
            self.output = None
            self.shape_text = (f"No output: the kernel {kh} × {kw} is larger than the image "
                               f"{h} × {w}, so it fits nowhere. ({err})")
            self.shape_html.value = problem_html(self.shape_text, CSS_CLASS)
            return
        ho, wo = tuple(self.output.shape)
        self.shape_text = (f"input {h} × {w} ⋆ kernel {kh} × {kw} → output "
                           f"({h} − {kh} + 1) × ({w} − {kw} + 1) = {ho} × {wo}")
        self.shape_html.value = lines_html([self.shape_text], CSS_CLASS)

    def _kernel_shape(self) -> tuple[int, int]:
        return self.controls["rows"].value, self.controls["cols"].value

    def _draw(self) -> None:
        (h, w), (kh, kw) = tuple(self.image.shape), tuple(self.kernel.shape)
        self.maps["input"].update(self.image.numpy(), f"input {h} × {w}", annotate=max(h, w) <= 10)
        self.maps["kernel"].update(self.kernel.numpy(), f"kernel {kh} × {kw}", annotate=True)
        if self.output is None:
            self.maps["output"].update(np.zeros((1, 1)), "no output (kernel too large)")
        else:
            ho, wo = tuple(self.output.shape)
            self.maps["output"].update(self.output.numpy(), f"output {ho} × {wo}",
                                       annotate=max(ho, wo) <= 10)
