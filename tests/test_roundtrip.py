"""The nbgrader round trip: every notebook is released and autograded, and the grading
configuration itself works.

Each notebook's own test module (`tests/test_notebook_<id>.py`) autogrades, in one
nbgrader run, its solved notebook (full marks), the untouched release (zero) and its
planted mistakes; this module makes sure no notebook goes without one, checks every
release for leaked solutions and for its written questions, and checks the configuration
on the demo fixture: planted mistakes, a deleted test cell, a loop that ignores
interrupts, feedback without hidden tests, and a written answer graded by hand.
"""

import copy
import re
from pathlib import Path

import nbformat
import pytest
from nbgrader_harness import (
    Course,
    assert_full_marks,
    assert_loses_exactly,
    find_cell,
    grade_id,
    known_solutions,
    with_cell,
    with_cells,
)

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("assignment", known_solutions())
def test_every_notebook_has_its_grading_tests(assignment):
    module = TESTS / f"test_notebook_{assignment}.py"
    assert module.is_file(), f"{assignment} has no {module.name} autograding it"
    text = module.read_text()
    # The two round-trip facts every notebook module must assert on its autograded run.
    assert "full_marks" in text and "scores_zero" in text, (
        f"{module.name} must test that the solution gets full marks and the untouched "
        "release scores zero"
    )


