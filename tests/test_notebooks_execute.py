"""Every solution notebook runs top to bottom, as the autograder runs it, within budget,
every figure its prose quotes agrees with the output of the cell that computes it, and no
widget cell makes an Output widget (a headless run could stall there).

A markdown cell declares the figures it quotes in its metadata, next to the prose::

    "nncourse": {"figures": [{"text": "sigma(5) = 0.9933",   # a substring of the cell
                              "cell": "<id of the code cell that computes it>",
                              "output": "0\\\\.9933"}]}          # re.search in its text output
"""

import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader_harness import REPO_ROOT, known_solutions

from nncourse.kernel_client import client_config

# Per notebook, in grading mode, on 2 busy cores (COURSE.md asks for well under a minute).
NOTEBOOK_BUDGET_S = 240

_executed: dict[str, nbformat.NotebookNode] = {}


def executed(assignment: str, monkeypatch) -> nbformat.NotebookNode:
    """The solution notebook run in grading mode (once per test process)."""
    if assignment not in _executed:
        # The kernel inherits this environment: grading mode as in `nbgrader autograde`,
        # and NNLIB_DATA (if set) for the data sets.
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
        folder = REPO_ROOT / "solutions" / assignment
        nb = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
        client = NotebookClient(
            nb,
            timeout=NOTEBOOK_BUDGET_S,
            kernel_name="python3",
            resources={"metadata": {"path": str(folder)}},
            config=client_config(),  # as nbgrader_config.py sets it for grading
        )
        client.execute()  # raises CellExecutionError, naming the cell, on any error
        _executed[assignment] = nb
    return _executed[assignment]


def text_output(cell) -> str:
    """What a code cell printed or displayed as text."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def quoted_figures(nb) -> list[tuple[str, dict]]:
    """(markdown source, figure entry) for every figure the notebook's prose declares."""
    return [
        (cell.source, figure)
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for figure in cell.metadata.get("nncourse", {}).get("figures", [])
    ]


def figure_problems(nb) -> list[str]:
    """Why each declared figure does not hold in the executed notebook `nb` (empty if all do)."""
    cells = {cell.get("id"): cell for cell in nb.cells}
    problems = []
    for source, figure in quoted_figures(nb):
        text, cell_id, pattern = figure["text"], figure["cell"], figure["output"]
        if text not in source:
            problems.append(f"the prose no longer says {text!r}")
        elif cell_id not in cells or cells[cell_id].cell_type != "code":
            problems.append(f"{text!r}: no code cell with id {cell_id!r}")
        elif not re.search(pattern, text_output(cells[cell_id])):
            printed = text_output(cells[cell_id])[-400:]
            problems.append(f"{text!r}: cell {cell_id} printed {printed!r}, not /{pattern}/")
    return problems


@pytest.mark.slow
@pytest.mark.timeout(NOTEBOOK_BUDGET_S)
@pytest.mark.parametrize("assignment", known_solutions())
def test_solution_notebook_executes(assignment, monkeypatch):
    nb = executed(assignment, monkeypatch)
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors


@pytest.mark.slow
@pytest.mark.timeout(NOTEBOOK_BUDGET_S)
@pytest.mark.parametrize("assignment", known_solutions())
def test_prose_figures(assignment, monkeypatch):
    nb = executed(assignment, monkeypatch)
    assert quoted_figures(nb), "every notebook's prose quotes figures its cells compute"
    assert not figure_problems(nb)


@pytest.mark.slow
@pytest.mark.timeout(NOTEBOOK_BUDGET_S)
@pytest.mark.parametrize("assignment", known_solutions())
def test_setup_cell_reports_the_blas_threads(assignment, monkeypatch):
    """The first cell says how many BLAS threads nnlib chose, and why (nnlib.threads)."""
    first = next(c for c in executed(assignment, monkeypatch).cells if c.cell_type == "code")
    assert re.search(r"^BLAS: \d+ threads? \(.+\)$", text_output(first), re.M), text_output(first)


def widget_models(nb) -> list[str]:
    """The model name of every widget the executed notebook made (nbclient keeps their state)."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return [model["model_name"] for model in state.get("state", {}).values()]


@pytest.mark.slow
@pytest.mark.timeout(NOTEBOOK_BUDGET_S)
@pytest.mark.parametrize("assignment", known_solutions())
def test_widget_cells_make_no_output_widget(assignment, monkeypatch):
    """A headless client sends an Output widget its state while the cell runs, which can
    stall the run (nncourse/kernel_client.py): the course's figures use nnlib.widgets."""
    models = widget_models(executed(assignment, monkeypatch))
    assert "ImageModel" in models, "every notebook has an explorer (nnlib.widgets.explore)"
    assert "OutputModel" not in models


def test_figure_problems_are_found():
    """The checker itself: a figure that holds, and each way one can stop holding."""
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(round(1 / 3, 4))", id="third")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="0.3333\n")]

    def prose(text, output):
        cell = nbformat.v4.new_markdown_cell("One third is 0.3333.")
        cell.metadata["nncourse"] = {
            "figures": [{"text": text, "cell": "third", "output": output}]
        }
        return cell

    nb.cells = [code, prose("0.3333", r"0\.3333")]
    assert figure_problems(nb) == []
    nb.cells = [code, prose("0.3334", r"0\.3333")]
    assert figure_problems(nb) == ["the prose no longer says '0.3334'"]
    nb.cells = [code, prose("0.3333", r"0\.25")]
    assert figure_problems(nb) == [r"'0.3333': cell third printed '0.3333\n', not /0\.25/"]
    nb.cells = [prose("0.3333", r"0\.3333")]
    assert figure_problems(nb) == ["'0.3333': no code cell with id 'third'"]
