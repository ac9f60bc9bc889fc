"""Tests for nnlib.losses: worked values, labels vs one-hot, stability, gradients."""

import math
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from nnlib import losses
from nnlib.activations import sigmoid
from nnlib.gradcheck import numerical_gradient, relative_error

TOL = 1e-7


@contextmanager
def strict_numerics():
    """Turn every numpy warning into an error (underflow to 0 is exact rounding, not a fault)."""
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


def one_hot(y, k):
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1.0
    return out


# ----- worked values --------------------------------------------------------------------


def test_quadratic_worked_value_is_mean_over_batch_with_half():
    a = np.array([[1.0, 0.0], [0.0, 0.0]])
    y = np.zeros((2, 2))
    # (1/2) * ||(1, 0)||^2 = 0.5 for the first sample, 0 for the second; mean 0.25
    assert losses.quadratic(a, y) == 0.25
    np.testing.assert_array_equal(losses.quadratic_grad(a, y), [[0.5, 0.0], [0.0, 0.0]])


def test_binary_cross_entropy_worked_values():
    assert losses.binary_cross_entropy(np.array([0.5]), np.array([1.0])) == pytest.approx(
        math.log(2.0), rel=1e-15
    )
    assert losses.binary_cross_entropy_from_logits(np.zeros(3), np.ones(3)) == pytest.approx(
        math.log(2.0), rel=1e-15
    )
    # a = 0.8 for y = 1 and a = 0.8 for y = 0: mean of -ln 0.8 and -ln 0.2
    expected = -(math.log(0.8) + math.log(0.2)) / 2
    assert losses.binary_cross_entropy(np.array([0.8, 0.8]), np.array([1.0, 0.0])) == (
        pytest.approx(expected, rel=1e-14)
    )


def test_categorical_cross_entropy_worked_values():
    # uniform logits over K classes: cost ln K whatever the label
    assert losses.categorical_cross_entropy(np.zeros((3, 4)), np.array([0, 1, 3])) == (
        pytest.approx(math.log(4.0), rel=1e-15)
    )
    z = np.array([[0.0, math.log(3.0)]])  # softmax = (1/4, 3/4)
    assert losses.categorical_cross_entropy(z, np.array([1])) == pytest.approx(
        -math.log(0.75), rel=1e-14
    )
    np.testing.assert_allclose(losses.categorical_cross_entropy_grad(z, [1]), [[0.25, -0.25]])


def test_from_logits_matches_probability_form(rng):
    z = rng.standard_normal((6, 3)) * 3
    y = rng.random((6, 3))
    a = sigmoid(z)
    assert losses.binary_cross_entropy_from_logits(z, y) == pytest.approx(
        losses.binary_cross_entropy(a, y), rel=1e-12
    )
    np.testing.assert_allclose(
        losses.binary_cross_entropy_from_logits_grad(z, y),
        losses.binary_cross_entropy_grad(a, y) * a * (1 - a),
        rtol=1e-10,
    )


# ----- integer labels == one-hot --------------------------------------------------------


@pytest.mark.parametrize(
    "cost, grad",
    [
        (losses.categorical_cross_entropy, losses.categorical_cross_entropy_grad),
        (losses.quadratic, losses.quadratic_grad),
        (losses.binary_cross_entropy_from_logits, losses.binary_cross_entropy_from_logits_grad),
    ],
)
def test_int_labels_equal_one_hot(cost, grad, rng):
    z = rng.standard_normal((5, 3))
    if cost is losses.quadratic:
        z = sigmoid(z)
    y = np.array([0, 2, 1, 2, 0])
    assert cost(z, y) == cost(z, one_hot(y, 3))
    np.testing.assert_array_equal(grad(z, y), grad(z, one_hot(y, 3)))


def test_targets_like_one_hot_encodes():
    a = np.zeros((3, 4))
    np.testing.assert_array_equal(
        losses.targets_like(a, np.array([3, 0, 1])), np.eye(4)[[3, 0, 1]]
    )


# ----- stability ------------------------------------------------------------------------


