"""Activation functions g(z) and their derivatives g'(z).

Every function is element-wise (except ``softmax`` and ``log_softmax``, which act over the
last axis), accepts any shape, returns the same shape, and is numerically stable: no numpy
warning and no inf/NaN for inputs as large as +-1000.
"""

from __future__ import annotations

import numpy as np

from nnlib._checks import as_float_array


def sigmoid(z):
    """Logistic sigmoid sigma(z) = 1 / (1 + exp(-z)), element-wise.

    Computed as exp(-|z|)-based branches so that exp never overflows.
    """
    z = as_float_array(z, "z")
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    """sigma'(z) = sigma(z) (1 - sigma(z)); sigma'(0) = 1/4."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """Hyperbolic tangent, element-wise; tanh(z) = 2 sigma(2z) - 1."""
    return np.tanh(as_float_array(z, "z"))


def tanh_prime(z):
    """tanh'(z) = 1 - tanh(z)^2."""
    t = tanh(z)
    return 1.0 - t * t


def relu(z):
    """Rectified linear unit max(0, z), element-wise."""
    z = as_float_array(z, "z")
    return np.maximum(z, 0.0)


def relu_prime(z):
    """relu'(z) = 1 for z > 0 and 0 otherwise (we take 0 at z = 0)."""
    z = as_float_array(z, "z")
    return (z > 0).astype(z.dtype)


def leaky_relu(z, alpha: float = 0.01):
    """Leaky ReLU: z for z > 0, alpha z otherwise."""
    z = as_float_array(z, "z")
    return np.where(z > 0, z, alpha * z)


def leaky_relu_prime(z, alpha: float = 0.01):
    """Derivative of the leaky ReLU: 1 for z > 0, alpha otherwise."""
    z = as_float_array(z, "z")
    return np.where(z > 0, 1.0, alpha).astype(z.dtype)


def elu(z, alpha: float = 1.0):
    """Exponential linear unit: z for z > 0, alpha (exp(z) - 1) otherwise."""
    z = as_float_array(z, "z")
    # exp only of the non-positive part, so exp(1000) is never evaluated
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def elu_prime(z, alpha: float = 1.0):
    """Derivative of the ELU: 1 for z > 0, alpha exp(z) otherwise."""
    z = as_float_array(z, "z")
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0))).astype(z.dtype)


def identity(z):
    """The linear activation g(z) = z (a linear neuron)."""
    return as_float_array(z, "z")


def identity_prime(z):
    """g'(z) = 1 for the linear activation."""
    z = as_float_array(z, "z")
    return np.ones_like(z)


def log_softmax(z):
    """log softmax over the last axis: z_j - log sum_k exp(z_k), computed stably.

    ``z`` has shape (..., K); the result has the same shape.
    """
    z = as_float_array(z, "z")
    shifted = z - np.max(z, axis=-1, keepdims=True)  # largest entry becomes 0: no overflow
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax(z):
    """softmax over the last axis: exp(z_j) / sum_k exp(z_k); each row sums to one.

    ``z`` has shape (..., K), typically (batch, K) with rows as samples.
    """
    z = as_float_array(z, "z")
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


#: name -> (g, g') for the element-wise activations, used by networks and layers.
ELEMENTWISE = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
    "elu": (elu, elu_prime),
    "identity": (identity, identity_prime),
}


def get(name: str):
    """Return the pair ``(g, g_prime)`` for an element-wise activation named ``name``."""
    try:
        return ELEMENTWISE[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {sorted(ELEMENTWISE)}"
        ) from None
