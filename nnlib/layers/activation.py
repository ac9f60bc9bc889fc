"""Activation layers a = g(z), element-wise, built on ``nnlib.activations``.

Backward multiplies the incoming gradient by g'(z) element-wise: dC/dz = dC/da * g'(z),
the g'(z) factor of (BP1) and (BP2). Input and output have the same shape, any shape.
"""

from __future__ import annotations

import numpy as np

from nnlib import activations
from nnlib.layers import memory
from nnlib.layers.base import Layer


class Activation(Layer):
    """Element-wise activation g named in ``nnlib.activations.ELEMENTWISE``.

    Extra keyword arguments (``alpha`` for leaky ReLU and ELU) go to g and g'.
    """

    def __init__(self, name: str, **kwargs):
        super().__init__()
        self.name = name
        self.kwargs = kwargs
        self.g, self.g_prime = activations.get(name)

    def _forward(self, z, train):
        self.cache = z
        return self.g(z, **self.kwargs)

    def _backward(self, dout):
        z = self.cache
        return dout * self.g_prime(z, **self.kwargs)  # dC/dz = dC/da * g'(z)

    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"{type(self).__name__}({self.name!r}{args})"


class ReLU(Activation):
    """a = max(0, z). Backward passes dout where z > 0 and zero elsewhere (g'(0) = 0)."""

    def __init__(self):
        super().__init__("relu")

    def _forward(self, z, train):
        # activations.relu(z), written into a reused array when the last one was let go
        a = np.maximum(z, 0.0, out=memory.empty_like(self.recycler, z))
        # keep g'(z) as a boolean mask: a quarter of the memory of z, so backward reads less
        self.cache = np.greater(a, 0.0, out=memory.scratch(self.pool, "mask", a.shape, bool))
        return a

    def _backward(self, dout):
        if not self.needs_input_grad:
            return None
        dx = memory.empty_like(self.recycler, dout)
        return np.multiply(dout, self.cache, out=dx)  # dC/dz = dC/da * g'(z)

    def __repr__(self):
        return "ReLU()"


class Sigmoid(Activation):
    """a = sigma(z) = 1 / (1 + exp(-z)); g'(z) = a (1 - a)."""

    def __init__(self):
        super().__init__("sigmoid")

    def _forward(self, z, train):
        a = activations.sigmoid(z)
        self.cache = a
        return a

    def _backward(self, dout):
        a = self.cache
        return dout * (a * (1.0 - a))

    def __repr__(self):
        return "Sigmoid()"


class Tanh(Activation):
    """a = tanh(z); g'(z) = 1 - a^2."""

    def __init__(self):
        super().__init__("tanh")

    def _forward(self, z, train):
        a = activations.tanh(z)
        self.cache = a
        return a

    def _backward(self, dout):
        a = self.cache
        return dout * (1.0 - a * a)

    def __repr__(self):
        return "Tanh()"


class LeakyReLU(Activation):
    """a = z for z > 0 and alpha z otherwise."""

    def __init__(self, alpha: float = 0.01):
        super().__init__("leaky_relu", alpha=alpha)


class ELU(Activation):
    """a = z for z > 0 and alpha (exp(z) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0):
        super().__init__("elu", alpha=alpha)


class Identity(Activation):
    """a = z (a linear unit); backward passes dout through unchanged."""

    def __init__(self):
        super().__init__("identity")

    def _forward(self, z, train):
        return z

    def _backward(self, dout):
        return dout

    def __repr__(self):
        return "Identity()"
