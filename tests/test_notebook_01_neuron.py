"""Notebook 01_neuron graded as nbgrader grades it: right, empty, wrong and sly answers.

Every submission goes through ONE autograde run (module-scoped fixture). Each planted
mistake must lose exactly the test cells listed for it, and the student must see a message
that names the mistake.
"""

import nbformat
import pytest
from nbgrader_harness import (
    BEGIN_HIDDEN,
    REPO_ROOT,
    assert_full_marks,
    assert_loses_exactly,
    assert_scores_zero,
)

pytestmark = pytest.mark.slow

A = "01_neuron"

SIGMOID_CELLS = {
    "test_sigmoid_visible",
    "test_sigmoid_values",
    "test_sigmoid_extremes",
    "test_sigmoid_stable",
}
SOFTMAX_CELLS = {"test_softmax_visible", "test_softmax_values", "test_softmax_extremes"}

NO_MINUS = '''def sigmoid(z):
    """The minus sign is missing."""
    return 1 / (1 + np.exp(z))
'''

OVERFLOWS = '''def sigmoid(z):
    """Right values, but exp(-z) overflows (with a warning) for z = -1000."""
    return 1 / (1 + np.exp(-z))
'''

WRONG_AXIS = '''def softmax(Z):
    """Stable, but normalised over the columns."""
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
'''

TWICE = '''def sigmoid_prime(z):
    """Off by a factor of 2."""
    s = sigmoid(z)
    return 2 * s * (1 - s)
'''

# The usual slips in the derivatives (each gives its own numbers on the worked values) and
# the softmax typed straight from its formula (right for small logits, NaN for large ones).
Z_ONE_MINUS_Z = """def sigmoid_prime(z):
    return z * (1 - z)
"""

S_ONE_MINUS_Z = """def sigmoid_prime(z):
    return sigmoid(z) * (1 - z)
"""

ONE_MINUS_Z2 = """def tanh_prime(z):
    return 1 - z**2
"""

TANH_SQUARED = """def tanh_prime(z):
    return np.tanh(z) ** 2
"""

# The derivative taken at the activation a = g(z) instead of at z.
AT_A_SIGMOID = """def sigmoid_prime(z):
    a = sigmoid(z)
    s = sigmoid(a)
    return s * (1 - s)
"""

AT_A_TANH = """def tanh_prime(z):
    a = np.tanh(z)
    return 1 - np.tanh(a) ** 2
"""

NAIVE_SOFTMAX = """def softmax(Z):
    e = np.exp(Z)
    return e / e.sum(axis=1, keepdims=True)
"""

BIAS_AFTER = """def neuron(X, w, b, g):
    return g(X @ w) + b
"""

DELEGATES_SIGMOID = """import nnlib.activations


def sigmoid(z):
    return nnlib.activations.sigmoid(z)
"""

DELEGATES_SOFTMAX = """from nnlib.activations import softmax as reference_softmax


def softmax(Z):
    return reference_softmax(Z)
"""

# A softmax through nnlib's log_softmax: the visible test names log_softmax in what it
# switches off, so the grader's sandbox holds no log_softmax either.
DELEGATES_LOG_SOFTMAX = """from nnlib.activations import log_softmax


def softmax(Z):
    return np.exp(log_softmax(Z))
"""

# Right answers that warn: sech^2 overflows in cosh at |z| = 1000 (the value is still 0),
# and a neuron that talks on stderr.
WARNS_TANH = """def tanh_prime(z):
    return 1 / np.cosh(z) ** 2
"""

WARNS_NEURON = """import sys
import warnings


def neuron(X, w, b, g):
    warnings.warn("computing a neuron", RuntimeWarning, stacklevel=1)
    print("debug: neuron called", file=sys.stderr)
    return g(X @ w + b)
"""

# A wrong sigmoid, plus every rebinding that could make the tests pass it.
TAMPERS = (
    NO_MINUS
    + """

import nnlib.activations
import nnlib.grading

np.testing.assert_allclose = lambda *args, **kwargs: None
np.allclose = lambda *args, **kwargs: True
nnlib.activations.sigmoid = sigmoid
nnlib.activations.sigmoid_prime = lambda z: sigmoid(z) * (1 - sigmoid(z))
G = None


class _Pass:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def fresh():
    return _Pass()
"""
)

