"""Fully connected (dense) layer: z = x W^T + b, with rows as samples.

Shapes: x (n, n_in), W (n_out, n_in) as in the lectures (w^l_jk joins unit k of layer l-1 to
unit j of layer l), b (n_out,), z (n, n_out).

Backward, given dout = dC/dz of shape (n, n_out) (already carrying the 1/n of a mean cost):

- dC/db = sum over the batch of dout                     (BP3)
- dC/dW = dout^T x, shape (n_out, n_in)                  (BP4)
- dC/dx = dout W, shape (n, n_in), which the layer below multiplies by g'(z) (BP2).
"""

from __future__ import annotations

import numpy as np

from nnlib import init as _init
from nnlib._checks import as_float_array
from nnlib.layers.base import Layer, check_input


def dense_forward(x, W, b):
    """z = x @ W.T + b. x: (n, n_in), W: (n_out, n_in), b: (n_out,) -> (z (n, n_out), cache).

    cache: the pair (x, W) that ``dense_backward`` needs. The ``Dense`` layer computes its
    forward pass with this function.
    """
    x = check_input(x, 2, "(batch, n_in)")
    W = as_float_array(W, "W")
    b = as_float_array(b, "b")
    if W.ndim != 2 or W.shape[1] != x.shape[1] or b.shape != (W.shape[0],):
        raise ValueError(
            f"dense_forward: expected W of shape (n_out, {x.shape[1]}) and b of shape "
            f"(n_out,) for x of shape {x.shape}; got W {W.shape}, b {b.shape}"
        )
    z = x @ W.T
    z += b
    return z, (x, W)


def dense_backward(dout, cache):
    """Gradients of a dense layer. dout: (n, n_out) -> (dx (n, n_in), dW, db)."""
    x, W = cache
    dout = as_float_array(dout, "dout")
    if dout.shape != (x.shape[0], W.shape[0]):
        raise ValueError(
            f"dense_backward: dout must have shape {(x.shape[0], W.shape[0])}, "
            f"got shape {dout.shape}"
        )
    db = dout.sum(axis=0)  # (BP3)
    dW = dout.T @ x  # (BP4)
    dx = dout @ W  # (BP2), before the g'(z) factor of the layer below
    return dx, dW, db


class Dense(Layer):
    """Dense layer z = x W^T + b with W (n_out, n_in) and b (n_out,).

    init: a name from ``nnlib.init.INITIALISERS`` ("he", "glorot", "lecun",
    "small_gaussian"); biases start at zero. dtype: of the parameters (float64 by default;
    float32 trains faster). The output has numpy's common type of x and W.
    """

    decay_keys = ("W",)

    def __init__(
        self, n_in: int, n_out: int, rng: np.random.Generator, init: str = "he", dtype=np.float64
    ):
        super().__init__()
        if int(n_in) <= 0 or int(n_out) <= 0:
            raise ValueError(f"n_in and n_out must be positive, got {n_in} and {n_out}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        W = _init.get(init)(self.n_in, self.n_out, rng)
        self.params = {"W": W.astype(dtype), "b": np.zeros(self.n_out, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def _forward(self, x, train):
        if x.ndim != 2 or x.shape[1] != self.n_in:
            hint = " (put a Flatten layer before a Dense layer)" if x.ndim > 2 else ""
            raise ValueError(
                f"Dense: x must have shape (batch, {self.n_in}), got shape {x.shape}{hint}"
            )
        z, self.cache = dense_forward(x, self.params["W"], self.params["b"])
        return z

    def _backward(self, dout):
        x, W = self.cache
        dW, db = self.grads["W"], self.grads["b"]
        if dout.dtype == dW.dtype == x.dtype:
            np.sum(dout, axis=0, out=db)  # (BP3)
            np.matmul(dout.T, x, out=dW)  # (BP4)
        else:
            db[...] = dout.sum(axis=0)
            dW[...] = dout.T @ x
        if not self.needs_input_grad:
            return None
        dx = dout @ W  # (BP2) without g'(z): the activation layer below applies it
        return dx if dx.dtype == x.dtype else dx.astype(x.dtype)

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out})"
