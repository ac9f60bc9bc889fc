"""`nncourse autograde` on one batch of planted submissions of the demo assignment.

ONE batch (module-scoped fixture) holds every planted student, graded once through the
command line: each must get its expected status and score, nothing may be lost, and the
sly, broken or runaway submissions must not disturb anyone else in the batch. The demo
assignment (tests/fixtures/demo) has one exercise, ``square``, with a visible test (1
point) and a hidden one (2 points).
"""

import copy
import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry
from nbgrader_harness import Course, find_cell, grade_id, with_cell

from nncourse import cli

pytestmark = pytest.mark.slow

A = "demo"
HIDDEN_SOURCE = "rng.normal(size=(3, 4))"
RIGHT = "import numpy as np\n\n\ndef square(x):\n    return np.asarray(x) * np.asarray(x)\n"
WRONG = "def square(x):\n    return 2 * x\n"


def body(*lines):
    """An answer cell whose square() runs `lines` and then returns the right answer."""
    inner = "".join(f"    {line}\n" for line in lines)
    return f"import numpy as np\n\n\ndef square(x):\n{inner}    return np.asarray(x) ** 2\n"


SWALLOWS = body(
    "import time",
    "while True:",
    "    try:",
    "        time.sleep(0.05)",
    "    except BaseException:",
    "        pass",
)

EQ_TRICK = """import numpy as np


class Anything(np.ndarray):
    def __eq__(self, other):
        return True

    def __array_ufunc__(self, *args, **kwargs):
        return True


def square(x):
    return np.zeros(3).view(Anything)
"""

# Each sly planted student: the wrong answer plus a top-level trick that nbgrader runs.
REBINDS_HELPERS = (
    WRONG
    + """
import numpy as np
import numpy.testing

np.testing.assert_allclose = lambda *args, **kwargs: None
np.allclose = lambda *args, **kwargs: True
"""
)

REBINDS_NAMES = (
    WRONG
    + """

class np:
    allclose = staticmethod(lambda *args, **kwargs: True)


def isinstance(*args):
    return True
"""
)

TRANSFORMER = (
    WRONG
    + """
ip = get_ipython()
ip.input_transformers_cleanup.append(lambda lines: ["pass\\n"])
"""
)


def instructor_files(root: Path) -> str:
    """square() that returns a WRONG answer if it could read or write instructor files."""
    return body(
        "leaked = []",
        f"for path in [{str(root / 'solutions' / A / f'{A}.ipynb')!r}, "
        f"{str(root / 'gradebook.db')!r}]:",
        "    try:",
        "        leaked.append(open(path, 'rb').read(10))",
        "    except OSError:",
        "        pass",
        "try:",
        f"    open({str(root / 'gradebook.db')!r}, 'ab').write(b'x')",
        "    leaked.append('wrote')",
        "except OSError:",
        "    pass",
        "if leaked:",
        "    return 2 * x",
    )


EXPECTED = {  # student -> (status, score); max_score is 3 for every graded one
    "correct": ("graded", 3),
    "untouched": ("graded", 0),
    "wrong": ("graded", 0),
    "deleted_tests": ("graded", 0),
    "edited_tests": ("graded", 0),
    "copy_pasted_cells": ("graded", 3),
    "emptied_metadata": ("graded", 3),
    "code_to_markdown": ("graded", 3),
    "infinite_loop": ("graded", 0),
    "top_level_loop": ("graded", 3),
    "swallows_interrupts": ("graded", 0),
    "allocates_20gb": ("graded", 0),
    "sys_exit": ("graded", 0),
    "os_exit": ("graded", 0),
    "kills_parent": ("graded", 3),  # its parent is the sandbox's own init: the call returns
    "rebinds_helpers": ("graded", 0),
    "rebinds_in_call": ("graded", 0),
    "rebinds_names": ("graded", 0),
    "input_transformer": ("graded", 0),
    "eq_trick": ("graded", 0),
    "instructor_files": ("graded", 3),  # none of the course exists in the sandbox
    "corrupt_json": ("failed", None),
    "nbformat_5": ("failed", None),
    "foreign_kernel": ("graded", 3),
    "huge_output": ("graded", 3),
    "warns": ("graded", 3),
    "late": ("late", 3),
    "no_notebook": ("missing", None),
    "never_submitted": ("missing", None),
    "resubmits_broken": ("failed", None),  # graded 3/3 in an earlier run
}


