"""The solution notebooks' code cells as Python files, one file per cell.

Tools that read only `.py` files (the duplicate finder, grep, an editor's search) then see
the notebooks' code as well, and a repeated test-cell check shows up as the repetition it
is. Each file is named after its notebook, its position and its nbgrader id or cell id:
`<dest>/<assignment>/c<NN>_<name>.py`. IPython line magics are commented out so that the
files parse.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from nncourse.nbgrader_run import SOURCE_DIR, check_assignments

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def _python(source: str) -> str:
    lines = (
        f"# {line}" if line.lstrip().startswith(("%", "!")) else line
        for line in source.splitlines()
    )
    return "\n".join(lines) + "\n"


def extract(root: Path, dest: Path, assignments: list[str] | None = None) -> list[Path]:
    """Write each code cell of solutions/<id>/<id>.ipynb to `dest`/<id>/; returns the files.

    `dest`/<id>/ is emptied first, so a cell that is gone leaves no stale file behind.
    """
    written = []
    for assignment in check_assignments(root, assignments):
        nb = nbformat.read(Path(root) / SOURCE_DIR / assignment / f"{assignment}.ipynb", 4)
        folder = Path(dest) / assignment
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            name = cell.metadata.get("nbgrader", {}).get("grade_id") or cell.get("id", "")
            path = folder / f"c{index:02d}_{_UNSAFE.sub('_', name)}.py"
            path.write_text(_python(cell.source))
            written.append(path)
    return written
