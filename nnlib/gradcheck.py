"""Numerical gradient checking: compare backprop with central differences.

The central difference

    dC/dx_i ~ (C(x + h e_i) - C(x - h e_i)) / (2 h)

has error O(h^2), so in float64 with h = 1e-5 a correct gradient agrees with it to about
1e-9 relative error, while a wrong one is usually off by more than 1e-3. Each entry costs two
evaluations of C, which is why this is a checker and backprop is the algorithm.
"""

from __future__ import annotations

import numpy as np


def _numerical_gradient_inplace(f, x: np.ndarray, h: float) -> np.ndarray:
    """Central differences of the scalar ``f()`` w.r.t. the entries of ``x``, in place.

    ``f`` takes no argument and reads ``x``; every entry of ``x`` is restored exactly.
    """
    if x.dtype != np.float64:
        raise ValueError(
            f"gradient checks need float64 arrays (float32 rounding swamps the differences); "
            f"got dtype {x.dtype} with shape {x.shape}"
        )
    grad = np.zeros_like(x)
    # A checker necessarily evaluates f twice per entry: this loop is the point.
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = float(f())
        x[i] = old - h
        f_minus = float(f())
        x[i] = old  # restore the exact original value
        grad[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


def numerical_gradient(f, x, h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of a scalar function by central differences.

    f: callable, ``f(x) -> float``.
    x: array of any shape; it is copied to float64 and the copy is perturbed, so the caller's
       array is never changed.
    Returns an array with the shape of ``x``: entry i is (f(x + h e_i) - f(x - h e_i)) / 2h.
    """
    if not h > 0:
        raise ValueError(f"step h must be positive, got {h}")
    xc = np.array(x, dtype=np.float64)  # always a copy
    return _numerical_gradient_inplace(lambda: f(xc), xc, h)


def relative_error(a, b) -> float:
    """Worst relative error between two gradients of the same shape.

        max_i |a_i - b_i| / max(max_i (|a_i| + |b_i|), 1e-12)

    The scale is that of the whole gradient, so tiny entries do not blow the error up; the
    1e-12 floor makes two all-zero arrays agree (error 0). Returns a float in [0, 1].
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of different shapes: {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a) + np.abs(b))), 1e-12)
    return float(np.max(np.abs(a - b)) / scale)


def check_layer(
    layer, x, rng: np.random.Generator | None = None, train: bool = False, h: float = 1e-5
) -> dict:
    """Check a layer's backward pass against numerical gradients.

    layer: object with ``forward(x, train=False) -> out``, ``backward(dout) -> dx`` and the
        dicts ``params`` / ``grads`` (same keys; float64 parameter arrays).
    x: input batch, any shape the layer accepts; used in float64.
    rng: draws the random upstream gradient ``dout`` (shape of ``out``); None uses
        ``np.random.default_rng(0)``, so the check is reproducible.
    train: passed to ``forward``; keep False for layers that draw randomness in training.

    The scalar checked is C = sum(out * dout), whose gradient w.r.t. out is exactly dout.
    Returns ``{"x": err, <param name>: err, ...}``: worst ``relative_error`` per array.
    """
    if rng is None:
        rng = np.random.default_rng(0)
    x = np.array(x, dtype=np.float64)
    out = np.asarray(layer.forward(x.copy(), train=train))
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout.copy())
    analytic = {name: np.array(g, dtype=np.float64) for name, g in layer.grads.items()}

    def scalar():
        return np.sum(layer.forward(x, train=train) * dout)

    errors = {"x": relative_error(dx, _numerical_gradient_inplace(scalar, x, h))}
    for name, p in layer.params.items():
        if name not in analytic:
            raise ValueError(f"layer.grads has no entry for parameter {name!r}")
        errors[name] = relative_error(analytic[name], _numerical_gradient_inplace(scalar, p, h))
    return errors


def check_network(net, X, Y, h: float = 1e-5) -> dict:
    """Check ``net.backprop(X, Y)`` against numerical gradients of ``net.cost(X, Y)``.

    net: an ``nnlib.network.Network`` (float64 weights). X: (n, sizes[0]). Y: targets.
    Returns ``{"W1": err, "b1": err, "W2": ...}``, where W1 is ``net.weights[0]`` (the
    first weight layer) and err is the worst ``relative_error`` for that array.
    """
    nabla_W, nabla_b = net.backprop(X, Y)

    def cost():
        return net.cost(X, Y)

    errors = {}
    for l, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        errors[f"W{l + 1}"] = relative_error(nabla_W[l], _numerical_gradient_inplace(cost, W, h))
        errors[f"b{l + 1}"] = relative_error(nabla_b[l], _numerical_gradient_inplace(cost, b, h))
    return errors
