"""Stochastic gradient descent with momentum and weight decay.

For every parameter array p with gradient g = dC/dp (the mean over the mini-batch):

    g <- g + lambda p                  weight decay, only for weights (see below)
    v <- mu v - eta g                  velocity, one per parameter array, starts at 0
    p <- p + v

With mu = 0 this is plain SGD, p <- p - eta g. With mu > 0 the velocity accumulates past
gradients (heavy-ball momentum); the form v <- mu v + g, p <- p - eta v used by some
libraries gives the same steps for a constant learning rate.

Weight decay is the gradient of the L2 penalty (lambda / 2) sum_w w^2 added to the cost. It
applies to weights only (the keys in each layer's ``decay_keys``, "W"), not to biases:
biases are few, do not make the model more flexible, and shrinking them only shifts the
units' thresholds. The penalty is not included in the loss values the model reports.
"""

from __future__ import annotations

import numpy as np


class SGD:
    """Mini-batch SGD: ``SGD(lr, momentum=0.0, weight_decay=0.0)``.

    ``step(model)`` updates, in place, every parameter of a model (anything with
    ``params()`` yielding ``(layer, key)`` pairs, such as ``nnlib.model.Sequential``) or of a
    list of layers, using the gradients the last backward pass left in ``layer.grads``.
    """

    def __init__(self, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        if not lr > 0:
            raise ValueError(f"learning rate lr must be positive, got {lr}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must satisfy 0 <= momentum < 1, got {momentum}")
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.velocity: dict[tuple[int, str], np.ndarray] = {}

    @staticmethod
    def _pairs(model):
        if hasattr(model, "params") and callable(model.params):
            return list(model.params())
        return [(layer, key) for layer in model for key in layer.params]

    def step(self, model) -> None:
        """Apply one update to every parameter of ``model`` (a model or a list of layers)."""
        for layer, key in self._pairs(model):
            p = layer.params[key]
            g = layer.grads[key]
            decay = self.weight_decay if key in layer.decay_keys else 0.0
            self.update(p, g, slot=(id(layer), key), decay=decay)

    def update(self, p: np.ndarray, g: np.ndarray, slot=None, decay: float = 0.0) -> None:
        """Update one parameter array ``p`` in place from its gradient ``g`` (same shape).

        slot: a hashable name for the velocity of ``p`` (needed when momentum > 0).
        decay: the weight-decay coefficient lambda for this array (0 for biases).
        """
        if p.shape != g.shape:
            raise ValueError(
                f"gradient must have the parameter's shape {p.shape}, got shape {g.shape}"
            )
        if decay:
            g = g + decay * p  # gradient of (lambda / 2) ||p||^2 added to the cost
        if self.momentum == 0.0:
            p -= self.lr * g
            return
        if slot is None:
            raise ValueError("momentum needs a slot naming the parameter's velocity")
        v = self.velocity.get(slot)
        if v is None or v.shape != p.shape or v.dtype != p.dtype:
            v = self.velocity[slot] = np.zeros_like(p)
        v *= self.momentum
        v -= self.lr * g
        p += v

    def reset(self) -> None:
        """Forget the velocities (start again from rest)."""
        self.velocity.clear()

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay})"
