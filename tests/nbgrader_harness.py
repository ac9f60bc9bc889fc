"""A throwaway nbgrader course for tests: release, perfect submissions, autograde.

    course = Course(tmp_path, ["01_neuron"])
    release = course.release("01_neuron")
    solved = course.solved_submission("01_neuron")
    wrong = with_cell(solved, "sigmoid", "def sigmoid(z):\\n    return z")
    grades = course.autograde("01_neuron", {"good": solved, "bad": wrong, "empty": release})
    grades["good"].score == grades["good"].max_score   # the autograded test cells
    grades["bad"].cells["test_sigmoid_values"]   # (score, max_score)
    grades["bad"].output_text("test_sigmoid_values")  # the feedback the student sees
    grades["good"].pending == ["written_saturation"]  # written answers await a grader

`Grade.score`, `max_score` and `cells` cover the autograded test cells only; manually
graded cells (written answers) are in `Grade.manual`, since nbgrader leaves them without
a score until someone grades them in the formgrader (`Course.grade_manually` does that
through the gradebook).

Everything runs through `nncourse.nbgrader_run`, the code behind `nncourse release`, with
the repository's own nbgrader_config.py, so the tests grade exactly as an instructor does.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from nncourse.nbgrader_run import (
    CONFIG_FILE,
    COPY_IGNORE,
    RELEASE_DIR,
    SOURCE_DIR,
    CellScore,
    NotebookScores,
    known_assignments,
    notebook_scores,
    run_nbgrader,
    sqlite_url,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"


def known_solutions() -> list[str]:
    """Ids of the notebooks in the repository's solutions/ (every generic test covers
    each of them)."""
    return known_assignments(REPO_ROOT)


def source_folder(assignment: str) -> Path:
    """solutions/<id>/ of the repository, or tests/fixtures/<id>/ for the test fixtures."""
    for base in (REPO_ROOT / SOURCE_DIR, FIXTURES):
        if (base / assignment / f"{assignment}.ipynb").is_file():
            return base / assignment
    raise FileNotFoundError(f"no {assignment}/{assignment}.ipynb in solutions/ or fixtures")


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def find_cell(nb, gid: str):
    for cell in nb.cells:
        if grade_id(cell) == gid:
            return cell
    known = [grade_id(c) for c in nb.cells if grade_id(c)]
    raise KeyError(f"no cell with grade_id {gid!r}; the notebook has {known}")


def with_cell(nb, grade_id: str, source: str):
    """A copy of `nb` whose cell `grade_id` has the new `source` (a planted mistake)."""
    nb = copy.deepcopy(nb)
    find_cell(nb, grade_id).source = source
    return nb


def with_cells(nb, answers: dict[str, str]):
    """A copy of `nb` with each cell of `answers` (grade_id -> source) replaced."""
    nb = copy.deepcopy(nb)
    for gid, source in answers.items():
        find_cell(nb, gid).source = source
    return nb


def strip_markers(source: str) -> str:
    """Solution code as a student would type it: marker lines and hidden tests removed."""
    kept, hidden = [], False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            hidden = True
        elif END_HIDDEN in line:
            hidden = False
        elif not hidden and BEGIN_SOLUTION not in line and END_SOLUTION not in line:
            kept.append(line)
    return "\n".join(kept)


@dataclass
class SolutionCells:
    """A solution notebook's graded code cells, in order: the answers (markers removed)
    and the test cells, each with the answer cell it follows."""

    answers: dict[str, str]  # answer grade_id -> source as a student would type it
    tests: dict[str, str]  # test grade_id -> source
    exercise: dict[str, str | None]  # test grade_id -> the answer grade_id before it


def changed(source: str, old: str, new: str) -> str:
    """`source` with `old` replaced by `new`, where `old` occurs exactly once: a planted
    mistake that differs from the solution's answer only where it says."""
    count = source.count(old)
    assert count == 1, f"{old!r} occurs {count} times, not once"
    return source.replace(old, new)


