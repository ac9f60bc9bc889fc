"""Tests for nnlib.perceptron: threshold unit, gates, XOR from NAND, the learning rule."""

import numpy as np
import pytest

from nnlib.perceptron import (
    AND,
    NAND,
    OR,
    Perceptron,
    and_gate,
    nand_gate,
    or_gate,
    perceptron_output,
    xor_from_nand,
)

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
X1, X2 = INPUTS[:, 0], INPUTS[:, 1]


def test_perceptron_output_single_and_batch():
    assert perceptron_output([1.0, 1.0], [-2.0, -2.0], 3.0) == 0
    assert perceptron_output([0.0, 1.0], [-2.0, -2.0], 3.0) == 1
    out = perceptron_output(INPUTS, np.array([1.0, 1.0]), -1.0)
    np.testing.assert_array_equal(out, [0, 0, 0, 1])
    assert out.dtype == np.int64 and out.shape == (4,)
    # on the boundary w.x + b = 0 the output is 0 (strict inequality)
    assert perceptron_output([1.0, 0.0], [1.0, 1.0], -1.0) == 0


def test_gate_truth_tables():
    np.testing.assert_array_equal(and_gate(X1, X2), [0, 0, 0, 1])
    np.testing.assert_array_equal(or_gate(X1, X2), [0, 1, 1, 1])
    np.testing.assert_array_equal(nand_gate(X1, X2), [1, 1, 1, 0])
    for gate, table in [(AND, [0, 0, 0, 1]), (OR, [0, 1, 1, 1]), (NAND, [1, 1, 1, 0])]:
        np.testing.assert_array_equal(perceptron_output(INPUTS, gate.w, gate.b), table)


def test_nand_uses_the_lecture_weights():
    assert NAND.w == (-2.0, -2.0) and NAND.b == 3.0


def test_xor_from_nand_truth_table_and_shapes():
    np.testing.assert_array_equal(xor_from_nand(X1, X2), [0, 1, 1, 0])
    assert int(xor_from_nand(1, 0)) == 1 and int(xor_from_nand(1, 1)) == 0
    grid = xor_from_nand(np.array([[0, 1], [1, 0]]), np.array([[0, 0], [1, 1]]))
    np.testing.assert_array_equal(grid, [[0, 1], [0, 1]])


def test_xor_from_nand_uses_only_nand(monkeypatch):
    import nnlib.perceptron as p

    calls = []
    original = p.nand_gate

    def counting(x1, x2):
        calls.append(1)
        return original(x1, x2)

    monkeypatch.setattr(p, "nand_gate", counting)
    monkeypatch.setattr(p, "and_gate", None)
    monkeypatch.setattr(p, "or_gate", None)
    np.testing.assert_array_equal(p.xor_from_nand(X1, X2), [0, 1, 1, 0])
    assert len(calls) == 4


def test_perceptron_output_shape_errors():
    with pytest.raises(ValueError, match=r"\(2,\) or \(n, 2\).*\(4, 3\)"):
        perceptron_output(np.zeros((4, 3)), [1.0, 1.0], 0.0)
    with pytest.raises(ValueError, match=r"w must have shape"):
        perceptron_output(np.zeros((4, 2)), np.zeros((2, 1)), 0.0)


def _blobs(rng, n=50):
    X = np.vstack([rng.normal(-2.0, 0.5, (n, 2)), rng.normal(2.0, 0.5, (n, 2))])
    return X, np.repeat([0, 1], n)


def test_learning_rule_converges_on_separable_blobs():
    rng = np.random.default_rng(0)
    X, y = _blobs(rng)
    p = Perceptron(2, eta=1.0).fit(X, y, rng=rng, max_epochs=100)
    assert p.converged
    assert p.errors[-1] == 0 and p.errors[0] > 0
    assert p.epochs == len(p.errors) < 100
    np.testing.assert_array_equal(p.predict(X), y)


def test_learning_rule_learns_and_gate():
    rng = np.random.default_rng(1)
    p = Perceptron(2, eta=0.5).fit(INPUTS, [0, 0, 0, 1], rng=rng, max_epochs=50)
    assert p.converged
    np.testing.assert_array_equal(p.predict(INPUTS), [0, 0, 0, 1])


def test_learning_rule_fails_on_xor():
    rng = np.random.default_rng(2)
    p = Perceptron(2).fit(INPUTS, [0, 1, 1, 0], rng=rng, max_epochs=200)
    assert not p.converged
    assert p.epochs == 200 and len(p.errors) == 200
    assert min(p.errors) >= 1  # no line separates XOR: every epoch makes a mistake
    assert np.sum(p.predict(INPUTS) != [0, 1, 1, 0]) >= 1


def test_single_update_follows_the_rule():
    # from w = 0, b = 0 the sample x = (1, 2) with y = 1 is predicted 0: w += eta x, b += eta
    p = Perceptron(2, eta=0.5).fit(np.array([[1.0, 2.0]]), [1], rng=np.random.default_rng(0))
    np.testing.assert_array_equal(p.w, [0.5, 1.0])
    assert p.b == 0.5
    assert p.errors == [1, 0] and p.converged


def test_fit_errors():
    p = Perceptron(2)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"\(n, 2\).*\(4, 3\)"):
        p.fit(np.zeros((4, 3)), np.zeros(4), rng=rng)
    with pytest.raises(ValueError, match=r"\(4,\).*\(3,\)"):
        p.fit(np.zeros((4, 2)), np.zeros(3), rng=rng)
    with pytest.raises(ValueError, match="0 and 1"):
        p.fit(np.zeros((4, 2)), np.array([0, 1, 2, 1]), rng=rng)
    with pytest.raises(TypeError, match="Generator"):
        p.fit(np.zeros((4, 2)), np.zeros(4), rng=None)
