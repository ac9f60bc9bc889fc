"""A release test cell whose checks are all hidden prints nothing.

nbgrader removes the lines between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`
from the student's notebook. What is left of such a cell runs in the student's kernel; if
it still ends with a success message ("... is right on random inputs"), the student sees
success for tests that never ran, and loses those points at grading.

The rule, checked statically on every release notebook in course/ against its solution:
a test cell of the release (nbgrader `grade: true`, `solution: false`) whose solution has
hidden tests and whose release code has no *visible check* left must not call `print` or
`display` anywhere. The release code is parsed with `ast`; its module-level statements
are visible checks unless they are inert:

- imports, function and class definitions (defined, not run), `pass`;
- expression statements that are a constant (a docstring) or a `print`/`display` call;
- assignments whose value calls nothing, or calls only `fresh()` (the grading helpers),
  numpy (`np.…`, `numpy.…`) and methods of names an earlier such assignment bound from
  numpy (a seeded `rng`, its arrays): test data, which cannot fail a student.

Every other statement (an `assert`, a `raise`, a call of a checking helper or of the
student's function, a loop, a `with`, an `if`) counts as a visible check, so a cell
that keeps one of those may print what that check established.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
MESSAGE_CALLS = {"print", "display"}
HARMLESS_ROOTS = {"np", "numpy"}
HARMLESS_NAMES = {"fresh"}


def release_notebooks() -> list[str]:
    return sorted(p.parent.name for p in (REPO_ROOT / "course").glob("*/*.ipynb"))


def grading_cells(notebook) -> dict[str, nbformat.NotebookNode]:
    """The notebook's autograded test cells, by cell id."""
    cells = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cells[cell.get("id") or meta["grade_id"]] = cell
    return cells


def parse(source: str) -> ast.Module:
    """The cell as Python, IPython magics and shell escapes left out."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def call_name(call: ast.Call) -> tuple[str, str]:
    """(root name, full dotted name) of what `call` calls, ("", "") when not a name chain."""
    parts, node = [], call.func
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return "", ""
    parts.append(node.id)
    return node.id, ".".join(reversed(parts))


def harmless_call(call: ast.Call, data_names: set[str]) -> bool:
    root, full = call_name(call)
    return root in HARMLESS_ROOTS or root in data_names or full in HARMLESS_NAMES


def inert(statement: ast.stmt, data_names: set[str]) -> bool:
    """True when this module-level statement cannot fail on a wrong student answer.

    data_names holds the names bound so far from numpy (test data); an inert assignment
    from numpy adds its targets.
    """
    if isinstance(
        statement,
        ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
    ):
        return True
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Constant):
            return True
        return isinstance(value, ast.Call) and call_name(value)[1] in MESSAGE_CALLS
    if isinstance(statement, ast.Assign | ast.AnnAssign):
        value = statement.value
        if value is None:
            return True
        calls = [node for node in ast.walk(value) if isinstance(node, ast.Call)]
        if not all(harmless_call(call, data_names) for call in calls):
            return False
        if not any(call_name(call)[1] in HARMLESS_NAMES for call in calls):
            targets = (
                statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            )
            for target in targets:
                data_names.update(
                    node.id for node in ast.walk(target) if isinstance(node, ast.Name)
                )
        return True
    return False


def visible_checks(tree: ast.Module) -> list[ast.stmt]:
    """The module-level statements of the cell that are not inert."""
    data_names: set[str] = set()
    return [statement for statement in tree.body if not inert(statement, data_names)]


def messages(tree: ast.Module) -> list[int]:
    """Line numbers of every print/display call in the cell, at any depth."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and call_name(node)[1] in MESSAGE_CALLS
    ]


def placeholder_problem(solution_source: str, release_source: str) -> str | None:
    """Why this release test cell misleads, or None when it is fine."""
    if HIDDEN_BEGIN not in solution_source:
        return None
    tree = parse(release_source)
    if visible_checks(tree):
        return None  # a visible check is left; its message may say what it checked
    lines = messages(tree)
    if not lines:
        return None
    shown = release_source.splitlines()[lines[0] - 1].strip()
    return f"all its checks are hidden, yet it prints (line {lines[0]}: {shown})"


def problems(notebook_id: str) -> list[str]:
    solution = nbformat.read(REPO_ROOT / "solutions" / notebook_id / f"{notebook_id}.ipynb", 4)
    release = nbformat.read(REPO_ROOT / "course" / notebook_id / f"{notebook_id}.ipynb", 4)
    solved, released = grading_cells(solution), grading_cells(release)
    found = []
    for cell_id, cell in released.items():
        if cell_id not in solved:
            continue  # test_release.py reports notebooks out of sync
        problem = placeholder_problem(solved[cell_id].source, cell.source)
        if problem:
            found.append(f"{cell_id}: {problem}")
    return found


@pytest.mark.parametrize("notebook_id", release_notebooks())
def test_hidden_test_placeholders_print_nothing(notebook_id):
    found = problems(notebook_id)
    assert not found, (
        f"course/{notebook_id}: {len(found)} test cell(s) whose checks are all hidden print a "
        "success message the student sees although nothing was checked (move the print "
        "into the hidden block of the solution):\n  " + "\n  ".join(found)
    )


def test_every_notebook_is_checked():
    assert len(release_notebooks()) == 8


SOLUTION = """import numpy as np

from nnlib.grading import fresh

G = fresh()

# Hidden tests: random inputs.
### BEGIN HIDDEN TESTS
G.check_output(f, 1, expected=2)
### END HIDDEN TESTS
"""


@pytest.mark.parametrize(
    ("release", "flagged"),
    [
        # the placeholder of 06 before the fix: imports, fresh(), a comment and a print
        ("import numpy as np\nG = fresh()\n# Hidden tests\nprint('f is right')\n", True),
        # a helper defined but only called by the hidden tests does not check anything
        ("G = fresh()\ndef helper(x):\n    print(x)\n\nprint('done')\n", True),
        ("rng = np.random.default_rng(0)\nx = rng.normal(size=3)\nprint('ok')\n", True),
        # the grading object is no test data: calling it checks
        ("G = fresh()\nr = G.check_output(f, 0, expected=1)\nprint('ok')\n", False),
        # prints nothing: fine
        ("import numpy as np\nG = fresh()\n# Hidden tests\n", False),
        # a visible check is left, so its message may stay
        ("G = fresh()\nG.check_output(f, 0, expected=1)\nprint('f(0) is right')\n", False),
        ("assert f(0) == 1\nprint('f(0) is right')\n", False),
        ("value = f(0)\nprint('f(0) ran')\n", False),
        ("for x in [0]:\n    G.check_output(f, x, expected=1)\nprint('ok')\n", False),
    ],
)
def test_rule_on_small_cells(release, flagged):
    assert (placeholder_problem(SOLUTION, release) is not None) == flagged


def test_rule_needs_hidden_tests_in_the_solution():
    # a cell without hidden tests is left to the other tests (it has nothing hidden to fake)
    assert placeholder_problem("print('hello')\n", "print('hello')\n") is None
