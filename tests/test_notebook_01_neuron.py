"""Notebook 01_neuron graded as nbgrader grades it: right, empty, wrong and sly answers.

Every submission goes through ONE autograde run (module-scoped fixture). Each planted
mistake must lose exactly the test cells listed for it, and the student must see a message
that names the mistake.
"""

import pytest
from nbgrader_harness import assert_full_marks, assert_loses_exactly, assert_scores_zero

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

DELEGATES_SIGMOID = """import nnlib.activations


def sigmoid(z):
    return nnlib.activations.sigmoid(z)
"""

DELEGATES_SOFTMAX = """from nnlib.activations import softmax as reference_softmax


def softmax(Z):
    return reference_softmax(Z)
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
        ("tampers", "test_sigmoid_values", "the minus sign is missing"),
    ],
)
def test_student_sees_what_went_wrong(grades, student, cell, message):
    assert message in grades[student].output_text(cell)


def test_right_answers_that_warn_get_full_marks(grades):
    assert_full_marks(grades["warns"], 18)
