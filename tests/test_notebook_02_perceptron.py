"""Autograde 02_perceptron: solved, untouched, planted mistakes and delegation to nnlib.

One nbgrader run grades all four submissions (module-scoped fixture). Each planted mistake
sits in a different exercise, so the per-cell scores show exactly which cells it costs.
"""

import pytest

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
    "test_perceptron_output_hidden": "is not right",
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
        },
    )


def test_solved_gets_full_marks(grades):
    g = grades["solved"]
    assert g.max_score >= 20
    assert g.score == g.max_score, {k: g.output_text(k)[-400:] for k in g.lost}


def test_untouched_scores_zero(grades):
    g = grades["untouched"]
    assert g.score == 0, {k: v for k, v in g.cells.items() if v[0] > 0}
    assert "not written yet" in g.output_text("test_perceptron_output_shape")


def test_planted_mistakes_lose_exactly_their_cells(grades):
    g = grades["wrong"]
    assert g.lost == set(EXPECTED_LOSSES)
    for gid, message in EXPECTED_LOSSES.items():
        assert message in g.output_text(gid), (gid, g.output_text(gid)[-600:])


def test_delegating_to_nnlib_earns_nothing(grades):
    g = grades["delegating"]
    forbidden = {gid for cells in DELEGATED_CELLS.values() for gid in cells}
    assert g.lost == forbidden
    for cells in DELEGATED_CELLS.values():
        for gid in cells:
            assert g.cells[gid][0] == 0
    assert "earns no points" in g.output_text("test_perceptron_output_values")
    assert "calling nnlib.perceptron.Perceptron.fit earns no points" in g.output_text(
        "test_train_perceptron_and"
    )