def planted(course: Course) -> dict:
    release = course.release(A)
    solved = course.solved_submission(A)
    wrong = with_cell(solved, "square", WRONG)

    deleted = copy.deepcopy(wrong)
    deleted.cells = [c for c in deleted.cells if not (grade_id(c) or "").startswith("test_")]
    edited = with_cell(with_cell(wrong, "test_square_visible", "pass"), "test_square_hidden", "")

    pasted = copy.deepcopy(release)
    answer = find_cell(pasted, "square")
    at = pasted.cells.index(answer)
    second = copy.deepcopy(answer)
    second.source = RIGHT
    test_copy = copy.deepcopy(find_cell(pasted, "test_square_visible"))
    pasted.cells[at + 1 : at + 1] = [second, test_copy]

    emptied = copy.deepcopy(solved)
    find_cell(emptied, "square").metadata["nbgrader"] = {}
    del find_cell(emptied, "test_square_visible").metadata["nbgrader"]

    markdown = copy.deepcopy(solved)
    cell = find_cell(markdown, "square")
    markdown.cells[markdown.cells.index(cell)] = nbformat.v4.new_markdown_cell(
        cell.source, id=cell.id, metadata=cell.metadata
    )

    foreign = copy.deepcopy(solved)
    foreign.metadata["kernelspec"] = {
        "name": "julia-1.9",
        "display_name": "Julia",
        "language": "julia",
    }

    nbs = {
        "correct": solved,
        "untouched": release,
        "wrong": wrong,
        "deleted_tests": deleted,
        "edited_tests": edited,
        "copy_pasted_cells": pasted,
        "emptied_metadata": emptied,
        "code_to_markdown": markdown,
        "infinite_loop": with_cell(solved, "square", body("while True:", "    pass")),
        "top_level_loop": with_cell(solved, "square", RIGHT + "\nwhile True:\n    pass\n"),
        "swallows_interrupts": with_cell(solved, "square", SWALLOWS),
        "allocates_20gb": with_cell(solved, "square", body("big = np.ones(20 * 2**30 // 8)")),
        "sys_exit": with_cell(solved, "square", body("import sys", "sys.exit(0)")),
        "os_exit": with_cell(solved, "square", body("import os", "os._exit(0)")),
        "kills_parent": with_cell(
            solved,
            "square",
            body(
                "import os", "try:", "    os.kill(os.getppid(), 9)", "except OSError:", "    pass"
            ),
        ),
        "rebinds_helpers": with_cell(solved, "square", REBINDS_HELPERS),
        "rebinds_in_call": with_cell(
            solved,
            "square",
            "import numpy as np\n\n\ndef square(x):\n"
            "    np.allclose = lambda *args, **kwargs: True\n    return 2 * x\n",
        ),
        "rebinds_names": with_cell(solved, "square", REBINDS_NAMES),
        "input_transformer": with_cell(solved, "square", TRANSFORMER),
        "eq_trick": with_cell(solved, "square", EQ_TRICK),
        "instructor_files": with_cell(solved, "square", instructor_files(course.root)),
        "foreign_kernel": foreign,
        "huge_output": with_cell(solved, "square", body("print('x' * 100_000_000)")),
        "warns": with_cell(
            solved,
            "square",
            body(
                "import sys, warnings",
                "warnings.warn('squaring', RuntimeWarning, stacklevel=1)",
                "print('debug: square called', file=sys.stderr)",
            ),
        ),
        "late": solved,
    }
    return nbs


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("autograde-course"), [A])
    course.release(A)
    submitted = course.root / "submitted"
    nbs = planted(course)
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_assignment(A, duedate="2030-01-01 00:00:00 UTC")
        gb.update_or_create_student("never_submitted")
    args = ["--root", str(course.root), "autograde", A, "--workers", "2", "--no-progress"]
    args += ["--cell-timeout", "3", "--timeout", "60", "--memory-mb", "3072"]
    # An earlier run graded this student's first submission (3/3); the one now in
    # submitted/ is broken.
    first = submitted / "resubmits_broken" / A
    first.mkdir(parents=True)
    (first / f"{A}.ipynb").write_text(json.dumps(nbs["correct"], indent=1))
    assert cli.main(args) == 0
    (first / f"{A}.ipynb").write_text('{"cells": [')
    for student, nb in nbs.items():
        folder = submitted / student / A
        folder.mkdir(parents=True)
        # Raw JSON: nbformat.write would already fix the duplicate cell ids of a copy-paste.
        (folder / f"{A}.ipynb").write_text(json.dumps(nb, indent=1))
        stamp = "2030-01-02 00:00:00 UTC" if student == "late" else "2029-12-01 00:00:00 UTC"
        (folder / "timestamp.txt").write_text(stamp)
    (submitted / "corrupt_json" / A).mkdir(parents=True)
    (submitted / "corrupt_json" / A / f"{A}.ipynb").write_text('{"cells": [')
    (submitted / "nbformat_5" / A).mkdir(parents=True)
    (submitted / "nbformat_5" / A / f"{A}.ipynb").write_text(
        '{"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []}'
    )
    (submitted / "no_notebook" / A).mkdir(parents=True)
    (submitted / "no_notebook" / A / "notes.txt").write_text("forgot the notebook")
    originals = {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()}
    code = cli.main(args)
    with (course.root / "reports" / A / "grades.csv").open(newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    return course, code, rows, originals


def test_every_student_gets_the_expected_status_and_score(batch):
    _, code, rows, _ = batch
    assert code == 3  # some submissions could not be graded
    assert set(rows) == set(EXPECTED)
    got = {s: (r["status"], float(r["score"]) if r["score"] else None) for s, r in rows.items()}
    assert got == EXPECTED
    for student, (status, _) in EXPECTED.items():
        if status in ("graded", "late"):
            assert rows[student]["max_score"] == "3", student


def test_gradebook_holds_exactly_the_graded_scores(batch):
    course, _, rows, _ = batch
    with Gradebook(course.db_url) as gb:
        for student, (status, score) in EXPECTED.items():
            if status in ("graded", "late"):
                sub = gb.find_submission(A, student)
                assert (sub.score, sub.max_score) == (score, 3), student
    # nbgrader's own export still works on the gradebook written this way
    out = course._run(["export", "--to", str(course.root / "export.csv")])
    assert "Exporting grades" in out.output or (course.root / "export.csv").is_file()


def test_failures_give_their_reason_and_no_zero(batch):
    _, _, rows, _ = batch
    assert "not valid JSON" in rows["corrupt_json"]["reason"]
    assert "unsupported nbformat 5" in rows["nbformat_5"]["reason"]
    assert "no demo.ipynb was submitted" in rows["no_notebook"]["reason"]
    assert rows["never_submitted"]["reason"] == "nothing was submitted"
    for student in ("corrupt_json", "nbformat_5", "no_notebook", "never_submitted"):
        assert rows[student]["score"] == "", student


def test_a_failed_resubmission_leaves_no_stale_score(batch):
    """The gradebook loses the earlier 3/3 (nbgrader export would show it as current), and
    nothing of it is lost: it is kept under reports/ and the student's row says where."""
    course, _, rows, _ = batch
    row = rows["resubmits_broken"]
    assert "not valid JSON" in row["reason"]
    assert "the gradebook held 3/3 from an earlier submission" in row["notes"]
    with Gradebook(course.db_url) as gb:
        with pytest.raises(MissingEntry):
            gb.find_submission(A, "resubmits_broken")
    (kept,) = (course.root / "reports" / A / "superseded").glob("resubmits_broken-*")
    assert str(kept.relative_to(course.root)) in row["notes"]
    record = json.loads((kept / "grades.json").read_text())
    assert (record["score"], record["max_score"]) == (3, 3)
    assert record["grades"]["test_square_hidden"]["auto_score"] == 2
    assert (kept / "autograded" / f"{A}.ipynb").is_file()
    assert not (course.root / "autograded" / "resubmits_broken" / A).exists()


def test_repairs_are_reported(batch):
    _, _, rows, _ = batch
    assert "a copy of square kept as an ordinary cell" in rows["copy_pasted_cells"]["repairs"]
    assert "a duplicate cell id" in rows["copy_pasted_cells"]["repairs"]
    assert "emptied nbgrader metadata of square restored" in rows["emptied_metadata"]["repairs"]
    assert "square turned back from markdown into code" in rows["code_to_markdown"]["repairs"]
    assert "kernel 'julia-1.9' replaced" in rows["foreign_kernel"]["repairs"]
    assert "deleted cell test_square_visible put back" in rows["deleted_tests"]["repairs"]
    # Top-level tampering (rebinding helpers, an input transformer) runs, in the sandbox,
    # where no test is: those students score 0 (EXPECTED), with nothing to repair.
    assert not rows["input_transformer"]["repairs"]


def autograded(course, student):
    return nbformat.read(course.root / "autograded" / student / A / f"{A}.ipynb", as_version=4)


def error_of(course, student, cell="test_square_visible"):
    outs = find_cell(autograded(course, student), cell).outputs
    return " ".join(
        f"{o.get('ename')}: {o.get('evalue')}" for o in outs if o.output_type == "error"
    )


def test_runaway_and_sly_submissions_fail_with_a_reason(batch):
    course, *_ = batch
    assert "TimeoutError" in error_of(course, "infinite_loop")
    assert "did not stop when interrupted" in error_of(course, "swallows_interrupts")
    # Stopped by the cgroup's limit (or, without root, the address space's), or still
    # filling its 3 GB when its 3 s ran out on a busy machine: never graded, never a hang.
    memory = error_of(course, "allocates_20gb")
    assert any(m in memory for m in ("more than 3072 MB", "MemoryError", "longer than 3 s"))
    assert "SystemExit" in error_of(course, "sys_exit")
    assert "exited" in error_of(course, "os_exit")
    # Rebinding numpy in the sandbox changes nothing for the tests: the answer is just wrong.
    assert "square([1, -2]) should be [1, 4]" in error_of(course, "rebinds_in_call")
    # The ndarray subclass stays in the sandbox; np.allclose sees only its values (three
    # zeros, which cannot even be compared with the expected two).
    assert "could not be broadcast" in error_of(course, "eq_trick")


def test_huge_output_is_capped_in_bytes_and_warnings_cost_nothing(batch):
    course, *_ = batch
    path = course.root / "autograded" / "huge_output" / A / f"{A}.ipynb"
    assert path.stat().st_size < 1_000_000
    text = "".join(
        o.get("text", "")
        for o in find_cell(autograded(course, "huge_output"), "test_square_visible").outputs
    )
    assert "output truncated" in text
    warned = find_cell(autograded(course, "warns"), "test_square_visible").outputs
    assert "squaring" in "".join(o.get("text", "") for o in warned)


def test_nothing_submitted_is_changed_or_lost(batch):
    course, _, rows, originals = batch
    now = {p: p.read_bytes() for p in (course.root / "submitted").rglob("*") if p.is_file()}
    assert now == originals
    assert set(EXPECTED) - {"never_submitted"} == {p.parts[-3] for p in originals}


def test_feedback_explains_without_revealing_hidden_tests(batch):
    course, *_ = batch
    pages = {
        p.parts[-3]: p.read_text() for p in (course.root / "feedback").glob(f"*/{A}/{A}.html")
    }
    assert set(pages) == set(EXPECTED)
    assert HIDDEN_SOURCE in course.source(A).cells[4].source
    for student, page in pages.items():
        assert HIDDEN_SOURCE not in page, student
        assert "BEGIN HIDDEN TESTS" not in page, student
    assert "square is wrong on a random (3, 4) array" in pages["wrong"]
    assert "not valid JSON" in pages["corrupt_json"]


def test_score_plot_is_written(batch):
    course, *_ = batch
    png = course.root / "reports" / A / "scores.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_lists_the_command():
    out = subprocess.run(
        [sys.executable, "-m", "nncourse.cli", "autograde", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--workers" in out and "--cell-timeout" in out


@pytest.fixture
def without_bubblewrap(tmp_path, monkeypatch):
    """A course with one solved submission, graded where bwrap cannot be found."""
    from nncourse.autograde import jail

    course = Course(tmp_path / "course", [A])
    course.release(A)
    folder = course.root / "submitted" / "alice" / A
    folder.mkdir(parents=True)
    nbformat.write(with_cell(course.solved_submission(A), "square", RIGHT), folder / f"{A}.ipynb")
    monkeypatch.setattr(jail, "bwrap_path", lambda: None)
    return course


def test_without_bubblewrap_nothing_is_graded(without_bubblewrap, capsys):
    course = without_bubblewrap
    code = cli.main(["--root", str(course.root), "autograde", A, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "nncourse autograde: error: bubblewrap (bwrap) is not installed" in err
    assert "Traceback" not in err
    assert not (course.root / "reports").exists() and not (course.root / "autograded").exists()


def test_an_unsandboxed_run_says_so_on_every_row(without_bubblewrap):
    course = without_bubblewrap
    args = ["--root", str(course.root), "autograde", A, "--no-progress", "--unsandboxed"]
    assert cli.main(args) == 0
    with (course.root / "reports" / A / "grades.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["status"], row["auto_score"]) == ("graded", "3")
    assert row["notes"].startswith("UNSANDBOXED: student code ran without the sandbox")
