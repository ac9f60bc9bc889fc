"""The perceptron: a threshold unit, logic gates built from it, and its learning rule.

A perceptron outputs 1 if w . x + b > 0 and 0 otherwise; the bias b is minus the threshold.
Its decision boundary w . x + b = 0 is a line (a hyperplane), so a single perceptron can
compute AND, OR and NAND but not XOR. NAND is universal: XOR is built from four NANDs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nnlib._checks import as_float_array, check_rng


def perceptron_output(x, w, b) -> np.ndarray:
    """Threshold unit: 1 where w . x + b > 0, else 0.

    x: (d,) one input or (n, d) a batch of rows.  w: (d,).  b: scalar.
    Returns an int64 array of shape () for one input or (n,) for a batch.
    """
    x = as_float_array(x, "x")
    w = as_float_array(w, "w")
    if w.ndim != 1:
        raise ValueError(f"w must have shape (d,), got shape {w.shape}")
    if x.ndim not in (1, 2) or x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"x must have shape ({w.shape[0]},) or (n, {w.shape[0]}) to match w; "
            f"got shape {x.shape}"
        )
    return (x @ w + b > 0).astype(np.int64)


class Gate(NamedTuple):
    """Weights (w1, w2) and bias b of a two-input perceptron gate."""

    w: tuple[float, float]
    b: float


#: Output 1 only when both inputs are 1: 2 + 2 - 3 > 0, but 2 - 3 < 0.
AND = Gate(w=(2.0, 2.0), b=-3.0)
#: Output 1 when at least one input is 1: 2 - 1 > 0, but 0 - 1 < 0.
OR = Gate(w=(2.0, 2.0), b=-1.0)
#: NOT AND: -2 - 2 + 3 < 0, but -2 + 3 > 0 and 0 + 3 > 0.
NAND = Gate(w=(-2.0, -2.0), b=3.0)


def _gate(gate: Gate, x1, x2) -> np.ndarray:
    x1, x2 = np.broadcast_arrays(np.asarray(x1), np.asarray(x2))
    x = np.stack([x1, x2], axis=-1).reshape(-1, 2)
    return perceptron_output(x, gate.w, gate.b).reshape(x1.shape)


def and_gate(x1, x2) -> np.ndarray:
    """x1 AND x2 for 0/1 inputs of any (broadcastable) shape; int64 of the broadcast shape."""
    return _gate(AND, x1, x2)


def or_gate(x1, x2) -> np.ndarray:
    """x1 OR x2 for 0/1 inputs of any (broadcastable) shape; int64 of the broadcast shape."""
    return _gate(OR, x1, x2)


def nand_gate(x1, x2) -> np.ndarray:
    """NOT (x1 AND x2) for 0/1 inputs of any (broadcastable) shape."""
    return _gate(NAND, x1, x2)


def xor_from_nand(x1, x2) -> np.ndarray:
    """x1 XOR x2 computed only with NAND gates (four of them), vectorised.

    m = NAND(x1, x2);  XOR = NAND(NAND(x1, m), NAND(x2, m)).
    """
    m = nand_gate(x1, x2)
    return nand_gate(nand_gate(x1, m), nand_gate(x2, m))


class Perceptron:
    """A perceptron trained with the perceptron learning rule.

    n_in: number of inputs d.  eta: learning rate.
    Weights start at zero: ``w`` (d,) and ``b`` (float).

    After ``fit``: ``errors`` lists the number of misclassified samples met in each epoch,
    ``converged`` says whether an epoch ended with zero errors, ``epochs`` is how many
    epochs ran.
    """

    def __init__(self, n_in: int, eta: float = 1.0):
        if int(n_in) < 1:
            raise ValueError(f"n_in must be positive, got {n_in}")
        if not eta > 0:
            raise ValueError(f"eta must be positive, got {eta}")
        self.w = np.zeros(int(n_in))
        self.b = 0.0
        self.eta = float(eta)
        self.errors: list[int] = []
        self.converged = False
        self.epochs = 0

    def predict(self, X) -> np.ndarray:
        """Outputs 0/1, int64 of shape (n,), for inputs X of shape (n, d)."""
        return perceptron_output(X, self.w, self.b)

    def fit(self, X, y, rng: np.random.Generator, max_epochs: int = 100, shuffle: bool = True):
        """Train with w <- w + eta (y - y_hat) x, b <- b + eta (y - y_hat), one sample at a time.

        X: (n, d) inputs.  y: (n,) targets in {0, 1}.
        rng: numpy Generator that shuffles the samples each epoch (when ``shuffle``).
        Stops after the first epoch without a mistake (``converged = True``) or after
        ``max_epochs`` epochs. Returns ``self``.
        """
        check_rng(rng, "Perceptron.fit")
        X = as_float_array(X, "X")
        y = np.asarray(y)
        if X.ndim != 2 or X.shape[1] != self.w.shape[0]:
            raise ValueError(f"X must have shape (n, {self.w.shape[0]}), got shape {X.shape}")
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got shape {y.shape}")
        if not np.all((y == 0) | (y == 1)):
            raise ValueError("y must hold only 0 and 1")
        self.errors, self.converged, self.epochs = [], False, 0
        for _ in range(max_epochs):
            order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
            mistakes = 0
            # The rule is sequential: each update changes the prediction for the next sample,
            # so this loop over samples is the algorithm itself, not a missed vectorisation.
            for i in order:
                error = y[i] - int(X[i] @ self.w + self.b > 0)
                if error:
                    self.w += self.eta * error * X[i]
                    self.b += self.eta * error
                    mistakes += 1
            self.errors.append(mistakes)
            self.epochs += 1
            if mistakes == 0:
                self.converged = True
                break
        return self
