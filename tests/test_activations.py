"""Tests for nnlib.activations: worked values, stability at +-1000, derivatives vs numerics."""

import math
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from nnlib import activations as act
from nnlib.gradcheck import numerical_gradient, relative_error

TOL = 1e-7


@contextmanager
def strict_numerics():
    """Turn every numpy warning into an error (underflow to 0 is exact rounding, not a fault)."""
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


def away_from_kinks(rng, shape, low=0.1, high=3.0):
    """Random values with |z| in [low, high], so z +- h never crosses 0."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


# ----- worked values --------------------------------------------------------------------


def test_sigmoid_worked_values():
    assert act.sigmoid(0.0) == 0.5
    assert act.sigmoid_prime(0.0) == 0.25
    assert act.sigmoid(math.log(3.0)) == pytest.approx(0.75, abs=1e-15)
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(act.sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-15)
    # symmetry sigma(-z) = 1 - sigma(z)
    np.testing.assert_allclose(act.sigmoid(-z), 1.0 - act.sigmoid(z), rtol=1e-14)


def test_tanh_relu_leaky_elu_identity_worked_values():
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    assert act.tanh_prime(0.0) == 1.0
    np.testing.assert_allclose(act.tanh(z), 2.0 * act.sigmoid(2.0 * z) - 1.0, atol=1e-15)
    np.testing.assert_array_equal(act.relu(z), [0.0, 0.0, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(act.relu_prime(z), [0.0, 0.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(act.leaky_relu(z, alpha=0.1), [-0.2, -0.05, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(act.leaky_relu_prime(z, alpha=0.1), [0.1, 0.1, 0.1, 1, 1])
    np.testing.assert_allclose(act.elu(np.array([-1.0, 1.0])), [math.exp(-1) - 1.0, 1.0])
    np.testing.assert_allclose(act.elu_prime(np.array([-1.0, 1.0])), [math.exp(-1), 1.0])
    np.testing.assert_array_equal(act.identity(z), z)
    np.testing.assert_array_equal(act.identity_prime(z), np.ones(5))


def test_softmax_worked_values_and_rows_sum_to_one(rng):
    np.testing.assert_allclose(act.softmax(np.array([0.0, math.log(3.0)])), [0.25, 0.75])
    z = rng.standard_normal((6, 4)) * 5
    s = act.softmax(z)
    assert s.shape == (6, 4)
    np.testing.assert_allclose(s.sum(axis=1), np.ones(6), rtol=1e-14)
    assert np.all(s > 0)
    # shifting a row by a constant does not change its softmax
    np.testing.assert_allclose(act.softmax(z + 100.0), s, rtol=1e-12)
    np.testing.assert_allclose(act.log_softmax(z), np.log(s), atol=1e-12)


def test_int_input_is_accepted_as_float():
    np.testing.assert_array_equal(act.relu(np.array([-1, 2])), [0.0, 2.0])
    assert act.sigmoid(np.array([0])).dtype == np.float64


def test_float32_stays_float32():
    z = np.array([-1.0, 0.5], dtype=np.float32)
    for name, (g, g_prime) in act.ELEMENTWISE.items():
        assert g(z).dtype == np.float32, name
        assert g_prime(z).dtype == np.float32, name
    assert act.softmax(z).dtype == np.float32


# ----- stability ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(act.ELEMENTWISE))
def test_elementwise_no_warnings_at_extremes(name):
    g, g_prime = act.get(name)
    z = np.array([-1000.0, -745.0, 0.0, 745.0, 1000.0])
    with strict_numerics():
        out, d = g(z), g_prime(z)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(d))


def test_sigmoid_limits_at_extremes():
    with strict_numerics():
        np.testing.assert_array_equal(act.sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])
        np.testing.assert_array_equal(act.sigmoid_prime(np.array([-1000.0, 1000.0])), [0, 0])
        np.testing.assert_array_equal(act.tanh(np.array([-1000.0, 1000.0])), [-1.0, 1.0])


def test_softmax_and_log_softmax_stable_at_extremes():
    z = np.array([[1000.0, -1000.0, 0.0], [1000.0, 1000.0, 1000.0], [-1000.0, -1000.0, 0.0]])
    with strict_numerics():
        s = act.softmax(z)
        ls = act.log_softmax(z)
    np.testing.assert_allclose(s[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(s[1], [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(s[2], [0.0, 0.0, 1.0])
    assert np.all(np.isfinite(ls))
    np.testing.assert_allclose(ls[0], [0.0, -2000.0, -1000.0])


# ----- derivatives vs numerical gradients -------------------------------------------------


@pytest.mark.parametrize("name", sorted(act.ELEMENTWISE))
def test_derivative_matches_numerical_gradient(name, rng):
    g, g_prime = act.get(name)
    z = away_from_kinks(rng, (5, 4))
    # d/dz sum(g(z)) = g'(z) element-wise
    numeric = numerical_gradient(lambda t: np.sum(g(t)), z)
    assert relative_error(g_prime(z), numeric) < TOL


@pytest.mark.parametrize("alpha", [0.01, 0.3])
def test_leaky_relu_and_elu_alpha_derivatives(alpha, rng):
    z = away_from_kinks(rng, (3, 5))
    num = numerical_gradient(lambda t: np.sum(act.leaky_relu(t, alpha)), z)
    assert relative_error(act.leaky_relu_prime(z, alpha), num) < TOL
    num = numerical_gradient(lambda t: np.sum(act.elu(t, alpha)), z)
    assert relative_error(act.elu_prime(z, alpha), num) < TOL


def test_softmax_jacobian_matches_numerical_gradient(rng):
    # d/dz sum_j v_j softmax(z)_j = s * (v - sum_j s_j v_j), row by row
    z = rng.standard_normal((4, 5))
    v = rng.standard_normal((4, 5))
    s = act.softmax(z)
    analytic = s * (v - np.sum(s * v, axis=1, keepdims=True))
    numeric = numerical_gradient(lambda t: np.sum(act.softmax(t) * v), z)
    assert relative_error(analytic, numeric) < TOL
    numeric = numerical_gradient(lambda t: np.sum(act.log_softmax(t) * v), z)
    analytic = v - s * np.sum(v, axis=1, keepdims=True)
    assert relative_error(analytic, numeric) < TOL


# ----- errors ---------------------------------------------------------------------------


def test_unknown_activation_name_raises():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        act.get("swish")


def test_non_numeric_input_raises():
    with pytest.raises(ValueError, match="numeric"):
        act.sigmoid(np.array(["a", "b"]))
