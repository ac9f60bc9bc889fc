"""The sigmoid neuron (logistic regression) trained by gradient descent.

a = sigma(z), z = X @ w + b, for a batch X of shape (n, d). With targets y in [0, 1]:

- quadratic cost  C = (1/n) sum_x 1/2 (a - y)^2,  dC/dw = (1/n) sum_x (a - y) a (1 - a) x;
- cross-entropy   C = -(1/n) sum_x [y ln a + (1 - y) ln(1 - a)],  dC/dw = (1/n) sum_x (a - y) x.

The factor sigma'(z) = a (1 - a) in the quadratic gradient is close to 0 when the neuron
saturates (a near 0 or 1), so a badly wrong neuron learns slowly; cross-entropy has no such
factor: it learns fastest when it is most wrong.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from nnlib._checks import as_float_array, check_rng
from nnlib.activations import sigmoid
from nnlib.data.batches import minibatches
from nnlib.losses import binary_cross_entropy_from_logits

NEURON_COSTS = ("quadratic", "cross_entropy")


def _check_cost(cost: str) -> None:
    if cost not in NEURON_COSTS:
        raise ValueError(f"unknown cost {cost!r}; choose one of {NEURON_COSTS}")


def _check_data(w, X, y):
    w = as_float_array(w, "w")
    X = as_float_array(X, "X")
    if w.ndim != 1:
        raise ValueError(f"w must have shape (d,), got shape {w.shape}")
    if X.ndim != 2 or X.shape[1] != w.shape[0]:
        raise ValueError(f"X must have shape (n, {w.shape[0]}), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"X holds an empty batch, shape {X.shape}")
    if y is not None:
        y = as_float_array(y, "y")
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got shape {y.shape}")
    return w, X, y


def neuron_cost(w, b, X, y, cost: str = "cross_entropy") -> float:
    """Mean cost of the sigmoid neuron (w, b) on the batch.

    w: (d,).  b: scalar.  X: (n, d).  y: (n,) targets in [0, 1].
    cost: "quadratic" (with the 1/2) or "cross_entropy" (computed from z: no log(0)).
    """
    _check_cost(cost)
    w, X, y = _check_data(w, X, y)
    z = X @ w + b
    if cost == "cross_entropy":
        return binary_cross_entropy_from_logits(z, y)
    return float(0.5 * np.mean((sigmoid(z) - y) ** 2))


def neuron_gradients(w, b, X, y, cost: str = "cross_entropy"):
    """Gradient of the mean cost w.r.t. w and b.

    w: (d,).  b: scalar.  X: (n, d).  y: (n,) targets in [0, 1].
    Returns ``(dw, db)``: dw (d,) = X.T @ delta / n and db (float) = mean(delta), where
    delta (n,) is (a - y) a (1 - a) for the quadratic cost and (a - y) for cross-entropy.
    """
    _check_cost(cost)
    w, X, y = _check_data(w, X, y)
    a = sigmoid(X @ w + b)
    delta = (a - y) * a * (1.0 - a) if cost == "quadratic" else a - y
    return X.T @ delta / X.shape[0], float(np.mean(delta))


class SigmoidNeuron:
    """One sigmoid neuron, a = sigma(X @ w + b): logistic regression.

    n_in: number of inputs d.  cost: "cross_entropy" or "quadratic".
    rng: numpy Generator drawing w from N(0, 1/n_in); None starts w at zero.
    Attributes ``w`` (d,) and ``b`` (float) may be set directly (e.g. a saturated start).
    """

    def __init__(self, n_in: int, cost: str = "cross_entropy", rng=None):
        _check_cost(cost)
        n_in = int(n_in)
        if n_in < 1:
            raise ValueError(f"n_in must be positive, got {n_in}")
        if rng is None:
            self.w = np.zeros(n_in)
        else:
            self.w = check_rng(rng, "SigmoidNeuron").standard_normal(n_in) / np.sqrt(n_in)
        self.b = 0.0
        self.cost_name = cost

    def predict_proba(self, X) -> np.ndarray:
        """a = sigma(X @ w + b), shape (n,), for X of shape (n, d)."""
        w, X, _ = _check_data(self.w, X, None)
        return sigmoid(X @ w + self.b)

    def predict(self, X) -> np.ndarray:
        """Labels 0/1, int64 of shape (n,): 1 where a > 0.5."""
        return (self.predict_proba(X) > 0.5).astype(np.int64)

    def cost(self, X, y) -> float:
        """Mean cost on (X (n, d), y (n,))."""
        return neuron_cost(self.w, self.b, X, y, self.cost_name)

    def gradients(self, X, y):
        """``(dw (d,), db float)``: gradient of the mean cost on (X, y)."""
        return neuron_gradients(self.w, self.b, X, y, self.cost_name)

    def step(self, X, y, eta: float) -> None:
        """One gradient-descent step on the batch: w <- w - eta dw, b <- b - eta db."""
        dw, db = self.gradients(X, y)
        self.w = self.w - eta * dw
        self.b = self.b - eta * db

    def fit(
        self, X, y, epochs: int, eta: float, batch_size=None, rng=None, progress: bool = False
    ) -> dict:
        """Train by gradient descent.

        X: (n, d).  y: (n,) targets in [0, 1].  eta: learning rate.
        batch_size: None for full-batch gradient descent, 1 for stochastic gradient descent,
            k for mini-batches of k (the data is reshuffled by ``rng`` each epoch; rng is
            required unless batch_size is None).
        Returns ``{"cost": [...]}``, the cost on all of (X, y) after each epoch.
        Raises ``FloatingPointError`` if the weights become NaN or infinite.
        """
        w, X, y = _check_data(self.w, X, y)
        if batch_size is not None:
            if int(batch_size) < 1:
                raise ValueError(f"batch_size must be None or at least 1, got {batch_size}")
            # mini-batch and stochastic training shuffle the samples each epoch
            check_rng(rng, f"SigmoidNeuron.fit with batch_size={batch_size}")
        history = {"cost": []}
        for epoch in tqdm(range(epochs), desc="epochs", disable=not progress):
            # overflow is detected just below and reported with advice, not warned about
            with np.errstate(over="ignore", invalid="ignore"):
                if batch_size is None:
                    self.step(X, y, eta)
                else:
                    for X_batch, y_batch in minibatches(X, y, int(batch_size), rng):
                        self.step(X_batch, y_batch, eta)
            if not (np.all(np.isfinite(self.w)) and np.isfinite(self.b)):
                raise FloatingPointError(
                    f"epoch {epoch + 1}: the weights became NaN or infinite; "
                    f"try a smaller learning rate than eta={eta}"
                )
            history["cost"].append(self.cost(X, y))
        return history
