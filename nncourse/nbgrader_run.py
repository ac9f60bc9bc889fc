"""Run nbgrader for this course: environment, subcommands, release, scores.

Shared by the `nncourse` command line and by the test suite, so that what the tests
check is exactly what an instructor runs.

nbgrader is always started as ``<this interpreter> -m nbgrader`` with the interpreter's
``bin`` folder first on ``PATH``: creating a gradebook shells out to ``alembic``, which
must be the one of the same (possibly not activated) virtual environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

CONFIG_FILE = "nbgrader_config.py"
SOURCE_DIR = "solutions"
RELEASE_DIR = "course"
# What in a course folder only the instructor may read (nbgrader_config.py and
# `nncourse autograde` make each owner-only).
INSTRUCTOR_ONLY = (
    "solutions",
    ".git",
    "gradebook.db",
    "submitted",
    "autograded",
    "feedback",
    "reports",
)
DB_ENV = "NNCOURSE_DB_URL"
# What never goes into a throwaway course copy (mirrors CourseDirectory.ignore).
COPY_IGNORE = shutil.ignore_patterns(
    ".ipynb_checkpoints", "__pycache__", "*.pyc", "*.db", ".DS_Store", "feedback"
)


class CourseError(RuntimeError):
    """A problem an instructor can fix (unknown assignment, nbgrader failure, ...)."""


def find_root(start: Path | None = None) -> Path:
    """The course root: the nearest folder at or above `start` holding nbgrader_config.py
    and a solutions/ folder."""
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file() and (folder / SOURCE_DIR).is_dir():
            return folder
    raise CourseError(
        f"no course found at or above {start}: expected {CONFIG_FILE} and a "
        f"{SOURCE_DIR}/ folder (run this from the repository root or pass --root)"
    )


def known_assignments(root: Path) -> list[str]:
    """Ids of the assignments in solutions/: folders <id>/ holding <id>.ipynb."""
    source = Path(root) / SOURCE_DIR
    if not source.is_dir():
        return []
    return sorted(d.name for d in source.iterdir() if (d / f"{d.name}.ipynb").is_file())


def check_assignments(root: Path, wanted: list[str] | None) -> list[str]:
    """`wanted` (all known ones if empty), or a CourseError listing the known ids."""
    known = known_assignments(root)
    if not wanted:
        if not known:
            raise CourseError(f"no assignments in {Path(root) / SOURCE_DIR}")
        return known
    unknown = [a for a in wanted if a not in known]
    if unknown:
        listing = ", ".join(known) if known else "(none)"
        raise CourseError(
            f"unknown assignment {', '.join(unknown)}; the known assignments are: {listing}"
        )
    return list(wanted)


def nbgrader_env(db_url: str | None = None, extra: dict[str, str] | None = None) -> dict:
    """os.environ with this interpreter's bin folder first on PATH (for `alembic`) and,
    if given, the gradebook URL that nbgrader_config.py reads."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)  # not resolved: a venv's bin is a symlink farm
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")]).rstrip(os.pathsep)
    if db_url is not None:
        env[DB_ENV] = db_url
    if extra:
        env.update(extra)
    return env


@dataclass
class NbgraderResult:
    args: list[str]
    returncode: int
    output: str


