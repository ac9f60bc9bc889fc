"""Weight initialisers: draw the starting weights of a layer from an explicit ``rng``.

Two forms of each scheme:

- the dense form ``scheme(n_in, n_out, rng)`` returns ``W`` of shape (n_out, n_in), the
  lectures' orientation, so a layer computes ``Z = X @ W.T + b``;
- the shape form ``scheme_shape(shape, rng)`` takes any weight shape, for example a
  convolution kernel (c_out, c_in, kh, kw), and computes the fans from it (see ``fans``).

Schemes (std is the standard deviation of the Gaussian draws):

- ``small_gaussian``: N(0, scale^2), scale 0.01 by default (the naive choice);
- ``lecun``: N(0, 1/fan_in), the improved initialisation for sigmoid networks: it keeps
  z = sum_k w_k a_k of order one, so sigmoid units do not start saturated;
- ``he``: N(0, 2/fan_in), for ReLU networks (a ReLU zeroes half of its inputs);
- ``glorot``: uniform on [-limit, limit] with limit = sqrt(6 / (fan_in + fan_out)).

Biases are usually started at zero: ``np.zeros(n_out)``.
"""

from __future__ import annotations

import math

import numpy as np

from nnlib._checks import check_rng


def _check_shape(shape) -> tuple[int, ...]:
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise ValueError(f"shape must be a tuple of positive ints, got {shape!r}") from None
    if len(shape) < 2 or any(s <= 0 for s in shape):
        raise ValueError(
            "shape must have at least 2 positive sizes, (n_out, n_in) or "
            f"(c_out, c_in, kh, kw); got {shape}"
        )
    return shape


def fans(shape) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a weight array of the given shape.

    Dense (n_out, n_in): fan_in = n_in, fan_out = n_out.
    Conv (c_out, c_in, kh, kw): fan_in = c_in kh kw, fan_out = c_out kh kw (each output
    unit sees c_in kh kw inputs; each input feeds c_out kh kw outputs).
    """
    shape = _check_shape(shape)
    receptive = math.prod(shape[2:])  # 1 for a dense weight matrix
    return shape[1] * receptive, shape[0] * receptive


# ----- shape forms ----------------------------------------------------------------------


def small_gaussian_shape(shape, rng: np.random.Generator, scale: float = 0.01) -> np.ndarray:
    """Weights of the given shape drawn from N(0, scale^2); float64."""
    check_rng(rng, "small_gaussian")
    shape = _check_shape(shape)
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return scale * rng.standard_normal(shape)


def lecun_shape(shape, rng: np.random.Generator) -> np.ndarray:
    """Weights of the given shape drawn from N(0, 1/fan_in); float64."""
    check_rng(rng, "lecun")
    fan_in, _ = fans(shape)
    return rng.standard_normal(_check_shape(shape)) / math.sqrt(fan_in)


def he_shape(shape, rng: np.random.Generator) -> np.ndarray:
    """Weights of the given shape drawn from N(0, 2/fan_in); float64."""
    check_rng(rng, "he")
    fan_in, _ = fans(shape)
    return rng.standard_normal(_check_shape(shape)) * math.sqrt(2.0 / fan_in)


def glorot_shape(shape, rng: np.random.Generator) -> np.ndarray:
    """Weights uniform on [-l, l], l = sqrt(6 / (fan_in + fan_out)); float64."""
    check_rng(rng, "glorot")
    fan_in, fan_out = fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=_check_shape(shape))


# ----- dense forms: W of shape (n_out, n_in) ----------------------------------------------


def small_gaussian(
    n_in: int, n_out: int, rng: np.random.Generator, scale: float = 0.01
) -> np.ndarray:
    """Dense weights W, shape (n_out, n_in), drawn from N(0, scale^2)."""
    return small_gaussian_shape((n_out, n_in), rng, scale=scale)


def lecun(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """Dense weights W, shape (n_out, n_in), drawn from N(0, 1/n_in)."""
    return lecun_shape((n_out, n_in), rng)


def he(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """Dense weights W, shape (n_out, n_in), drawn from N(0, 2/n_in)."""
    return he_shape((n_out, n_in), rng)


def glorot(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """Dense weights W, shape (n_out, n_in), uniform with limit sqrt(6/(n_in + n_out))."""
    return glorot_shape((n_out, n_in), rng)


#: name -> dense initialiser ``f(n_in, n_out, rng) -> W (n_out, n_in)``.
INITIALISERS = {
    "small_gaussian": small_gaussian,
    "lecun": lecun,
    "he": he,
    "glorot": glorot,
}

#: name -> shape initialiser ``f(shape, rng) -> W``.
SHAPE_INITIALISERS = {
    "small_gaussian": small_gaussian_shape,
    "lecun": lecun_shape,
    "he": he_shape,
    "glorot": glorot_shape,
}


def get(name: str):
    """Return the dense initialiser named ``name`` (a key of ``INITIALISERS``)."""
    try:
        return INITIALISERS[name]
    except KeyError:
        raise ValueError(
            f"unknown initialiser {name!r}; choose one of {sorted(INITIALISERS)}"
        ) from None
