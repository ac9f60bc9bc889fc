"""Autograde 02_perceptron: solved, untouched, planted mistakes and delegation to nnlib.

One nbgrader run grades all four submissions (module-scoped fixture). Each planted mistake
sits in a different exercise, so the per-cell scores show exactly which cells it costs.
"""

import pytest
from nbgrader_harness import (
    assert_earns_nothing,
    assert_feedback_shows,
    assert_full_marks,
    assert_loses_exactly,
    assert_scores_zero,
)

pytestmark = pytest.mark.slow

A = "02_perceptron"

# --- planted mistakes (one submission, one mistake per exercise) ------------------------

OUTPUT_GE = """def perceptron_output(X, w, b):
    return (np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b >= 0).astype(int)
"""

BOUNDARY_SIGN = """def boundary_line(w, b):
    if w[1] == 0:
        raise ValueError("vertical")
    return w[0] / w[1], b / w[1]
"""

GATES_ON_BOUNDARY = """def gate_weights(gate):
    table = {"AND": ([1.0, 1.0], -1.0), "OR": ([1.0, 1.0], -0.5), "NAND": ([-1.0, -1.0], 1.5)}
    if gate not in table:
        raise ValueError(gate)
    w, b = table[gate]
    return np.array(w), b
"""

XOR_DIRECT = """def xor_gate(x1, x2):
    return (np.asarray(x1) != np.asarray(x2)).astype(int)
"""

TRAIN_NO_BIAS = """def train_perceptron(X, y, rng, eta=1.0, max_epochs=100):
    n, d = X.shape
    w = np.zeros(d)
    mistakes = []
    for _ in range(max_epochs):
        count = 0
        for i in rng.permutation(n):
            y_hat = int(X[i] @ w > 0)
            if y_hat != y[i]:
                w = w + eta * (y[i] - y_hat) * X[i]
                count += 1
        mistakes.append(count)
        if count == 0:
            return w, 0.0, mistakes, True
    return w, 0.0, mistakes, False
"""

# The commonest slip: the comparison itself, booleans instead of the numbers 0 and 1.
OUTPUT_BOOL = """def perceptron_output(X, w, b):
    return np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b > 0
"""

# A vertical boundary refused, but without saying why.
BOUNDARY_SILENT = """def boundary_line(w, b):
    if w[1] == 0:
        raise ValueError()
    return -w[0] / w[1], -b / w[1]
"""

# The textbook +-1 labels, made by relabelling the caller's y in place; otherwise right.
TRAIN_RELABELS_Y = """def train_perceptron(X, y, rng, eta=1.0, max_epochs=100):
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    y[y == 0] = -1
    w, b, mistakes = np.zeros(d), 0.0, []
    for _ in range(max_epochs):
        count = 0
        for i in rng.permutation(n):
            y_hat = 1 if X[i] @ w + b > 0 else -1
            if y_hat != y[i]:
                w = w + eta * y[i] * X[i]
                b = b + eta * y[i]
                count += 1
        mistakes.append(count)
        if count == 0:
            return w, float(b), mistakes, True
    return w, float(b), mistakes, False
"""

# 0 and 1 swapped: wrong everywhere, and so is every gate built on it.
OUTPUT_SWAPPED = """def perceptron_output(X, w, b):
    return (np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b <= 0).astype(int)
"""

# Right w and b, but it trains on after the first epoch without a mistake: its mistakes per
# epoch end with a run of zeros instead of stopping at the first.
TRAIN_NO_EARLY_STOP = """def train_perceptron(X, y, rng, eta=1.0, max_epochs=100):
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    w, b, mistakes = np.zeros(d), 0.0, []
    for _ in range(max_epochs):
        count = 0
        for i in rng.permutation(n):
            y_hat = int(X[i] @ w + b > 0)
            if y_hat != y[i]:
                w = w + eta * (y[i] - y_hat) * X[i]
                b = b + eta * (y[i] - y_hat)
                count += 1
        mistakes.append(count)
    return w, float(b), mistakes, mistakes[-1] == 0
"""

# --- answers that call the nnlib reference of the very thing asked -----------------------

DELEGATE = {
    "perceptron_output": """import nnlib.perceptron


def perceptron_output(X, w, b):
    return nnlib.perceptron.perceptron_output(X, w, b)
""",
    "nand": """from nnlib.perceptron import nand_gate


def nand(x1, x2):
    return nand_gate(x1, x2)
""",
    "xor_gate": """from nnlib.perceptron import xor_from_nand


def xor_gate(x1, x2):
    return xor_from_nand(x1, x2)
""",
    "train_perceptron": """from nnlib.perceptron import Perceptron


def train_perceptron(X, y, rng, eta=1.0, max_epochs=100):
    p = Perceptron(X.shape[1], eta=eta).fit(X, y, rng, max_epochs=max_epochs)
    return p.w, p.b, p.errors, p.converged
""",
}