def run_nbgrader(
    root: Path,
    args: list[str],
    *,
    db_url: str | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> NbgraderResult:
    """Run `nbgrader <args>` in the course root `root`; stdout and stderr are captured
    together. With check=True a non-zero exit raises CourseError with nbgrader's log."""
    cmd = [sys.executable, "-m", "nbgrader", *args]
    proc = subprocess.run(
        cmd,
        cwd=root,
        env=nbgrader_env(db_url, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    result = NbgraderResult(list(args), proc.returncode, proc.stdout)
    if check and proc.returncode != 0:
        raise CourseError(
            f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout}"
        )
    return result


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def normalise_notebook(path: Path) -> None:
    """Rewrite a released notebook in nbformat's canonical form, without outputs,
    execution counts or execution timings, so that a release is byte-for-byte stable."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


def release(root: Path, assignments: list[str] | None = None, dest: Path | None = None):
    """Regenerate `dest/<id>/` (default: <root>/course/<id>/) from <root>/solutions/<id>/
    for each assignment (all of them by default) with `nbgrader generate_assignment`.

    nbgrader runs in a throwaway copy of the course with a throwaway gradebook, so no
    gradebook.db is left behind; each `dest/<id>/` is replaced whole (stale files go).
    Returns the released notebook paths.
    """
    root = Path(root).resolve()
    ids = check_assignments(root, assignments)
    dest = Path(dest).resolve() if dest else root / RELEASE_DIR
    released = []
    with tempfile.TemporaryDirectory(prefix="nncourse-release-") as tmp:
        work = Path(tmp) / "course-root"
        work.mkdir()
        shutil.copy2(root / CONFIG_FILE, work / CONFIG_FILE)
        for a in ids:
            shutil.copytree(root / SOURCE_DIR / a, work / SOURCE_DIR / a, ignore=COPY_IGNORE)
        db_url = sqlite_url(Path(tmp) / "gradebook.db")
        for a in ids:
            run_nbgrader(work, ["generate_assignment", a, "--force"], db_url=db_url)
            out = work / RELEASE_DIR / a
            notebook = out / f"{a}.ipynb"
            if not notebook.is_file():
                raise CourseError(f"nbgrader produced no {notebook.relative_to(work)}")
            for nb_path in out.rglob("*.ipynb"):
                normalise_notebook(nb_path)
            target = dest / a
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(out, target)
            released.append(target / f"{a}.ipynb")
    return released


@dataclass(frozen=True)
class CellScore:
    """The gradebook's grade of one graded cell of a submitted notebook.

    `manual` cells are the ones nbgrader leaves to a person (answer cells that are also
    graded, such as written answers, and task cells); the others are autograded test
    cells. nbgrader gives an unchanged manual answer 0 points ("no response") by itself;
    any other answer waits, with no score, until someone grades it in the formgrader.
    """

    grade_id: str
    max_score: float
    manual: bool
    auto_score: float | None
    manual_score: float | None
    extra_credit: float | None
    needs_manual_grade: bool

    @property
    def score(self) -> float:
        """nbgrader's score of the cell: the manual score if there is one, else the
        automatic one, else 0; plus any extra credit."""
        base = self.manual_score if self.manual_score is not None else self.auto_score
        return (base or 0.0) + (self.extra_credit or 0.0)

    @property
    def pending(self) -> bool:
        """A manual cell that nobody has graded yet (its points are still open)."""
        return self.manual and self.needs_manual_grade and self.manual_score is None

    @property
    def status(self) -> str:
        if self.pending:
            return "needs manual grading"
        if self.manual and self.manual_score is None:
            return "no answer"
        return "graded"


@dataclass(frozen=True)
class NotebookScores:
    """One submitted notebook's grades, autograded test cells and manual cells apart.

    `auto_score` / `auto_max_score` cover the test cells only, so a solved notebook is
    full marks there before anyone has graded its written answers; `pending_points` are
    the points of manual cells still waiting for a grader, which nbgrader's own total
    (`score`, `max_score`) counts as 0 of their points until then.
    """

    cells: dict[str, CellScore]

    @property
    def autograded(self) -> dict[str, CellScore]:
        return {gid: c for gid, c in self.cells.items() if not c.manual}

    @property
    def manual(self) -> dict[str, CellScore]:
        return {gid: c for gid, c in self.cells.items() if c.manual}

    @property
    def auto_score(self) -> float:
        return sum(c.score for c in self.autograded.values())

    @property
    def auto_max_score(self) -> float:
        return sum(c.max_score for c in self.autograded.values())

    @property
    def manual_score(self) -> float:
        """Points given so far on manual cells (0 for the ones still pending)."""
        return sum(c.score for c in self.manual.values())

    @property
    def manual_max_score(self) -> float:
        return sum(c.max_score for c in self.manual.values())

    @property
    def pending(self) -> list[str]:
        """grade_ids of the manual cells waiting for a grader."""
        return [gid for gid, c in self.cells.items() if c.pending]

    @property
    def pending_points(self) -> float:
        return sum(self.cells[gid].max_score for gid in self.pending)

    @property
    def score(self) -> float:
        """nbgrader's total (what `nbgrader export` and the feedback show)."""
        return sum(c.score for c in self.cells.values())

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.cells.values())


def cell_scores(submitted_notebook) -> NotebookScores:
    """The typed grades of an nbgrader `SubmittedNotebook` (read in an open Gradebook)."""
    source = submitted_notebook.notebook
    manual = {c.name for c in source.solution_cells} | {c.name for c in source.task_cells}
    cells = {}
    for g in submitted_notebook.grades:
        cells[g.name] = CellScore(
            grade_id=g.name,
            max_score=float(g.max_score),
            manual=g.name in manual,
            auto_score=None if g.auto_score is None else float(g.auto_score),
            manual_score=None if g.manual_score is None else float(g.manual_score),
            extra_credit=None if g.extra_credit is None else float(g.extra_credit),
            needs_manual_grade=bool(g.needs_manual_grade),
        )
    return NotebookScores(cells)


def notebook_scores(db_url: str, assignment: str, notebook: str, student: str) -> NotebookScores:
    """The grades of one autograded notebook, autograded and manual cells apart."""
    from nbgrader.api import Gradebook  # slow import: only when grading

    with Gradebook(db_url) as gb:
        return cell_scores(gb.find_submission_notebook(notebook, assignment, student))
