"""One-hot targets and seeded mini-batches."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from nnlib._checks import check_rng

from ._common import check_positive_int


def one_hot(y, k=None, dtype=np.float64) -> np.ndarray:
    """Encode integer class labels as one-hot rows.

    y: (n,) labels in [0, k). k: number of classes (default ``max(y) + 1``).

    Returns Y (n, k) with ``Y[i, y[i]] = 1`` and zeros elsewhere.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must have shape (n,) (one label per sample), got shape {y.shape}")
    if y.dtype.kind == "f":
        # Accept float arrays that hold whole numbers (e.g. labels read from a CSV).
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError("y must hold integer class labels; got non-integer values")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iu":
        raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise ValueError(f"class labels must be >= 0, got minimum label {y.min()}")
    if k is None:
        if y.size == 0:
            raise ValueError("cannot infer the number of classes k from an empty y; pass k")
        k = int(y.max()) + 1
    k = check_positive_int(k, "k")
    if y.size and y.max() >= k:
        raise ValueError(f"class labels must lie in [0, {k}) for k={k}, got label {y.max()}")
    Y = np.zeros((y.shape[0], k), dtype=dtype)
    Y[np.arange(y.shape[0]), y] = 1
    return Y


def minibatches(X, Y, batch_size, rng=None, shuffle=True) -> Iterator[tuple]:
    """Yield ``(X_batch, Y_batch)`` pairs that together cover every sample once.

    X: (n, ...) inputs, Y: (n, ...) targets (labels (n,) or one-hot (n, K)); any trailing
    shape works, only axis 0 (samples) is split. batch_size: samples per batch; the last
    batch holds the remainder when n is not a multiple of batch_size.
    rng: numpy Generator that draws the order; required when ``shuffle`` is True, so the
    order is reproducible. With ``shuffle=False`` batches are views in the stored order.

    Arguments are checked at call time, before the first batch is requested, and the order
    is drawn then too: one ``rng.permutation(n)`` per call, that is per epoch. Every trainer of
    nnlib (``Network.sgd``, ``Sequential.fit``, ``SigmoidNeuron.fit``) takes its mini-batches
    from this function.
    """
    X = np.asarray(X)
    Y = np.asarray(Y)
    if X.ndim == 0 or Y.ndim == 0:
        raise ValueError(f"X and Y must have shape (n, ...), got shapes {X.shape} and {Y.shape}")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(
            f"X and Y must have the same number of samples (axis 0): "
            f"X has shape {X.shape}, Y has shape {Y.shape}"
        )
    batch_size = check_positive_int(batch_size, "batch_size")
    if shuffle:
        if rng is None:
            raise ValueError(
                "minibatches(shuffle=True) needs rng, e.g. rng=np.random.default_rng(0), "
                "so the order is reproducible; or pass shuffle=False"
            )
        order = check_rng(rng, "minibatches").permutation(X.shape[0])
    else:
        order = None
    return _batches(X, Y, batch_size, order)


def _batches(X, Y, batch_size, order):
    n = X.shape[0]
    for start in range(0, n, batch_size):
        if order is None:
            yield X[start : start + batch_size], Y[start : start + batch_size]
        else:
            idx = order[start : start + batch_size]
            yield X[idx], Y[idx]
