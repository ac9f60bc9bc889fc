"""The checkers of notebook 02_perceptron: right answers pass, each planted mistake fails
with the message that names it, and nothing reaches stderr."""

import itertools

import numpy as np
import pytest
from checking import fails

from nnlib.grading import fresh
from nnlib.grading.checks import perceptron as C

# right answers, written here (the nnlib references are disabled while a checker runs)


def perceptron_output(X, w, b):
    return (np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b > 0).astype(int)


def boundary_line(w, b):
    if w[1] == 0:
        raise ValueError("w2 = 0: the boundary is vertical")
    return -w[0] / w[1], -b / w[1]


GATES = {"AND": ([1.0, 1.0], -1.5), "OR": ([1.0, 1.0], -0.5), "NAND": ([-1.0, -1.0], 1.5)}


def gate_weights(gate):
    if gate not in GATES:
        raise ValueError(f"no single perceptron for {gate!r}")
    w, b = GATES[gate]
    return np.array(w), b


def nand(x1, x2):
    w, b = gate_weights("NAND")
    return perceptron_output(np.column_stack([x1, x2]), w, b)


def xor_gate(x1, x2):
    m = nand(x1, x2)
    return nand(nand(x1, m), nand(x2, m))


def train_perceptron(X, y, rng, eta=1.0, max_epochs=100, stop=True, relabel=False, bias=True):
    X = np.asarray(X, dtype=float)
    if relabel:
        y[y == 0] = -1  # planted below: the caller's y changes
        y = (y > 0).astype(int)
    n, d = X.shape
    w, b, mistakes = np.zeros(d), 0.0, []
    for _ in range(max_epochs):
        count = 0
        for i in rng.permutation(n):
            y_hat = int(X[i] @ w + b > 0)
            if y_hat != y[i]:
                w = w + eta * (y[i] - y_hat) * X[i]
                b = b + eta * (y[i] - y_hat) * bias
                count += 1
        mistakes.append(count)
        if count == 0 and stop:
            return w, float(b), mistakes, True
    return w, float(b), mistakes, mistakes[-1] == 0


AND_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
AND_Y = np.array([0, 0, 0, 1])
XOR_Y = np.array([0, 1, 1, 0])
X1, X2 = C.CORNERS[:, 0], C.CORNERS[:, 1]


def test_loaded_afresh_through_the_grader():
    checks = fresh().checks.perceptron
    assert checks is not C and checks.perceptron is not C.perceptron
    checks.check_nand(nand, X1, X2)


def test_right_answers_pass(capsys):
    C.check_gate_output(perceptron_output, "AND", np.array([1.0, 1.0]), -1.5)
    X = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 0.0], [3.0, 3.0]])
    C.check_perceptron_output(perceptron_output, X, np.array([2.0, -1.0]), -2.0, [0, 1, 0, 1])
    C.check_perceptron_output_random(perceptron_output, [(5, 3), (1, 2)], seed=0)
    assert C.check_boundary_line(boundary_line, np.array([1.0, 2.0]), -2.0) == (-0.5, 1.0)
    C.check_boundary_line(boundary_line, np.array([0.0, 3.0]), 1.5)
    C.check_boundary_line_random(boundary_line, n=3, seed=0)
    assert "vertical" in C.check_boundary_line_vertical(boundary_line, np.array([3.0, 0.0]), 1)
    C.check_gate_shapes(gate_weights, "AND", "OR", "NAND")
    C.check_gate_truth_tables(gate_weights, "AND", "OR", "NAND")
    C.check_gate_margins(gate_weights, "AND", "OR", "NAND", margin=0.1)
    C.check_gate_refused(gate_weights, "XOR", "nor")
    x1, x2 = C.random_bits(0, 20)
    C.check_nand(nand, x1, x2)
    C.check_nand_uses_perceptron(nand, x1, x2)
    C.check_xor_gate(xor_gate, X1, X2, expected=[0, 1, 1, 0])
    C.check_xor_gate_counts_nand(xor_gate)
    C.check_xor_gate_only_nand(xor_gate)
    w, b, mistakes = C.check_train_separable(train_perceptron, AND_X, AND_Y, "AND", 0, 50)
    assert mistakes[-1] == 0 and w.shape == (2,)
    X, y = C.separable(30, 3, seed=1)
    C.check_train_separable(train_perceptron, X, y, seed=2, max_epochs=500)
    C.check_train_not_separable(train_perceptron, AND_X, XOR_Y, "XOR", seed=0, max_epochs=10)
    C.check_train_reproducible(train_perceptron, X, y, seed=3, max_epochs=5)
    C.check_train_like_reference(train_perceptron, X, y, seed=4, eta=0.3, max_epochs=3)
    assert capsys.readouterr().err == ""


