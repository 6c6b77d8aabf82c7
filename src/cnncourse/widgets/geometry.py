"""The pure part of the explorers (Sections 7.2, 7.3, 7.5): given the settings, which shape, cells, text.

Nothing here touches ipywidgets or matplotlib, so every answer can be tested against PyTorch.
The output shapes themselves always come from :mod:`cnncourse.functional`; this module only
fills the formulas in with numbers and works out which cells a window touches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cnncourse import functional as ops
from cnncourse.functional.shapes import conv_pads

__all__ = [
    "ConvSettings",
    "ShapeReport",
    "conv_report",
    "conv_padding_sides",
    "window_taps",
    "transposed_targets",
    "pooling_problem",
    "LayerSpec",
    "pad_before",
    "receptive_field_sizes",
    "receptive_field_masks",
]

AXES = ("H", "W")
AXIS_NAMES = ("height", "width")


@dataclass(frozen=True)
class ConvSettings:
    """Everything the convolution explorer's sliders set, as ``(height, width)`` pairs.

    ``padding`` is a pair, or ``"same"`` / ``"valid"`` as ``nn.Conv2d`` takes them.
    """

    input_size: tuple[int, int]
    kernel_size: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] | str = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    transposed: bool = False
    output_padding: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class ShapeReport:
    """The output shape (``None`` when impossible), one filled-in formula per axis, and why not.

    ``padding_text`` says how many zeros a ``"same"``/``"valid"`` padding adds on each side.
    """

    shape: tuple[int, int] | None
    formulas: tuple[str, ...]
    problem: str = ""
    padding_text: str = ""

    @property
    def text(self) -> str:
        """What the explorer prints: the padding, the formulas and the shape, or the explanation."""
        if self.shape is None:
            return self.problem
        h, w = self.shape
        lines = [self.padding_text] if self.padding_text else []
        return "\n".join([*lines, *self.formulas, f"output shape: {h} × {w}"])


def _added(before: int, after: int) -> str:
    """The zeros one axis gains, as the formula writes them: ``2·p``, or ``1 + 2`` when uneven."""
    return f"2·{before}" if before == after else f"{before} + {after}"


def _conv_formula(axis: str, n: int, k: int, s: int, pads: tuple[int, int], d: int) -> str:
    """``H_out = ⌊(n + 2·p − d·(k−1) − 1)/s⌋ + 1`` with the numbers in (value appended later)."""
    return f"{axis}_out = ⌊({n} + {_added(*pads)} − {d}·({k}−1) − 1)/{s}⌋ + 1"


def conv_padding_sides(s: ConvSettings) -> tuple[int, int, int, int]:
    """Zeros the convolution adds ``(left, right, top, bottom)``, by PyTorch's rule.

    The rule's one home is :func:`cnncourse.functional.shapes.conv_pads` (``"same"`` puts an even
    kernel's extra zero at the bottom/right); ValueError for ``"same"`` with a stride.
    """
    return conv_pads("conv_explorer", s.padding, s.kernel_size, s.stride, s.dilation)


def _padding_text(s: ConvSettings, left: int, right: int, top: int, bottom: int) -> str:
    """For ``"same"``/``"valid"``: the zeros on each side, and why an even kernel's are uneven."""
    if not isinstance(s.padding, str):
        return ""
    uneven = " (even kernel: PyTorch puts the extra zero at the bottom/right)" if (
        top != bottom or left != right) else ""
    return (f"padding='{s.padding}': {top} row(s) on top, {bottom} at the bottom, "
            f"{left} column(s) on the left, {right} on the right{uneven}")


def _transposed_formula(axis: str, n: int, k: int, s: int, p: int, d: int, op: int) -> str:
    """``H_out = (n − 1)·s − 2·p + d·(k−1) + output_padding + 1`` with the numbers in."""
    return f"{axis}_out = ({n} − 1)·{s} − 2·{p} + {d}·({k}−1) + {op} + 1"


def _conv_problem(s: ConvSettings, pads: tuple[tuple[int, int], ...], library_message: str) -> str:
    for axis in range(2):
        n, k, d = s.input_size[axis], s.kernel_size[axis], s.dilation[axis]
        span, padded = d * (k - 1) + 1, n + sum(pads[axis])
        if span > padded:
            return (
                f"Impossible setting: along the {AXIS_NAMES[axis]} the dilated kernel spans "
                f"{d}·({k}−1) + 1 = {span} cells, but the padded input has only "
                f"{n} + {_added(*pads[axis])} = {padded}; the window does not fit even once. "
                f"Add padding, or shrink the kernel or the dilation. ({library_message})"
            )
    return f"Impossible setting: {library_message}"


