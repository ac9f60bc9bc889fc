"""Notebook 06_mnist graded as nbgrader grades it: right, empty, wrong and delegating answers.

Two layers of checks:

- ONE autograde run (module-scoped fixture) grades four submissions end to end: the solved
  notebook (full marks), the untouched release (zero) and two submissions that each plant
  a mistake in several independent exercises. Each mistake must lose exactly its cells, and
  the student must see a message that names it.
- Many more planted mistakes are checked in-process: the answer cells and the test cells
  of the solution notebook run in a plain namespace (no kernel, milliseconds each), to show
  which test cells each mistake fails.

The notebook loads MNIST: the kernel finds it through NNLIB_DATA (set by .ci/run).
"""

import os
import re
from pathlib import Path

import pytest
from nbgrader_harness import (
    REPO_ROOT,
    assert_feedback_shows,
    assert_full_marks,
    assert_loses_exactly,
    assert_scores_zero,
    failing_in_process,
    grade_id,
    solution_cells,
)

A = "06_mnist"
SOLUTION = REPO_ROOT / "solutions" / A / f"{A}.ipynb"

CELLS = {
    "one_hot": ["test_one_hot_example", "test_one_hot_random", "test_one_hot_edge_cases"],
    "iterate_minibatches": [
        "test_minibatches_example",
        "test_minibatches_coverage",
        "test_minibatches_shuffled",
        "test_minibatches_rng_order",
    ],
    "sgd_update": [
        "test_sgd_update_example",
        "test_sgd_update_random_dict",
        "test_sgd_update_list",
    ],
    "train": [
        "test_train_decreases",
        "test_train_reference_trajectory",
        "test_train_leaves_inputs",
    ],
    "accuracy": ["test_accuracy_example", "test_accuracy_random", "test_accuracy_edge_cases"],
    "confusion_matrix": [
        "test_confusion_example",
        "test_confusion_random",
        "test_confusion_edge_cases",
    ],
}
ALL = {exercise: set(cells) for exercise, cells in CELLS.items()}

# ---------------------------------------------------------------- planted answers

ONE_HOT_MINUS_ONE = '''def one_hot(y, k):
    """Off by one: the 1 lands in column y - 1."""
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), np.asarray(y) - 1] = 1.0
    return Y
'''

ONE_HOT_PLUS_ONE = '''def one_hot(y, k):
    """Off by one the other way: column y + 1 (out of range for the last class)."""
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), np.asarray(y) + 1] = 1.0
    return Y
'''

ONE_HOT_DELEGATES = """import nnlib.data


def one_hot(y, k):
    return nnlib.data.one_hot(y, k)
"""

ONE_HOT_EYE = """def one_hot(y, k):
    return np.eye(k)[np.asarray(y, dtype=np.int64)]
"""

NO_SHUFFLE = '''def iterate_minibatches(X, Y, batch_size, rng):
    """Forgets to shuffle."""
    for start in range(0, len(X), batch_size):
        yield X[start : start + batch_size], Y[start : start + batch_size]
'''

DROPS_LAST = '''def iterate_minibatches(X, Y, batch_size, rng):
    """Drops the last, smaller batch."""
    order = rng.permutation(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], Y[idx]
'''

RESEEDS = '''def iterate_minibatches(X, Y, batch_size, rng):
    """Ignores the rng it is given: the same order in every epoch, whatever the seed."""
    order = np.random.default_rng(0).permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], Y[idx]
'''

GLOBAL_STATE = '''def iterate_minibatches(X, Y, batch_size, rng):
    """Shuffles with numpy's global random state instead of rng."""
    order = np.random.permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], Y[idx]
'''

ITERATE_DELEGATES = """from nnlib.data import minibatches


def iterate_minibatches(X, Y, batch_size, rng):
    return minibatches(X, Y, batch_size, rng)
"""

ONE_FEATURE = """def iterate_minibatches(X, Y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        yield X[idx, 0], Y[idx]
"""

EXTRA_DRAW = '''def iterate_minibatches(X, Y, batch_size, rng):
    """The right order, but one more draw from rng than the permutation."""
    order = rng.permutation(len(X))
    rng.random()
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], Y[idx]
'''

ITERATE_SHUFFLE_IN_PLACE = """def iterate_minibatches(X, Y, batch_size, rng):
    order = np.arange(len(X))
    rng.shuffle(order)
    for start in range(0, len(X), batch_size):
        yield X[order[start : start + batch_size]], Y[order[start : start + batch_size]]
"""

WRONG_SIGN = '''def sgd_update(params, grads, eta):
    """Moves uphill."""
    if isinstance(params, dict):
        return {name: params[name] + eta * grads[name] for name in params}
    return [p + eta * g for p, g in zip(params, grads, strict=True)]
'''

