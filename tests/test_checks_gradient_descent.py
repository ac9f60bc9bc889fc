"""nnlib.grading.checks.gradient_descent: every check passes the right answer and fails a
planted wrong one with the message a student should read."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

import nnlib.losses
import nnlib.neuron
from nnlib.activations import sigmoid
from nnlib.grading import fresh

G = fresh()
C = G.checks.gradient_descent
ROOT = Path(__file__).resolve().parents[1]
A, Y = np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 1.0])


def fails(check, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


# --- answers, right and wrong --------------------------------------------------------------


def quadratic_cost(a, y):
    return float(0.5 * np.mean((a - y) ** 2))


def cross_entropy_cost(a, y):
    return float(-np.mean(y * np.log(a) + (1 - y) * np.log1p(-a)))


def neuron_output(X, w, b):
    return sigmoid(X @ w + b)


def quadratic_gradients(w, b, X, y):
    a = neuron_output(X, w, b)
    delta = (a - y) * a * (1 - a)
    return X.T @ delta / X.shape[0], float(np.mean(delta))


def cross_entropy_gradients(w, b, X, y):
    delta = neuron_output(X, w, b) - y
    return X.T @ delta / X.shape[0], float(np.mean(delta))


def gd_step(w, b, X, y, eta, gradients):
    dw, db = gradients(w, b, X, y)
    return w - eta * np.asarray(dw), float(b - eta * db)


def train(w, b, X, y, eta, epochs, batch_size, rng, gradients, cost):
    n = X.shape[0]
    w = np.array(w, dtype=float)
    costs = [cost(neuron_output(X, w, b), y)]
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            w, b = gd_step(w, b, X[idx], y[idx], eta, gradients)
            costs.append(cost(neuron_output(X, w, b), y))
    return w, b, costs


def train_shuffling_once(w, b, X, y, eta, epochs, batch_size, rng, gradients, cost):
    n = X.shape[0]
    costs, order = [cost(neuron_output(X, w, b), y)], rng.permutation(n)
    for _ in range(epochs):
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            w, b = gd_step(w, b, X[idx], y[idx], eta, gradients)
            costs.append(cost(neuron_output(X, w, b), y))
    return w, b, costs


def train_batch_costs(w, b, X, y, eta, epochs, batch_size, rng, gradients, cost):
    n = X.shape[0]
    costs = [cost(neuron_output(X, w, b), y)]
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            w, b = gd_step(w, b, X[idx], y[idx], eta, gradients)
            costs.append(cost(neuron_output(X[idx], w, b), y[idx]))
    return w, b, costs


def train_in_place(w, b, X, y, eta, epochs, batch_size, rng, gradients, cost):
    w_end, b, costs = train(w, b, X, y, eta, epochs, batch_size, rng, gradients, cost)
    w[:] = w_end
    return w, b, costs


def train_by_delegation(w, b, X, y, eta, epochs, batch_size, rng, gradients, cost):
    unit = nnlib.neuron.SigmoidNeuron(X.shape[1])
    unit.w, unit.b = w.copy(), b
    costs = [cost(neuron_output(X, unit.w, unit.b), y)]
    for _ in range(epochs):
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            idx = order[start : start + batch_size]
            unit.step(X[idx], y[idx], eta)
            costs.append(cost(neuron_output(X, unit.w, unit.b), y))
    return unit.w, unit.b, costs


# --- the costs -----------------------------------------------------------------------------


def test_right_costs_pass():
    assert C.check_cost(quadratic_cost, "quadratic", A, Y, expected=0.035) == pytest.approx(0.035)
    C.check_cost(cross_entropy_cost, "cross_entropy", A, Y, expected=0.2797765635793423)
    C.check_cost_random(quadratic_cost, "quadratic", seed=31)
    C.check_cost_random(cross_entropy_cost, "cross_entropy", seed=31)


@pytest.mark.parametrize(
    "kind, wrong, message",
    [
        ("quadratic", lambda a, y: np.mean((a - y) ** 2), "the 1/2 is missing"),
        ("quadratic", lambda a, y: 0.5 * np.sum((a - y) ** 2), "(the 1/n is missing)"),
        ("quadratic", lambda a, y: 0.5 * np.mean(np.abs(a - y)), "used |a - y|"),
        ("quadratic", lambda a, y: 0.5 * (a - y) ** 2, "wrong shape"),
        (
            "cross_entropy",
            lambda a, y: -np.mean(y * np.log10(a) + (1 - y) * np.log10(1 - a)),
            "np.log10 instead of the natural logarithm",
        ),
        ("cross_entropy", lambda a, y: -np.mean(y * np.log(a)), "(1 - y) ln(1 - a) term"),
    ],
)
def test_wrong_costs_are_named(kind, wrong, message):
    assert message in fails(C.check_cost, wrong, kind, A, Y)
    msg = fails(C.check_cost_random, wrong, kind, seed=31)
    # one sample first: 1/2 |a - y| is then 1/2 (a - y) for a > y, the missing square
    assert ("the square is missing" if "|" in message else message) in msg


def test_a_cost_calling_the_reference_earns_nothing():
    msg = fails(C.check_cost, lambda a, y: nnlib.losses.quadratic(a, y), "quadratic", A, Y)
    assert "calling nnlib.losses.quadratic earns no points" in msg


# --- the gradients -------------------------------------------------------------------------

X3 = np.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.0]])
W3, B3 = np.array([0.3, -0.2]), 0.1


def test_right_gradients_pass():
    for kind, fn, cost in [
        ("quadratic", quadratic_gradients, quadratic_cost),
        ("cross_entropy", cross_entropy_gradients, cross_entropy_cost),
    ]:
        dw, _ = C.check_gradients(fn, kind, W3, B3, X3, Y)
        assert dw.shape == (2,)
        C.check_gradients_random(fn, kind, seed=41)
        C.check_gradients_numerically(fn, cost, kind, seed=43)


def test_wrong_gradients_are_named():
    msg = fails(C.check_gradients, quadratic_gradients, "cross_entropy", W3, B3, X3, Y)
    assert "cancels for cross-entropy" in msg
    msg = fails(C.check_gradients_random, cross_entropy_gradients, "quadratic", seed=41)
    assert "sigma'(z) = a (1 - a) is missing" in msg

    def db_summed(w, b, X, y):
        dw, db = quadratic_gradients(w, b, X, y)
        return dw, db * X.shape[0]

    assert "db: summed over the batch" in fails(
        C.check_gradients, db_summed, "quadratic", W3, B3, X3, Y
    )

    def uphill(w, b, X, y):
        dw, db = cross_entropy_gradients(w, b, X, y)
        return -dw, -db

    assert "the sign is flipped" in fails(
        C.check_gradients, uphill, "cross_entropy", W3, B3, X3, Y
    )
    assert "should return (dw, db)" in fails(
        C.check_gradients, lambda w, b, X, y: w, "quadratic", W3, B3, X3, Y
    )
    assert "calling nnlib.neuron.neuron_gradients earns no points" in fails(
        C.check_gradients,
        lambda w, b, X, y: nnlib.neuron.neuron_gradients(w, b, X, y, "quadratic"),
        "quadratic",
        W3,
        B3,
        X3,
        Y,
    )


def test_gradients_disagreeing_with_the_students_own_cost_fail():
    def cost_without_half(a, y):
        return float(np.mean((a - y) ** 2))

    msg = fails(
        C.check_gradients_numerically, quadratic_gradients, cost_without_half, "quadratic", 43
    )
    assert "dw disagrees with central differences of your cost_without_half" in msg

    def db_wrong(w, b, X, y):
        return cross_entropy_gradients(w, b, X, y)[0], 0.0

    msg = fails(
        C.check_gradients_numerically, db_wrong, cross_entropy_cost, "cross_entropy", seed=43
    )
    assert "db disagrees with central differences of your cross_entropy_cost" in msg


# --- one step ------------------------------------------------------------------------------


def test_right_step_passes():
    fixed = C.fixed_gradients([1.0, -2.0], 0.5)
    w_new, b_new = C.check_gd_step(
        gd_step, [0.3, 0.4], 1.0, np.ones((3, 2)), np.zeros(3), 0.1, fixed
    )
    assert np.allclose(w_new, [0.2, 0.6]) and b_new == pytest.approx(0.95)
    C.check_gd_step_random(gd_step, seed=51)


def test_wrong_steps_are_named():
    def uphill(w, b, X, y, eta, gradients):
        dw, db = gradients(w, b, X, y)
        return w + eta * dw, b + eta * db

    def in_place(w, b, X, y, eta, gradients):
        dw, db = gradients(w, b, X, y)
        w -= eta * dw
        return w, b - eta * db

    def twice(w, b, X, y, eta, gradients):
        gradients(w, b, X, y)
        return gd_step(w, b, X, y, eta, gradients)

    def by_delegation(w, b, X, y, eta, gradients):
        unit = nnlib.neuron.SigmoidNeuron(len(w))
        unit.w, unit.b = w.copy(), b
        unit.step(X, y, eta)
        return unit.w, unit.b

    fixed = C.fixed_gradients([1.0, -2.0], 0.5)
    args = ([0.3, 0.4], 1.0, np.ones((3, 2)), np.zeros(3), 0.1, fixed)
    assert "the step went uphill" in fails(C.check_gd_step, uphill, *args)
    assert "w_new" in fails(C.check_gd_step_random, uphill, seed=51)
    assert "it must not change in place" in fails(C.check_gd_step, in_place, *args)
    assert "gd_step changed w in place" in fails(C.check_gd_step_random, in_place, seed=51)
    assert "once on the batch it was given" in fails(C.check_gd_step, twice, *args)
    assert "calling nnlib.neuron.SigmoidNeuron.step earns no points" in fails(
        C.check_gd_step_random, by_delegation, seed=51
    )


# --- the training loop ---------------------------------------------------------------------


def test_right_training_loop_passes():
    X, y = C.data(20, 2, 0)
    w, b, costs = C.check_train(train, X, y, np.zeros(2), 0.0, 0.5, 3, 6, 0)
    assert len(costs) == 13
    X, y = C.data(30, 3, 1)
    C.check_train_full_batch(train, X, y, np.array([0.5, -0.5, 0.2]), 0.1, 0.8, 12, seed=5)
    X, y = C.data(25, 2, 2)
    C.check_train_minibatches(train, X, y, np.array([-1.0, 1.0]), 0.0, 0.3, [(1, 3), (7, 4)], 11)
    X, y = C.data(40, 2, 3)
    C.check_train_seeded(train, X, y, np.zeros(2), 0.0, 0.5, 5, 4, seeds=(21, 22))


def test_wrong_training_loops_are_named():
    X, y = C.data(20, 2, 0)
    args = (X, y, np.zeros(2), 0.0, 0.5, 3, 6, 0)
    assert "the order was drawn once" in fails(C.check_train, train_shuffling_once, *args)
    assert "costs[1:] are costs of the mini-batch just used" in fails(
        C.check_train, train_batch_costs, *args
    )
    assert "train changed its argument w in place" in fails(C.check_train, train_in_place, *args)
    assert "should return (w, b, costs)" in fails(C.check_train, lambda *a: train(*a)[:2], *args)
    X, y = C.data(25, 2, 2)
    assert "rng.permutation(n) each epoch" in fails(
        C.check_train_minibatches,
        train_shuffling_once,
        X,
        y,
        np.array([-1.0, 1.0]),
        0.0,
        0.3,
        [(1, 3), (7, 4)],
        11,
    )
    X, y = C.data(40, 2, 3)
    assert "changed its arguments (X, y or the starting w) in place" in fails(
        C.check_train_seeded, train_in_place, X, y, np.zeros(2), 0.0, 0.5, 5, 4, seeds=(21, 22)
    )

    def uphill_steps(w, b, X, y, eta, epochs, batch_size, rng, gradients, cost):
        return train(w, b, X, y, -eta, epochs, batch_size, rng, gradients, cost)

    X, y = C.data(30, 3, 1)
    assert "full-batch gradient descent" in fails(
        C.check_train_full_batch, uphill_steps, X, y, np.zeros(3), 0.1, 0.8, 12, seed=5
    )


def test_train_is_graded_with_a_correct_gd_step_and_without_the_reference():
    X, y = C.data(20, 2, 0)
    args = (X, y, np.zeros(2), 0.0, 0.5, 3, 6, 0)
    saved = globals()["gd_step"]
    globals()["gd_step"] = lambda w, b, X, y, eta, gradients: (w, b)  # a broken step
    try:
        C.check_train(train, *args)  # the stand-in is used during the call
    finally:
        globals()["gd_step"] = saved
    assert globals()["gd_step"] is saved
    assert "calling nnlib.neuron.SigmoidNeuron.step earns no points" in fails(
        C.check_train, train_by_delegation, *args
    )


# --- what the graded sandbox hides ---------------------------------------------------------


def test_the_sandbox_hides_every_reference_the_checks_forbid():
    """Grading builds the sandbox's copy of nnlib without the names that
    nncourse.autograde.program.hidden_names finds for the notebook (in its test cells and
    in the checkers they call): each reference a check forbids must be among them."""
    from nncourse.autograde.program import hidden_names

    path = ROOT / "solutions" / "03_sigmoid_gd" / "03_sigmoid_gd.ipynb"
    source = nbformat.read(path, as_version=4)
    hidden = hidden_names(source, source)
    forbidden = {
        *C.COST_REFERENCES,
        *C.GRADIENT_REFERENCES,
        *C.STEP_REFERENCES,
        *C.TRAIN_REFERENCES,
    }
    assert forbidden <= hidden, sorted(forbidden - hidden)
