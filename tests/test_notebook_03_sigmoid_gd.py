"""Autograde 03_sigmoid_gd: solved, untouched, planted mistakes and delegation to nnlib.

One nbgrader run grades all four submissions (module-scoped fixture). The gradient tests
check against central differences of the student's OWN cost, so a wrong cost also costs the
numerical-gradient cell of its gradient; that dependency is asserted explicitly below.
"""

import pytest
from nbgrader_harness import (
    assert_earns_nothing,
    assert_full_marks,
    assert_loses_exactly,
    assert_scores_zero,
)

pytestmark = pytest.mark.slow

A = "03_sigmoid_gd"

# --- planted mistakes (one submission) --------------------------------------------------

PLANTED = {
    # the 1/2 is missing
    "quadratic_cost": """def quadratic_cost(a, y):
    return float(np.mean((a - y) ** 2))
""",
    # sigma'(z) kept: that is the quadratic gradient
    "cross_entropy_gradients": """def cross_entropy_gradients(w, b, X, y):
    a = neuron_output(X, w, b)
    delta = (a - y) * a * (1 - a)
    return X.T @ delta / X.shape[0], float(np.mean(delta))
""",
    # uphill
    "gd_step": """def gd_step(w, b, X, y, eta, gradients):
    dw, db = gradients(w, b, X, y)
    return w + eta * dw, b + eta * db
""",
    # shuffles once, not every epoch
    "train": """def train(w, b, X, y, eta, epochs, batch_size, rng, gradients, cost):
    n = X.shape[0]
    costs = [cost(neuron_output(X, w, b), y)]
    order = rng.permutation(n)
    for _ in range(epochs):
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            w, b = gd_step(w, b, X[idx], y[idx], eta, gradients)
            costs.append(cost(neuron_output(X, w, b), y))
    return w, b, costs
""",
}

# grade_id -> substring of the feedback the student must see
EXPECTED_LOSSES = {
    "test_quadratic_cost_worked": "the 1/2 is missing",
    "test_quadratic_cost_hidden": "the 1/2 is missing",
    "test_quadratic_gradients_numerical_hidden": "central differences of your quadratic_cost",
    "test_cross_entropy_gradients_worked": "cancels for cross-entropy",
    "test_cross_entropy_gradients_reference_hidden": "cancels for cross-entropy",
    "test_cross_entropy_gradients_numerical_hidden": "central differences",
    "test_gd_step_worked": "went uphill",
    "test_gd_step_hidden": "w_new",
    # the visible test now compares every recorded cost with the recipe's
    "test_train_visible": "the order was drawn once",
    "test_train_sgd_hidden": "rng.permutation(n) each epoch",
}

# --- a second set of planted mistakes: each gives its own number on the worked example ----

PLANTED_2 = {
    # summed instead of averaged: on three samples no longer confused with the missing 1/2
    "quadratic_cost": """def quadratic_cost(a, y):
    return float(0.5 * np.sum((a - y) ** 2))
""",
    # base-10 logarithm
    "cross_entropy_cost": """def cross_entropy_cost(a, y):
    return float(-np.mean(y * np.log10(a) + (1 - y) * np.log10(1 - a)))
""",
    # db summed over the batch (dw right)
    "quadratic_gradients": """def quadratic_gradients(w, b, X, y):
    a = neuron_output(X, w, b)
    delta = (a - y) * a * (1 - a)
    return X.T @ delta / X.shape[0], float(np.sum(delta))
""",
    # changes w in place ("Do not change w in place")
    "gd_step": """def gd_step(w, b, X, y, eta, gradients):
    dw, db = gradients(w, b, X, y)
    w -= eta * dw
    return w, b - eta * db
""",
    # records the cost of the mini-batch, not of the whole training set
    "train": """def train(w, b, X, y, eta, epochs, batch_size, rng, gradients, cost):
    n = X.shape[0]
    costs = [cost(neuron_output(X, w, b), y)]
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            w, b = gd_step(w, b, X[idx], y[idx], eta, gradients)
            costs.append(cost(neuron_output(X[idx], w, b), y[idx]))
    return w, b, costs
""",
}

EXPECTED_LOSSES_2 = {
    "test_quadratic_cost_worked": "summed over the batch instead of averaged (the 1/n is missing)",
    "test_quadratic_cost_hidden": "summed over the batch instead of averaged",
    "test_quadratic_gradients_numerical_hidden": "central differences of your quadratic_cost",
    "test_cross_entropy_cost_worked": "np.log10 instead of the natural logarithm",
    "test_cross_entropy_cost_hidden": "np.log10 instead of the natural logarithm",
    "test_cross_entropy_gradients_numerical_hidden": "central differences of your cross_entropy",
    "test_quadratic_gradients_worked": "db: summed over the batch instead of averaged",
    "test_quadratic_gradients_reference_hidden": "db: summed over the batch instead of averaged",
    "test_gd_step_worked": "it must not change in place",
    "test_gd_step_hidden": "gd_step changed w in place",
    "test_train_visible": "costs[1:] are costs of the mini-batch just used",
}

