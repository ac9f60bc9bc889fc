"""nnlib.widgets: a figure redrawn from its controls, without an Output widget."""

import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt
import pytest

from nnlib.widgets import TRACEBACK_LINES, Explorer, render_png

matplotlib.use("Agg")

PNG = b"\x89PNG\r\n\x1a\n"


def line(w=1.0, b=0.0):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [b, w + b])
    plt.show()  # as a notebook's drawing function may do: harmless here
    print(f"w={w} b={b}")


def test_render_png_returns_the_figure_and_the_text_and_closes_the_figure():
    open_before = plt.get_fignums()
    png, printed = render_png(line, {"w": 2.0, "b": 0.5})
    assert png.startswith(PNG) and printed == "w=2.0 b=0.5\n"
    assert plt.get_fignums() == open_before


def test_render_png_without_a_figure_and_after_an_error_leaves_no_figure_open():
    assert render_png(lambda: print("only text"), {}) == (None, "only text\n")

    def broken():
        plt.subplots()
        raise ValueError("no data")

    with pytest.raises(ValueError, match="no data"):
        render_png(broken, {})
    assert plt.get_fignums() == []


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def test_explorer_redraws_on_every_change_and_holds_no_output_widget():
    w = widgets.FloatSlider(value=1.0)
    explorer = Explorer(line, {"w": w, "b": widgets.FloatText(value=0.0)})
    first = bytes(explorer.image.value)
    assert first.startswith(PNG) and "w=1.0 b=0.0" in explorer.text.value
    w.value = 3.0
    assert bytes(explorer.image.value).startswith(PNG) and explorer.image.value != first
    assert "w=3.0 b=0.0" in explorer.text.value
    assert not any(isinstance(x, widgets.Output) for x in walk(explorer))


def test_an_error_is_shown_and_the_last_figure_kept():
    def fragile(k=1):
        if k == 2:
            raise ZeroDivisionError("k = 2 is not drawable")
        line(w=k)

    k = widgets.IntSlider(value=1)
    explorer = Explorer(fragile, {"k": k})
    good = explorer.image.value
    k.value = 2
    assert explorer.image.value == good
    assert "ZeroDivisionError: k = 2 is not drawable" in explorer.text.value
    assert "Traceback (most recent call last)" in explorer.text.value
    assert "color" in explorer.text.value  # shown as an error
    k.value = 3
    assert "w=3" in explorer.text.value and explorer.image.value != good


def test_a_long_traceback_keeps_its_first_line_and_its_end():
    def deep(n=40):
        return deep(n - 1) if n else 1 / 0

    explorer = Explorer(lambda k: deep(), {"k": widgets.IntSlider()})
    shown = explorer.text.value.splitlines()
    assert len(shown) == TRACEBACK_LINES
    assert "Traceback (most recent call last)" in shown[0]
    assert "ZeroDivisionError: division by zero" in shown[-1]


def test_a_layout_replaces_the_column_of_controls():
    p = widgets.FloatSlider(value=0.5)
    button = widgets.Button(description="new")
    box = widgets.HBox([p, button])
    explorer = Explorer(lambda p: line(w=p), {"p": p}, layout=box)
    assert explorer.children[0] is box


def test_bad_controls_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="at least one control"):
        Explorer(line, {})
    with pytest.raises(TypeError, match="control 'w' should be a widget with a value"):
        Explorer(line, {"w": 1.0})