IN_PLACE = '''def sgd_update(params, grads, eta):
    """Right values, but changes the caller's arrays."""
    keys = params.keys() if isinstance(params, dict) else range(len(params))
    for key in keys:
        params[key] -= eta * grads[key]
    return params
'''

NO_ETA = '''def sgd_update(params, grads, eta):
    """Forgets the learning rate."""
    if isinstance(params, dict):
        return {name: params[name] - grads[name] for name in params}
    return [p - g for p, g in zip(params, grads, strict=True)]
'''

RIGHT_UPDATE = "params = sgd_update(params, grads, eta)"


def train_answer(update: str = RIGHT_UPDATE, batch_rng: str = "rng") -> str:
    """A train() answer, right but for the `update` of each step (lines, indented relative
    to the loop body) and the rng the mini-batches are drawn with."""
    step = "\n".join(" " * 12 + line for line in update.splitlines())
    return f"""def train(
    params, loss_and_grads, X, Y, epochs, batch_size, eta, rng, callback=None, progress=False
):
    history = {{"loss": [], "step_loss": []}}
    for epoch in trange(epochs, desc="epochs", disable=not progress):
        losses = []
        for X_batch, Y_batch in iterate_minibatches(X, Y, batch_size, {batch_rng}):
            loss, grads = loss_and_grads(params, X_batch, Y_batch)
{step}
            losses.append(loss)
        history["step_loss"].extend(losses)
        history["loss"].append(float(np.mean(losses)))
        if callback is not None:
            callback(epoch + 1, params, history)
    return params, history
"""


NO_REASSIGN = train_answer("sgd_update(params, grads, eta)  # the new parameters are thrown away")
OWN_RNG = train_answer(batch_rng="np.random.default_rng(0)")
UPDATES_CALLERS_PARAMS = train_answer("for name in params:\n    params[name] -= eta * grads[name]")

NO_ARGMAX = '''def accuracy(scores_or_probs, y):
    """Averages the probability of the true class instead of counting argmax hits."""
    return float(np.mean(scores_or_probs[np.arange(len(y)), y]))
'''

PERCENT = """def accuracy(scores_or_probs, y):
    return 100 * float(np.mean(np.argmax(scores_or_probs, axis=1) == y))
"""

TRANSPOSED = """def confusion_matrix(y_true, y_pred, k):
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y_pred, y_true), 1)
    return cm
"""

NO_REPEATS = '''def confusion_matrix(y_true, y_pred, k):
    """Fancy-index += counts a repeated (true, predicted) pair only once."""
    cm = np.zeros((k, k), dtype=np.int64)
    cm[y_true, y_pred] += 1
    return cm
'''

CM_DELEGATES = """from nnlib.plotting import confusion_matrix as reference_cm


def confusion_matrix(y_true, y_pred, k):
    return reference_cm(y_true, y_pred, k)
"""

CM_FRACTIONS = """def confusion_matrix(y_true, y_pred, k):
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm / cm.sum(axis=1, keepdims=True)
"""

CM_FLOAT = '''def confusion_matrix(y_true, y_pred, k):
    """Right counts, but float ones: the docstring asks for an integer array."""
    cm = np.zeros((k, k))
    np.add.at(cm, (y_true, y_pred), 1)
    return cm
'''

CM_SIZE_FROM_LABELS = '''def confusion_matrix(y_true, y_pred, k):
    """Sizes the matrix from the labels seen, not from k."""
    m = int(max(np.max(y_true), np.max(y_pred))) + 1
    cm = np.zeros((m, m), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm
'''

CM_LOOP = """def confusion_matrix(y_true, y_pred, k):
    cm = np.zeros((k, k), dtype=int)
    for i in range(k):
        for j in range(k):
            cm[i, j] = np.sum((y_true == i) & (y_pred == j))
    return cm
"""

# ---------------------------------------------------------------- in-process runs


def failing_cells(replacements: dict[str, str], only=None) -> dict[str, str]:
    """Run the answers (with replacements) and the test cells (those of the exercises in
    `only`, default all) in one namespace, as the kernel would; return grade_id -> error
    message of each failing test cell."""
    cells = solution_cells(SOLUTION)
    wanted = set().union(*(ALL[e] for e in only)) if only else set(cells.tests)
    answers = {gid: replacements.get(gid, src) for gid, src in cells.answers.items()}
    tests = {gid: src for gid, src in cells.tests.items() if gid in wanted}
    return failing_in_process(SETUP, answers, tests)


SETUP = "import numpy as np\nfrom tqdm.auto import trange"  # the set-up cell


def test_solution_passes_every_test_cell_in_process():
    assert failing_cells({}) == {}


