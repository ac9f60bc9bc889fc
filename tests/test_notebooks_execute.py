"""Every solution notebook runs top to bottom, as the autograder runs it, within budget."""

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader_harness import REPO_ROOT, known_solutions

from nncourse.kernel_client import client_config

# Per notebook, in grading mode, on 2 busy cores (COURSE.md asks for well under a minute).
NOTEBOOK_BUDGET_S = 240


@pytest.mark.slow
@pytest.mark.timeout(NOTEBOOK_BUDGET_S)
@pytest.mark.parametrize("assignment", known_solutions())
def test_solution_notebook_executes(assignment, monkeypatch):
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
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors
