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
"""

from __future__ import annotations

import sys

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


class BufferPool:
    """Scratch arrays a layer reuses from step to step instead of allocating anew.

    Large temporaries (im2col matrices, padded images) allocated and freed every training
    step make the C allocator return the memory to the system and fault it in again each
    time; keeping one flat array per purpose and viewing its first elements avoids that.
    Only internal temporaries live here, never an array handed back to the caller.
    """

    def __init__(self) -> None:
        self._flat: dict[str, np.ndarray] = {}
        self._fresh: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple, dtype) -> np.ndarray:
        """A C-contiguous array of ``shape`` and ``dtype`` (contents undefined)."""
        size = 1
        for s in shape:
            size *= s
        dtype = np.dtype(dtype)
        flat = self._flat.get(name)
        if flat is None or flat.dtype != dtype or flat.size < size:
            flat = np.empty(size, dtype=dtype)
            self._flat[name] = flat
        return flat[:size].reshape(shape)

    def fresh_like(self, name: str, like: np.ndarray) -> np.ndarray:
        """An array shaped and laid out like ``like`` that nobody else holds (contents undefined).

        Used for arrays a layer hands back (outputs, input gradients): the previous one is
        reused only when no reference to it (or to a view of it) is left outside this pool,
        so an array the caller kept is never overwritten.
        """
        arr = self._fresh.get(name)
        if (
            arr is not None
            and arr.shape == like.shape
            and arr.strides == like.strides
            and arr.dtype == like.dtype
            and _refcount(self._fresh, name) == _UNSHARED
        ):
            return arr
        arr = self._fresh[name] = np.empty_like(like)
        return arr

    def fresh(self, name: str, shape: tuple, dtype) -> np.ndarray:
        """Like ``fresh_like`` for a C-contiguous array of ``shape`` and ``dtype``."""
        arr = self._fresh.get(name)
        if (
            arr is not None
            and arr.shape == tuple(shape)
            and arr.dtype == dtype
            and _refcount(self._fresh, name) == _UNSHARED
        ):
            return arr
        arr = self._fresh[name] = np.empty(shape, dtype)
        return arr

    def fresh_with_layout(self, name: str, shape: tuple, axis_order: tuple, dtype):
        """Like ``fresh``, laid out in memory with axes in ``axis_order`` (outermost first).

        Returns a transposed view of shape ``shape``; see ``memory_axis_order``.
        """
        mem = self.fresh(name, tuple(shape[i] for i in axis_order), dtype)
        return mem.transpose(np.argsort(axis_order))

    def clear(self) -> None:
        """Drop every buffer (frees the memory)."""
        self._flat.clear()
        self._fresh.clear()


def memory_axis_order(a: np.ndarray) -> tuple:
    """Axes of ``a`` from the largest stride to the smallest: its layout in memory."""
    return tuple(int(i) for i in np.argsort([-abs(s) for s in a.strides], kind="stable"))


def _refcount(store: dict, name: str) -> int:
    value = store[name]
    return sys.getrefcount(value)


# The count _refcount sees for an array held by nothing but its dict entry, measured the same
# way, so the comparison does not depend on how the interpreter counts its own references.
_UNSHARED = _refcount({"probe": np.empty(1)}, "probe")
