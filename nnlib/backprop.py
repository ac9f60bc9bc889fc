"""The four equations of backpropagation, on a mini-batch whose rows are samples.

Notation (layer l has n_l units, the batch has n samples):

- ``z`` (n, n_l): weighted inputs, z = a_prev @ W.T + b;  ``a`` (n, n_l): activations g(z);
- ``W`` (n_l, n_{l-1}), ``b`` (n_l,);
- ``delta`` (n, n_l): the error dC_x/dz of each sample x, row by row.

delta is *per sample*: the 1/n of the mean cost C = (1/n) sum_x C_x is applied in BP3 and
BP4, which average over the batch.

    (BP1)  delta^L = nabla_a C_x * g'(z^L)              output error
    (BP2)  delta^l = (delta^{l+1} @ W^{l+1}) * g'(z^l)   error moved back one layer
    (BP3)  dC/db^l = mean over the batch of delta^l
    (BP4)  dC/dW^l = delta^l.T @ a^{l-1} / n
"""

from __future__ import annotations

import numpy as np

from nnlib._checks import as_float_array, check_ndim
from nnlib.activations import sigmoid_prime
from nnlib.losses import targets_like


def _same_shape(arrays: dict) -> None:
    shapes = {name: np.shape(arr) for name, arr in arrays.items()}
    first_name, first = next(iter(shapes.items()))
    for name, shape in shapes.items():
        if shape != first:
            raise ValueError(
                f"{name} must have the shape of {first_name}, {first}; got shape {shape}"
            )


def _batch(arr, name: str) -> np.ndarray:
    arr = as_float_array(arr, name)
    check_ndim(arr, 2, name, "(batch, units)")
    return arr


# ----- (BP1): the output error ------------------------------------------------------------


def bp1(grad_a, z_L, g_prime) -> np.ndarray:
    """(BP1) in general: delta^L = nabla_a C_x * g'(z^L), element-wise.

    grad_a: (n, K) per-sample gradient dC_x/da^L (no 1/n factor).
    z_L: (n, K) output weighted inputs.  g_prime: element-wise derivative g'.
    Returns delta^L, shape (n, K).
    """
    grad_a = _batch(grad_a, "grad_a")
    z_L = _batch(z_L, "z_L")
    _same_shape({"z_L": z_L, "grad_a": grad_a})
    return grad_a * g_prime(z_L)  # (BP1)


def bp1_quadratic(a_L, y, z_L, g_prime) -> np.ndarray:
    """(BP1) for the quadratic cost and any element-wise output activation g.

    C_x = 1/2 ||a^L - y||^2, so nabla_a C_x = a^L - y and delta^L = (a^L - y) * g'(z^L).
    a_L, z_L: (n, K).  y: (n, K) targets or (n,) integer labels.  Returns (n, K).
    """
    a_L = _batch(a_L, "a_L")
    z_L = _batch(z_L, "z_L")
    _same_shape({"a_L": a_L, "z_L": z_L})
    y = targets_like(a_L, y)
    return (a_L - y) * g_prime(z_L)  # (BP1)


def bp1_quadratic_sigmoid(a_L, y, z_L) -> np.ndarray:
    """(BP1) for the quadratic cost with sigmoid outputs: delta^L = (a^L - y) * sigma'(z^L).

    a_L, z_L: (n, K).  y: (n, K) targets or (n,) integer labels.  Returns (n, K).
    """
    return bp1_quadratic(a_L, y, z_L, sigmoid_prime)  # (BP1)


def bp1_softmax_cross_entropy(a_L, y) -> np.ndarray:
    """(BP1) for softmax outputs with the categorical cross-entropy: delta^L = a^L - y.

    The softmax Jacobian and the 1/a of the log cancel exactly. The same formula holds for
    sigmoid outputs with the binary cross-entropy (where sigma'(z) cancels).
    a_L: (n, K) output probabilities.  y: (n, K) one-hot or (n,) integer labels.
    Returns (n, K).
    """
    a_L = _batch(a_L, "a_L")
    y = targets_like(a_L, y)
    return a_L - y  # (BP1)


#: The same equation for sigmoid outputs and the binary cross-entropy.
bp1_sigmoid_cross_entropy = bp1_softmax_cross_entropy


def bp1_quadratic_softmax(a_L, y) -> np.ndarray:
    """(BP1) for softmax outputs with the quadratic cost.

    softmax is not element-wise: da_i/dz_j = a_i (1[i = j] - a_j), so
    delta_j = sum_i (a_i - y_i) a_i (1[i = j] - a_j) = a_j ((a_j - y_j) - sum_i (a_i - y_i) a_i).
    a_L: (n, K).  y: (n, K) or (n,) integer labels.  Returns (n, K).
    """
    a_L = _batch(a_L, "a_L")
    y = targets_like(a_L, y)
    e = a_L - y
    return a_L * (e - np.sum(e * a_L, axis=1, keepdims=True))  # (BP1)


# ----- (BP2) - (BP4) ----------------------------------------------------------------------


def bp2(delta_next, W_next, z, g_prime) -> np.ndarray:
    """(BP2) delta^l = (delta^{l+1} @ W^{l+1}) * g'(z^l).

    delta_next: (n, n_{l+1}).  W_next: (n_{l+1}, n_l).  z: (n, n_l).
    Row x of ``delta_next @ W_next`` is (W^{l+1})^T delta^{l+1}(x) of the lectures.
    Returns delta, shape (n, n_l).
    """
    delta_next = _batch(delta_next, "delta_next")
    W_next = as_float_array(W_next, "W_next")
    z = _batch(z, "z")
    check_ndim(W_next, 2, "W_next", "(n_next, n_l)")
    n, n_next = delta_next.shape
    expected_W = (n_next, z.shape[1])
    if W_next.shape != expected_W:
        raise ValueError(
            f"W_next must have shape (n_next, n_l) = {expected_W} to match delta_next "
            f"{delta_next.shape} and z {z.shape}; got shape {W_next.shape}"
        )
    if z.shape[0] != n:
        raise ValueError(
            f"z must have {n} rows like delta_next {delta_next.shape}; got shape {z.shape}"
        )
    return (delta_next @ W_next) * g_prime(z)  # (BP2)


def bp3(delta) -> np.ndarray:
    """(BP3) dC/db^l = (1/n) sum_x delta^l(x).  delta: (n, n_l).  Returns (n_l,)."""
    delta = _batch(delta, "delta")
    if delta.shape[0] == 0:
        raise ValueError(f"delta holds an empty batch, shape {delta.shape}")
    return delta.mean(axis=0)  # (BP3)


def bp4(delta, a_prev) -> np.ndarray:
    """(BP4) dC/dW^l = (1/n) sum_x delta^l(x) a^{l-1}(x)^T = delta.T @ a_prev / n.

    delta: (n, n_l).  a_prev: (n, n_{l-1}).  Returns dW, shape (n_l, n_{l-1}) like W^l.
    """
    delta = _batch(delta, "delta")
    a_prev = _batch(a_prev, "a_prev")
    if a_prev.shape[0] != delta.shape[0]:
        raise ValueError(
            f"a_prev must have {delta.shape[0]} rows like delta {delta.shape}; "
            f"got shape {a_prev.shape}"
        )
    if delta.shape[0] == 0:
        raise ValueError(f"delta holds an empty batch, shape {delta.shape}")
    return delta.T @ a_prev / delta.shape[0]  # (BP4)