def _transposed_problem(s: ConvSettings, library_message: str) -> str:
    for axis in range(2):
        op, st, d = s.output_padding[axis], s.stride[axis], s.dilation[axis]
        if op >= st and op >= d:
            return (
                f"Impossible setting: along the {AXIS_NAMES[axis]} the output padding {op} must be "
                f"smaller than the stride {st} or the dilation {d}. Output padding only picks "
                f"which of the {st} input sizes that a stride-{st} convolution maps to the same "
                f"output size is meant; more than that would add rows no input reaches. "
                f"({library_message})"
            )
    for axis in range(2):
        n, k, st, p, d, op = (s.input_size[axis], s.kernel_size[axis], s.stride[axis],
                              s.padding[axis], s.dilation[axis], s.output_padding[axis])
        size = (n - 1) * st - 2 * p + d * (k - 1) + op + 1
        if size < 1:
            formula = _transposed_formula(AXES[axis], n, k, st, p, d, op)
            return (
                f"Impossible setting: {formula} = {size}. Along the {AXIS_NAMES[axis]} the padding "
                f"crops 2·{p} cells off an output of only {size + 2 * p}, so nothing is left; "
                f"use less padding, a larger stride or a larger kernel. ({library_message})"
            )
    return f"Impossible setting: {library_message}"


def conv_report(s: ConvSettings) -> ShapeReport:
    """The convolution explorer's output shape and filled-in formulas, or why it is impossible.

    The shape comes from :func:`cnncourse.functional.conv_output_shape` (or
    ``conv_transpose_output_shape``); this function adds the arithmetic a student can follow.
    Settings PyTorch refuses (``"same"`` with a stride, a string padding for a transposed
    convolution) are explained, never raised.
    """
    padding_text = ""
    if s.transposed and isinstance(s.padding, str):
        return ShapeReport(None, (), (
            f"Impossible setting: nn.ConvTranspose2d takes its padding as numbers only; PyTorch "
            f"refuses padding='{s.padding}' there (its padding crops the output instead of "
            f"padding the input). Choose the padding from the sliders."
        ))
    if s.transposed:
        formulas = tuple(
            _transposed_formula(AXES[a], s.input_size[a], s.kernel_size[a], s.stride[a],
                                s.padding[a], s.dilation[a], s.output_padding[a])
            for a in range(2)
        )
        try:
            shape = ops.conv_transpose_output_shape(s.input_size, s.kernel_size, s.stride, s.padding,
                                                  s.output_padding, s.dilation)
        except ValueError as err:
            return ShapeReport(None, formulas, _transposed_problem(s, str(err)))
    else:
        try:
            left, right, top, bottom = conv_padding_sides(s)
        except ValueError as err:  # "same" with a stride, refused as nn.Conv2d refuses it
            return ShapeReport(None, (), (
                f"Impossible setting: padding='same' needs stride 1, but the stride is "
                f"{s.stride[0]} × {s.stride[1]}. 'same' promises an output as large as the input, "
                f"and a stride keeps only every s-th window, so no padding keeps the size; nn.Conv2d "
                f"refuses it too. Set the strides to 1, or give the padding as numbers. ({err})"
            ))
        pads, padding_text = ((top, bottom), (left, right)), _padding_text(s, left, right, top, bottom)
        formulas = tuple(
            _conv_formula(AXES[a], s.input_size[a], s.kernel_size[a], s.stride[a], pads[a], s.dilation[a])
            for a in range(2)
        )
        try:
            shape = ops.conv_output_shape(s.input_size, s.kernel_size, s.stride, s.padding, s.dilation)
        except ValueError as err:
            return ShapeReport(None, formulas, _conv_problem(s, pads, str(err)))
    filled = tuple(f"{f} = {v}" for f, v in zip(formulas, shape, strict=True))
    return ShapeReport(tuple(shape), filled, padding_text=padding_text)


def window_taps(out_index: int, kernel: int, stride: int, dilation: int) -> list[int]:
    """Positions (in padded-input coordinates, one axis) that output ``out_index`` reads."""
    return [out_index * stride + a * dilation for a in range(kernel)]


def transposed_targets(in_index: int, kernel: int, stride: int, dilation: int) -> list[int]:
    """Positions (one axis, before the padding is cropped) that input ``in_index`` writes to.

    A transposed convolution scatters each input cell, times the kernel, onto the output
    starting at ``in_index * stride``; output index = canvas index - padding.
    """
    return [in_index * stride + a * dilation for a in range(kernel)]