NO_MINUS_LOSES = SIGMOID_CELLS | {"test_sigmoid_prime_gradcheck"}


@pytest.fixture(scope="module")
def grades(course):
    # Mistakes in independent exercises share a submission: fewer notebooks to execute.
    return course.autograde_planted(
        A,
        {
            "no_minus_wrong_axis": {"sigmoid": NO_MINUS, "softmax": WRONG_AXIS},
            "overflows_twice": {"sigmoid": OVERFLOWS, "sigmoid_prime": TWICE},
            "delegates": {"sigmoid": DELEGATES_SIGMOID, "softmax": DELEGATES_SOFTMAX},
            "warns": {"tanh_prime": WARNS_TANH, "neuron": WARNS_NEURON},
            "tampers": {"sigmoid": TAMPERS},
            "slips_a": {
                "sigmoid_prime": Z_ONE_MINUS_Z,
                "tanh_prime": ONE_MINUS_Z2,
                "softmax": NAIVE_SOFTMAX,
            },
            "slips_b": {
                "neuron": BIAS_AFTER,
                "sigmoid_prime": S_ONE_MINUS_Z,
                "tanh_prime": TANH_SQUARED,
            },
            "slips_c": {"sigmoid_prime": AT_A_SIGMOID, "tanh_prime": AT_A_TANH},
            "delegates_log_softmax": {"softmax": DELEGATES_LOG_SOFTMAX},
        },
    )


def test_solution_gets_full_marks(grades):
    assert_full_marks(grades["solved"], 18)


def test_untouched_release_scores_zero(grades):
    assert_scores_zero(grades["untouched"], "test_sigmoid_visible")


PRIME_CELLS = {
    "test_sigmoid_prime_visible",
    "test_sigmoid_prime_values",
    "test_sigmoid_prime_gradcheck",
    "test_sigmoid_prime_extremes",
}
TANH_CELLS = {"test_tanh_prime_visible", "test_tanh_prime_values", "test_tanh_prime_gradcheck"}
TWICE_LOSES = {
    "test_sigmoid_prime_visible",
    "test_sigmoid_prime_values",
    "test_sigmoid_prime_gradcheck",
}


@pytest.mark.parametrize(
    "student, cells",
    [
        ("no_minus_wrong_axis", NO_MINUS_LOSES | SOFTMAX_CELLS),
        ("overflows_twice", {"test_sigmoid_stable"} | TWICE_LOSES),
        # The reference is absent while grading, so a sigmoid that delegates to it is
        # broken, and so is the (honest) sigmoid_prime built on it.
        ("delegates", SIGMOID_CELLS | SOFTMAX_CELLS | PRIME_CELLS),
        ("tampers", NO_MINUS_LOSES),
        # the naive softmax is right for small logits: it loses the cells with large ones
        (
            "slips_a",
            PRIME_CELLS | TANH_CELLS | {"test_softmax_visible", "test_softmax_extremes"},
        ),
        ("slips_b", {"test_neuron_visible", "test_neuron_hidden"} | PRIME_CELLS | TANH_CELLS),
        ("slips_c", PRIME_CELLS | TANH_CELLS),
        ("delegates_log_softmax", SOFTMAX_CELLS),
    ],
)
def test_planted_mistakes_lose_exactly_their_cells(grades, student, cells):
    g = grades[student]
    assert_loses_exactly(g, cells)
    assert g.score == g.max_score - len(cells)  # every one of these cells is worth 1 point


