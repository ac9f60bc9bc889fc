"""Tests for nnlib.neuron: the sigmoid neuron's costs, gradients and training."""

import math
import warnings

import numpy as np
import pytest

from nnlib.gradcheck import numerical_gradient, relative_error
from nnlib.neuron import SigmoidNeuron, neuron_cost, neuron_gradients

TOL = 1e-7
COSTS = ["quadratic", "cross_entropy"]


def _data(rng, n=60):
    X = np.vstack([rng.normal(-1.0, 1.0, (n // 2, 2)), rng.normal(1.0, 1.0, (n // 2, 2))])
    return X, np.repeat([0.0, 1.0], n // 2)


def test_worked_costs_and_gradients():
    X, y = np.array([[1.0, 2.0]]), np.array([1.0])
    w, b = np.zeros(2), 0.0  # a = 1/2
    assert neuron_cost(w, b, X, y, "quadratic") == 0.125
    assert neuron_cost(w, b, X, y, "cross_entropy") == pytest.approx(math.log(2), rel=1e-15)
    dw, db = neuron_gradients(w, b, X, y, "quadratic")  # (a - y) a (1 - a) = -1/8
    np.testing.assert_array_equal(dw, [-0.125, -0.25])
    assert db == -0.125
    dw, db = neuron_gradients(w, b, X, y, "cross_entropy")  # a - y = -1/2
    np.testing.assert_array_equal(dw, [-0.5, -1.0])
    assert db == -0.5


@pytest.mark.parametrize("cost", COSTS)
def test_gradients_match_numerical(cost, rng):
    X, y = rng.standard_normal((8, 3)), rng.random(8)
    w, b = rng.standard_normal(3), 0.3
    dw, db = neuron_gradients(w, b, X, y, cost)
    num_w = numerical_gradient(lambda t: neuron_cost(t, b, X, y, cost), w)
    num_b = numerical_gradient(lambda t: neuron_cost(w, t[0], X, y, cost), np.array([b]))
    assert relative_error(dw, num_w) < TOL
    assert relative_error(np.array([db]), num_b) < TOL


@pytest.mark.parametrize("cost", COSTS)
def test_class_matches_functions(cost, rng):
    X, y = _data(rng, 10)
    n = SigmoidNeuron(2, cost=cost, rng=rng)
    assert n.cost(X, y) == neuron_cost(n.w, n.b, X, y, cost)
    dw, db = n.gradients(X, y)
    w0, b0 = n.w.copy(), n.b
    n.step(X, y, eta=0.3)
    np.testing.assert_allclose(n.w, w0 - 0.3 * dw, rtol=1e-15)
    assert n.b == pytest.approx(b0 - 0.3 * db, rel=1e-15)
    p = n.predict_proba(X)
    assert p.shape == (10,)
    np.testing.assert_array_equal(n.predict(X), (p > 0.5).astype(int))


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("batch_size", [None, 10, 1])
def test_batch_minibatch_and_stochastic_reduce_the_cost(cost, batch_size, rng):
    X, y = _data(rng)
    n = SigmoidNeuron(2, cost=cost)
    start = n.cost(X, y)
    history = n.fit(X, y, epochs=20, eta=0.5, batch_size=batch_size, rng=rng)
    assert len(history["cost"]) == 20
    assert history["cost"][-1] < 0.7 * start
    assert np.mean(n.predict(X) == y) > 0.8


def test_fit_is_reproducible_with_the_same_rng():
    X, y = _data(np.random.default_rng(0))
    hists = []
    for _ in range(2):
        n = SigmoidNeuron(2, rng=np.random.default_rng(5))
        hists.append(n.fit(X, y, epochs=3, eta=0.1, batch_size=7, rng=np.random.default_rng(6)))
    assert hists[0] == hists[1]


def _epochs_until_output_below(cost, threshold=0.5, max_epochs=400):
    """A neuron started saturated (w = b = 2, so a(1) = 0.98) learns to output 0 for x = 1."""
    n = SigmoidNeuron(1, cost=cost)
    n.w, n.b = np.array([2.0]), 2.0
    X, y = np.array([[1.0]]), np.array([0.0])
    for epoch in range(1, max_epochs + 1):
        n.step(X, y, eta=0.15)
        if n.predict_proba(X)[0] < threshold:
            return epoch
    return max_epochs + 1


def test_quadratic_cost_learns_slowly_from_a_saturated_start():
    ce = _epochs_until_output_below("cross_entropy")
    quad = _epochs_until_output_below("quadratic")
    # sigma'(z) = a (1 - a) ~ 0.02 throttles the quadratic gradient; cross-entropy has none
    assert ce <= 20
    assert quad > 5 * ce


def test_errors(rng):
    with pytest.raises(ValueError, match="unknown cost"):
        SigmoidNeuron(2, cost="hinge")
    with pytest.raises(TypeError, match="Generator"):
        SigmoidNeuron(2, rng=3)
    n = SigmoidNeuron(2)
    with pytest.raises(ValueError, match=r"\(n, 2\).*\(4, 3\)"):
        n.predict_proba(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 1\)"):
        n.cost(np.zeros((4, 2)), np.zeros((4, 1)))
    with pytest.raises(TypeError, match="rng"):
        n.fit(np.zeros((4, 2)), np.zeros(4), epochs=1, eta=0.1, batch_size=2)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match="epoch 1.*smaller learning rate"):
            n.fit(np.ones((4, 2)) * 1e300, np.ones(4), epochs=3, eta=1e300)