@pytest.mark.parametrize(
    ("exercise", "source", "lost", "message"),
    [
        ("one_hot", ONE_HOT_MINUS_ONE, ALL["one_hot"], "one column too far left"),
        ("one_hot", ONE_HOT_PLUS_ONE, ALL["one_hot"], "IndexError"),
        ("one_hot", ONE_HOT_DELEGATES, ALL["one_hot"], "earns no points"),
        ("one_hot", ONE_HOT_EYE, set(), ""),
        (
            "iterate_minibatches",
            NO_SHUFFLE,
            {
                "test_minibatches_example",
                "test_minibatches_shuffled",
                "test_minibatches_rng_order",
            },
            "come in their stored order",
        ),
        (
            "iterate_minibatches",
            DROPS_LAST,
            {"test_minibatches_example", "test_minibatches_coverage"},
            "last, smaller batch is missing",
        ),
        (
            "iterate_minibatches",
            RESEEDS,
            {
                "test_minibatches_example",
                "test_minibatches_shuffled",
                "test_minibatches_rng_order",
            },
            "same rng gave the same order",
        ),
        (
            "iterate_minibatches",
            RESEEDS,
            {
                "test_minibatches_example",
                "test_minibatches_shuffled",
                "test_minibatches_rng_order",
            },
            "does not come from the rng argument",
        ),
        (
            "iterate_minibatches",
            GLOBAL_STATE,
            {
                "test_minibatches_example",
                "test_minibatches_shuffled",
                "test_minibatches_rng_order",
            },
            "same seed gave different orders",
        ),
        (
            "iterate_minibatches",
            GLOBAL_STATE,
            {
                "test_minibatches_example",
                "test_minibatches_shuffled",
                "test_minibatches_rng_order",
            },
            "numpy's global np.random",
        ),
        ("iterate_minibatches", ITERATE_DELEGATES, ALL["iterate_minibatches"], "earns no points"),
        ("iterate_minibatches", ITERATE_SHUFFLE_IN_PLACE, set(), ""),
        ("iterate_minibatches", ONE_FEATURE, ALL["iterate_minibatches"], "all 3 features"),
        (
            "iterate_minibatches",
            EXTRA_DRAW,
            {"test_minibatches_example", "test_minibatches_rng_order"},
            "drew more from rng than that one permutation",
        ),
        ("sgd_update", WRONG_SIGN, ALL["sgd_update"], "moved uphill"),
        ("sgd_update", IN_PLACE, ALL["sgd_update"], "in place"),
        ("sgd_update", NO_ETA, ALL["sgd_update"], "learning rate eta is missing"),
        (
            "train",
            NO_REASSIGN,
            {"test_train_decreases", "test_train_reference_trajectory"},
            "assign the result of sgd_update",
        ),
        ("train", OWN_RNG, {"test_train_reference_trajectory"}, "step_loss"),
        (
            "train",
            UPDATES_CALLERS_PARAMS,
            # the caller's start values change, so the next run in the cell starts elsewhere
            {"test_train_leaves_inputs", "test_train_reference_trajectory"},
            "in place",
        ),
        ("accuracy", NO_ARGMAX, ALL["accuracy"], "accuracy is not right"),
        ("accuracy", PERCENT, ALL["accuracy"], "percentage"),
        ("confusion_matrix", TRANSPOSED, ALL["confusion_matrix"], "rows and columns are swapped"),
        (
            "confusion_matrix",
            NO_REPEATS,
            {"test_confusion_example", "test_confusion_random"},
            "np.add.at",
        ),
        ("confusion_matrix", CM_DELEGATES, ALL["confusion_matrix"], "earns no points"),
        ("confusion_matrix", CM_FRACTIONS, ALL["confusion_matrix"], "counts, not fractions"),
        ("confusion_matrix", CM_FLOAT, {"test_confusion_example"}, "integer counts"),
        (
            "confusion_matrix",
            CM_SIZE_FROM_LABELS,
            {"test_confusion_edge_cases"},
            "the size came from the labels",
        ),
        ("confusion_matrix", CM_LOOP, set(), ""),
    ],
)
def test_planted_answer_fails_exactly_its_cells(exercise, source, lost, message):
    failures = failing_cells({exercise: source}, only=[exercise])
    assert set(failures) == lost, failures
    if message:
        assert any(message in text for text in failures.values()), failures


def test_train_is_graded_with_correct_helpers_standing_in():
    """A wrong sgd_update costs train its visible test only (it uses the student's own
    update); the hidden tests of train put correct helpers in its place."""
    failures = failing_cells({"sgd_update": WRONG_SIGN}, only=["train"])
    assert set(failures) == {"test_train_decreases"}, failures
    assert "loss should go down" in failures["test_train_decreases"]


