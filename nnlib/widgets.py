"""Interactive figures: controls, and the figure a drawing function makes from their values.

    explore(show_neuron, w=FloatSlider(...), b=FloatSlider(...))

draws ``show_neuron(w=..., b=...)`` once and again whenever a control changes. Unlike
ipywidgets' ``interact``, the figure is sent as a PNG image widget and what the function
prints goes to a text widget: no ``Output`` widget is involved. That matters for headless
runs (``jupyter nbconvert --execute``, ``nbgrader validate``, any nbclient): nbclient
stands in for every ``Output`` widget by sending it its new state on the kernel's shell
socket while it waits for the cell's reply, and with jupyter_client's asynchronous client
such a send can leave the reply unseen until the cell times out (see
nncourse/kernel_client.py). Without an Output widget the client sends nothing during a
cell, so a widget cell cannot stall, whichever client runs it.

The drawing function makes one matplotlib figure (``plt.subplots(...)``) and need not show
it; ``plt.show()`` inside it is harmless. An exception inside it is shown in the text area,
the controls stay usable, and the last good figure stays on screen.
"""

from __future__ import annotations

import contextlib
import html
import io
import traceback
from collections.abc import Callable
from unittest import mock

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

#: How many lines of a traceback the text area shows (its first line, then the end).
TRACEBACK_LINES = 12


def render_png(draw: Callable[..., object], values: dict) -> tuple[bytes | None, str]:
    """Call ``draw(**values)``; return (the PNG of the figure it made, what it printed).

    Every figure ``draw`` opens is closed again, so none is shown twice (the inline backend
    would show it at the end of the cell). The PNG is None when ``draw`` made no figure.
    """
    before = set(plt.get_fignums())
    printed = io.StringIO()
    try:
        with (
            contextlib.redirect_stdout(printed),
            mock.patch.object(plt, "show", lambda *a, **k: None),
        ):
            draw(**values)
        made = [n for n in plt.get_fignums() if n not in before]
        if not made:
            return None, printed.getvalue()
        buffer = io.BytesIO()
        plt.figure(made[-1]).savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue(), printed.getvalue()
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)


class Explorer(widgets.VBox):
    """The controls (or ``layout``, a box holding them), the figure, and the printed text.

    controls: name -> a value widget (slider, dropdown, text box); ``draw`` receives each
    control's value under its name. layout: what to show above the figure instead of the
    controls in a column (a box holding them and, say, a button that changes one of them).
    """

    def __init__(
        self,
        draw: Callable[..., object],
        controls: dict[str, widgets.ValueWidget],
        layout: widgets.Widget | None = None,
    ):
        if not controls:
            raise ValueError("explore needs at least one control, e.g. w=FloatSlider()")
        for name, control in controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise TypeError(
                    f"control {name!r} should be a widget with a value (a slider, a dropdown), "
                    f"got {type(control).__name__}"
                )
        self.draw, self.controls = draw, dict(controls)
        self.image = widgets.Image(format="png")
        self.text = widgets.HTML()
        super().__init__(
            [layout or widgets.VBox(list(self.controls.values())), self.image, self.text]
        )
        for control in self.controls.values():
            control.observe(self.redraw, names="value")
        self.redraw()

    def values(self) -> dict:
        """Each control's current value, under its name."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self, _change=None) -> None:
        """Draw the figure for the current values (called on every change of a control)."""
        try:
            png, printed = render_png(self.draw, self.values())
        except Exception:  # noqa: BLE001 (shown to the student; the explorer keeps working)
            lines = traceback.format_exc().splitlines()
            if len(lines) > TRACEBACK_LINES:  # its first line, and the end, where the error is
                lines = [lines[0], "  ...", *lines[2 - TRACEBACK_LINES :]]
            self.text.value = _pre("\n".join(lines), error=True)
            return
        if png is not None:
            self.image.value = png
        self.text.value = _pre(printed) if printed.strip() else ""


def _pre(text: str, error: bool = False) -> str:
    style = ' style="color: #b00020"' if error else ""
    return f"<pre{style}>{html.escape(text.rstrip())}</pre>"


def explore(draw: Callable[..., object], layout: widgets.Widget | None = None, **controls) -> None:
    """Show an `Explorer` of ``draw`` with these controls (see its docstring).

    It returns nothing, so that a cell ending with it shows the explorer once; make an
    ``Explorer`` yourself to keep a handle on it.
    """
    display(Explorer(draw, controls, layout))
