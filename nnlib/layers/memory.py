"""Where layers get their arrays: the speed machinery, apart from the Layer contract.

Nothing here changes a number a layer computes; it only decides which memory the numbers
are written into. A model hands it to its layers (``Sequential`` does, see
``nnlib.model``); a layer used on its own has none and allocates fresh arrays.

- ``BufferPool``: one per layer, named scratch arrays (im2col matrices, padded images,
  ReLU's mask) reused from step to step. Only internal temporaries live here, never an
  array handed back to the caller.
- ``ArrayRecycler``: shared by all the layers of a model, the arrays of outputs and input
  gradients, each reused once nobody holds it any more.

Why: large temporaries allocated and freed every training step make the C allocator
return the memory to the system and fault it in again each time; reusing them keeps the
memory a step touches small and warm in the caches.

The helpers ``empty_like`` and ``scratch`` take the recycler or pool of a layer, or
``None``, so that layer code reads the same with and without them.
"""

from __future__ import annotations

import sys

import numpy as np


class BufferPool:
    """Scratch arrays a layer reuses from step to step instead of allocating anew.

    One flat array per purpose (``name``); ``get`` views its first elements.
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


def memory_axis_order(a: np.ndarray) -> tuple:
    """Axes of ``a`` from the largest stride to the smallest: its layout in memory."""
    return tuple(int(i) for i in np.argsort([-abs(s) for s in a.strides], kind="stable"))


class ArrayRecycler:
    """Hands out arrays for layer outputs and gradients, recycling those nobody holds any more.

    An array goes back into use only when no reference to it (or to a view of it) is left
    outside the recycler, so an array the caller kept is never overwritten. A model gives
    all its layers one recycler: an output that died early in the step (the convolution's
    z once ReLU has used it) then serves as a gradient later in the same step.
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


def empty_like(recycler: ArrayRecycler | None, like: np.ndarray) -> np.ndarray:
    """An array for a layer's output or gradient, shaped, typed and laid out like ``like``:
    from ``recycler``, or newly allocated when there is none."""
    return np.empty_like(like) if recycler is None else recycler.empty_like(like)


def empty(recycler: ArrayRecycler | None, shape, dtype, axis_order=None) -> np.ndarray:
    """``recycler.empty(shape, dtype, axis_order)``, or a new array laid out the same way."""
    if recycler is not None:
        return recycler.empty(shape, dtype, axis_order)
    if axis_order is None:
        return np.empty(shape, dtype)
    return np.empty(tuple(shape[i] for i in axis_order), dtype).transpose(np.argsort(axis_order))


def scratch(pool: BufferPool | None, name: str, shape: tuple, dtype) -> np.ndarray:
    """A temporary C-contiguous array of ``shape``: ``pool``'s buffer ``name``, or a new one."""
    return np.empty(shape, dtype) if pool is None else pool.get(name, shape, dtype)


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