def test_from_logits_costs_are_stable_at_extremes():
    z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    y = np.array([[0.0, 1.0], [0.0, 1.0]])
    with strict_numerics():
        bce = losses.binary_cross_entropy_from_logits(z, y)
        bce_grad = losses.binary_cross_entropy_from_logits_grad(z, y)
        cce = losses.categorical_cross_entropy(z, np.array([1, 1]))
        cce_grad = losses.categorical_cross_entropy_grad(z, np.array([1, 1]))
    # first sample: both units wrong by 1000; second: both right
    assert bce == pytest.approx(1000.0, rel=1e-12)
    assert cce == pytest.approx(1000.0, rel=1e-12)
    np.testing.assert_allclose(bce_grad, [[0.5, -0.5], [0.0, 0.0]])
    np.testing.assert_allclose(cce_grad, [[0.5, -0.5], [0.0, 0.0]])


def test_binary_cross_entropy_clips_probabilities_zero_and_one():
    with strict_numerics():
        c = losses.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
        g = losses.binary_cross_entropy_grad(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert np.isfinite(c) and c > 20  # -ln(1e-12) = 27.6
    assert np.all(np.isfinite(g))


# ----- gradients vs numerical -------------------------------------------------------------


def test_quadratic_grad_matches_numerical(rng):
    a, y = rng.random((4, 3)), rng.random((4, 3))
    numeric = numerical_gradient(lambda t: losses.quadratic(t, y), a)
    assert relative_error(losses.quadratic_grad(a, y), numeric) < TOL


def test_binary_cross_entropy_grad_matches_numerical(rng):
    a = rng.uniform(0.1, 0.9, (4, 3))
    y = rng.random((4, 3))
    numeric = numerical_gradient(lambda t: losses.binary_cross_entropy(t, y), a)
    assert relative_error(losses.binary_cross_entropy_grad(a, y), numeric) < TOL


def test_binary_cross_entropy_from_logits_grad_matches_numerical(rng):
    z = rng.standard_normal((5, 2)) * 2
    y = (rng.random((5, 2)) > 0.5).astype(float)
    numeric = numerical_gradient(lambda t: losses.binary_cross_entropy_from_logits(t, y), z)
    assert relative_error(losses.binary_cross_entropy_from_logits_grad(z, y), numeric) < TOL


def test_categorical_cross_entropy_grad_matches_numerical(rng):
    z = rng.standard_normal((6, 4)) * 2
    y = rng.integers(0, 4, 6)
    numeric = numerical_gradient(lambda t: losses.categorical_cross_entropy(t, y), z)
    assert relative_error(losses.categorical_cross_entropy_grad(z, y), numeric) < TOL


def test_gradients_carry_one_over_n(rng):
    a, y = rng.random((2, 3)), rng.random((2, 3))
    a4, y4 = np.vstack([a, a]), np.vstack([y, y])
    # duplicating the batch leaves the mean cost unchanged and halves each row's gradient
    assert losses.quadratic(a4, y4) == pytest.approx(losses.quadratic(a, y), rel=1e-15)
    np.testing.assert_allclose(losses.quadratic_grad(a4, y4)[:2], losses.quadratic_grad(a, y) / 2)


# ----- errors ---------------------------------------------------------------------------


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        losses.quadratic(np.zeros((4, 3)), np.zeros((4, 2)))


def test_label_errors():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match="labels must lie in"):
        losses.categorical_cross_entropy(z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="3 rows"):
        losses.categorical_cross_entropy(z, np.array([0, 1]))
    with pytest.raises(ValueError, match="integer class labels"):
        losses.categorical_cross_entropy(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="batch, classes"):
        losses.categorical_cross_entropy(np.zeros(4), np.array([1]))


def test_empty_batch_raises():
    with pytest.raises(ValueError, match="empty"):
        losses.quadratic(np.zeros((0, 2)), np.zeros((0, 2)))


def test_unknown_cost_name_raises():
    assert losses.get("quadratic") == (losses.quadratic, losses.quadratic_grad)
    with pytest.raises(ValueError, match="unknown cost"):
        losses.get("hinge")
