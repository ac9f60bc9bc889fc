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


def notebook_scores(db_url: str, assignment: str, notebook: str, student: str):
    """(score, max_score, {grade_id: (score, max_score)}) of one autograded notebook."""
    from nbgrader.api import Gradebook  # slow import: only when grading

    with Gradebook(db_url) as gb:
        nb = gb.find_submission_notebook(notebook, assignment, student)
        cells = {g.name: (float(g.score), float(g.max_score)) for g in nb.grades}
        return float(nb.score), float(nb.max_score), cells