def pooling_problem(input_size: tuple[int, int], kernel_size: tuple[int, int],
                    padding: tuple[int, int]) -> str:
    """Why PyTorch's pooling layers refuse these settings, or ``""`` when they are fine."""
    for a in range(2):
        k, p, n = kernel_size[a], padding[a], input_size[a]
        if 2 * p > k:
            return (
                f"Impossible setting: along the {AXIS_NAMES[a]} the padding {p} is more than half "
                f"the window {k}. A window could then sit entirely on padding, which has no "
                f"values to pool; PyTorch requires padding ≤ window/2."
            )
        if k > n + 2 * p:
            return (
                f"Impossible setting: along the {AXIS_NAMES[a]} the window {k} is larger than "
                f"the padded input {n} + 2·{p} = {n + 2 * p}; shrink the window or pad more."
            )
    return ""


def pooling_report(input_size: tuple[int, int], kernel_size: tuple[int, int], stride: tuple[int, int],
                   padding: tuple[int, int]) -> ShapeReport:
    """A pooling's output shape with its filled-in formulas, or why PyTorch refuses the settings."""
    problem = pooling_problem(input_size, kernel_size, padding)
    if problem:
        return ShapeReport(None, (), problem)
    shape = ops.conv_output_shape(input_size, kernel_size, stride, padding)
    formulas = tuple(f"{a}_out = ⌊({n} + 2·{p} − {k})/{s}⌋ + 1 = {o}" for a, n, p, k, s, o
                     in zip("HW", input_size, padding, kernel_size, stride, shape, strict=True))
    return ShapeReport(tuple(shape), formulas)


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the receptive-field stack: a convolution or a pooling window.

    A convolution's ``padding`` may also be ``"same"`` or ``"valid"``, as in ``nn.Conv2d``.
    """

    kind: str
    kernel_size: int
    stride: int = 1
    dilation: int = 1
    padding: int | str = 0


def pad_before(layer: LayerSpec) -> int:
    """Zeros above (and left of) a layer's input, by ``conv_pads``: an even kernel's extra zero of
    ``"same"`` goes at the bottom/right, as in PyTorch. ValueError for ``"same"`` with a stride."""
    pair = layer.padding if isinstance(layer.padding, str) else (layer.padding, layer.padding)
    _, _, top, _ = conv_pads("receptive_field_explorer", pair, (layer.kernel_size,) * 2,
                                (layer.stride,) * 2, (layer.dilation,) * 2)
    return top


def receptive_field_sizes(layers: Sequence[LayerSpec]) -> list[tuple[int, int, str]]:
    """``(r_l, j_l, formula)`` for the input (l = 0) and after every layer (Section 7.2.6).

    ``r_l = r_{l-1} + (k_l − 1)·d_l·j_{l-1}`` is the receptive field's span in input pixels,
    ``j_l = j_{l-1}·s_l`` how many input pixels one step in layer ``l`` moves.
    """
    r, j = 1, 1
    rows = [(r, j, "r_0 = 1, j_0 = 1")]
    for idx, layer in enumerate(layers, start=1):
        k, s, d = layer.kernel_size, layer.stride, layer.dilation
        new_r, new_j = r + (k - 1) * d * j, j * s
        text = (f"r_{idx} = {r} + ({k}−1)·{d}·{j} = {new_r}, "
                f"j_{idx} = {j}·{s} = {new_j}")
        r, j = new_r, new_j
        rows.append((r, j, text))
    return rows


def _back_1d(mask_out: np.ndarray, in_size: int, layer: LayerSpec) -> np.ndarray:
    """Which cells of a layer's input (one axis) reach the marked cells of its output."""
    mask_in = np.zeros(in_size, dtype=bool)
    before = pad_before(layer)
    for i in np.flatnonzero(mask_out):
        for pos in window_taps(int(i), layer.kernel_size, layer.stride, layer.dilation):
            y = pos - before  # padded coordinates -> input coordinates
            if 0 <= y < in_size:
                mask_in[y] = True
    return mask_in


def receptive_field_masks(layers: Sequence[LayerSpec], sizes: Sequence[tuple[int, int]],
                          cell: tuple[int, int]) -> list[np.ndarray]:
    """Boolean maps, input first, of the cells that influence ``cell`` of the last layer.

    Args:
        layers: the stack, first layer first.
        sizes: the feature-map size ``(h, w)`` of the input and after every layer.
        cell: ``(row, col)`` in the last feature map.

    With dilation the set can have holes, so it is propagated exactly, one axis at a time
    (every window here is a full rectangle, so rows and columns are independent).
    """
    masks_1d = []
    for axis in range(2):
        mask = np.zeros(sizes[-1][axis], dtype=bool)
        mask[cell[axis]] = True
        per_layer = [mask]
        for layer, size in zip(reversed(layers), reversed(sizes[:-1]), strict=True):
            mask = _back_1d(mask, size[axis], layer)
            per_layer.append(mask)
        masks_1d.append(per_layer[::-1])
    return [np.outer(rows, cols) for rows, cols in zip(*masks_1d, strict=True)]
