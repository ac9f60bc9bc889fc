"""Which cells of a submission are trusted (nncourse.autograde.program)."""

import copy

import nbformat
import pytest
from nbgrader_harness import REPO_ROOT, find_cell, known_solutions

import nnlib.grading.checks
from nncourse.autograde.jail import hidden_targets
from nncourse.autograde.program import (
    Cell,
    _mark_trusted,
    build_program,
    hidden_names,
    names_of,
)


def notebooks(assignment):
    source = nbformat.read(REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)
    release = nbformat.read(REPO_ROOT / "course" / assignment / f"{assignment}.ipynb", 4)
    return source, release


def test_tests_come_from_the_source_and_answers_run_as_written():
    source, release = notebooks("01_neuron")
    submission = copy.deepcopy(release)
    find_cell(submission, "test_sigmoid_values").source = "pass  # the student emptied it"
    find_cell(submission, "sigmoid").source = "def sigmoid(z):\n    return z  # !=\n"
    plain = next(c for c in submission.cells if c.cell_type == "code" and not c.metadata)
    plain.source += "\nimport os"  # an instructor cell the student changed
    submission.cells.append(nbformat.v4.new_code_cell("x = 1"))  # a cell the student added
    cells = {c.label: c for c in build_program(submission, source, release)}
    assert cells["test_sigmoid_values"].kind == "test"
    assert cells["test_sigmoid_values"].code == find_cell(source, "test_sigmoid_values").source
    assert "BEGIN HIDDEN TESTS" in cells["test_sigmoid_values"].code
    assert cells["sigmoid"].kind == "student"
    assert cells["sigmoid"].code == "def sigmoid(z):\n    return z  # !=\n"  # not rewritten
    kinds = [c.kind for c in cells.values()]
    assert kinds.count("student") == 6 + 2  # six answers, the changed and the added cell
    assert kinds[-1] == "student"


def test_setup_cells_run_trusted_only_when_a_test_reads_what_they_bind():
    source, release = notebooks("08_dropout")
    cells = build_program(copy.deepcopy(source), source, release)
    demo = next(c for c in cells if c.kind == "setup" and "20_000" in c.code)
    assert not demo.trusted  # it calls dropout_forward 60,000 times: only in the sandbox
    cells = build_program(copy.deepcopy(source), source, release)
    cells.insert(0, Cell("setup", None, "LIMIT = 3\nOTHER = 4", "cell 0"))
    cells.append(Cell("test", "t", "assert square(2) == LIMIT + 1", "t"))
    _mark_trusted(cells)
    assert cells[0].trusted


def test_names_of_a_cell():
    bound, read = names_of(
        "import numpy as np\nfrom a import b as c\nx, (y, z) = 1, (2, 3)\n"
        "def f(q):\n    inner = q + w\n    return inner\nfor k in range(2):\n    m = k\n"
        "%matplotlib inline\nprint(sigmoid(x))\n"
    )
    assert bound == {"np", "c", "x", "y", "z", "f", "k", "m"}
    assert {"sigmoid", "w", "print", "range"} <= read and not read & bound


@pytest.mark.parametrize("assignment", known_solutions())
def test_every_notebook_hides_what_it_asks_for(assignment):
    source, release = notebooks(assignment)
    names = hidden_names(source, release)
    targets = hidden_targets(names)
    assert targets, f"{assignment}: nothing in nnlib is hidden"
    resolved = {dotted for qualnames in targets.values() for dotted in qualnames.values()}
    assert resolved, names


def test_hidden_names_of_01_neuron():
    names = hidden_names(*notebooks("01_neuron"))
    assert {
        "nnlib.activations.sigmoid",
        "nnlib.activations.sigmoid_prime",
        "nnlib.activations.relu_prime",
        "nnlib.activations.tanh_prime",
        "nnlib.activations.softmax",
    } <= names
    assert "nnlib.activations.relu" not in names  # the notebook does not ask for it


def _graded(code):
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 1}
    return cell


def test_what_a_topic_checker_forbids_is_hidden(tmp_path, monkeypatch):
    """A test cell that calls G.checks.<topic> hides every nnlib name that checker spells
    out, though the cell itself names none."""
    package = tmp_path / "nnlib" / "grading" / "checks"
    monkeypatch.setattr(nnlib.grading.checks, "__path__", [str(package)])
    package.mkdir(parents=True)
    (package / "planted.py").write_text(
        'FORBID = ("nnlib.activations.sigmoid",)\n'
        'def check(fn, forbid=("nnlib.activations.tanh_prime",)):\n'
        '    return "nnlib.activations.relu is not a forbidden name: it has spaces"\n'
    )
    source = nbformat.v4.new_notebook(cells=[
        _graded("from nnlib.grading import fresh\nG = fresh()\nG.checks.planted.check(f)"),
    ])  # fmt: skip
    release = nbformat.v4.new_notebook()
    assert hidden_names(source, release) == {
        "nnlib.activations.sigmoid",
        "nnlib.activations.tanh_prime",
    }
    source.cells = [_graded("from nnlib.grading.checks import planted\nplanted.check(f)")]
    assert "nnlib.activations.sigmoid" in hidden_names(source, release)
    source.cells = [_graded("G.checks.absent.check(f)")]  # no such topic: nothing, no error
    assert hidden_names(source, release) == set()


def test_without_bubblewrap_student_code_is_not_run_unless_asked(monkeypatch):
    from nncourse.autograde import grade, jail

    monkeypatch.setattr(jail, "bwrap_path", lambda: None)
    with pytest.raises(jail.SandboxUnavailable, match="apt-get install bubblewrap"):
        grade.check_sandbox(grade.Limits())
    grade.check_sandbox(grade.Limits(sandboxed=False))  # the instructor asked for it