def test_sandbox_hides_every_reference_the_checkers_forbid():
    """The checkers disable the references in the student's kernel; when graded, the
    sandbox leaves out what the test cells and the checkers they call name."""
    import nbformat

    from nncourse.autograde.program import hidden_names
    from nnlib.grading.checks import training

    source = nbformat.read(SOLUTION, as_version=4)
    release = nbformat.read(REPO_ROOT / "course" / A / f"{A}.ipynb", as_version=4)
    forbidden = (
        training.ONE_HOT_REFERENCES + training.MINIBATCH_REFERENCES + training.CONFUSION_REFERENCES
    )
    assert set(forbidden) <= hidden_names(source, release)


# ---------------------------------------------------------------- one nbgrader run


@pytest.fixture(scope="module")
def grades(course):
    if not os.environ.get("NNLIB_DATA"):  # a checkout with ../shared beside it, as in CI
        shared = REPO_ROOT.parent / "shared" / "data"
        if (Path(shared) / "mnist").is_dir():
            os.environ["NNLIB_DATA"] = str(shared)
    # Mistakes in independent exercises share a submission: fewer notebooks to execute.
    wrong = {
        "one_hot": ONE_HOT_MINUS_ONE,
        "iterate_minibatches": GLOBAL_STATE,
        "sgd_update": WRONG_SIGN,
        "train": NO_REASSIGN,
        "accuracy": NO_ARGMAX,
        "confusion_matrix": TRANSPOSED,
    }
    sly = {
        "one_hot": ONE_HOT_DELEGATES,
        "iterate_minibatches": ITERATE_DELEGATES,
        "sgd_update": IN_PLACE,
        "accuracy": PERCENT,
        "confusion_matrix": CM_DELEGATES,
    }
    return course.autograde_planted(A, {"wrong": wrong, "sly": sly})


@pytest.mark.slow
def test_solution_gets_full_marks(grades):
    assert_full_marks(grades["solved"], 20)


@pytest.mark.slow
def test_untouched_release_scores_zero(grades):
    g = grades["untouched"]
    assert_scores_zero(g, "test_one_hot_example")
    assert g.lost == set().union(*ALL.values())
    assert_feedback_shows(
        g, {"test_train_decreases": "train(params, loss_and_grads, ...) is not written yet"}
    )


@pytest.mark.slow
def test_planted_mistakes_lose_exactly_their_cells(grades):
    g = grades["wrong"]
    expected = (
        ALL["one_hot"]
        | {"test_minibatches_example", "test_minibatches_shuffled", "test_minibatches_rng_order"}
        | ALL["sgd_update"]
        | {"test_train_decreases", "test_train_reference_trajectory"}
        | ALL["accuracy"]
        | ALL["confusion_matrix"]
    )
    assert_loses_exactly(g, expected)
    assert g.score == 2  # coverage of the iterator, train leaves its inputs alone
    assert_feedback_shows(
        g,
        {
            "test_one_hot_example": "one column too far left",
            # the rng state comes back from the sandbox: the visible test sees it unused
            "test_minibatches_example": "numpy's global np.random",
            "test_minibatches_shuffled": "same seed gave different orders",
            "test_sgd_update_example": "moved uphill",
            "test_train_decreases": "assign the result of sgd_update",
            "test_confusion_example": "rows and columns are swapped",
        },
    )


@pytest.mark.slow
def test_delegating_and_in_place_answers_lose_their_exercises(grades):
    g = grades["sly"]
    expected = (
        ALL["one_hot"]
        | ALL["iterate_minibatches"]
        | ALL["sgd_update"]
        | ALL["accuracy"]
        | ALL["confusion_matrix"]
        # train is right, but its visible test iterates with their minibatches, which
        # delegates to the reference: absent while grading. The hidden tests of train put
        # correct versions in place of their iterator and update, so they pass.
        | {"test_train_decreases"}
    )
    assert_loses_exactly(g, expected)
    assert g.score == 3
    assert_feedback_shows(
        g,
        {
            "test_one_hot_example": "calling nnlib.data.batches.one_hot earns no points",
            "test_minibatches_example": "minibatches earns no points",
            "test_confusion_example": "confusion_matrix earns no points",
            "test_sgd_update_example": "in place",
            "test_accuracy_example": "percentage",
        },
    )


@pytest.mark.slow
def test_solved_notebook_reports_the_comparison(grades):
    """Grading mode trains both models on a subset: the printed errors are plausible."""
    nb = grades["solved"].notebook
    text = "\n".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code" and grade_id(cell) is None
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    )
    found = re.search(
        r"test error: softmax regression ([\d.]+)% .*one hidden layer ([\d.]+)%", text
    )
    assert found, text[-1000:]
    softmax_error, hidden_error = float(found[1]), float(found[2])
    assert 5 < softmax_error < 15, found[0]
    assert 1 < hidden_error < softmax_error, found[0]
