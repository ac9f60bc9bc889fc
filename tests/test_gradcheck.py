"""Tests for nnlib.gradcheck: exact cases, no mutation, and detection of wrong gradients."""

import numpy as np
import pytest

from nnlib.gradcheck import check_layer, check_network, numerical_gradient, relative_error
from nnlib.network import Network


def test_numerical_gradient_of_quadratic_form(rng):
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    # f(x) = x.A.x has gradient (A + A.T) x; central differences are exact for quadratics
    numeric = numerical_gradient(lambda t: t @ A @ t, x)
    np.testing.assert_allclose(numeric, (A + A.T) @ x, atol=1e-9)


def test_numerical_gradient_any_shape_and_no_mutation(rng):
    x = rng.standard_normal((2, 3, 4))
    x_before = x.copy()
    numeric = numerical_gradient(lambda t: np.sum(np.sin(t)), x)
    assert numeric.shape == x.shape
    np.testing.assert_allclose(numeric, np.cos(x), atol=1e-9)
    np.testing.assert_array_equal(x, x_before)


def test_numerical_gradient_accepts_int_input():
    numeric = numerical_gradient(lambda t: float(np.sum(t**2)), np.array([1, 2, 3]))
    np.testing.assert_allclose(numeric, [2.0, 4.0, 6.0], atol=1e-8)


def test_numerical_gradient_rejects_bad_step():
    with pytest.raises(ValueError, match="positive"):
        numerical_gradient(lambda t: 0.0, np.zeros(2), h=0.0)


def test_relative_error_worked_values():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    # max|a-b| = 1, max(|a|+|b|) = 3 + 2 = 5
    assert relative_error([1.0, 3.0], [1.0, 2.0]) == pytest.approx(0.2)
    assert relative_error([1.0], [-1.0]) == 1.0
    with pytest.raises(ValueError, match=r"\(2,\) and \(3,\)"):
        relative_error(np.zeros(2), np.zeros(3))


class Affine:
    """A minimal layer, out = x @ W.T + b, with an optional planted bug."""

    def __init__(self, W, b, bug=None):
        self.params = {"W": W, "b": b}
        self.grads = {}
        self.bug = bug

    def forward(self, x, train=False):
        self.x = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, dout):
        W = self.params["W"]
        self.grads["W"] = dout.T @ self.x * (2.0 if self.bug == "W" else 1.0)
        self.grads["b"] = dout.sum(axis=0) if self.bug != "b" else dout.mean(axis=0)
        return dout @ W if self.bug != "x" else dout @ W * 0.5


def test_check_layer_passes_a_correct_layer(rng):
    layer = Affine(rng.standard_normal((3, 4)), rng.standard_normal(3))
    W_before = layer.params["W"].copy()
    errors = check_layer(layer, rng.standard_normal((5, 4)), rng=rng)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < 1e-8
    np.testing.assert_array_equal(layer.params["W"], W_before)  # restored exactly


@pytest.mark.parametrize("bug", ["x", "W", "b"])
def test_check_layer_catches_a_wrong_gradient(bug, rng):
    layer = Affine(rng.standard_normal((3, 4)), rng.standard_normal(3), bug=bug)
    errors = check_layer(layer, rng.standard_normal((5, 4)), rng=rng)
    assert errors[bug] > 0.1
    assert all(err < 1e-8 for name, err in errors.items() if name != bug)


def test_check_layer_rejects_float32_params(rng):
    layer = Affine(rng.standard_normal((3, 4)).astype(np.float32), np.zeros(3))
    with pytest.raises(ValueError, match="float64"):
        check_layer(layer, rng.standard_normal((2, 4)))


def test_check_network_passes_and_catches_a_planted_bug(rng, monkeypatch):
    net = Network([3, 4, 2], hidden="tanh", output="sigmoid", cost="quadratic", rng=rng)
    X, Y = rng.standard_normal((6, 3)), rng.random((6, 2))
    W_before = [W.copy() for W in net.weights]
    errors = check_network(net, X, Y)
    assert set(errors) == {"W1", "b1", "W2", "b2"}
    assert max(errors.values()) < 1e-7
    for W, W0 in zip(net.weights, W_before, strict=True):
        np.testing.assert_array_equal(W, W0)

    # a BP2 that forgets g'(z) must show up in the first layer only
    import nnlib.backprop as bp

    monkeypatch.setattr(bp, "bp2", lambda d, W, z, gp: d @ W)
    errors = check_network(net, X, Y)
    assert errors["W1"] > 1e-3 and errors["b1"] > 1e-3
    assert errors["W2"] < 1e-7 and errors["b2"] < 1e-7
