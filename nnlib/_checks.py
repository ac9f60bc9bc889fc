"""Input checks shared by the library: clear `ValueError`s instead of numpy tracebacks."""

from __future__ import annotations

import numpy as np


def as_float_array(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as a floating numpy array (float64 unless it already is float32/64).

    Raises ``ValueError`` naming ``name`` when ``x`` is not numeric.
    """
    arr = np.asarray(x)
    if arr.dtype.kind in "fc":
        return arr
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}")


def check_rng(rng, who: str) -> np.random.Generator:
    """Return ``rng``, or raise ``TypeError`` unless it is a ``numpy.random.Generator``.

    The one check of every function that draws random numbers (weights, masks, the order of
    the samples): randomness comes only from a Generator the caller passes in, never from
    numpy's global state, so a seed reproduces a run. ``who`` names the caller in the message.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{who} needs rng to be a numpy.random.Generator, e.g. "
            f"rng=np.random.default_rng(0); got {type(rng).__name__}"
        )
    return rng


def check_ndim(arr: np.ndarray, ndim: int, name: str, meaning: str) -> None:
    """Raise ``ValueError`` unless ``arr.ndim == ndim``; ``meaning`` spells the expected shape."""
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have shape {meaning}, got shape {arr.shape}")


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape: "
            f"{name_a} has shape {a.shape}, {name_b} has shape {b.shape}"
        )


def check_dim(arr: np.ndarray, axis: int, size: int, name: str, meaning: str) -> None:
    """Raise ``ValueError`` unless ``arr.shape[axis] == size``."""
    if arr.shape[axis] != size:
        raise ValueError(f"{name} must have {size} {meaning} (axis {axis}), got shape {arr.shape}")
