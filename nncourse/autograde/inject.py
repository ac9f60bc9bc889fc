"""nbgrader preprocessor that puts the trusted run's outputs into the test cells.

`nncourse autograde` grades every submission first (in parallel, each in its own
sandbox) and then runs `nbgrader autograde` once, by one process, on the pre-flighted
notebooks with `InjectTrustedOutputs` in place of its execution step (see
`runner.write_gradebook`). So nbgrader itself restores test cells from the gradebook,
decides each cell's grade from its outputs (SaveAutoGrades), applies late penalties and
writes ``autograded/``: `nbgrader export`, the formgrader and `generate_feedback` keep
working.

The outputs come from ``<results_dir>/<student>.json`` (written by the batch runner); the
folder is named by the environment variable below.
"""

import json
import os
from pathlib import Path

from nbformat import from_dict
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

RESULTS_ENV = "NNCOURSE_TRUSTED_RESULTS"
NOT_RUN = {
    "output_type": "error",
    "ename": "NotRun",
    "evalue": "this test was not run by the grader",
    "traceback": [],
}


def apply_outputs(nb, results: dict, others: dict | None = None) -> None:
    """Each test cell gets its trusted outputs (which nbgrader scores); every other code
    cell what its run printed (plain text, for the instructor to read; never scored)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if utils.is_grade(cell) and not utils.is_solution(cell):
            gid = cell.metadata["nbgrader"]["grade_id"]
            cell.outputs = [from_dict(o) for o in results.get(gid, [NOT_RUN])]
        else:
            cell.outputs = [from_dict(o) for o in (others or {}).get(cell.get("id"), [])]


class InjectTrustedOutputs(NbGraderPreprocessor):
    """Replace every test cell's outputs by those of the trusted run."""

    def preprocess(self, nb, resources):
        student = resources["nbgrader"]["student"]
        path = Path(os.environ[RESULTS_ENV]) / f"{student}.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        apply_outputs(nb, data["results"], data.get("cells"))
        return nb, resources