# grade_id -> substring of the feedback the student must see
EXPECTED_LOSSES = {
    "test_perceptron_output_values": "strictly",
    "test_perceptron_output_hidden": "z = 0 gave 1",
    "test_boundary_line_worked": "wrong sign",
    "test_boundary_line_hidden": "is not right",
    "test_gate_weights_margin": "from the boundary",
    "test_xor_gate_counts_nand": "nand",
    "test_xor_gate_only_nand": "nand",
    "test_train_perceptron_and": "AND",
    "test_train_perceptron_separable_hidden": "converge",
    "test_train_perceptron_reference_hidden": "differ",
}

DELEGATED_CELLS = {
    "perceptron_output": [
        "test_perceptron_output_shape",
        "test_perceptron_output_values",
        "test_perceptron_output_hidden",
    ],
    "nand": ["test_nand_truth_table", "test_nand_hidden"],
    "xor_gate": [
        "test_xor_gate_truth_table",
        "test_xor_gate_counts_nand",
        "test_xor_gate_only_nand",
    ],
    "train_perceptron": [
        "test_train_perceptron_and",
        "test_train_perceptron_xor",
        "test_train_perceptron_separable_hidden",
        "test_train_perceptron_reference_hidden",
        "test_train_perceptron_xor_hidden",
    ],
}


@pytest.fixture(scope="module")
def grades(course):
    return course.autograde_planted(
        A,
        {
            "wrong": {
                "perceptron_output": OUTPUT_GE,
                "boundary_line": BOUNDARY_SIGN,
                "gate_weights": GATES_ON_BOUNDARY,
                "xor_gate": XOR_DIRECT,
                "train_perceptron": TRAIN_NO_BIAS,
            },
            "delegating": DELEGATE,
            "booleans": {
                "perceptron_output": OUTPUT_BOOL,
                "boundary_line": BOUNDARY_SILENT,
                "train_perceptron": TRAIN_RELABELS_Y,
            },
            "swapped": {"perceptron_output": OUTPUT_SWAPPED},
            "no_early_stop": {"train_perceptron": TRAIN_NO_EARLY_STOP},
        },
    )


def test_solved_gets_full_marks(grades):
    assert_full_marks(grades["solved"], at_least=20)


def test_untouched_scores_zero(grades):
    assert_scores_zero(grades["untouched"], "test_perceptron_output_shape")


def test_planted_mistakes_lose_exactly_their_cells(grades):
    assert_loses_exactly(grades["wrong"], EXPECTED_LOSSES)


def test_delegating_to_nnlib_earns_nothing(grades):
    g = grades["delegating"]
    assert_earns_nothing(g, DELEGATED_CELLS, ["test_perceptron_output_values"])
    assert_feedback_shows(
        g,
        {"test_train_perceptron_and": "calling nnlib.perceptron.Perceptron.fit earns no points"},
    )


def test_broken_stated_rules_lose_their_cells(grades):
    """Right values that break a rule the text states: booleans for 0/1, a ValueError with
    no message, y relabelled in place. Each is caught by a visible cell."""
    assert_loses_exactly(
        grades["booleans"],
        {
            "test_perceptron_output_shape": (
                "perceptron_output returned booleans (True/False, dtype bool); it should "
                "return the numbers 0 and 1 as integers"
            ),
            "test_boundary_line_vertical": "raised ValueError without a message",
            "test_train_perceptron_and": (
                "train_perceptron changed its input y in place",
                "(y is now [-1, -1, -1, 1])",
            ),
            "test_train_perceptron_separable_hidden": (
                "train_perceptron changed its input y in place"
            ),
        },
    )


def test_swapped_outputs_are_named(grades):
    swapped = "0 and 1 are swapped (the output is 1 where w.x + b > 0)"
    assert_loses_exactly(
        grades["swapped"],
        {
            "test_perceptron_output_shape": "perceptron_output on the AND truth table",
            "test_perceptron_output_values": swapped,
            "test_perceptron_output_hidden": swapped,
            # nand is built on perceptron_output, and xor_gate on nand
            "test_nand_truth_table": "that is AND, not NAND",
            "test_nand_hidden": "that is AND, not NAND",
            "test_xor_gate_truth_table": "xor_gate(x1, x2) is not right",
        },
    )


def test_training_on_after_convergence_is_caught(grades):
    """Stopping after the first epoch without a mistake is part of the recipe: the visible
    AND cell says so, as do the hidden cells that run the rule."""
    first_zero = "mistakes per epoch should end with the first 0"
    assert_loses_exactly(
        grades["no_early_stop"],
        {
            "test_train_perceptron_and": first_zero,
            "test_train_perceptron_separable_hidden": first_zero,
            "test_train_perceptron_reference_hidden": "differ from the recipe's",
        },
    )
