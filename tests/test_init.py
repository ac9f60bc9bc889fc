"""Tests for nnlib.init: shapes, dtypes, statistics, reproducibility and errors."""

import math

import numpy as np
import pytest

from nnlib import init


@pytest.mark.parametrize("name", sorted(init.INITIALISERS))
def test_dense_shape_dtype_and_reproducibility(name):
    f = init.get(name)
    W = f(5, 3, np.random.default_rng(0))
    assert W.shape == (3, 5)
    assert W.dtype == np.float64
    np.testing.assert_array_equal(W, f(5, 3, np.random.default_rng(0)))
    assert not np.array_equal(W, f(5, 3, np.random.default_rng(1)))


@pytest.mark.parametrize(
    "name, expected_std",
    [
        ("small_gaussian", 0.01),
        ("lecun", 1 / math.sqrt(400)),
        ("he", math.sqrt(2 / 400)),
        ("glorot", math.sqrt(6 / (400 + 300)) / math.sqrt(3)),  # std of U(-l, l) is l/sqrt 3
    ],
)
def test_dense_standard_deviation(name, expected_std):
    W = init.get(name)(400, 300, np.random.default_rng(3))
    # 120,000 draws: the sample std is within 1% of the true one with overwhelming odds
    assert W.std() == pytest.approx(expected_std, rel=0.01)
    assert abs(W.mean()) < 0.02 * expected_std  # ~7 standard errors


def test_glorot_is_uniform_within_limit():
    W = init.glorot(30, 20, np.random.default_rng(0))
    limit = math.sqrt(6 / 50)
    assert np.all(np.abs(W) <= limit)
    assert np.abs(W).max() > 0.95 * limit


def test_small_gaussian_scale():
    W = init.small_gaussian(200, 200, np.random.default_rng(0), scale=1.0)
    assert W.std() == pytest.approx(1.0, rel=0.02)


def test_fans_for_dense_and_conv():
    assert init.fans((3, 5)) == (5, 3)
    assert init.fans((8, 3, 5, 5)) == (75, 200)


@pytest.mark.parametrize("name", sorted(init.SHAPE_INITIALISERS))
def test_shape_form_matches_dense_form(name):
    dense = init.INITIALISERS[name](5, 3, np.random.default_rng(4))
    shaped = init.SHAPE_INITIALISERS[name]((3, 5), np.random.default_rng(4))
    np.testing.assert_array_equal(dense, shaped)


def test_conv_shape_uses_receptive_field_fan_in():
    W = init.he_shape((64, 8, 3, 3), np.random.default_rng(0))
    assert W.shape == (64, 8, 3, 3)
    assert W.std() == pytest.approx(math.sqrt(2 / 72), rel=0.03)
    W = init.lecun_shape((64, 8, 3, 3), np.random.default_rng(0))
    assert W.std() == pytest.approx(math.sqrt(1 / 72), rel=0.03)


def test_lecun_keeps_z_of_order_one():
    # z = W x for an input of 1000 ones: std(z) ~ 1 with lecun, ~ 31.6 with std-1 weights
    rng = np.random.default_rng(0)
    x = np.ones(1000)
    z = init.lecun(1000, 2000, rng) @ x
    assert z.std() == pytest.approx(1.0, rel=0.05)
    z = init.small_gaussian(1000, 2000, rng, scale=1.0) @ x
    assert z.std() == pytest.approx(math.sqrt(1000), rel=0.05)


@pytest.mark.parametrize("bad_rng", [None, 0, np.random.RandomState(0)])
def test_rng_must_be_a_generator(bad_rng):
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        init.lecun(3, 2, bad_rng)


def test_bad_sizes_and_names_raise():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="positive"):
        init.he(0, 3, rng)
    with pytest.raises(ValueError, match="at least 2"):
        init.he_shape((4,), rng)
    with pytest.raises(ValueError, match="scale"):
        init.small_gaussian(2, 2, rng, scale=0.0)
    with pytest.raises(ValueError, match="unknown initialiser"):
        init.get("orthogonal")
