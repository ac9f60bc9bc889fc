"""Every notebook of the course through `nncourse autograde`, the sandboxed batch grader:
the solved notebook earns full marks on its autograded cells, with its written answers
reported as awaiting manual grading, and the untouched release earns nothing.

One course holds all eight assignments and one run of the command grades them all, as an
instructor grading a term would. The per-notebook modules test the planted mistakes
through plain `nbgrader autograde` (the same sandbox, through nbgrader_config.py).
"""

import csv

import nbformat
import pytest
from nbgrader_harness import Course, known_solutions

from nncourse import cli

pytestmark = pytest.mark.slow

ASSIGNMENTS = known_solutions()


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("term"), ASSIGNMENTS)
    for a in ASSIGNMENTS:
        for student, nb in (("solved", course.solved_submission(a)), ("untouched", None)):
            folder = course.root / "submitted" / student / a
            folder.mkdir(parents=True)
            nb = nb if nb is not None else course.release(a)
            nbformat.write(nb, folder / f"{a}.ipynb")
    args = ["--root", str(course.root), "autograde", "--workers", "2", "--no-progress"]
    assert cli.main([*args, "--no-feedback"]) == 0
    out = {}
    for a in ASSIGNMENTS:
        with (course.root / "reports" / a / "grades.csv").open(newline="") as fh:
            out[a] = {r["student"]: r for r in csv.DictReader(fh)}
    return out


def number(row, column):
    return float(row[column])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solved_full_marks_untouched_zero(rows, assignment):
    solved, untouched = rows[assignment]["solved"], rows[assignment]["untouched"]
    assert solved["status"] == untouched["status"] == "graded", (solved, untouched)
    assert number(solved, "auto_max_score") >= 10
    assert number(solved, "auto_score") == number(solved, "auto_max_score"), solved
    # Every written answer awaits a grader; nbgrader's total counts it 0 until then.
    assert number(solved, "manual_pending") == number(solved, "manual_max_score"), solved
    assert number(solved, "manual_score") == 0, solved
    assert number(solved, "score") == number(solved, "auto_score"), solved
    assert number(solved, "max_score") == (
        number(solved, "auto_max_score") + number(solved, "manual_max_score")
    ), solved
    written = [c for c in solved if c.startswith("written_")]
    assert all(solved[c] == "pending" for c in written), solved
    # The release's unanswered questions get 0 from nbgrader by itself: nothing waits.
    assert number(untouched, "score") == 0, untouched
    assert number(untouched, "manual_pending") == 0, untouched
    assert all(untouched[c] == "0" for c in written), untouched
