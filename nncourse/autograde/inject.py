"""nbgrader preprocessor that puts the trusted run's outputs into the test cells.

`nbgrader autograde` is run once, by one process, on the pre-flighted notebooks with
`InjectTrustedOutputs` in place of its `Execute` preprocessor (see `runner.write`). So
nbgrader itself sanitises the notebook, restores test cells from the gradebook, decides
each cell's grade from its outputs (SaveAutoGrades), applies late penalties and writes
``autograded/``: `nbgrader export`, the formgrader and `generate_feedback` keep working.

The outputs come from ``<results_dir>/<student>.json`` (written by the batch runner from
the isolated, trusted run); the folder is named by the environment variable below.
"""

import json
import os
from pathlib import Path

from nbformat import from_dict
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

RESULTS_ENV = "NNCOURSE_TRUSTED_RESULTS"


class InjectTrustedOutputs(NbGraderPreprocessor):
    """Replace every test cell's outputs by those of the trusted run."""

    def preprocess(self, nb, resources):
        student = resources["nbgrader"]["student"]
        path = Path(os.environ[RESULTS_ENV]) / f"{student}.json"
        results = json.loads(path.read_text(encoding="utf-8"))["results"]
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            cell.outputs = []
            if utils.is_grade(cell) and not utils.is_solution(cell):
                gid = cell.metadata["nbgrader"]["grade_id"]
                outputs = (
                    results[gid]
                    if gid in results
                    else [
                        {
                            "output_type": "error",
                            "ename": "NotRun",
                            "evalue": "this test was not run by the grader",
                            "traceback": [],
                        }
                    ]
                )
                cell.outputs = [from_dict(o) for o in outputs]
        return nb, resources
