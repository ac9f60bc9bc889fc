"""`nbgrader collect` with the course's configuration never follows a student's link.

A student owns their folder in the exchange's inbound/ and can turn files in it, or the
folder itself, into links after submitting; nbgrader's own collect would copy the targets
as the instructor (the solved notebook, graded as the student's). Planted here directly in
an exchange on disk, as a student's shell would leave them.
"""

from pathlib import Path

import pytest
from nbgrader_harness import Course

from nncourse.nbgrader_run import run_nbgrader

pytestmark = pytest.mark.slow

A = "demo"
WHEN = "2026-12-01 10:00:00.000000 UTC"


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("exchange-course"), [A])
    course.release(A)
    exchange = tmp_path_factory.mktemp("exchange")
    flags = [f"--Exchange.root={exchange}", "--CollectApp.check_owner=False"]
    run_nbgrader(course.root, ["release_assignment", A, *flags], db_url=course.db_url)
    inbound = exchange / "nncourse" / "inbound"
    solved = course.root / "solutions" / A / f"{A}.ipynb"
    released = course.root / "course" / A / f"{A}.ipynb"

    def folder(student: str) -> Path:
        path = inbound / f"{student}+{A}+{WHEN}"
        path.mkdir()
        (path / "timestamp.txt").write_text(WHEN)
        return path

    (folder("linked_notebook") / f"{A}.ipynb").symlink_to(solved)
    honest = folder("honest")
    (honest / f"{A}.ipynb").write_bytes(released.read_bytes())
    (honest / "figure.png").symlink_to("/etc/passwd")  # an included name, linked
    (honest / "plots").symlink_to(course.root / "solutions", target_is_directory=True)
    (inbound / f"linked_folder+{A}+{WHEN}").symlink_to(solved.parent, target_is_directory=True)
    result = run_nbgrader(course.root, ["collect", A, *flags], db_url=course.db_url, check=False)
    return course.root / "submitted", result.output


def test_a_linked_notebook_is_not_collected(collected):
    submitted, log = collected
    folder = submitted / "linked_notebook" / A
    assert sorted(p.name for p in folder.iterdir()) == ["timestamp.txt"]
    assert f"{A}.ipynb is a link" in log


def test_a_linked_folder_is_not_collected(collected):
    submitted, log = collected
    assert not (submitted / "linked_folder" / A).exists()
    assert "is a link or not a folder" in log


def test_an_honest_submission_keeps_its_files_but_not_its_links(collected):
    submitted, log = collected
    folder = submitted / "honest" / A
    assert sorted(p.name for p in folder.iterdir()) == [f"{A}.ipynb", "timestamp.txt"]
    assert not [p for p in folder.rglob("*") if p.is_symlink()]
    assert "figure.png is a link" in log and "plots is a link" in log