# --- a third: train changes the caller's w ("Do not modify the arguments"); gd_step asks
# for the gradient twice ("call gradients(w, b, X, y) once") ------------------------------

PLANTED_3 = {
    "gd_step": """def gd_step(w, b, X, y, eta, gradients):
    dw, _ = gradients(w, b, X, y)
    _, db = gradients(w, b, X, y)
    return w - eta * np.asarray(dw), float(b - eta * db)
""",
    "train": """def train(w, b, X, y, eta, epochs, batch_size, rng, gradients, cost):
    n = X.shape[0]
    costs = [cost(neuron_output(X, w, b), y)]
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            w_new, b = gd_step(w, b, X[idx], y[idx], eta, gradients)
            w[:] = w_new
            costs.append(cost(neuron_output(X, w, b), y))
    return w, b, costs
""",
}

EXPECTED_LOSSES_3 = {
    "test_gd_step_worked": "should call gradients(w, b, X, y) once on the batch it was given",
    "test_gd_step_hidden": "should call gradients(w, b, X, y) once on the batch it was given",
    "test_train_visible": "train changed its argument w in place",
    "test_train_seeded_hidden": "train changed its arguments (X, y or the starting w) in place",
}

# --- answers that call the nnlib reference of the very thing asked -----------------------

DELEGATE = {
    "quadratic_cost": """from nnlib.losses import quadratic


def quadratic_cost(a, y):
    return quadratic(a, y)
""",
    "cross_entropy_cost": """import nnlib.losses


def cross_entropy_cost(a, y):
    return nnlib.losses.binary_cross_entropy(a, y)
""",
    "quadratic_gradients": """from nnlib.neuron import neuron_gradients


def quadratic_gradients(w, b, X, y):
    return neuron_gradients(w, b, X, y, "quadratic")
""",
    "cross_entropy_gradients": """from nnlib import neuron


def cross_entropy_gradients(w, b, X, y):
    return neuron.neuron_gradients(w, b, X, y, cost="cross_entropy")
""",
    "train": """from nnlib.neuron import SigmoidNeuron


def train(w, b, X, y, eta, epochs, batch_size, rng, gradients, cost):
    unit = SigmoidNeuron(X.shape[1])
    unit.w, unit.b = w.copy(), b
    costs = [cost(neuron_output(X, unit.w, unit.b), y)]
    for _ in range(epochs):
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            idx = order[start : start + batch_size]
            unit.step(X[idx], y[idx], eta)
            costs.append(cost(neuron_output(X, unit.w, unit.b), y))
    return unit.w, unit.b, costs
""",
}

DELEGATED_CELLS = {
    "test_quadratic_cost_worked",
    "test_quadratic_cost_hidden",
    "test_cross_entropy_cost_worked",
    "test_cross_entropy_cost_hidden",
    "test_quadratic_gradients_worked",
    "test_quadratic_gradients_reference_hidden",
    "test_quadratic_gradients_numerical_hidden",
    "test_cross_entropy_gradients_worked",
    "test_cross_entropy_gradients_reference_hidden",
    "test_cross_entropy_gradients_numerical_hidden",
    "test_train_visible",
    "test_train_full_batch_hidden",
    "test_train_sgd_hidden",
    "test_train_seeded_hidden",
}


@pytest.fixture(scope="module")
def grades(course):
    return course.autograde_planted(
        A,
        {"wrong": PLANTED, "wrong2": PLANTED_2, "wrong3": PLANTED_3, "delegating": DELEGATE},
    )


def test_solved_gets_full_marks(grades):
    assert_full_marks(grades["solved"], at_least=20)


def test_untouched_scores_zero(grades):
    assert_scores_zero(grades["untouched"], "test_quadratic_cost_worked")


@pytest.mark.parametrize(
    "student, losses",
    [("wrong", EXPECTED_LOSSES), ("wrong2", EXPECTED_LOSSES_2), ("wrong3", EXPECTED_LOSSES_3)],
)
def test_planted_mistakes_lose_exactly_their_cells(grades, student, losses):
    assert_loses_exactly(grades[student], losses)


def test_delegating_to_nnlib_earns_nothing(grades):
    assert_earns_nothing(
        grades["delegating"],
        DELEGATED_CELLS,
        ["test_quadratic_cost_worked", "test_cross_entropy_gradients_worked"],
    )