def solution_cells(path: Path) -> SolutionCells:
    nb = nbformat.read(path, as_version=4)
    cells, current = SolutionCells({}, {}, {}), None
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue  # written answers (markdown) are graded by hand
        if meta.get("solution"):
            current = meta["grade_id"]
            cells.answers[current] = strip_markers(cell.source)
        elif meta.get("grade"):
            cells.tests[meta["grade_id"]] = cell.source
            cells.exercise[meta["grade_id"]] = current
    return cells


def failing_in_process(setup: str, answers: dict[str, str], tests: dict[str, str]) -> dict:
    """Run `setup`, the answers and then the test cells in one namespace, as the kernel
    would; grade_id -> why each failing test cell scores zero (it raised, or wrote to
    stderr, which nbgrader also scores zero). Seconds instead of an nbgrader run."""
    namespace = {"__name__": "__main__"}
    exec(setup, namespace)
    for gid, source in answers.items():
        exec(compile(source, f"<answer {gid}>", "exec"), namespace)
    failures = {}
    for gid, source in tests.items():
        stderr = io.StringIO()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
                exec(compile(source, f"<test {gid}>", "exec"), namespace)
        except Exception as err:  # a failing test cell: nbgrader gives it zero
            failures[gid] = f"{type(err).__name__}: {err}"
        else:
            if stderr.getvalue():
                failures[gid] = f"wrote to stderr: {stderr.getvalue()[:300]}"
    return failures


@dataclass
class Grade:
    """One student's autograded notebook.

    `score`, `max_score` and `cells` are the autograded test cells only; the manually
    graded cells (written answers) are in `manual`, and `scores` has the gradebook's
    whole record (nbgrader's own total is `scores.score` / `scores.max_score`)."""

    score: float
    max_score: float
    cells: dict[str, tuple[float, float]]  # test cell grade_id -> (score, max_score)
    notebook: nbformat.NotebookNode  # the autograded notebook, with outputs
    log: str = field(default="", repr=False)  # nbgrader's log of the whole run
    manual: dict[str, CellScore] = field(default_factory=dict)  # grade_id -> its grade
    scores: NotebookScores | None = field(default=None, repr=False)

    @classmethod
    def from_scores(cls, scores: NotebookScores, notebook, log: str = "") -> Grade:
        cells = {gid: (c.score, c.max_score) for gid, c in scores.autograded.items()}
        return cls(
            scores.auto_score,
            scores.auto_max_score,
            cells,
            notebook,
            log,
            manual=scores.manual,
            scores=scores,
        )

    @property
    def pending(self) -> list[str]:
        """grade_ids of the manual cells that "need manual grading"."""
        return [gid for gid, c in self.manual.items() if c.pending]

    @property
    def pending_points(self) -> float:
        return sum(self.manual[gid].max_score for gid in self.pending)

    @property
    def lost(self) -> set[str]:
        """grade_ids of the test cells that scored below their points."""
        return {gid for gid, (score, max_score) in self.cells.items() if score < max_score}

    def output_text(self, grade_id: str) -> str:
        """All text and error output of that cell, ANSI colours removed."""
        parts = []
        for out in find_cell(self.notebook, grade_id).get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                parts.append(out.get("text", ""))
            elif kind == "error":
                parts.append("\n".join(out.get("traceback", [])))
                parts.append(f"{out.get('ename')}: {out.get('evalue')}")
            elif kind in ("execute_result", "display_data"):
                parts.append(out.get("data", {}).get("text/plain", ""))
        return ANSI.sub("", "\n".join(parts))


