"""The ``Layer`` base class shared by every layer, and the shape checks layers use.

A layer is one step a -> f(a) of a network. It offers

- ``forward(x, train=False) -> out``: computes the output and keeps in ``self.cache`` what
  the backward pass needs (never in global state);
- ``backward(dout) -> dx``: given dC/d(out), the gradient of the cost with respect to the
  layer's output, it stores dC/d(param) in ``self.grads`` and returns dC/dx;
- ``params`` and ``grads``: dicts with the same keys (``"W"``, ``"b"``), the arrays of the
  parameters and of the gradients of the cost with respect to them.

``needs_input_grad = False`` tells a layer that nobody needs dC/dx (the first layer of a
network: x is the data), so ``backward`` skips computing it and returns ``None``.

``backward`` never modifies ``dout``.

Where a layer's arrays come from is not part of this contract: ``recycler`` and ``pool``
are ``None`` for a layer on its own (every array is allocated afresh), and a model passes in
the reusable memory of ``nnlib.layers.memory`` (``Sequential`` gives all its layers one
``ArrayRecycler`` and each layer its own ``BufferPool``). The numbers are the same either way.
"""

from __future__ import annotations

import numpy as np

from nnlib._checks import as_float_array


def check_input(x, ndim: int, meaning: str, name: str = "x") -> np.ndarray:
    """Return ``x`` as a float array after checking it has ``ndim`` axes.

    ``meaning`` spells the expected shape, for example ``"(batch, 784)"``.
    """
    x = as_float_array(x, name)
    if x.ndim != ndim:
        raise ValueError(f"{name} must have shape {meaning}, got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {x.shape}")
    return x


def check_dout(dout, expected_shape: tuple, layer: str) -> np.ndarray:
    """Return ``dout`` as a float array after checking it has the output's shape."""
    dout = as_float_array(dout, "dout")
    if dout.shape != expected_shape:
        raise ValueError(
            f"{layer}.backward: dout must have the shape of the layer's output "
            f"{expected_shape}, got shape {dout.shape}"
        )
    return dout


class Layer:
    """Base class: a layer without parameters whose forward is the identity.

    Subclasses override ``_forward(x, train)`` and ``_backward(dout)``; the public
    ``forward``/``backward`` add the checks and the bookkeeping shared by all layers.
    """

    #: keys of ``params`` that weight decay (an L2 penalty) applies to; biases are left out.
    decay_keys: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.needs_input_grad = True
        self.cache = None
        self._out_shape: tuple | None = None
        # reusable memory for outputs and gradients (ArrayRecycler) and for scratch arrays
        # (BufferPool), passed in by the model; None: allocate afresh (see the docstring)
        self.recycler = None
        self.pool = None

    # ----- public interface -------------------------------------------------------------

    def forward(self, x, train: bool = False) -> np.ndarray:
        """Output of the layer for the batch ``x`` (rows are samples)."""
        out = self._forward(as_float_array(x, "x"), train)
        self._out_shape = out.shape
        return out

    def backward(self, dout) -> np.ndarray | None:
        """Store dC/d(param) in ``self.grads`` and return dC/dx (``None`` when not needed).

        dout: dC/d(out), the shape of the last output of ``forward``. Not modified.
        """
        if self._out_shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dout = check_dout(dout, self._out_shape, type(self).__name__)
        dx = self._backward(dout)
        return dx if self.needs_input_grad else None

    def __call__(self, x, train: bool = False) -> np.ndarray:
        return self.forward(x, train)

    def astype(self, dtype) -> Layer:
        """Convert the parameters (and gradients) to ``dtype``, e.g. float32 for training."""
        for key in self.params:
            self.params[key] = self.params[key].astype(dtype)
            self.grads[key] = np.zeros_like(self.params[key])
        return self

    def num_params(self) -> int:
        """Number of trainable numbers in the layer."""
        return sum(int(p.size) for p in self.params.values())

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # ----- to override ------------------------------------------------------------------

    def _forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        return x

    def _backward(self, dout: np.ndarray) -> np.ndarray | None:
        return dout
