"""Flatten: (n, c, H, W) (or any (n, ...)) -> (n, c H W), the bridge from images to Dense.

Each sample is flattened in row-major order (channel, then row, then column), like
``x.reshape(n, -1)``; backward reshapes the gradient back to the input's shape.
"""

from __future__ import annotations

from nnlib.layers.base import Layer


class Flatten(Layer):
    """Reshape every sample to a vector: x (n, d1, d2, ...) -> (n, d1 d2 ...)."""

    def _forward(self, x, train):
        if x.ndim < 2:
            raise ValueError(f"Flatten: x must have shape (batch, ...), got shape {x.shape}")
        self.cache = x.shape
        return x.reshape(x.shape[0], -1)

    def _backward(self, dout):
        if not self.needs_input_grad:
            return None
        return dout.reshape(self.cache)

    def __repr__(self):
        return "Flatten()"
