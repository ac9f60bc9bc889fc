"""Small synthetic 2-D classification sets, drawn from an explicit ``rng``.

Every ``make_<name>(n, rng, noise=..., ...)`` returns ``(X, y)`` with

- ``X``: (n, 2) float64 points,
- ``y``: (n,) int64 class labels in ``[0, k)``,

classes as balanced as ``n`` allows (counts differ by at most one) and samples in a
random order, so a plain slice is already a fair mini-batch. ``noise`` is the standard
deviation of the Gaussian added to each coordinate. The same ``rng`` seed gives the same
data; nothing touches numpy's global random state.
"""

from __future__ import annotations

import numpy as np

from nnlib._checks import check_rng

from ._common import check_non_negative, check_positive_int


def _balanced_labels(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Return (n,) int64 labels with counts differing by at most one, in random order."""
    return rng.permutation(np.arange(n, dtype=np.int64) % k)


def _add_noise(X: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Return X (n, 2) plus N(0, noise^2) on each coordinate (always draws, so the rng
    stream does not depend on whether noise is zero)."""
    return X + noise * rng.standard_normal(X.shape)


def make_blobs(n, rng, k=3, noise=0.5, centers=None, radius=2.5):
    """Gaussian blobs: class ``j`` is centred at ``centers[j]``.

    n: number of points. rng: numpy Generator. k: number of classes (ignored when
    ``centers`` is given). noise: standard deviation around each centre.
    centers: optional (k, 2) array; by default k points evenly spaced on a circle of the
    given ``radius``.

    Returns X (n, 2) float64 and y (n,) int64 in [0, k).
    """
    rng = check_rng(rng, "make_blobs")
    n = check_positive_int(n, "n")
    noise = check_non_negative(noise, "noise")
    if centers is None:
        k = check_positive_int(k, "k")
        angle = 2 * np.pi * np.arange(k) / k + np.pi / 2
        centers = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    else:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2 or centers.shape[1] != 2 or centers.shape[0] < 1:
            raise ValueError(f"centers must have shape (k, 2), got shape {centers.shape}")
        k = centers.shape[0]
    y = _balanced_labels(n, k, rng)
    X = _add_noise(centers[y], noise, rng)
    return X, y


def make_xor(n, rng, noise=0.25):
    """The XOR problem: four noisy clusters at the corners (+-1, +-1).

    A point's label is 1 when exactly one of its corner's coordinates is positive
    (x1 > 0 xor x2 > 0), else 0, so no straight line separates the classes.

    Returns X (n, 2) float64 and y (n,) int64 in {0, 1}.
    """
    rng = check_rng(rng, "make_xor")
    n = check_positive_int(n, "n")
    noise = check_non_negative(noise, "noise")
    # Corners in an order whose labels alternate, so balanced corners give balanced labels.
    corners = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    corner = _balanced_labels(n, 4, rng)
    y = (corner % 2).astype(np.int64)
    X = _add_noise(corners[corner], noise, rng)
    return X, y


def make_moons(n, rng, noise=0.1):
    """Two interleaving half circles of radius 1.

    Class 0 lies on (cos t, sin t), class 1 on (1 - cos t, 0.5 - sin t), t in [0, pi].

    Returns X (n, 2) float64 and y (n,) int64 in {0, 1}.
    """
    rng = check_rng(rng, "make_moons")
    n = check_positive_int(n, "n")
    noise = check_non_negative(noise, "noise")
    y = _balanced_labels(n, 2, rng)
    t = rng.uniform(0.0, np.pi, size=n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    X = np.where((y == 0)[:, None], upper, lower)
    return _add_noise(X, noise, rng), y


def make_circles(n, rng, noise=0.05, factor=0.5):
    """Two concentric circles: class 0 on radius 1, class 1 on radius ``factor`` (0 < factor < 1).

    Returns X (n, 2) float64 and y (n,) int64 in {0, 1}.
    """
    rng = check_rng(rng, "make_circles")
    n = check_positive_int(n, "n")
    noise = check_non_negative(noise, "noise")
    if not 0.0 < float(factor) < 1.0:
        raise ValueError(f"factor must lie strictly between 0 and 1, got {factor!r}")
    y = _balanced_labels(n, 2, rng)
    t = rng.uniform(0.0, 2 * np.pi, size=n)
    r = np.where(y == 0, 1.0, float(factor))
    X = r[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)
    return _add_noise(X, noise, rng), y


def make_spirals(n, rng, k=2, noise=0.05, turns=1.5):
    """``k`` interleaved spiral arms winding out from the origin to radius 1.

    A point at fraction s in [0, 1] along arm j sits at radius s and angle
    2 pi (turns * s + j / k).

    Returns X (n, 2) float64 and y (n,) int64 in [0, k).
    """
    rng = check_rng(rng, "make_spirals")
    n = check_positive_int(n, "n")
    k = check_positive_int(k, "k")
    noise = check_non_negative(noise, "noise")
    y = _balanced_labels(n, k, rng)
    s = rng.uniform(0.0, 1.0, size=n)
    theta = 2 * np.pi * (float(turns) * s + y / k)
    X = s[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    return _add_noise(X, noise, rng), y