def test_separable_data_keep_their_margin():
    X, y = C.separable(40, 2, seed=5, margin=0.05)
    assert X.shape == (40, 2) and set(np.unique(y)) == {0, 1}


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda X, w, b: (X @ w + b >= 0).astype(int), "z = 0 gave 1"),
        (lambda X, w, b: (X @ w + b <= 0).astype(int), "0 and 1 are swapped"),
        (lambda X, w, b: (X @ w - b > 0).astype(int), "the bias was subtracted"),
    ],
)
def test_perceptron_output_mistakes_are_named(wrong, message):
    X = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 0.0], [3.0, 3.0]])
    with fails("(X, w, b) is not right", message):
        C.check_perceptron_output(wrong, X, np.array([2.0, -1.0]), -2.0)


def test_perceptron_output_exact_zeros_are_in_the_random_check():
    def at_least(X, w, b):
        return (np.asarray(X) @ w + b >= 0).astype(int)

    with fails("z = 0 gave 1"):
        C.check_perceptron_output_random(at_least, [(4, 2)], seed=0)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda X, w, b: X @ w + b > 0, "returned booleans (True/False, dtype bool)"),
        (lambda X, w, b: (X @ w + b > 0).astype(float), "returned dtype float64"),
        (lambda X, w, b: (X @ w + b > 0).astype(int)[:, None], "should have shape (4,)"),
        (lambda X, w, b: (X @ w + b <= 0).astype(int), "on the AND truth table is not right"),
    ],
)
def test_gate_output_wants_four_integers(wrong, message):
    with fails(message):
        C.check_gate_output(wrong, "AND", np.array([1.0, 1.0]), -1.5)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda w, b: (w[0] / w[1], b / w[1]), "wrong sign"),
        (lambda w, b: (-b / w[1], -w[0] / w[1]), "swapped"),
        (lambda w, b: (-w[1] / w[0], -b / w[0]), "divided by w1 instead of w2"),
        (lambda w, b: -w[0] / w[1], "should return (slope, intercept), got"),
    ],
)
def test_boundary_line_mistakes_are_named(wrong, message):
    with fails(message):
        C.check_boundary_line(wrong, np.array([1.0, 2.0]), -2.0)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda w, b: (0.0, 0.0), "boundary_line(w=(3, 0), b=1) should raise ValueError"),
        (lambda w, b: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_a_vertical_boundary_must_raise_value_error(wrong, message, capsys):
    with fails(message, "x1 = -b/w1 = -0.333 is vertical"):
        C.check_boundary_line_vertical(wrong, np.array([3.0, 0.0]), 1.0)
    assert capsys.readouterr().err == ""


def test_a_silent_value_error_is_not_enough():
    def silent(w, b):
        raise ValueError()

    with fails("raised ValueError without a message"):
        C.check_boundary_line_vertical(silent, np.array([3.0, 0.0]), 1.0)


def test_vertical_boundary_at_w_zero_prints_nothing(capsys):
    with fails("should raise ValueError"):
        C.check_boundary_line_vertical(lambda w, b: (0.0, 0.0), np.array([0.0, 0.0]), 1.0)
    assert capsys.readouterr().err == ""


def test_unwritten_answers_say_so():
    def unwritten(*args):
        raise NotImplementedError()

    with fails("is not written yet"):
        C.check_boundary_line_vertical(unwritten, np.array([3.0, 0.0]), 1.0)
    with fails("is not written yet"):
        C.check_gate_refused(unwritten, "XOR")


def _gates(table):
    def gate_weights(gate):
        if gate not in table:
            raise ValueError(gate)
        return table[gate]

    return gate_weights


def test_gate_weights_checks():
    on_boundary = _gates({"AND": (np.array([1.0, 1.0]), -1.0)})
    C.check_gate_truth_tables(on_boundary, "AND")  # right outputs, but no margin
    with fails("corner [0 1] is only 0 from the boundary (at least 0.1 required)"):
        C.check_gate_margins(on_boundary, "AND")
    with fails("w = [0. 0.] is zero"):
        C.check_gate_margins(_gates({"OR": (np.zeros(2), 1.0)}), "OR")
    with fails(
        "OR with w=[1. 1.], b=-1.5: outputs on (0,0), (0,1), (1,0), (1,1) are [0, 0, 0, 1]"
    ):
        C.check_gate_truth_tables(_gates({"OR": (np.array([1.0, 1.0]), -1.5)}), "OR")
    with fails("gate_weights('AND') should return (w, b), got"):
        C.check_gate_truth_tables(_gates({"AND": np.array([1.0, 1.0, -1.5])}), "AND")
    with fails("w of gate_weights('AND') should have shape (2,)"):
        C.check_gate_shapes(_gates({"AND": (np.array([[1.0, 1.0]]), -1.5)}), "AND")
    with fails("b of gate_weights('AND') should be a number"):
        C.check_gate_shapes(_gates({"AND": (np.array([1.0, 1.0]), [-1.5])}), "AND")
    with fails("gate_weights('XOR') should raise ValueError (only AND, OR, NAND)"):
        C.check_gate_refused(lambda gate: (np.zeros(2), 0.0), "XOR")


def test_nand_mistakes():
    with fails("that is AND, not NAND"):
        C.check_nand(lambda x1, x2: x1 * x2, X1, X2)

    def direct(x1, x2):  # right values, without perceptron_output
        return 1 - x1 * x2

    C.check_nand(direct, X1, X2)
    with fails("nand should compute its output with your perceptron_output (it never called"):
        C.check_nand_uses_perceptron(direct, X1, X2)


def test_the_stand_ins_are_put_back():
    C.check_nand_uses_perceptron(nand, X1, X2)
    C.check_xor_gate_only_nand(xor_gate)
    assert globals()["perceptron_output"].__name__ == "perceptron_output"
    assert globals()["nand"] is nand


def test_xor_gate_mistakes():
    with fails("that is OR, not XOR"):
        C.check_xor_gate(lambda x1, x2: np.maximum(x1, x2), X1, X2)
    with fails("that is XNOR (XOR negated)"):
        C.check_xor_gate(lambda x1, x2: (x1 == x2).astype(int), X1, X2)

    def direct(x1, x2):
        return (x1 != x2).astype(int)

    with fails("xor_gate called nand 0 time(s); XOR needs at least four NAND gates"):
        C.check_xor_gate_counts_nand(direct)
    with fails("a gate that always outputs 0, xor_gate returned [0, 1, 1, 0]"):
        C.check_xor_gate_only_nand(direct)


def xor_or_and(x1, x2):
    """Four nand calls, but the result is combined outside them."""
    a = nand(x1, x2)
    nand(a, a), nand(x1, x2), nand(x2, x1)
    return np.maximum(x1, x2) * a


def test_xor_gate_must_return_a_nand_output():
    with fails("with nand replaced by a gate that always outputs"):
        C.check_xor_gate_only_nand(xor_or_and)


def test_training_that_relabels_y_in_place_fails_where_asked():
    def relabels(X, y, rng, **kw):
        return train_perceptron(X, y, rng, relabel=True, **kw)

    with fails("train_perceptron changed its input y in place", "(y is now [-1, -1, -1, 1])"):
        C.check_train_separable(relabels, AND_X, AND_Y, "AND", seed=0, max_epochs=50)
    # the other checks train on copies: their own rules decide
    C.check_train_not_separable(relabels, AND_X, XOR_Y, "XOR", seed=0, max_epochs=10)


def test_training_mistakes():
    def no_stop(X, y, rng, **kw):
        return train_perceptron(X, y, rng, stop=False, **kw)

    with fails("mistakes per epoch should end with the first 0", "(50 epochs)"):
        C.check_train_separable(no_stop, AND_X, AND_Y, "AND", seed=0, max_epochs=50)
    with fails("differ from the recipe's"):
        C.check_train_like_reference(no_stop, AND_X, AND_Y, seed=0, max_epochs=20)

    def no_bias(X, y, rng, **kw):
        return train_perceptron(X, y, rng, bias=False, **kw)

    with fails("AND is separable: train_perceptron should converge within 50 epochs"):
        C.check_train_separable(no_bias, AND_X, AND_Y, "AND", seed=0, max_epochs=50)

    def claims(X, y, rng, **kw):
        w, b, mistakes, _ = train_perceptron(X, y, rng, **kw)
        return w, b, mistakes, True

    with fails("XOR is not linearly separable: converged must be False"):
        C.check_train_not_separable(claims, AND_X, XOR_Y, "XOR", max_epochs=10)

    def stops_early(X, y, rng, max_epochs=100, **kw):
        return train_perceptron(X, y, rng, max_epochs=max_epochs - 1, **kw)

    with fails("all max_epochs=10 epochs run: expected 10 mistake counts, got 9"):
        C.check_train_not_separable(stops_early, AND_X, XOR_Y, "XOR", max_epochs=10)

    def undercounts(X, y, rng, **kw):
        w, b, mistakes, converged = train_perceptron(X, y, rng, **kw)
        return w, b, [0] + mistakes[1:], converged

    with fails("every epoch on XOR has a mistake, got [0,"):
        C.check_train_not_separable(undercounts, AND_X, XOR_Y, "XOR", max_epochs=10)

    seeds = itertools.count()

    def own_rng(X, y, rng, **kw):  # a generator of its own, seeded differently each run
        return train_perceptron(X, y, np.random.default_rng(next(seeds)), **kw)

    X, y = C.separable(30, 2, seed=9, margin=0.02)
    with fails("the same rng seed must give the same run"):
        C.check_train_reproducible(own_rng, X, y, seed=0, max_epochs=3)
    with fails("should return (w, b, mistakes, converged), got tuple of length 3"):
        C.check_train_reproducible(lambda X, y, rng, **kw: (1, 2, 3), X, y)


def test_training_through_the_reference_earns_nothing():
    import nnlib.perceptron

    def delegates(X, y, rng, eta=1.0, max_epochs=100):
        p = nnlib.perceptron.Perceptron(X.shape[1], eta=eta).fit(X, y, rng, max_epochs)
        return p.w, p.b, p.errors, p.converged

    with fails("calling nnlib.perceptron.Perceptron.fit earns no points"):
        C.check_train_separable(delegates, AND_X, AND_Y, "AND", seed=0, max_epochs=50)
    # the reference itself still works for the comparison, outside the student's call
    with fails("differ from the recipe's"):
        C.check_train_like_reference(
            lambda X, y, rng, **kw: (np.zeros(2), 0.0, [9], False), AND_X, AND_Y
        )


def test_gates_through_the_reference_earn_nothing():
    import nnlib.perceptron

    with fails("calling nnlib.perceptron.nand_gate earns no points"):
        C.check_nand(lambda x1, x2: nnlib.perceptron.nand_gate(x1, x2), X1, X2)
    with fails("calling nnlib.perceptron.xor_from_nand earns no points"):
        C.check_xor_gate(lambda x1, x2: nnlib.perceptron.xor_from_nand(x1, x2), X1, X2)
