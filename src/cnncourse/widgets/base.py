"""What every explorer of Sections 7.2-7.6 shares: controls, one figure, batched updates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ipywidgets as widgets
from matplotlib.figure import Figure

from .drawing import figure_png, show_figure

__all__ = ["Explorer", "int_slider", "problem_html", "lines_html"]


def int_slider(description: str, value: int, lo: int, hi: int, label_width: str = "9em",
               width: str = "22em") -> widgets.IntSlider:
    """A labelled integer slider that reports only when released or stepped (no flood of updates)."""
    return widgets.IntSlider(value=value, min=lo, max=hi, description=description,
                             continuous_update=False, style={"description_width": label_width},
                             layout=widgets.Layout(width=width))


def lines_html(lines: list[str] | tuple[str, ...], css_class: str) -> str:
    """Monospace lines of text as HTML, inside a div with a class a browser test can find."""
    body = "<br>".join(line.replace("&", "&amp;").replace("<", "&lt;") for line in lines)
    return f'<div class="{css_class}" style="font-family: monospace; line-height: 1.5">{body}</div>'


def problem_html(text: str, css_class: str) -> str:
    """An explanation of impossible settings, in the same div a valid result would use."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return f'<div class="{css_class}" style="color: #b00020; max-width: 60em">{text}</div>'


class Explorer(widgets.VBox):
    """A VBox of controls and one figure; any control change recomputes the state and redraws.

    Subclasses fill ``self.controls`` (name -> widget) and implement ``_compute`` (the state,
    from the controls, through the library) and ``_draw`` (the figure, from the state).

    Attributes:
        controls: every control by name, e.g. ``explorer.controls["stride_h"]``.
        figure: the explorer's one matplotlib figure, redrawn in place.
        plot: the ``ipywidgets.Image`` that shows the figure.
    """

    def __init__(self, controls: dict[str, widgets.Widget], figure: Figure,
                 children: list[widgets.Widget]) -> None:
        self.controls = controls
        self.figure = figure
        self.plot = widgets.Image(format="png")
        self._holding = False
        super().__init__(children=[*children, self.plot])
        for control in controls.values():
            control.observe(self._on_change, names="value")

    def _on_change(self, change: dict) -> None:
        if not self._holding:
            self.refresh()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Change several controls without recomputing after each one."""
        previous, self._holding = self._holding, True
        try:
            yield
        finally:
            self._holding = previous

    def set(self, **values: object) -> None:
        """Set controls by name (``explorer.set(stride_h=2, padding_w=1)``), then refresh once."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"{type(self).__name__}.set: no control named {unknown}; "
                             f"the controls are {sorted(self.controls)}")
        with self.hold():
            for name, value in values.items():
                self.controls[name].value = value
            if any(self.controls[name].value != value for name, value in values.items()):
                # Clamped to a range the other new values widen (e.g. position to the old
                # number of output cells): recompute the ranges, then set again.
                self._compute()
                for name, value in values.items():
                    self.controls[name].value = value
        self.refresh()

    def refresh(self) -> None:
        """Recompute the state from the controls, redraw the figure and show it."""
        with self.hold():  # _compute may adjust dependent controls (ranges, clamped positions)
            self._compute()
        self._draw()
        show_figure(self.plot, self.figure)

    def render_png(self) -> bytes:
        """The current figure as PNG bytes (what a notebook shows)."""
        return figure_png(self.figure)

    def _compute(self) -> None:  # pragma: no cover - every explorer overrides it
        raise NotImplementedError

    def _draw(self) -> None:  # pragma: no cover - every explorer overrides it
        raise NotImplementedError