@pytest.mark.parametrize("assignment", known_solutions())
def test_release_has_no_solutions_or_hidden_tests(assignment, course):
    release = course.release(assignment)
    text = "\n".join(cell.source for cell in release.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    answers = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers, "an assignment needs at least one answer cell"


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


@pytest.mark.parametrize("assignment", known_solutions())
def test_every_notebook_asks_written_questions(assignment, course):
    """One or two written answers, manually graded, each right after its locked question;
    the release leaves them blank and the solution holds a model answer."""
    release, source = course.release(assignment), course.source(assignment)
    written = [
        i
        for i, c in enumerate(release.cells)
        if (grade_id(c) or "").startswith("written_") and nbgrader_meta(c).get("grade")
    ]
    assert 1 <= len(written) <= 2, f"{assignment} has {len(written)} written answers"
    for i in written:
        cell, gid = release.cells[i], grade_id(release.cells[i])
        meta = nbgrader_meta(cell)
        assert cell.cell_type == "markdown", gid
        assert meta.get("grade") and meta.get("solution") and not meta.get("locked"), meta
        assert meta.get("points", 0) > 0, gid
        assert cell.source.strip() == "YOUR ANSWER HERE", (gid, cell.source)
        question = release.cells[i - 1]
        assert grade_id(question) == f"{gid}_question", (gid, grade_id(question))
        assert nbgrader_meta(question).get("locked") and not nbgrader_meta(question)["grade"]
        model = find_cell(source, gid).source
        assert len(model.split()) >= 15, f"{gid}: the solution's model answer is {model!r}"


# --- The grading configuration, checked on the demo fixture -----------------------------

SWALLOWS_INTERRUPTS = """import time


def square(x):
    while True:  # a student's loop that catches the timeout's KeyboardInterrupt
        try:
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("demo-course"), ["demo"])
    release = course.release("demo")
    solved = course.solved_submission("demo")
    no_visible_test = copy.deepcopy(solved)
    no_visible_test.cells = [
        c for c in no_visible_test.cells if grade_id(c) != "test_square_visible"
    ]
    submissions = {
        "solved": solved,
        "untouched": release,
        "wrong": with_cell(solved, "square", "def square(x):\n    return 2 * x"),
        "only_worked_case": with_cell(
            solved,
            "square",
            "import numpy as np\n\ndef square(x):\n    return np.array([1.0, 4.0])",
        ),
        "deleted_test": with_cell(no_visible_test, "square", "def square(x):\n    return 2 * x"),
        "swallows_interrupts": with_cell(solved, "square", SWALLOWS_INTERRUPTS),
    }
    # A short cell timeout keeps the runaway submission quick; the others need < 1 s a cell.
    grades = course.autograde(
        "demo", submissions, extra_args=["--SandboxedExecute.cell_timeout=6"]
    )
    return course, grades


def test_demo_solution_full_marks_and_release_zero(demo):
    _, grades = demo
    assert (grades["solved"].score, grades["solved"].max_score) == (3.0, 3.0)
    assert (grades["untouched"].score, grades["untouched"].max_score) == (0.0, 3.0)
    assert "NotImplementedError" in grades["untouched"].output_text("test_square_visible")


def test_demo_planted_mistakes_lose_their_points(demo):
    _, grades = demo
    assert grades["wrong"].cells == {"test_square_visible": (0, 1), "test_square_hidden": (0, 2)}
    assert "square([1, -2]) should be [1, 4]" in grades["wrong"].output_text("test_square_visible")
    # Hard-coding the visible worked case passes it, and only it.
    assert grades["only_worked_case"].cells == {
        "test_square_visible": (1, 1),
        "test_square_hidden": (0, 2),
    }


def test_deleted_test_cell_is_put_back_and_graded(demo):
    _, grades = demo
    g = grades["deleted_test"]
    find_cell(g.notebook, "test_square_visible")  # raises if it was not restored
    assert g.cells["test_square_visible"] == (0, 1)
    assert g.max_score == 3


def test_loop_swallowing_interrupts_scores_zero_without_failing_the_run(demo):
    _, grades = demo
    g = grades["swallows_interrupts"]
    assert g.score == 0 and g.max_score == 3
    assert "the cell ran longer than" in g.output_text("test_square_visible")


def test_feedback_shows_messages_but_not_hidden_tests(demo):
    course, _ = demo
    html = course.feedback("demo")
    assert {"solved", "untouched", "wrong", "deleted_test"} <= set(html)
    hidden_source = "rng.normal(size=(3, 4))"
    assert hidden_source in course.source("demo").cells[4].source
    for student, page in html.items():
        assert hidden_source not in page, f"{student}'s feedback reveals a hidden test"
        assert "BEGIN HIDDEN TESTS" not in page
    assert "square is wrong on a random (3, 4) array" in html["wrong"]
    assert "square([1, -2]) should be [1, 4]" in html["wrong"]


# --- A written answer through the whole workflow, on the demo fixture --------------------

QUESTION = "**Question (2 points).** Why does `square` not need a loop over the elements?"
MODEL_ANSWER = "numpy multiplies whole arrays elementwise, so one expression covers them all."
STUDENT_ANSWER = "Because numpy broadcasts the product over the array."
COMMENT = "Right idea; say that the loop runs inside numpy, in compiled code."


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The demo with a written question (2 points) before its hidden test, autograded for
    a solved, an untouched, a wrong and a student-answered submission."""
    course = Course(tmp_path_factory.mktemp("written-course"), ["demo"])
    path = course.root / "solutions" / "demo" / "demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    question = nbformat.v4.new_markdown_cell(QUESTION)
    question.metadata["nbgrader"] = {
        "grade": False,
        "solution": False,
        "locked": True,
        "grade_id": "written_loop_question",
        "schema_version": 3,
    }
    answer = nbformat.v4.new_markdown_cell(MODEL_ANSWER)
    answer.metadata["nbgrader"] = {
        "grade": True,
        "solution": True,
        "locked": False,
        "points": 2,
        "grade_id": "written_loop",
        "schema_version": 3,
    }
    nb.cells[-1:-1] = [question, answer]
    nbformat.write(nb, path)
    solved = course.solved_submission("demo")
    submissions = {
        "solved": solved,
        "untouched": course.release("demo"),
        "wrong": with_cell(solved, "square", "def square(x):\n    return 2 * x"),
        "answered": with_cells(solved, {"written_loop": STUDENT_ANSWER}),
    }
    return course, course.autograde("demo", submissions)


def test_written_answer_waits_for_a_grader(written):
    _, grades = written
    assert_full_marks(grades["solved"], 3)  # the test cells; the written answer is pending
    assert grades["solved"].pending == ["written_loop"]
    assert grades["solved"].pending_points == 2
    assert (grades["solved"].scores.score, grades["solved"].scores.max_score) == (3, 5)
    untouched = grades["untouched"]  # nbgrader gives the blank answer 0 by itself
    assert (untouched.score, untouched.scores.score, untouched.pending) == (0, 0, [])
    assert untouched.manual["written_loop"].status == "no answer"
    assert_loses_exactly(grades["wrong"], {"test_square_visible", "test_square_hidden"})
    assert grades["wrong"].pending == ["written_loop"]


def test_written_answer_graded_by_hand_reaches_the_feedback(written):
    course, grades = written
    assert grades["answered"].pending == ["written_loop"]
    course.grade_manually("demo", "answered", "written_loop", 1.5, COMMENT)
    scores = course.scores("demo", "answered")
    assert scores.pending == [] and scores.manual["written_loop"].status == "graded"
    assert (scores.auto_score, scores.manual_score, scores.score) == (3, 1.5, 4.5)
    page = course.feedback("demo")["answered"]
    assert re.search(r"Score: 4\.5 / 5(\.0)?\b", page), "the total counts the manual points"
    assert COMMENT in page and STUDENT_ANSWER in page
    assert MODEL_ANSWER not in page, "the feedback shows the student's answer, not the model"
