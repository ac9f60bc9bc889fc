"""Cost functions C and their gradients, as the mean over a batch of samples (rows).

Every gradient here is of the *mean* cost, so it carries the factor 1/n of the batch size n:
summing it over the batch in a backward pass gives the gradient of the mean.

Targets ``y`` may be one-hot rows of shape (n, K) or integer class labels of shape (n,)
wherever the output is a class distribution (K > 1 columns).
"""

from __future__ import annotations

import numpy as np

from nnlib._checks import as_float_array, check_same_shape
from nnlib.activations import log_softmax, sigmoid, softmax


def targets_like(a: np.ndarray, y, name: str = "y") -> np.ndarray:
    """Return ``y`` as a float array shaped like ``a`` (one-hot encoding integer labels).

    a: (n, K) outputs. y: (n, K) targets, or (n,) integer labels in [0, K) when K > 1.
    """
    y = np.asarray(y)
    if a.ndim == 2 and y.ndim == 1 and a.shape[1] > 1:
        if y.dtype.kind not in "iu":
            raise ValueError(
                f"{name} with shape {y.shape} must hold integer class labels to match "
                f"outputs of shape {a.shape}; got dtype {y.dtype}"
            )
        if y.shape[0] != a.shape[0]:
            raise ValueError(
                f"{name} has {y.shape[0]} labels but the outputs have {a.shape[0]} rows "
                f"(outputs shape {a.shape}, labels shape {y.shape})"
            )
        k = a.shape[1]
        if y.size and (y.min() < 0 or y.max() >= k):
            raise ValueError(f"{name} labels must lie in [0, {k}); got {y.min()}..{y.max()}")
        onehot = np.zeros(a.shape, dtype=a.dtype)
        onehot[np.arange(y.shape[0]), y] = 1.0
        return onehot
    y = as_float_array(y, name).astype(a.dtype, copy=False)
    check_same_shape(a, y, "outputs", name)
    return y


def _batch_size(a: np.ndarray) -> int:
    if a.ndim == 0:
        raise ValueError("outputs must have a batch axis, got a scalar")
    if a.shape[0] == 0:
        raise ValueError(f"the batch is empty (outputs shape {a.shape})")
    return a.shape[0]


# ----- quadratic cost -------------------------------------------------------------------


def quadratic(a, y) -> float:
    """Quadratic cost C = (1/n) sum_x (1/2) ||y(x) - a(x)||^2 (Nielsen's 1/2).

    a: (n, K) or (n,) network outputs. y: targets of the same shape (or integer labels).
    """
    a = as_float_array(a, "a")
    y = targets_like(a, y)
    n = _batch_size(a)
    return float(0.5 * np.sum((a - y) ** 2) / n)


def quadratic_grad(a, y) -> np.ndarray:
    """dC/da = (a - y) / n for the quadratic cost; shape of ``a``."""
    a = as_float_array(a, "a")
    y = targets_like(a, y)
    return (a - y) / _batch_size(a)


# ----- binary cross-entropy (sigmoid outputs) -------------------------------------------


def binary_cross_entropy(a, y, eps: float = 1e-12) -> float:
    """C = -(1/n) sum_x sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)] for probabilities ``a``.

    a: (n,) or (n, K) probabilities in [0, 1] (clipped to [eps, 1 - eps]). y: same shape.
    Prefer ``binary_cross_entropy_from_logits`` when you have z: it never clips.
    """
    a = as_float_array(a, "a")
    y = targets_like(a, y)
    n = _batch_size(a)
    p = np.clip(a, eps, 1.0 - eps)
    return float(-np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p)) / n)


def binary_cross_entropy_grad(a, y, eps: float = 1e-12) -> np.ndarray:
    """dC/da = (a - y) / (a (1 - a)) / n; shape of ``a``."""
    a = as_float_array(a, "a")
    y = targets_like(a, y)
    p = np.clip(a, eps, 1.0 - eps)
    return (p - y) / (p * (1.0 - p)) / _batch_size(a)


def binary_cross_entropy_from_logits(z, y) -> float:
    """Binary cross-entropy of a = sigmoid(z), computed from z without overflow.

    Uses ln sigma(z) = -log(1 + exp(-z)) = -logaddexp(0, -z). z: (n,) or (n, K).
    """
    z = as_float_array(z, "z")
    y = targets_like(z, y)
    n = _batch_size(z)
    return float(np.sum(y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z)) / n)


def binary_cross_entropy_from_logits_grad(z, y) -> np.ndarray:
    """dC/dz = (sigmoid(z) - y) / n: the sigma'(z) factor cancels."""
    z = as_float_array(z, "z")
    y = targets_like(z, y)
    return (sigmoid(z) - y) / _batch_size(z)


# ----- categorical cross-entropy (softmax outputs) --------------------------------------


def categorical_cross_entropy(z, y) -> float:
    """C = -(1/n) sum_x sum_j y_j ln softmax(z)_j, from logits z of shape (n, K).

    y: (n, K) one-hot (or any distribution per row) or (n,) integer labels.
    """
    z = as_float_array(z, "z")
    if z.ndim != 2:
        raise ValueError(f"logits z must have shape (batch, classes), got shape {z.shape}")
    y = targets_like(z, y)
    return float(-np.sum(y * log_softmax(z)) / _batch_size(z))


def categorical_cross_entropy_grad(z, y) -> np.ndarray:
    """dC/dz = (softmax(z) - y) / n; shape (n, K)."""
    z = as_float_array(z, "z")
    if z.ndim != 2:
        raise ValueError(f"logits z must have shape (batch, classes), got shape {z.shape}")
    y = targets_like(z, y)
    return (softmax(z) - y) / _batch_size(z)


#: name -> (cost, gradient) for use by models; each takes (outputs, targets).
COSTS = {
    "quadratic": (quadratic, quadratic_grad),
    "binary_cross_entropy": (binary_cross_entropy, binary_cross_entropy_grad),
    "binary_cross_entropy_from_logits": (
        binary_cross_entropy_from_logits,
        binary_cross_entropy_from_logits_grad,
    ),
    "categorical_cross_entropy": (categorical_cross_entropy, categorical_cross_entropy_grad),
}


def get(name: str):
    """Return the pair ``(cost, cost_grad)`` for the cost named ``name``."""
    try:
        return COSTS[name]
    except KeyError:
        raise ValueError(f"unknown cost {name!r}; choose one of {sorted(COSTS)}") from None
