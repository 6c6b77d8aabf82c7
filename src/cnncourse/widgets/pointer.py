"""The pointing convolution explorer (Sections 7.2-7.3): hover, pin, paint, scrub, copy the code.

The drawing is an `anywidget <https://anywidget.dev>`_: its ES module (``pointer.js``) and style
(``pointer.css``), files of this package, are read here and sent to the browser inline in the
widget's ``_esm`` / ``_css`` traitlets. Nothing is built with npm and nothing is fetched at run
time: JupyterLab loads anywidget's prebuilt front-end extension from the pip package, so the
explorer works offline in the pinned JupyterLab (``tests/test_pointer_browser.py`` drives it there
with the network off). Every number it shows comes from :mod:`cnncourse.widgets.pointer_data`
(computed with :mod:`cnncourse.functional`); the JavaScript only draws and reports hover, click
and paint events back.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import ipywidgets as widgets
import torch
import traitlets

from cnncourse._checks import IntPair, check_tensor, conv_padding, nonnegative_pair, positive_pair

from .base import int_slider
from .geometry import ConvSettings
from .pointer_code import pointer_code
from .pointer_data import PointerData, number_text, pointer_data

__all__ = ["PointerDrawing", "ConvPointer", "MAX_SIDE", "PADDING_CHOICES", "PAIR_SLIDERS", "as_pointer_image",
           "grid_panel", "pair_sliders", "set_controls"]

HERE = Path(__file__).parent
MAX_SIDE = 16  # cells per side a student can still point at, one by one
PADDING_CHOICES = [("numbers (sliders)", "numbers"), ("'same'", "same"), ("'valid'", "valid")]
PAIR_SLIDERS = {"stride": (1, 4), "padding": (0, 4), "dilation": (1, 3), "output_padding": (0, 3)}


def pair_sliders(values: dict[str, tuple[int, int]],
                 ranges: dict[str, tuple[int, int]] = PAIR_SLIDERS) -> dict[str, widgets.IntSlider]:
    """``stride_h``, ``stride_w``, ...: one slider per axis for each of ``values``, over its ``ranges``
    entry (stretched to hold a larger starting value)."""
    sliders = {}
    for name, pair in values.items():
        lo, hi = ranges[name]
        for axis, value in zip("hw", pair, strict=True):
            label = f"{name.replace('_', ' ')} {axis}"
            sliders[f"{name}_{axis}"] = int_slider(label, value, lo, max(hi, value), "9em", "20em")
    return sliders


class PointerDrawing(anywidget.AnyWidget):
    """The three grids (input, kernel, output), the texts and the code; draws, never computes.

    Python fills the lists (cell labels as text, windows, fed-by sets, formulas); the browser
    sets ``pinned_output`` / ``pinned_input`` on a click and sends ``{"event": "paint", "id"}``
    messages while painting. A panel holds one grid per channel; cells are known by ids,
    numbered grid after grid, row-major (a single channel's id is ``row * width + col``).
    """

    _esm = (HERE / "pointer.js").read_text(encoding="utf-8")
    _css = (HERE / "pointer.css").read_text(encoding="utf-8")
    panels = traitlets.Dict().tag(sync=True)          # "input", "kernel", "output": grid_panel(...)
    reads = traitlets.List().tag(sync=True)           # per output cell id: [[input id, kernel id], ...]
    feeds = traitlets.List().tag(sync=True)           # per input cell id: output cell ids
    formulas = traitlets.List().tag(sync=True)        # per output cell id: the multiply-sum
    feed_texts = traitlets.List().tag(sync=True)      # per input cell id: how many it feeds, and why
    lines = traitlets.List().tag(sync=True)           # the shape formulas, and the flip note
    problem = traitlets.Unicode("").tag(sync=True)
    code = traitlets.Unicode("").tag(sync=True)
    paint = traitlets.Bool(False).tag(sync=True)
    pinned_output = traitlets.Int(-1).tag(sync=True)
    pinned_input = traitlets.Int(-1).tag(sync=True)


def grid_panel(title: str, grids: list[torch.Tensor], titles: list[str] | None = None,
               pad: list[list[bool]] | None = None, columns: int = 1, labels: bool = True,
               cell: int = 34, shades: list[torch.Tensor | None] | None = None) -> dict:
    """One panel of the drawing: its grids as text labels (or blank), each with the id of its first
    cell, ``columns`` grids to a row, ``cell`` pixels a side. ``shades`` (per grid, or None) are
    gray levels in [0, 1], black to white, drawn as each cell's background (an image, a feature map)."""
    specs, first = [], 0
    for g, T in enumerate(grids):
        spec = {"title": titles[g] if titles else "", "first": first, "pad": pad or [],
                "labels": [[number_text(v) if labels else "" for v in row] for row in T.tolist()]}
        if shades and shades[g] is not None:
            spec["shades"] = [[round(float(v), 3) for v in row] for row in shades[g].tolist()]
        specs.append(spec)
        first += T.numel()
    return {"title": title, "columns": columns, "cell": cell, "grids": specs}


def as_pointer_image(who: str, name: str, T: object, default: list, ndim: int = 2,
                     layout: str = "(H, W)") -> torch.Tensor:
    """A float64 copy of a real tensor of rank ``ndim`` whose last two sides are at most ``MAX_SIDE``
    (the explorers' ``X``/``K``), or ``default`` when ``T`` is None; at most ``MAX_SIDE`` channels too."""
    if T is None:
        return torch.tensor(default, dtype=torch.float64)
    T = check_tensor(who, name, T, ndim, layout)
    if T.is_complex() or T.dtype == torch.bool:
        raise TypeError(f"{who}: {name} must hold real numbers, got dtype {T.dtype}")
    if max(T.shape) > MAX_SIDE or min(T.shape) < 1:
        raise ValueError(f"{who}: {name} {layout} must have between 1 and {MAX_SIDE} entries on every axis "
                         f"so each cell can be pointed at, got {tuple(T.shape)}; crop or downsample it "
                         f"first, e.g. {name}[..., :{MAX_SIDE}, :{MAX_SIDE}]")
    return T.detach().to("cpu", torch.float64).clone()


def set_controls(explorer: widgets.VBox, values: dict[str, object]) -> None:
    """A pointing explorer's ``set``: its controls by name, one refresh at the end (Section 7.3)."""
    unknown = sorted(set(values) - set(explorer.controls))
    if unknown:
        raise ValueError(f"{type(explorer).__name__}.set: no control named {unknown}; "
                         f"the controls are {sorted(explorer.controls)}")
    explorer._holding = True
    try:
        for name, value in values.items():
            explorer.controls[name].value = value
    finally:
        explorer._holding = False
    explorer.refresh()


class ConvPointer(widgets.VBox):
    """Point at a convolution: sliders around a :class:`PointerDrawing` (Sections 7.2-7.3).

    Attributes:
        controls: every control by name (``stride_h``, ``padding``, ``transposed``, ``flip``,
            ``paint``, ``brush``, ``position``, ``speed``, ...).
        drawing: the browser drawing.
        X, K: the input (painting changes it) and the kernel as given, float64.
        data: the :class:`PointerData` on show; ``code``: the script that reproduces it.
    """

    def __init__(self, X: torch.Tensor, K: torch.Tensor, stride: IntPair = 1, padding: IntPair | str = 0,
                 dilation: IntPair = 1, transposed: bool = False, output_padding: IntPair = 0,
                 flip: bool = False) -> None:
        who = "conv_pointer"
        self.X, self.K = X, K
        values = {"stride": positive_pair(who, "stride", stride),
                  "dilation": positive_pair(who, "dilation", dilation),
                  "output_padding": nonnegative_pair(who, "output_padding", output_padding)}
        padding = conv_padding(who, "padding", padding)
        values["padding"] = (0, 0) if isinstance(padding, str) else padding
        self.controls: dict[str, widgets.Widget] = pair_sliders(values)
        c = self.controls
        c["padding"] = widgets.Dropdown(options=PADDING_CHOICES, description="padding",
                                        value=padding if isinstance(padding, str) else "numbers")
        c["transposed"] = widgets.Checkbox(value=bool(transposed), description="transposed convolution")
        c["flip"] = widgets.Checkbox(value=bool(flip), description="convolution (flip the kernel)")
        c["paint"] = widgets.Checkbox(value=False, description="paint the input")
        c["brush"] = widgets.FloatText(value=1.0, description="brush value")
        c["position"] = int_slider("output cell", 0, 0, 0)
        c["speed"] = int_slider("cells / second", 2, 1, 10)
        self.play = widgets.Play(value=0, min=0, max=0, interval=500, description="play")
        widgets.link((self.play, "value"), (c["position"], "value"))
        self.steps = [widgets.Button(description=text, layout=widgets.Layout(width="6em"))
                      for text in ("◀ step", "step ▶")]
        for button, delta in zip(self.steps, (-1, 1), strict=True):
            button.on_click(lambda _, delta=delta: self.step(delta))
        self.clear = widgets.Button(description="clear the input")
        self.clear.on_click(lambda _: self.paint_cells([(r, col) for r in range(self.X.shape[0])
                                                        for col in range(self.X.shape[1])], 0.0))
        self.drawing = PointerDrawing()
        self.drawing.on_msg(lambda _widget, content, _buffers: self.handle_event(content))
        columns = [widgets.VBox([c[f"{name}_{axis}"] for name in PAIR_SLIDERS]) for axis in "hw"]
        super().__init__(children=[
            widgets.HBox(columns),
            widgets.HBox([c["padding"], c["transposed"], c["flip"]]),
            widgets.HBox([self.play, *self.steps, c["position"], c["speed"]]),
            widgets.HBox([c["paint"], c["brush"], self.clear]),
            self.drawing,
        ])
        for name, control in c.items():
            if name not in ("paint", "brush", "position", "speed"):
                control.observe(lambda _change: self.refresh(), names="value")
        c["paint"].observe(lambda change: setattr(self.drawing, "paint", change["new"]), names="value")
        c["speed"].observe(lambda change: setattr(self.play, "interval", 1000 // change["new"]),
                           names="value")
        c["position"].observe(self._on_position, names="value")
        self.drawing.observe(self._on_pin, names="pinned_output")
        self._holding = False
        self.refresh()

    def settings(self) -> ConvSettings:
        """The controls as :class:`ConvSettings`, sized by the current X and K."""
        v = {name: control.value for name, control in self.controls.items()}
        pair = {name: (v[f"{name}_h"], v[f"{name}_w"]) for name in PAIR_SLIDERS}
        return ConvSettings(tuple(self.X.shape), tuple(self.K.shape), pair["stride"],
                            pair["padding"] if v["padding"] == "numbers" else v["padding"],
                            pair["dilation"], v["transposed"], pair["output_padding"])

    def set(self, **values: object) -> None:
        """Set controls by name (``explorer.set(stride_h=2, transposed=True)``), then refresh once."""
        set_controls(self, values)

    def step(self, delta: int) -> None:
        """Pin the next (``delta=1``) or previous output cell, wrapping around, like the step buttons."""
        cells = self.controls["position"].max + 1
        self.controls["position"].value = (self.controls["position"].value + delta) % cells
        self._on_position({"new": self.controls["position"].value})

    def handle_event(self, content: dict) -> None:
        """What the browser sends: ``{"event": "paint", "id": row * width + col}`` of an input-panel cell."""
        if content.get("event") == "paint":
            (top, left), width = self.data.offset, self.data.grid.shape[1]
            row, col = divmod(int(content["id"]), width)
            self.paint_cells([(row - top, col - left)], float(self.controls["brush"].value))

    def paint_cells(self, cells: list[tuple[int, int]], value: float) -> None:
        """Set input cells ``(row, col)`` of X to ``value`` (cells outside X, e.g. padding, are skipped)."""
        h, w = self.X.shape
        for row, col in cells:
            if 0 <= row < h and 0 <= col < w:
                self.X[row, col] = value
        self.refresh()

    def refresh(self) -> None:
        """Recompute everything from X, K and the controls, and send it to the drawing."""
        if self._holding:
            return
        s = self.settings()
        for axis in "hw":
            self.controls[f"output_padding_{axis}"].disabled = not s.transposed
            self.controls[f"padding_{axis}"].disabled = isinstance(s.padding, str)
        self.data: PointerData = pointer_data(self.X, self.K, s, self.controls["flip"].value)
        self.code = "" if self.data.output is None else pointer_code(self.X, self.K, s, self.data.flip)
        cells = 0 if self.data.output is None else self.data.output.numel()
        self.play.max = max(cells - 1, 0)
        self.controls["position"].max = max(cells - 1, 0)
        d = self.drawing
        with d.hold_sync():
            titles, (width, kw) = self._titles(s), (self.data.grid.shape[1], self.data.kernel.shape[1])
            outputs = [] if self.data.output is None else [self.data.output]
            pad = self.data.padding_mask.tolist()
            d.panels = {"input": grid_panel(titles["input"], [self.data.grid], pad=pad),
                        "kernel": grid_panel(titles["kernel"], [self.data.kernel]),
                        "output": grid_panel(titles["output"], outputs)}
            d.reads = [[[r * width + c, a * kw + b] for r, c, a, b in cells] for cells in self.data.reads]
            d.feeds, d.formulas, d.feed_texts = self.data.feeds, self.data.formulas(), self.data.feed_texts()
            d.lines = self._lines()
            d.problem, d.code = self.data.report.problem, self.code
            if d.pinned_output >= cells:
                d.pinned_output = -1
            if d.pinned_input >= self.data.grid.numel():
                d.pinned_input = -1

    def _titles(self, s: ConvSettings) -> dict[str, str]:
        hg, wg = self.data.grid.shape
        if s.transposed:
            source = f"input X {hg} × {wg}"
        elif self.data.padding_mask.any():
            source = f"padded input {hg} × {wg} (X is {s.input_size[0]} × {s.input_size[1]})"
        else:
            source = f"input X {hg} × {wg}"
        if s.transposed:
            kernel = "kernel K flipped" if self.data.flip else "kernel K"
        else:
            kernel = "kernel K flipped (convolution)" if self.data.flip else "kernel K (cross-correlation)"
        out = self.data.output
        return {"input": source, "kernel": kernel,
                "output": "no output" if out is None else f"output Y {out.shape[0]} × {out.shape[1]}"}

    def _lines(self) -> list[str]:
        if self.data.output is None:
            return []
        lines = self.data.report.text.split("\n")
        symmetric = torch.equal(self.K, self.K.flip(0, 1))
        differ = int((self.data.output != self.data.other).sum())
        if symmetric:
            lines.append("K equals K flipped (a symmetric kernel): convolution and cross-correlation agree.")
        else:
            lines.append(f"K differs from K flipped: convolution and cross-correlation differ in {differ} of "
                         f"{self.data.output.numel()} output cells (tick 'convolution' to compare).")
        return lines

    def _on_position(self, change: dict) -> None:
        if self.data.output is not None:
            self.drawing.pinned_input = -1
            self.drawing.pinned_output = change["new"]

    def _on_pin(self, change: dict) -> None:
        if change["new"] >= 0:
            self.controls["position"].value = change["new"]
