"""Tests for nnlib.backprop: each equation on worked cases, against numerics, shape errors."""

import numpy as np
import pytest

from nnlib import backprop as bp
from nnlib.activations import sigmoid, sigmoid_prime, softmax, tanh, tanh_prime
from nnlib.gradcheck import numerical_gradient, relative_error
from nnlib.losses import categorical_cross_entropy, quadratic

TOL = 1e-7


# ----- (BP1) ------------------------------------------------------------------------------


def test_bp1_quadratic_sigmoid_worked_case():
    z = np.array([[0.0, 0.0]])
    a = sigmoid(z)  # 0.5, sigma'(0) = 0.25
    y = np.array([[1.0, 0.0]])
    np.testing.assert_array_equal(bp.bp1_quadratic_sigmoid(a, y, z), [[-0.125, 0.125]])


def test_bp1_quadratic_sigmoid_is_dC_dz_per_sample(rng):
    z, y = rng.standard_normal((4, 3)), rng.random((4, 3))
    # delta is per sample: n * d(mean cost)/dz
    numeric = 4 * numerical_gradient(lambda t: quadratic(sigmoid(t), y), z)
    assert relative_error(bp.bp1_quadratic_sigmoid(sigmoid(z), y, z), numeric) < TOL


def test_bp1_softmax_cross_entropy_is_dC_dz_per_sample(rng):
    z, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    numeric = 5 * numerical_gradient(lambda t: categorical_cross_entropy(t, y), z)
    delta = bp.bp1_softmax_cross_entropy(softmax(z), y)
    assert relative_error(delta, numeric) < TOL
    np.testing.assert_array_equal(delta, softmax(z) - np.eye(4)[y])


def test_bp1_quadratic_softmax_is_dC_dz_per_sample(rng):
    z, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    numeric = 5 * numerical_gradient(lambda t: quadratic(softmax(t), y), z)
    assert relative_error(bp.bp1_quadratic_softmax(softmax(z), y), numeric) < TOL


def test_bp1_general_and_quadratic_with_tanh(rng):
    z, y = rng.standard_normal((3, 2)), rng.random((3, 2))
    numeric = 3 * numerical_gradient(lambda t: quadratic(tanh(t), y), z)
    assert relative_error(bp.bp1_quadratic(tanh(z), y, z, tanh_prime), numeric) < TOL
    assert relative_error(bp.bp1(tanh(z) - y, z, tanh_prime), numeric) < TOL


# ----- (BP2) - (BP4) ----------------------------------------------------------------------


def test_bp2_worked_case():
    delta_next = np.array([[1.0, 2.0]])  # (n=1, n_next=2)
    W_next = np.array([[1.0, 0.0, -1.0], [0.5, 1.0, 0.0]])  # (2, 3)
    z = np.zeros((1, 3))  # sigma'(0) = 1/4
    np.testing.assert_allclose(bp.bp2(delta_next, W_next, z, sigmoid_prime), [[0.5, 0.5, -0.25]])


def test_bp3_bp4_worked_case():
    delta = np.array([[1.0, 0.0], [3.0, 2.0]])  # (n=2, n_l=2)
    a_prev = np.array([[1.0, 2.0, 0.0], [1.0, 0.0, 1.0]])  # (2, 3)
    np.testing.assert_array_equal(bp.bp3(delta), [2.0, 1.0])
    # (1/2) (delta(x1) a(x1)^T + delta(x2) a(x2)^T)
    np.testing.assert_array_equal(bp.bp4(delta, a_prev), [[2.0, 1.0, 1.5], [1.0, 0.0, 1.0]])


def test_two_layer_chain_matches_numerical_gradient(rng):
    """BP1-BP4 together give the gradient of the mean cost of a 3-4-2 network."""
    X, Y = rng.standard_normal((6, 3)), rng.random((6, 2))
    W1, b1 = rng.standard_normal((4, 3)), rng.standard_normal(4)
    W2, b2 = rng.standard_normal((2, 4)), rng.standard_normal(2)

    def cost(W1, b1, W2, b2):
        return quadratic(sigmoid(tanh(X @ W1.T + b1) @ W2.T + b2), Y)

    z1 = X @ W1.T + b1
    a1 = tanh(z1)
    z2 = a1 @ W2.T + b2
    delta2 = bp.bp1_quadratic_sigmoid(sigmoid(z2), Y, z2)
    delta1 = bp.bp2(delta2, W2, z1, tanh_prime)
    checks = {
        "W2": (bp.bp4(delta2, a1), numerical_gradient(lambda t: cost(W1, b1, t, b2), W2)),
        "b2": (bp.bp3(delta2), numerical_gradient(lambda t: cost(W1, b1, W2, t), b2)),
        "W1": (bp.bp4(delta1, X), numerical_gradient(lambda t: cost(t, b1, W2, b2), W1)),
        "b1": (bp.bp3(delta1), numerical_gradient(lambda t: cost(W1, t, W2, b2), b1)),
    }
    for name, (analytic, numeric) in checks.items():
        assert relative_error(analytic, numeric) < TOL, name


def test_functions_do_not_mutate_inputs(rng):
    delta, W, z = rng.standard_normal((3, 2)), rng.standard_normal((2, 4)), rng.random((3, 4))
    copies = [delta.copy(), W.copy(), z.copy()]
    bp.bp2(delta, W, z, sigmoid_prime)
    bp.bp3(delta)
    bp.bp4(delta, z)
    for arr, before in zip([delta, W, z], copies, strict=True):
        np.testing.assert_array_equal(arr, before)


# ----- shape errors -----------------------------------------------------------------------


def test_bp2_shape_errors_name_expected_and_received():
    with pytest.raises(ValueError, match=r"\(2, 4\).*got shape \(4, 2\)"):
        bp.bp2(np.zeros((3, 2)), np.zeros((4, 2)), np.zeros((3, 4)), sigmoid_prime)
    with pytest.raises(ValueError, match="3 rows"):
        bp.bp2(np.zeros((3, 2)), np.zeros((2, 4)), np.zeros((5, 4)), sigmoid_prime)
    with pytest.raises(ValueError, match=r"\(batch, units\).*\(2,\)"):
        bp.bp2(np.zeros(2), np.zeros((2, 4)), np.zeros((1, 4)), sigmoid_prime)


def test_bp1_bp3_bp4_shape_errors():
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(3, 4\)"):
        bp.bp1_quadratic_sigmoid(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(3, 3\)"):
        bp.bp1_softmax_cross_entropy(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"\(batch, units\)"):
        bp.bp3(np.zeros(4))
    with pytest.raises(ValueError, match="empty"):
        bp.bp3(np.zeros((0, 4)))
    with pytest.raises(ValueError, match=r"3 rows.*\(2, 5\)"):
        bp.bp4(np.zeros((3, 4)), np.zeros((2, 5)))
