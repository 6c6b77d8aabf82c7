"""The channels explorer (Section 7.4): point at multi-channel and grouped convolutions.

The same anywidget drawing as :mod:`cnncourse.widgets.pointer` (inline ES module, offline), with
one grid per input channel, per kernel slice and per output channel. Hover an output cell: the
window lights up in every input channel its group reads, with the kernel slice's weights, and the
sum is written channel by channel. Hover an input cell: the output cells it feeds light up, in the
output channels of its group only. Numbers come from :mod:`cnncourse.widgets.channels_data`.
"""

from __future__ import annotations

import ipywidgets as widgets
import torch

from cnncourse._checks import IntPair, conv_padding, positive_pair

from .channels_data import ChannelData, channel_data, group_text
from .geometry import ConvSettings
from .pointer import PADDING_CHOICES, PAIR_SLIDERS, PointerDrawing, grid_panel, pair_sliders, set_controls
from .pointer_code import channels_code

__all__ = ["ChannelPointer", "seeded_kernels"]

SPATIAL = [name for name in PAIR_SLIDERS if name != "output_padding"]


def seeded_kernels(c_out: int, per_in: int, kernel_size: tuple[int, int], seed: int = 7) -> torch.Tensor:
    """Small integer kernels ``(C_out, C_in / groups, kh, kw)`` in −2..2, the same for the same shape."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(-2, 3, (c_out, per_in, *kernel_size), generator=generator).to(torch.float64)


class ChannelPointer(widgets.VBox):
    """C_in input slices, C_out kernel stacks, ``groups``: point at any cell (Section 7.4).

    Attributes:
        controls: every control by name (``groups``, ``stride_h``, ``padding``, ``paint``, ...).
        drawing: the browser drawing (a :class:`PointerDrawing`).
        X: the input ``(C_in, H, W)``; K: the kernels ``(C_out, C_in / groups, kh, kw)``.
        data: the :class:`ChannelData` on show; ``code``: the script that reproduces it.
    """

    def __init__(self, X: torch.Tensor, K: torch.Tensor | None, out_channels: int, groups: int,
                 kernel_size: tuple[int, int], stride: IntPair = 1, padding: IntPair | str = 0,
                 dilation: IntPair = 1) -> None:
        who = "channels_pointer"
        self.X, self.fixed_kernel, self.kernel_size, self._holding = X, K, kernel_size, False
        c_in = X.shape[0]
        choices = [g for g in range(1, c_in + 1) if c_in % g == 0 and out_channels % g == 0]
        if K is not None:
            choices = [c_in // K.shape[1]] if c_in % K.shape[1] == 0 else []
        if groups not in choices:
            raise ValueError(f"{who}: groups must divide C_in = {c_in} and C_out = {out_channels}"
                             f"{' and equal C_in / K.shape[1]' if K is not None else ''}; "
                             f"got groups={groups}, possible: {choices}")
        self.out_channels = out_channels
        padding = conv_padding(who, "padding", padding)
        self.controls: dict[str, widgets.Widget] = pair_sliders({
            "stride": positive_pair(who, "stride", stride),
            "padding": (0, 0) if isinstance(padding, str) else padding,
            "dilation": positive_pair(who, "dilation", dilation)})
        c = self.controls
        c["padding"] = widgets.Dropdown(options=PADDING_CHOICES, description="padding",
                                        value=padding if isinstance(padding, str) else "numbers")
        c["groups"] = widgets.Dropdown(options=choices, value=groups, description="groups",
                                       disabled=len(choices) == 1)
        c["paint"] = widgets.Checkbox(value=False, description="paint the input")
        c["brush"] = widgets.FloatText(value=1.0, description="brush value")
        self.drawing = PointerDrawing()
        self.drawing.on_msg(lambda _widget, content, _buffers: self.handle_event(content))
        columns = [widgets.VBox([c[f"{name}_{axis}"] for name in SPATIAL]) for axis in "hw"]
        super().__init__(children=[widgets.HBox(columns), widgets.HBox([c["padding"], c["groups"]]),
                                   widgets.HBox([c["paint"], c["brush"]]), self.drawing])
        for name, control in c.items():
            if name not in ("paint", "brush"):
                control.observe(lambda _change: self.refresh(), names="value")
        c["paint"].observe(lambda change: setattr(self.drawing, "paint", change["new"]), names="value")
        self.refresh()

    def settings(self) -> ConvSettings:
        """The spatial controls as :class:`ConvSettings` for the current X and kernel size."""
        v = {name: control.value for name, control in self.controls.items()}
        pair = {name: (v[f"{name}_h"], v[f"{name}_w"]) for name in SPATIAL}
        return ConvSettings(tuple(self.X.shape[1:]), self.kernel_size, pair["stride"],
                            pair["padding"] if v["padding"] == "numbers" else v["padding"], pair["dilation"])

    def set(self, **values: object) -> None:
        """Set controls by name (``explorer.set(groups=3, stride_h=2)``), then refresh once."""
        set_controls(self, values)

    def handle_event(self, content: dict) -> None:
        """``{"event": "paint", "id": (ci * Hg + row) * Wg + col}``: paint one cell of the padded input."""
        if content.get("event") != "paint":
            return
        _, hg, wg = self.data.grid.shape
        (top, left), (ci, rest) = self.data.offset, divmod(int(content["id"]), hg * wg)
        row, col = divmod(rest, wg)
        if not self.data.padding_mask[row, col]:
            self.X[ci, row - top, col - left] = float(self.controls["brush"].value)
            self.refresh()

    @property
    def K(self) -> torch.Tensor:
        """The kernels on show: the ones given, or seeded small integers for the current groups."""
        if self.fixed_kernel is not None:
            return self.fixed_kernel
        groups = self.controls["groups"].value
        return seeded_kernels(self.out_channels, self.X.shape[0] // groups, self.kernel_size)

    def refresh(self) -> None:
        """Recompute from X, K and the controls, and send it all to the drawing."""
        if self._holding:
            return
        s, groups = self.settings(), self.controls["groups"].value
        for axis in "hw":
            self.controls[f"padding_{axis}"].disabled = isinstance(s.padding, str)
        self.data: ChannelData = channel_data(self.X, self.K, s, groups)
        self.code = "" if self.data.output is None else channels_code(self.X, self.K, s, groups)
        c_in, c_out, per_in = self.X.shape[0], self.data.kernel.shape[0], self.data.kernel.shape[1]
        hg, wg = self.data.grid.shape[1:]
        kh, kw = self.kernel_size
        out = self.data.output
        with self.drawing.hold_sync():
            d = self.drawing
            d.panels = {
                "input": grid_panel(f"input X: {c_in} channel(s), padded to {hg} × {wg}",
                                    list(self.data.grid), [f"channel {i}" for i in range(c_in)],
                                    self.data.padding_mask.tolist(), columns=c_in),
                "kernel": grid_panel(f"K: {c_out} × {per_in} slice(s) of {kh} × {kw}",
                                     [k for stack in self.data.kernel for k in stack],
                                     [f"K[{o}, {i}]" for o in range(c_out) for i in range(per_in)],
                                     columns=per_in),
                "output": grid_panel("no output" if out is None else f"output Y: {c_out} channel(s)",
                                     [] if out is None else list(out),
                                     [f"channel {o}" for o in range(c_out)], columns=c_out),
            }
            pixels = 0 if out is None else out[0].numel()  # output ids of one channel
            d.reads = [[[(ci * hg + r) * wg + c, (((o // pixels) * per_in + cl) * kh + a) * kw + b]
                        for ci, r, c, cl, a, b in cells] for o, cells in enumerate(self.data.reads)]
            d.feeds, d.formulas, d.feed_texts = self.data.feeds, self.data.formulas(), self.data.feed_texts()
            d.lines = self._lines()
            d.problem, d.code = self.data.report.problem, self.code
            if out is None or d.pinned_output >= out.numel():
                d.pinned_output = -1
            if d.pinned_input >= self.data.grid.numel():
                d.pinned_input = -1

    def _lines(self) -> list[str]:
        if self.data.output is None:
            return []
        c_in, c_out = self.X.shape[0], self.data.kernel.shape[0]
        lines = [*self.data.report.text.split("\n"), *group_text(c_in, c_out, self.data.groups)]
        if self.kernel_size == (1, 1):
            per_in = c_in // self.data.groups
            lines.append(f"a 1 × 1 convolution: each output pixel is the {c_out} × {per_in} matrix K "
                         f"times that pixel's vector of input channels (per group)")
        return lines