class Course:
    """A throwaway nbgrader course in a temporary folder."""

    def __init__(self, root: Path, assignments: list[str]):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / CONFIG_FILE, self.root / CONFIG_FILE)
        for a in assignments:
            shutil.copytree(source_folder(a), self.root / SOURCE_DIR / a, ignore=COPY_IGNORE)
        self.assignments = list(assignments)
        self.db_url = sqlite_url(self.root / "gradebook.db")
        self._released: dict[str, nbformat.NotebookNode] = {}
        self.last_log = ""

    def _run(self, args, **kwargs):
        result = run_nbgrader(self.root, args, db_url=self.db_url, **kwargs)
        self.last_log = result.output
        return result

    def source(self, assignment: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / SOURCE_DIR / assignment / f"{assignment}.ipynb", 4)

    def release(self, assignment: str) -> nbformat.NotebookNode:
        """Run generate_assignment (once per course) and return the student notebook."""
        if assignment not in self._released:
            self._run(["generate_assignment", assignment, "--force"])
            path = self.root / RELEASE_DIR / assignment / f"{assignment}.ipynb"
            self._released[assignment] = nbformat.read(path, as_version=4)
        return copy.deepcopy(self._released[assignment])

    def solved_submission(self, assignment: str) -> nbformat.NotebookNode:
        """The release with every answer cell filled in from the solution."""
        nb = self.release(assignment)
        solutions = {grade_id(c): c for c in self.source(assignment).cells if grade_id(c)}
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution"):
                cell.source = strip_markers(solutions[meta["grade_id"]].source)
        return nb

    def autograde(
        self,
        assignment: str,
        submissions: dict[str, nbformat.NotebookNode],
        extra_args: list[str] | tuple[str, ...] = (),
        timeout: float | None = 1800,
    ) -> dict[str, Grade]:
        """Submit each notebook as student <id> and autograde them all in ONE nbgrader
        run. `extra_args` are appended to the nbgrader command line (e.g. a shorter
        --SandboxedExecute.cell_timeout). Raises CourseError if nbgrader fails."""
        self.release(assignment)  # the gradebook needs the assignment's source cells
        submitted = self.root / "submitted"
        # Only this batch is graded: earlier submissions of the assignment are dropped.
        for old in submitted.glob(f"*/{assignment}"):
            shutil.rmtree(old)
        for student, nb in submissions.items():
            folder = submitted / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{assignment}.ipynb")
        result = self._run(["autograde", assignment, "--force", *extra_args], timeout=timeout)
        grades = {}
        for student in submissions:
            path = self.root / "autograded" / student / assignment / f"{assignment}.ipynb"
            scores = notebook_scores(self.db_url, assignment, assignment, student)
            notebook = nbformat.read(path, as_version=4)
            grades[student] = Grade.from_scores(scores, notebook, result.output)
        return grades

    def scores(self, assignment: str, student: str) -> NotebookScores:
        """What the gradebook holds now for that student's notebook."""
        return notebook_scores(self.db_url, assignment, assignment, student)

    def grade_manually(
        self, assignment: str, student: str, grade_id: str, score: float, comment: str = ""
    ) -> None:
        """Give a manual cell its points and comment in the gradebook, as the formgrader's
        grading page does (it also marks the cell as no longer needing a grade)."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            grade = gb.find_grade(grade_id, assignment, assignment, student)
            grade.manual_score = score
            grade.needs_manual_grade = False
            if comment:
                gb.find_comment(grade_id, assignment, assignment, student).manual_comment = comment
            gb.db.commit()

    def autograde_planted(
        self, assignment: str, planted: dict[str, dict[str, str]]
    ) -> dict[str, Grade]:
        """Autograde, in one run, the solved notebook ("solved"), the untouched release
        ("untouched") and one submission per entry of `planted`: student -> the answer
        cells (grade_id -> source) that differ from the solution. Mistakes in
        independent exercises can share a student, since every cell is scored alone."""
        solved = self.solved_submission(assignment)
        submissions = {"solved": solved, "untouched": self.release(assignment)}
        for student, answers in planted.items():
            submissions[student] = with_cells(solved, answers)
        return self.autograde(assignment, submissions)

    def feedback(self, assignment: str) -> dict[str, str]:
        """Run generate_feedback for everything autograded; student id -> feedback HTML."""
        self._run(["generate_feedback", assignment, "--force"])
        return {
            html.parent.parent.name: html.read_text(encoding="utf-8")
            for html in (self.root / "feedback").glob(f"*/{assignment}/{assignment}.html")
        }


# ----- assertions on a Grade, shared by the notebook test modules --------------------------

TAIL = 800  # characters of a cell's output quoted in a failing assertion's message


def assert_full_marks(g: Grade, max_score: float | None = None, *, at_least: float = 1) -> None:
    """Every autograded test cell earns all its points; they are worth exactly `max_score`
    points, or at least `at_least` when `max_score` is None; every manually graded cell
    (a written answer) was answered and "needs manual grading", without points yet."""
    if max_score is None:
        assert g.max_score >= at_least, f"worth {g.max_score} points, expected >= {at_least}"
    else:
        assert g.max_score == max_score, f"worth {g.max_score} points, expected {max_score}"
    short = {
        gid: (f"{score}/{points}", g.output_text(gid)[-TAIL:])
        for gid, (score, points) in g.cells.items()
        if score != points
    }
    assert not short and g.score == g.max_score, (f"{g.score}/{g.max_score}", short)
    assert_pending(g)


def assert_pending(g: Grade) -> None:
    """Each manual cell waits for a grader: answered, no score yet, not counted."""
    not_pending = {gid: (c.status, c.score) for gid, c in g.manual.items() if not c.pending}
    assert not not_pending, f"manual cells that do not need manual grading: {not_pending}"


def assert_scores_zero(g: Grade, *not_written_cells: str) -> None:
    """No test cell earns a point, each of `not_written_cells` tells the student the
    function "is not written yet", and every manual cell, left as released, got 0 points
    from nbgrader ("no answer") and waits for nobody."""
    if not not_written_cells:
        raise TypeError("name at least one cell whose output says 'is not written yet'")
    scored = {gid: cell for gid, cell in g.cells.items() if cell[0] != 0}
    assert g.score == 0 and not scored, scored
    answered = {gid: (c.status, c.score) for gid, c in g.manual.items() if c.status != "no answer"}
    assert not answered, f"unanswered manual cells should score 0 unasked: {answered}"
    assert_feedback_shows(g, dict.fromkeys(not_written_cells, "is not written yet"))


def assert_feedback_shows(g: Grade, messages: Mapping[str, str | Iterable[str]]) -> None:
    """The output of each cell (grade id -> text, or several texts) contains its text(s)."""
    missing = {}
    for gid, texts in messages.items():
        output = g.output_text(gid)
        absent = [t for t in ([texts] if isinstance(texts, str) else texts) if t not in output]
        if absent:
            missing[gid] = (absent, output[-TAIL:])
    assert not missing, missing


def assert_loses_exactly(
    g: Grade, expected_losses: Iterable[str] | Mapping[str, str | Iterable[str]]
) -> None:
    """The test cells of `expected_losses` score zero and every other test cell full
    marks. Given a mapping (grade id -> text, or several texts), each cell's output must
    also show its text(s). Manual cells (written answers) are not autograded, so they
    cannot be expected losses."""
    lost = set(expected_losses)
    manual = lost & set(g.manual)
    assert not manual, f"{sorted(manual)} are graded by hand, not by the autograder"
    unknown = lost - set(g.cells)
    assert not unknown, f"no test cells {sorted(unknown)}; the notebook has {sorted(g.cells)}"
    wrong = {
        gid: (
            f"{score}/{points}, expected {0 if gid in lost else points}",
            g.output_text(gid)[-TAIL:],
        )
        for gid, (score, points) in g.cells.items()
        if score != (0 if gid in lost else points)
    }
    assert not wrong, wrong
    assert g.score == g.max_score - sum(g.cells[gid][1] for gid in lost), (g.score, g.max_score)
    if isinstance(expected_losses, Mapping):
        assert_feedback_shows(g, expected_losses)


def assert_earns_nothing(
    g: Grade,
    cells: Iterable[str] | Mapping[str, Iterable[str]],
    explained_cells: Iterable[str] = (),
    *,
    exactly: bool = True,
) -> None:
    """Answers that call nnlib's own version score zero on `cells` (grade ids, or exercise
    -> its grade ids) and, if `exactly`, lose nothing else; the output of each of
    `explained_cells` says the call "earns no points"."""
    groups = cells if isinstance(cells, Mapping) else {"delegated": cells}
    scores = {name: {gid: g.cells[gid][0] for gid in gids} for name, gids in groups.items()}
    scored = {name: s for name, s in scores.items() if any(s.values())}
    assert not scored, scored
    if exactly:
        assert_loses_exactly(g, {gid for gids in groups.values() for gid in gids})
    assert_feedback_shows(g, dict.fromkeys(explained_cells, "earns no points"))
