"""Inverted dropout: a regulariser that drops each unit with probability p during training.

Training (train=True): out = x * mask with mask = m / (1 - p), where m is 0 with probability
p and 1 otherwise, drawn independently per unit and per sample. Dividing by the keep
probability 1 - p keeps the expected value of every unit unchanged, so at test time
(train=False) the layer is the identity: every unit is used, nothing is rescaled.

Backward: dx = dout * mask (a dropped unit passes no gradient).
Shapes: x, out, mask, dout and dx all have the same shape, any shape (n, ...).
"""

from __future__ import annotations

import numpy as np

from nnlib._checks import as_float_array, check_rng
from nnlib.layers.base import Layer


def _check_p(p) -> float:
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability p must satisfy 0 <= p < 1, got {p}")
    return p


def dropout_forward(x, p: float, rng: np.random.Generator, train: bool = False):
    """Inverted dropout forward. Returns ``(out, mask)``; mask is None at test time or p = 0.

    x: any shape (n, ...). mask: shape of x, entries 0 or 1 / (1 - p), dtype of x.
    """
    x = as_float_array(x, "x")
    p = _check_p(p)
    if not train or p == 0.0:
        return x, None
    check_rng(rng, "dropout_forward")
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
    keep = rng.random(x.shape, dtype=dtype) >= p  # kept with probability 1 - p
    mask = np.multiply(keep, 1.0 / (1.0 - p), dtype=x.dtype)
    return x * mask, mask


def dropout_backward(dout, mask):
    """Inverted dropout backward: dx = dout * mask (dout itself when mask is None)."""
    dout = as_float_array(dout, "dout")
    if mask is None:
        return dout
    if dout.shape != mask.shape:
        raise ValueError(
            f"dropout_backward: dout must have the mask's shape {mask.shape}, "
            f"got shape {dout.shape}"
        )
    return dout * mask


class Dropout(Layer):
    """Inverted dropout with drop probability p (0 <= p < 1), masks drawn from ``rng``."""

    def __init__(self, p: float, rng: np.random.Generator):
        super().__init__()
        self.p = _check_p(p)
        self.rng = rng
        if self.p > 0:
            check_rng(rng, "Dropout")

    def _forward(self, x, train):
        out, self.cache = dropout_forward(x, self.p, self.rng, train)
        return out

    def _backward(self, dout):
        if not self.needs_input_grad:
            return None
        return dropout_backward(dout, self.cache)

    def __repr__(self):
        return f"Dropout(p={self.p})"
