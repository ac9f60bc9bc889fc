"""course/ is exactly what `nncourse release` makes from solutions/, and stays clean."""

import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader_harness import FIXTURES, REPO_ROOT, known_solutions

from nncourse import nbgrader_run

ASSIGNMENTS = known_solutions()
pytestmark = pytest.mark.slow


def committed_notebooks():
    for folder in ("solutions", "course"):
        for path in sorted((REPO_ROOT / folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts:
                yield path


def files_under(folder: Path) -> set[str]:
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """course/ regenerated from solutions/ into a temporary folder."""
    dest = tmp_path_factory.mktemp("course")
    if ASSIGNMENTS:
        nbgrader_run.release(REPO_ROOT, ASSIGNMENTS, dest=dest)
    return dest


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_course_is_in_sync_with_solutions(regenerated, assignment):
    committed, fresh = REPO_ROOT / "course" / assignment, regenerated / assignment
    hint = f"course/{assignment} is stale: run `nncourse release {assignment}` and commit it"
    assert committed.is_dir(), hint
    assert files_under(committed) == files_under(fresh), hint
    for name in files_under(fresh):
        if name.endswith(".ipynb"):
            a = json.loads((committed / name).read_text(encoding="utf-8"))
            b = json.loads((fresh / name).read_text(encoding="utf-8"))
            assert a == b, f"{hint} ({name} differs)"
        else:
            assert filecmp.cmp(committed / name, fresh / name, shallow=False), hint


def test_no_release_without_a_solution():
    released = sorted(p.name for p in (REPO_ROOT / "course").iterdir() if p.is_dir())
    orphans = [a for a in released if a not in ASSIGNMENTS]
    assert not orphans, f"course/ has folders without a solutions/ notebook: {orphans}"


def test_committed_notebooks_have_no_outputs():
    dirty = []
    for path in committed_notebooks():
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
                dirty.append(f"{path.relative_to(REPO_ROOT)} cell {i}")
    assert not dirty, f"clear outputs and execution counts before committing: {dirty}"


def cli_course_copy(tmp_path: Path) -> tuple[Path, str]:
    """A copy of the course with one notebook (the first solution, else the demo)."""
    root = tmp_path / "repo"
    (root / "solutions").mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "nbgrader_config.py", root)
    assignment = ASSIGNMENTS[0] if ASSIGNMENTS else "demo"
    source = REPO_ROOT / "solutions" / assignment if ASSIGNMENTS else FIXTURES / "demo"
    shutil.copytree(source, root / "solutions" / assignment, ignore=nbgrader_run.COPY_IGNORE)
    return root, assignment


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    """`nncourse ...` by its full path, with the virtual environment NOT activated:
    its bin folder is not on PATH."""
    bin_dir = Path(sys.executable).parent
    script = bin_dir / "nncourse"
    assert script.is_file(), f"the nncourse console script is not installed in {bin_dir}"
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != bin_dir]
    env = {**os.environ, "PATH": os.pathsep.join(path)}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(script), *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def test_cli_release_twice_is_a_no_op_without_an_activated_venv(tmp_path):
    root, assignment = cli_course_copy(tmp_path)
    stale = root / "course" / assignment / "stale.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("left over from an older release")

    first = run_cli(root, "release")
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"course/{assignment}/{assignment}.ipynb" in first.stdout
    assert not stale.exists(), "release must remove stale files"
    snapshot = {n: (root / "course" / n).read_bytes() for n in files_under(root / "course")}

    second = run_cli(root, "release", assignment)
    assert second.returncode == 0, second.stdout + second.stderr
    again = {n: (root / "course" / n).read_bytes() for n in files_under(root / "course")}
    assert again == snapshot, "a second release changed course/"
    assert not list(root.rglob("gradebook.db")), "release must not leave a gradebook behind"
    assert sorted(files_under(root)) == sorted(
        ["nbgrader_config.py", *(f"solutions/{n}" for n in files_under(root / "solutions"))]
        + [f"course/{n}" for n in snapshot]
    )


def test_cli_unknown_assignment_lists_the_known_ones(tmp_path):
    root, assignment = cli_course_copy(tmp_path)
    result = run_cli(root, "release", "99_nope")
    assert result.returncode == 1
    assert "unknown assignment 99_nope" in result.stderr
    assert assignment in result.stderr
    assert not (root / "course").exists()


def test_cli_outside_a_course_says_where_to_run(tmp_path):
    result = run_cli(tmp_path, "release")
    assert result.returncode == 1
    assert "nbgrader_config.py" in result.stderr
