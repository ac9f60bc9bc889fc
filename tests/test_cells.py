"""`nncourse cells`: the solutions' code cells as Python files, one per cell."""

import ast

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nncourse import cells
from nncourse.cli import main


def _course(root, cell_sources):
    (root / "nbgrader_config.py").write_text("")
    folder = root / "solutions" / "01_x"
    folder.mkdir(parents=True)
    nb = new_notebook(cells=[new_markdown_cell("# title"), *map(new_code_cell, cell_sources)])
    nb.cells[1].metadata["nbgrader"] = {"grade_id": "test-sigma.1", "grade": True}
    nbformat.write(nb, folder / "01_x.ipynb")
    return nb


def test_one_file_per_code_cell_named_by_position_and_grade_id(tmp_path):
    nb = _course(tmp_path, ["%matplotlib inline\nx = 1", "  ", "!ls\ny = 2"])
    written = cells.extract(tmp_path, tmp_path / "out")
    names = [p.name for p in written]
    assert names == ["c01_test_sigma_1.py", f"c03_{nb.cells[3].id.replace('-', '_')}.py"]
    first = written[0].read_text()
    assert first == "# %matplotlib inline\nx = 1\n"
    for path in written:
        ast.parse(path.read_text())  # magics commented out: every file parses


def test_a_second_run_leaves_no_stale_file(tmp_path):
    _course(tmp_path, ["x = 1"])
    stale = tmp_path / "out" / "01_x" / "c09_gone.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("old = 1\n")
    assert main(["--root", str(tmp_path), "cells", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in stale.parent.iterdir()) == ["c01_test_sigma_1.py"]
