"""Every notebook as the student sees it: JupyterLab (student set-up) in headless Chromium.

Solved notebooks (solutions/) run without any error, draw every widget, and each slider,
dropdown and button redraws its plot (the callback's marker line is printed anew). Release
notebooks (course/) run up to the first exercise, and the exercises raise
NotImplementedError and nothing else. nbgrader's Validate says "Success" on a solved
notebook and lists the failing cells on an unsolved one. One screenshot per notebook.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from studentview import check_release, check_solved

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def _notebooks(top: str) -> list[str]:
    return sorted(
        f"{top}/{p.parent.name}/{p.name}"
        for p in (REPO_ROOT / top).glob("*/*.ipynb")
        if p.stem == p.parent.name
    )


SOLVED = _notebooks("solutions")
RELEASED = _notebooks("course")


@pytest.mark.parametrize("rel_path", SOLVED)
def test_solved_notebook_runs_and_widgets_respond(lab, rel_path, screenshot_dir):
    log = check_solved(lab, rel_path, screenshot_dir)
    print(rel_path, *log, sep="\n  ")


@pytest.mark.parametrize("rel_path", RELEASED)
def test_release_notebook_raises_only_not_implemented(lab, rel_path, screenshot_dir):
    errors = check_release(lab, rel_path, screenshot_dir)
    print(rel_path, errors)


def test_validate_button(lab):
    """Validate on a solved notebook succeeds; on the unsolved release it names failures."""
    solved, released = SOLVED[0], RELEASED[0]
    lab.open(solved)
    ok, text = lab.validate()
    assert ok, text
    assert "Success! Your notebook passes all the tests." in text
    lab.open(released)
    ok, text = lab.validate()
    assert not ok, text
    assert "NotImplementedError" in text, text


# -- the checks can fail ----------------------------------------------------------------------
def _broken_copy(root: Path, rel_path: str, name: str, edit) -> str:
    """A copy of a solved notebook under `broken/`, with `edit(nb)` applied."""
    src = root / rel_path
    dst = root / "broken" / name / f"{name}.ipynb"
    dst.parent.mkdir(parents=True, exist_ok=True)
    nb = json.loads(src.read_text())
    edit(nb)
    dst.write_text(json.dumps(nb))
    return str(dst.relative_to(root))


def _first_widget_callback(nb: dict) -> dict:
    return next(
        c for c in nb["cells"] if c["cell_type"] == "code" and "explore(" in "".join(c["source"])
    )


def test_check_fails_on_raising_widget_callback(lab, lab_server, screenshot_dir):
    """A callback that raises once the widget moves makes the solved-notebook check fail."""

    def break_callback(nb):
        cell = _first_widget_callback(nb)
        src = "".join(cell["source"])
        # The callback draws once (the widget appears), then raises on every move.
        src, n = re.subn(
            r"^(def \w+\(.*\):\n)",
            r"_calls = []\n\n\n\1"
            r"    _calls.append(1)\n"
            r"    if len(_calls) > 1:\n"
            r"        raise RuntimeError('broken callback')\n",
            src,
            count=1,
            flags=re.MULTILINE,
        )
        assert n == 1, src
        cell["source"] = src

    rel = _broken_copy(lab_server["root"], SOLVED[0], "raising_callback", break_callback)
    with pytest.raises(AssertionError, match="broken callback"):
        check_solved(lab, rel, screenshot_dir)


def test_check_fails_on_notebook_error(lab, lab_server, screenshot_dir):
    """A solved notebook with a cell that errors makes the check fail."""

    def add_error(nb):
        cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
        cell["source"] = "".join(cell["source"]) + "\n1 / 0\n"

    rel = _broken_copy(lab_server["root"], SOLVED[0], "erroring_cell", add_error)
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        check_solved(lab, rel, screenshot_dir)