@pytest.mark.parametrize(
    "student, cell, message",
    [
        ("no_minus_wrong_axis", "test_sigmoid_values", "the minus sign is missing"),
        ("no_minus_wrong_axis", "test_sigmoid_visible", "the minus sign is missing"),
        (
            "no_minus_wrong_axis",
            "test_softmax_values",
            "softmax normalised over the wrong axis (columns instead of rows)",
        ),
        ("overflows_twice", "test_sigmoid_stable", "overflow encountered in exp"),
        ("overflows_twice", "test_sigmoid_stable", "np.exp(-np.abs(z))"),  # the hint
        ("overflows_twice", "test_sigmoid_prime_values", "derivative off by a factor of 2"),
        (
            "overflows_twice",
            "test_sigmoid_prime_gradcheck",
            "central differences of your own sigmoid(z)",
        ),
        (
            "delegates",
            "test_sigmoid_values",
            "this exercise asks you to write sigmoid yourself; "
            "calling nnlib.activations.sigmoid earns no points",
        ),
        ("delegates", "test_softmax_values", "calling nnlib.activations.softmax earns no points"),
        (
            "delegates_log_softmax",
            "test_softmax_visible",
            "calling nnlib.activations.log_softmax earns no points",
        ),
        ("tampers", "test_sigmoid_values", "the minus sign is missing"),
        ("overflows_twice", "test_sigmoid_stable", "Typed literally, 1/(1+np.exp(-z))"),
        (
            "slips_a",
            "test_sigmoid_prime_visible",
            "this is z (1 - z): the formula a (1 - a) takes the activation a = sigma(z), not z",
        ),
        ("slips_a", "test_sigmoid_prime_values", "takes the activation a = sigma(z), not z"),
        # no named mistake for the extremes: the message says where the values differ
        ("slips_a", "test_sigmoid_prime_extremes", "Where the values differ:"),
        ("slips_a", "test_sigmoid_prime_extremes", "every entry differs (4 of 4)"),
        (
            "slips_a",
            "test_tanh_prime_visible",
            "this is 1 - z**2: the formula 1 - a**2 takes the activation a = tanh(z), not z",
        ),
        ("slips_a", "test_tanh_prime_values", "takes the activation a = tanh(z), not z"),
        ("slips_a", "test_softmax_visible", "subtract each row's maximum before np.exp"),
        ("slips_a", "test_softmax_visible", "your result contains NaN or inf"),
        (
            "slips_b",
            "test_sigmoid_prime_visible",
            "this is sigma(z) (1 - z): the second factor is 1 - sigma(z), not 1 - z",
        ),
        ("slips_b", "test_sigmoid_prime_values", "the second factor is 1 - sigma(z), not 1 - z"),
        (
            "slips_b",
            "test_tanh_prime_visible",
            "this is tanh(z)**2; the derivative is 1 - tanh(z)**2",
        ),
        ("slips_b", "test_tanh_prime_values", "this is tanh(z)**2"),
        (
            "slips_b",
            "test_neuron_visible",
            "Likely mistake: the bias is added after the activation: use g(X w + b)",
        ),
        ("slips_b", "test_neuron_hidden", "the bias is added after the activation"),
        (
            "slips_c",
            "test_sigmoid_prime_visible",
            "this is sigma'(sigma(z)): the derivative was taken at a = sigma(z) instead of at z",
        ),
        ("slips_c", "test_sigmoid_prime_values", "this is sigma'(sigma(z))"),
        (
            "slips_c",
            "test_tanh_prime_visible",
            "this is 1 - tanh(tanh(z))**2: the derivative was taken at a = tanh(z) instead of",
        ),
        ("slips_c", "test_tanh_prime_values", "this is 1 - tanh(tanh(z))**2"),
    ],
)
def test_student_sees_what_went_wrong(grades, student, cell, message):
    assert message in grades[student].output_text(cell)


def test_right_answers_that_warn_get_full_marks(grades):
    assert_full_marks(grades["warns"], 18)


def test_sigmoid_warning_check_is_visible():
    """The commonest mistake (a literal 1/(1+exp(-z))) fails a cell the student can run."""
    release = nbformat.read(REPO_ROOT / "course" / A / f"{A}.ipynb", as_version=4)
    cell = next(c for c in release.cells if c.get("id") == "test-sigmoid-stable")
    assert "check_sigmoid_stable" in cell.source and BEGIN_HIDDEN not in cell.source
