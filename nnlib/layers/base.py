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
        # where outputs and input gradients come from (Sequential shares one among layers)
        self.recycler = ArrayRecycler()

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

    def clear(self) -> None:
        """Drop every buffer (frees the memory)."""
        self._flat.clear()


def memory_axis_order(a: np.ndarray) -> tuple:
    """Axes of ``a`` from the largest stride to the smallest: its layout in memory."""
    return tuple(int(i) for i in np.argsort([-abs(s) for s in a.strides], kind="stable"))


class ArrayRecycler:
    """Hands out arrays for layer outputs and gradients, recycling those nobody holds any more.

    An array goes back into use only when no reference to it (or to a view of it) is left
    outside the recycler, so an array the caller kept is never overwritten. ``Sequential``
    gives all its layers one recycler: an output that died early in the step (the
    convolution's z once ReLU has used it) then serves as a gradient later in the same step,
    which keeps the memory a step touches small.
    """

    def __init__(self, limit: int = 16) -> None:
        self.limit = limit
        self._arrays: list[np.ndarray] = []

    def empty(self, shape, dtype, axis_order=None) -> np.ndarray:
        """An array of ``shape`` (contents undefined), laid out in memory with its axes in
        ``axis_order`` (outermost first; C order by default)."""
        dtype = np.dtype(dtype)
        mem_shape = tuple(shape) if axis_order is None else tuple(shape[i] for i in axis_order)
        for i in range(len(self._arrays)):
            if _free_match(self._arrays, i, mem_shape, dtype):
                arr = self._arrays[i]
                break
        else:
            arr = np.empty(mem_shape, dtype)
            self._arrays.append(arr)
            if len(self._arrays) > self.limit:
                del self._arrays[0]  # forget the oldest: bounded memory
        return arr if axis_order is None else arr.transpose(np.argsort(axis_order))

    def empty_like(self, like: np.ndarray) -> np.ndarray:
        """An array shaped, typed and laid out like ``like``."""
        return self.empty(like.shape, like.dtype, memory_axis_order(like))


def _free_match(arrays: list, i: int, shape: tuple, dtype) -> bool:
    value = arrays[i]
    return value.shape == shape and value.dtype == dtype and sys.getrefcount(value) == _UNSHARED


# The count sys.getrefcount sees, inside _free_match, for an array held by nothing but the
# recycler's list, measured the same way so it does not depend on the interpreter's own
# bookkeeping.
def _unshared_count() -> int:
    probe = [np.empty(1)]
    value = probe[0]
    return sys.getrefcount(value)


_UNSHARED = _unshared_count()
