"""Checkers for 05_backprop: numerical gradients, the four equations BP1-BP4 and backprop.

Each exercise has its table of named mistakes (description -> a function of the same
arguments computing what that mistake returns) and one checker, plus a ``*_numerical``
checker where the expected values come from central differences instead of the reference,
and a ``*_random`` one drawing the inputs of a hidden cell from its seed. Every checker
calls the student's function with the references it must not use disabled (its
exercise's ``FORBID_*`` list), checks that no input was changed in place, and raises
``AssertionError`` with a message naming the mistake it recognises. The network checkers
(:func:`check_network_worked`, :func:`check_network`) also say which layers are right, or
name the broken equation.

Grading reads the nnlib names spelled out here as strings (the ``FORBID_*`` lists) and
leaves those references out of the sandbox; a unit test checks that it finds them all.
"""

from __future__ import annotations

import numpy as np

from nnlib import activations, gradcheck, network
from nnlib import backprop as bp_ref
from nnlib.grading.compare import (
    assert_close,
    assert_shape,
    assert_unchanged,
    check_output,
    mistake_values,
)
from nnlib.grading.feedback import allclose
from nnlib.grading.forbid import forbidden
from nnlib.grading.quiet import call, quiet

sigmoid, sigmoid_prime = activations.sigmoid, activations.sigmoid_prime

# ----- numerical_gradient and relative_error -----------------------------------------------

FORBID_NUMERICAL_GRADIENT = (
    "nnlib.gradcheck.numerical_gradient",
    "nnlib.gradcheck._numerical_gradient_inplace",
)
FORBID_RELATIVE_ERROR = ("nnlib.gradcheck.relative_error",)

ONE_SIDED = (
    "a one-sided (forward) difference (f(x + h e_i) - f(x)) / h: use the central difference "
    "(f(x + h e_i) - f(x - h e_i)) / (2h), whose error is O(h^2) instead of O(h)"
)


def forward_difference(f, x, h):
    """The one-sided difference (f(x + h e_i) - f(x)) / h; x: any shape, result shaped like x."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    f0 = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - f0) / h
        x[i] = old
    return grad


NUMERICAL_GRADIENT_MISTAKES = {
    ONE_SIDED: forward_difference,
    "divided by h instead of 2h": lambda f, x, h: 2 * gradcheck.numerical_gradient(f, x, h),
}


def check_numerical_gradient(fn, f, x, h, expected, x_name="x"):
    """Check ``fn(f, x, h)`` against the exact gradient ``expected``.

    f: a function of an array shaped like x returning a float. x: array of any shape (an
    integer array too: the answer must then not truncate x + h). expected: shaped like x.
    Returns what ``fn`` returned.
    """
    __tracebackhide__ = True
    x = np.asarray(x)
    mistakes = dict(NUMERICAL_GRADIENT_MISTAKES)
    if x.dtype.kind in "iu":
        mistakes["x + h was truncated: work on a float64 copy of x"] = np.zeros(x.shape)
    expected = np.asarray(expected, dtype=np.float64)
    names = ("f", x_name, "h")
    return check_output(
        fn,
        f,
        x,
        h,
        expected=expected,
        arg_names=names,
        rtol=1e-7,
        atol=1e-8,
        mistakes=mistakes,
        forbid=FORBID_NUMERICAL_GRADIENT,
    )


RELATIVE_ERROR_MISTAKES = {
    (
        "you divided entry by entry (max of |a_i - b_i| / (|a_i| + |b_i|)): one tiny entry "
        "then blows the ratio up; divide the largest difference by the largest |a_i| + |b_i|"
    ): lambda a, b: np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))),
    (
        "the scale is max|a| + max|b|, two different entries: take the largest |a_i| + |b_i| "
        "of one entry"
    ): lambda a, b: np.max(np.abs(a - b)) / (np.max(np.abs(a)) + np.max(np.abs(b))),
    (
        "you used Euclidean norms; the definition above uses the largest entry (max) in the "
        "numerator and in the scale"
    ): lambda a, b: np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)),
    "you used means; the definition above uses the largest entries (max)": lambda a, b: (
        np.mean(np.abs(a - b)) / np.mean(np.abs(a) + np.abs(b))
    ),
}


def check_relative_error(fn, a, b, expected=None):
    """Check ``fn(a, b)``, one number, against ``expected`` (default: the reference).

    a, b: arrays of the same shape.
    """
    __tracebackhide__ = True
    if expected is None:
        expected = gradcheck.relative_error(a, b)
    out = check_output(
        fn,
        a,
        b,
        expected=expected,
        arg_names=("a", "b"),
        mistakes=RELATIVE_ERROR_MISTAKES,
        forbid=FORBID_RELATIVE_ERROR,
    )
    if np.ndim(out) != 0:
        raise AssertionError(f"relative_error should return one number, got {out!r}")
    return out


def check_relative_error_shapes(fn, shape_a, shape_b, names_shapes=False):
    """Check that ``fn`` raises ValueError for arrays of ones shaped ``shape_a``, ``shape_b``.

    The two shapes must differ (and broadcast, or the check proves little). With
    ``names_shapes`` the message of the ValueError must also name both shapes.
    """
    __tracebackhide__ = True
    a, b = np.ones(shape_a), np.ones(shape_b)
    try:
        with forbidden(fn, FORBID_RELATIVE_ERROR), quiet():
            res = fn(a, b)
    except ValueError as err:
        if names_shapes and not (str(a.shape) in str(err) and str(b.shape) in str(err)):
            raise AssertionError(
                f"the ValueError should name both shapes, {a.shape} and {b.shape}; "
                f"its message is {str(err)!r}"
            ) from None
        return
    except NotImplementedError:
        raise AssertionError("relative_error is not written yet") from None
    wide = np.broadcast_shapes(a.shape, b.shape)
    raise AssertionError(
        f"relative_error(a, b) with shapes {a.shape} and {b.shape} should raise ValueError "
        f"naming both shapes; it returned {res!r} (numpy broadcast them to {wide} without a "
        "word)"
    )


# ----- BP1 to BP4, one layer at a time -----------------------------------------------------

SIGMA_NOT_PRIME = "used sigma(z) instead of sigma'(z)"
PER_SAMPLE = (
    "BP1: delta is per sample: do not divide by n here (BP3 and BP4 average over the batch)"
)
BP1_NO_PRIME = (
    "BP1: missing sigma'(z^L): the output error is delta^L = (a^L - y) * sigma'(z^L), "
    "not just a^L - y"
)
BP2_NO_PRIME = (
    "BP2: your delta looks like it is missing the factor sigma'(z): "
    "delta^l = (delta^(l+1) @ W^(l+1)) * sigma'(z^l)"
)
BP2_NOT_TRANSPOSED = (
    "BP2: W not transposed (you used W instead of W^T / the wrong side of the product): "
    "with rows as samples it is delta_next @ W_next, shapes (n, n_next) @ (n_next, n_l)"
)
BP3_WRONG_AXIS = (
    "BP3: bias gradient summed over the wrong axis: axis 1 runs over the units of one "
    "sample; average over the batch, axis 0"
)
SUMMED = (
    "BP3/BP4: you summed over the batch instead of averaging (off by a factor n): the cost "
    "is the mean over the batch, so "
)
BP4_TRANSPOSED = (
    "BP4: dW is transposed: it must be shaped like W, (n_l, n_(l-1)) = delta.T @ a_prev / n"
)
BP4_WRONG_LAYER = (
    "BP4: you used the activations of the wrong layer (a^l instead of a^(l-1)): weights[i] "
    "is fed by activations[i], the layer below it"
)
AND_SUMMED = " (and summed instead of averaged)"

BP1_QUADRATIC_MISTAKES = {
    BP1_NO_PRIME: lambda a, y, z: a - y,
    PER_SAMPLE: lambda a, y, z: (a - y) * a * (1 - a) / len(a),
    SIGMA_NOT_PRIME: lambda a, y, z: (a - y) * a,
}
BP1_SOFTMAX_CE_MISTAKES = {
    "BP1 for softmax + cross-entropy: the sigma'(z) factor cancels, delta^L = a^L - y": (
        lambda a, y: (a - y) * a * (1 - a)
    ),
    PER_SAMPLE: lambda a, y: (a - y) / len(a),
}
BP2_MISTAKES = {
    BP2_NO_PRIME: lambda d, W, z: d @ W,
    BP2_NOT_TRANSPOSED: lambda d, W, z: (d @ W.T) * sigmoid_prime(z),
    BP2_NOT_TRANSPOSED + " (and sigma'(z) is missing)": lambda d, W, z: d @ W.T,
    "BP2: the result is transposed: rows must be samples, shape (n, n_l)": lambda d, W, z: (
        ((d @ W) * sigmoid_prime(z)).T
    ),
    SIGMA_NOT_PRIME: lambda d, W, z: (d @ W) * sigmoid(z),
}
BP3_MISTAKES = {
    SUMMED + "db = delta.mean(axis=0)": lambda d: d.sum(axis=0),
    BP3_WRONG_AXIS: lambda d: d.mean(axis=1),
    BP3_WRONG_AXIS + AND_SUMMED: lambda d: d.sum(axis=1),
    "the batch axis was kept (shape (1, n_l)); return shape (n_l,)": lambda d: d.mean(
        axis=0, keepdims=True
    ),
}
BP4_MISTAKES = {
    SUMMED + "dW = delta.T @ a_prev / n": lambda d, a: d.T @ a,
    BP4_TRANSPOSED: lambda d, a: a.T @ d / len(d),
    BP4_TRANSPOSED + AND_SUMMED: lambda d, a: a.T @ d,
}

FORBID_BP1_QUADRATIC = (
    "nnlib.backprop.bp1",
    "nnlib.backprop.bp1_quadratic",
    "nnlib.backprop.bp1_quadratic_sigmoid",
)
FORBID_BP1_SOFTMAX_CE = (
    "nnlib.backprop.bp1_softmax_cross_entropy",
    "nnlib.losses.categorical_cross_entropy_grad",
)
FORBID_BP2, FORBID_BP3, FORBID_BP4 = (
    "nnlib.backprop.bp2",
    "nnlib.backprop.bp3",
    "nnlib.backprop.bp4",
)


def _check_equation(fn, inputs, expected, mistakes, forbid, atol=1e-9):
    """check_output of ``fn(*inputs.values())``; inputs: argument name -> array."""
    __tracebackhide__ = True
    args, names = tuple(inputs.values()), tuple(inputs)
    return check_output(
        fn,
        *args,
        expected=expected,
        arg_names=names,
        rtol=1e-6,
        atol=atol,
        mistakes=mistakes,
        forbid=forbid,
    )


def check_bp1_quadratic(fn, z_L, y, expected=None, atol=1e-9):
    """Check ``fn(a_L, y, z_L)`` with a_L = sigmoid(z_L); expected default: the reference.

    z_L, y: (n, K).
    """
    __tracebackhide__ = True
    inputs = {"a_L": sigmoid(z_L), "y": y, "z_L": z_L}
    if expected is None:
        expected = bp_ref.bp1_quadratic_sigmoid(*inputs.values())
    return _check_equation(
        fn, inputs, expected, BP1_QUADRATIC_MISTAKES, FORBID_BP1_QUADRATIC, atol
    )


def check_bp1_quadratic_numerical(fn, z_L, y):
    """:func:`check_bp1_quadratic` against central differences of sum_x C_x with respect to z_L.

    z_L, y: (n, K).
    """
    __tracebackhide__ = True
    with quiet():
        numeric = gradcheck.numerical_gradient(lambda z: 0.5 * np.sum((sigmoid(z) - y) ** 2), z_L)
    return check_bp1_quadratic(fn, z_L, y, expected=numeric, atol=1e-8)


def check_bp1_softmax_ce(fn, a_L, y, expected=None, atol=1e-9):
    """Check ``fn(a_L, y)``; expected default: the reference a_L - y.

    a_L: (n, K) rows of probabilities. y: (n, K) one-hot rows.
    """
    __tracebackhide__ = True
    if expected is None:
        expected = bp_ref.bp1_softmax_cross_entropy(a_L, y)
    inputs = {"a_L": a_L, "y": y}
    return _check_equation(
        fn, inputs, expected, BP1_SOFTMAX_CE_MISTAKES, FORBID_BP1_SOFTMAX_CE, atol
    )


def check_bp1_softmax_ce_numerical(fn, z_L, y):
    """Check ``fn(softmax(z_L), y)`` against central differences of -sum y log softmax(z_L).

    z_L: (n, K). y: (n, K) one-hot rows.
    """
    __tracebackhide__ = True
    with quiet():
        numeric = gradcheck.numerical_gradient(
            lambda z: -np.sum(y * activations.log_softmax(z)), z_L
        )
    return check_bp1_softmax_ce(fn, activations.softmax(z_L), y, expected=numeric, atol=1e-8)


def check_bp2(fn, delta_next, W_next, z, expected=None, atol=1e-9):
    """Check ``fn(delta_next, W_next, z)``; expected default: the reference.

    delta_next: (n, n_next). W_next: (n_next, n_l). z: (n, n_l).
    """
    __tracebackhide__ = True
    if expected is None:
        expected = bp_ref.bp2(delta_next, W_next, z, sigmoid_prime)
    inputs = {"delta_next": delta_next, "W_next": W_next, "z": z}
    return _check_equation(fn, inputs, expected, BP2_MISTAKES, FORBID_BP2, atol)


def check_bp2_numerical(fn, delta_next, W_next, z):
    """:func:`check_bp2` against central differences: delta^l = dC/dz^l for the cost
    C(z) = sum(delta_next * z^(l+1)), z^(l+1) = sigmoid(z) @ W_next.T (+ b, which drops out).

    delta_next: (n, n_next). W_next: (n_next, n_l). z: (n, n_l).
    """
    __tracebackhide__ = True
    with quiet():
        numeric = gradcheck.numerical_gradient(
            lambda zz: np.sum(delta_next * (sigmoid(zz) @ W_next.T)), z
        )
    return check_bp2(fn, delta_next, W_next, z, expected=numeric, atol=1e-8)


def check_bp3(fn, delta, expected=None):
    """Check ``fn(delta)``, the bias gradient (n_l,); expected default: the reference.

    delta: (n, n_l).
    """
    __tracebackhide__ = True
    if expected is None:
        expected = bp_ref.bp3(delta)
    return _check_equation(fn, {"delta": delta}, expected, BP3_MISTAKES, FORBID_BP3)


def check_bp3_numerical(fn, delta, b):
    """:func:`check_bp3` against central differences of the mean cost
    C(b) = mean_x sum_j delta_j(x) (z_j(x) + b_j), with respect to b (z drops out).

    delta: (n, n_l). b: (n_l,), where the gradient is taken.
    """
    __tracebackhide__ = True
    with quiet():
        numeric = gradcheck.numerical_gradient(lambda bb: np.sum(delta * bb) / len(delta), b)
    return check_bp3(fn, delta, expected=numeric)


def check_bp4(fn, delta, a_prev, expected=None):
    """Check ``fn(delta, a_prev)``, the weight gradient (n_l, n_prev); default: the reference.

    delta: (n, n_l). a_prev: (n, n_prev).
    """
    __tracebackhide__ = True
    if expected is None:
        expected = bp_ref.bp4(delta, a_prev)
    inputs = {"delta": delta, "a_prev": a_prev}
    return _check_equation(fn, inputs, expected, BP4_MISTAKES, FORBID_BP4)


def check_bp4_numerical(fn, delta, a_prev, W):
    """:func:`check_bp4` against central differences of the mean cost
    C(W) = mean_x sum_j delta_j(x) z_j(x), z = a_prev @ W.T, with respect to W.

    delta: (n, n_l). a_prev: (n, n_prev). W: (n_l, n_prev), where the gradient is taken.
    """
    __tracebackhide__ = True
    with quiet():
        numeric = gradcheck.numerical_gradient(
            lambda M: np.sum(delta * (a_prev @ M.T)) / len(delta), W
        )
    return check_bp4(fn, delta, a_prev, expected=numeric)


# ----- random inputs, for the hidden cells ---------------------------------------------------


def _sin_x2(v):
    return float(np.sum(np.sin(v) * v**2))


def _cube(v):
    return float(np.sum(v**3))


def check_numerical_gradient_accuracy(fn, seed, shapes=((6,), (1,))):
    """``fn(f, x, 1e-5)`` for f(x) = sum(sin(x) x^2) at random x of each shape (tight
    tolerances: a one-sided difference fails), then on the integer array [1, 2, 3]."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for shape in shapes:
        x = rng.uniform(-2, 2, size=shape)
        expected = np.cos(x) * x**2 + 2 * x * np.sin(x)
        check_numerical_gradient(fn, _sin_x2, x, 1e-5, expected)
    check_numerical_gradient(fn, _cube, np.array([1, 2, 3]), 1e-4, np.array([3.0, 12.0, 27.0]))


def check_numerical_gradient_matrix(fn, seed, n=5, shape=(4, 3)):
    """``fn(f, W, 1e-5)`` for f(W) = sum(tanh(X @ W.T)), X: (n, shape[1]), W: shape; the
    exact gradient is (1 - tanh^2).T @ X, shaped like W."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, shape[1]))
    W = rng.standard_normal(shape)
    T = np.tanh(X @ W.T)
    check_numerical_gradient(
        fn, lambda M: float(np.sum(np.tanh(X @ M.T))), W, 1e-5, (1 - T**2).T @ X, x_name="W"
    )


def check_relative_error_cases(fn, seed):
    """``fn(a, b)`` on a random (4, 3) pair and on edge cases: a tiny entry beside a large
    one, two zero arrays, a difference of 1e-9, and the largest |a_i| and |b_j| apart."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    cases = [
        (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))),
        (np.array([1.0, 1e-10]), np.array([1.0, -1e-10])),
        (np.zeros((2, 2)), np.zeros((2, 2))),
        (np.array([3.0]), np.array([3.0 + 3e-9])),
        (np.array([4.0, 0.5]), np.array([0.5, 4.0])),
    ]
    for a, b in cases:
        check_relative_error(fn, a, b)


def check_bp1_quadratic_random(fn, seed, shapes, numerical=False):
    """:func:`check_bp1_quadratic` (or its ``_numerical`` form) for random z_L, y of each
    shape (n, K) in ``shapes``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    check = check_bp1_quadratic_numerical if numerical else check_bp1_quadratic
    for shape in shapes:
        check(fn, rng.normal(scale=2.0, size=shape), rng.uniform(size=shape))


def check_bp1_softmax_ce_random(fn, seed, shapes, numerical=False):
    """:func:`check_bp1_softmax_ce` (or its ``_numerical`` form) for random z_L and one-hot y
    of each shape (n, K) in ``shapes``, with a_L = softmax(z_L)."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for n, K in shapes:
        z_L = rng.normal(scale=2.0, size=(n, K))
        y = np.eye(K)[rng.integers(K, size=n)]
        if numerical:
            check_bp1_softmax_ce_numerical(fn, z_L, y)
        else:
            check_bp1_softmax_ce(fn, activations.softmax(z_L), y)


def check_bp2_random(fn, seed, shapes, numerical=False):
    """:func:`check_bp2` (or its ``_numerical`` form) for random inputs of each
    (n, n_l, n_next) in ``shapes``: delta_next (n, n_next), W_next (n_next, n_l), z (n, n_l)."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    check = check_bp2_numerical if numerical else check_bp2
    for n, n_l, n_next in shapes:
        delta_next = rng.standard_normal((n, n_next))
        W_next = rng.standard_normal((n_next, n_l))
        check(fn, delta_next, W_next, rng.normal(scale=2.0, size=(n, n_l)))


def check_bp3_random(fn, seed, shapes, numerical=False):
    """:func:`check_bp3` (or its ``_numerical`` form) for a random delta of each shape
    (n, n_l) in ``shapes``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for n, n_l in shapes:
        delta = rng.standard_normal((n, n_l))
        if numerical:
            check_bp3_numerical(fn, delta, rng.standard_normal(n_l))
        else:
            check_bp3(fn, delta)


def check_bp4_random(fn, seed, shapes, numerical=False):
    """:func:`check_bp4` (or its ``_numerical`` form) for random delta (n, n_l) and a_prev
    (n, n_prev) in [0, 1) for each (n, n_l, n_prev) in ``shapes``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for n, n_l, n_prev in shapes:
        delta = rng.standard_normal((n, n_l))
        a_prev = rng.uniform(size=(n, n_prev))
        if numerical:
            check_bp4_numerical(fn, delta, a_prev, rng.standard_normal((n_l, n_prev)))
        else:
            check_bp4(fn, delta, a_prev)


# ----- backprop and backprop_linear: whole networks ----------------------------------------

# nnlib's BP3 and BP4 (and so its Network.backprop), and its forward pass: "write the
# forward pass yourself" (backprop_linear; backprop has the notebook's own forward)
FORBID_NETWORK = (
    "nnlib.backprop.bp3",
    "nnlib.backprop.bp4",
    "nnlib.network.Network.forward",
    "nnlib.network.Network.feedforward",
)
LINEAR_NO_PRIME = (
    "linear neurons: g'(z) = 1, so there is no sigma'(z) factor in BP1 or BP2 (and a = z in "
    "the forward pass)"
)
SOFTMAX_IGNORED = (
    "output='softmax' was ignored: a softmax output with the cross-entropy has "
    "delta^L = a^L - y (bp1_softmax_ce)"
)


def variant(mistake, output="sigmoid", linear=False):
    """A known-wrong backprop, for naming the mistake in a message.

    mistake: "bp1" (no sigma'(z^L)), "bp2_sp" (no sigma'(z) in BP2), "bp2_T" (W_next
    transposed), "bp4_layer" (a^l instead of a^(l-1)), "sum" (summed over the batch),
    "sigma" (a linear network computed with sigma'(z) factors) or "none" (no mistake).
    Returns grads(X, Y, *weights, *biases) -> [*nabla_W, *nabla_b], with X: (n, n_0),
    Y: (n, n_L), weights[i]: (n_{i+1}, n_i), biases[i]: (n_{i+1},).
    """
    act = activations.identity if linear else sigmoid
    sp = activations.identity_prime if (linear and mistake != "sigma") else sigmoid_prime

    def grads(X, Y, *p):
        L = len(p) // 2
        Ws, bs = p[:L], p[L:]
        zs, acts = [], [X]
        for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            zs.append(acts[-1] @ W.T + b)
            last = i == L - 1
            soft = last and output == "softmax"
            acts.append(activations.softmax(zs[-1]) if soft else act(zs[-1]))
        if output == "softmax":
            delta = acts[-1] - Y
        else:
            delta = (acts[-1] - Y) * (1.0 if mistake == "bp1" else sp(zs[-1]))
        dWs, dbs = [None] * L, [None] * L
        for i in reversed(range(L)):
            if i < L - 1:
                back = delta @ (Ws[i + 1].T if mistake == "bp2_T" else Ws[i + 1])
                delta = back if mistake == "bp2_sp" else back * sp(zs[i])
            n = 1 if mistake == "sum" else len(X)
            dbs[i] = delta.sum(axis=0) / n
            dWs[i] = delta.T @ acts[i + 1 if mistake == "bp4_layer" else i] / n
        return [*dWs, *dbs]

    return grads


NETWORK_SUM = SUMMED + "dW = delta.T @ a_prev / n"
MISTAKES = {
    BP1_NO_PRIME: variant("bp1"),
    BP2_NO_PRIME: variant("bp2_sp"),
    BP2_NOT_TRANSPOSED: variant("bp2_T"),
    BP4_WRONG_LAYER: variant("bp4_layer"),
    NETWORK_SUM: variant("sum"),
}
SOFTMAX_MISTAKES = {
    SOFTMAX_IGNORED: variant("none", output="sigmoid"),
    BP2_NO_PRIME: variant("bp2_sp", output="softmax"),
    BP4_WRONG_LAYER: variant("bp4_layer", output="softmax"),
    NETWORK_SUM: variant("sum", output="softmax"),
}
LINEAR_MISTAKES = {
    LINEAR_NO_PRIME: variant("sigma", linear=True),
    BP2_NOT_TRANSPOSED: variant("bp2_T", linear=True),
    BP4_WRONG_LAYER: variant("bp4_layer", linear=True),
    NETWORK_SUM: variant("sum", linear=True),
}


def _kind(output, linear):
    """Network keyword arguments and the table of mistakes for one kind of network."""
    if linear:
        return {"hidden": "identity", "output": "identity", "cost": "quadratic"}, LINEAR_MISTAKES
    if output == "softmax":
        return {"output": "softmax", "cost": "cross_entropy"}, SOFTMAX_MISTAKES
    return {"output": "sigmoid", "cost": "quadratic"}, MISTAKES


def _reference_net(weights, biases, **kind):
    sizes = [np.shape(weights[0])[1]] + [np.shape(W)[0] for W in weights]
    net = network.Network(sizes, rng=np.random.default_rng(0), **kind)
    net.weights, net.biases = [W.copy() for W in weights], [b.copy() for b in biases]
    return net


def reference_gradients(X, Y, weights, biases, **kind):
    """[*nabla_W, *nabla_b] of nnlib's Network with these parameters.

    X: (n, n_0). Y: (n, n_L). weights[i]: (n_{i+1}, n_i). biases[i]: (n_{i+1},).
    kind: Network's keyword arguments (hidden, output, cost).
    """
    ref_W, ref_b = _reference_net(weights, biases, **kind).backprop(X, Y)
    return [*ref_W, *ref_b]


def _call_network(fn, X, Y, weights, biases, output, label):
    """Call ``fn(X, Y, weights, biases[, output=...])`` on copies; check the inputs unchanged
    and the form of the result. Returns [*nabla_W, *nabla_b]."""
    __tracebackhide__ = True
    L = len(weights)
    args = (X.copy(), Y.copy(), [W.copy() for W in weights], [b.copy() for b in biases])
    kwargs = {"output": "softmax"} if output == "softmax" else {}
    with forbidden(fn, FORBID_NETWORK):
        res = call(fn, *args, name=label, **kwargs)
    given = [("X", X, args[0]), ("Y", Y, args[1])]
    given += [(f"weights[{i}]", weights[i], args[2][i]) for i in range(L)]
    given += [(f"biases[{i}]", biases[i], args[3][i]) for i in range(L)]
    assert_unchanged(label, given)
    if not (isinstance(res, (tuple, list)) and len(res) == 2):
        raise AssertionError(
            f"{label} should return the pair (nabla_W, nabla_b), got {res!r:.200}"
        )
    if len(res[0]) != L or len(res[1]) != L:
        raise AssertionError(
            f"{label}: nabla_W and nabla_b should hold {L} arrays each (one per weight layer), "
            f"got {len(res[0])} and {len(res[1])}"
        )
    return [*res[0], *res[1]]


def _names(L):
    return [f"nabla_W[{i}]" for i in range(L)] + [f"nabla_b[{i}]" for i in range(L)]


def _check_shapes(got, weights, biases):
    __tracebackhide__ = True
    L = len(weights)
    for i, W in enumerate(weights):
        shape = np.shape(got[i])
        if shape != W.shape:
            hint = ""
            if shape == (W.shape[0], W.shape[0]):
                hint = f"\n  Likely mistake: {BP4_WRONG_LAYER}"
            elif shape == W.shape[::-1]:
                hint = f"\n  Likely mistake: {BP4_TRANSPOSED}"
            raise AssertionError(
                f"nabla_W[{i}] should have the shape of weights[{i}], {W.shape}, "
                f"but it has shape {shape}{hint}"
            )
        assert_shape(got[L + i], biases[i].shape, f"nabla_b[{i}]")


def _where_to_look(bad, L, linear):
    """Which equation to suspect, from the indices (into [*nabla_W, *nabla_b]) that are wrong."""
    if all(k < L for k in bad):
        return (
            "every nabla_b is right, so the errors delta are right: look at BP4 "
            "(dW = delta.T @ a_prev / n, with a_prev the activations feeding the layer)"
        )
    if all(k >= L for k in bad):
        return "every nabla_W is right: look at BP3 (db = the mean of delta over the batch)"
    if L - 1 in bad or 2 * L - 1 in bad:
        if linear:
            return (
                "the output layer is already wrong: check the forward pass (a = z, no "
                "activation function) and BP1 for linear neurons (delta^L = a^L - y, no "
                "sigma'(z) factor)"
            )
        return (
            "the output layer is already wrong: check BP1 (delta^L = (a^L - y) * sigma'(z^L)) "
            "and BP3, BP4 for the last layer first"
        )
    return (
        "the output layer is right, so BP1, BP3 and BP4 work there: the error enters when "
        "delta moves back a layer (BP2)"
    )


def check_network_worked(fn, X, Y, weights, biases, linear=False):
    """The visible check of ``backprop`` (or ``backprop_linear`` with ``linear``).

    X: (n, n_0). Y: (n, n_L). weights[i]: (n_{i+1}, n_i). biases[i]: (n_{i+1},).
    Compares every gradient with nnlib's Network; a failure says which layers are right
    and which equation to suspect, and names the mistake where it recognises one.
    """
    __tracebackhide__ = True
    L, n = len(weights), len(X)
    sizes = [np.shape(weights[0])[1]] + [np.shape(W)[0] for W in weights]
    label = f"{fn.__name__} on a {sizes} network"
    call_label = f"{fn.__name__}(X, Y, weights, biases)"
    got = _call_network(fn, X, Y, weights, biases, "sigmoid", call_label)
    _check_shapes(got, weights, biases)
    kind, _ = _kind("sigmoid", linear)
    expected = reference_gradients(X, Y, weights, biases, **kind)
    if linear:
        wrong = {
            (
                "these are the gradients of a sigmoid network: with linear neurons a = z and "
                "g'(z) = 1, so neither sigma nor sigma' appears anywhere"
            ): reference_gradients(X, Y, weights, biases),
        }
    else:
        wrong = {BP1_NO_PRIME: reference_gradients(X, Y, weights, biases, cost="cross_entropy")}
    wrong[f"BP3/BP4: summed over the batch instead of averaged (off by the factor n = {n})"] = [
        n * g for g in expected
    ]
    start = "is a^L - y" if linear else "starts from a^L - y"
    wrong[f"the sign is flipped: the output error {start}, not y - a^L"] = [-g for g in expected]
    names = _names(L)
    bad = [k for k in range(2 * L) if not allclose(got[k], expected[k], 1e-6, 1e-9)]
    if not bad:
        return
    right = [names[k] for k in range(2 * L) if k not in bad]
    where = f"wrong: {', '.join(names[k] for k in bad)}; right: {', '.join(right) or 'none'}"
    k = bad[0]
    try:
        assert_close(
            got[k],
            expected[k],
            f"{label}: {names[k]}",
            atol=1e-9,
            mistakes={d: c[k] for d, c in wrong.items()},
        )
        message = f"{label}: {names[k]} differs from the expected gradient"
    except AssertionError as err:
        message = str(err)
    raise AssertionError(
        f"{message}\n  Layer by layer: {where}.\n  Where to look: {_where_to_look(bad, L, linear)}"
    )


def check_network(fn, sizes, n, seed, output="sigmoid", linear=False):
    """Check ``fn(X, Y, weights, biases)`` on a random network against nnlib and against
    central differences of nnlib's cost, naming the known mistakes of its kind.

    sizes: layer widths [n_0, ..., n_L]; n: batch size; seed: of the weights, biases,
    inputs X (n, n_0) and targets Y (n, n_L) (one-hot rows for softmax). output="softmax"
    calls ``fn(..., output="softmax")`` (cross-entropy cost); ``linear`` checks a network of
    linear neurons (``backprop_linear``).
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    kind, mistakes = _kind(output, linear)
    net = network.Network(sizes, rng=rng, **kind)
    L = len(sizes) - 1
    Ws = [W.copy() for W in net.weights]
    bs = [0.3 * rng.standard_normal(m) for m in sizes[1:]]
    X = rng.standard_normal((n, sizes[0]))
    if output == "softmax":
        Y = np.eye(sizes[-1])[rng.integers(sizes[-1], size=n)]
    else:
        Y = rng.uniform(size=(n, sizes[-1]))
    name = "backprop(..., output='softmax')" if output == "softmax" else fn.__name__
    label = f"{name} on a {sizes} network with a batch of {n}"
    got = _call_network(fn, X, Y, Ws, bs, output, label)
    names, params = _names(L), [*Ws, *bs]
    wrong = {d: v for d, v in mistake_values(mistakes, X, Y, *params).items() if v is not None}
    expected = reference_gradients(X, Y, Ws, bs, **kind)
    for k, exp in enumerate(expected):
        scale = max(float(np.max(np.abs(exp))), 1.0)
        assert_close(
            got[k],
            exp,
            f"{label}: {names[k]}",
            atol=1e-9 * scale,
            mistakes={d: c[k] for d, c in wrong.items()},
        )
    # and against central differences of the cost itself
    for k, p in enumerate(params):

        def cost_of(v, k=k):
            q = list(params)
            q[k] = v
            net.weights, net.biases = q[:L], q[L:]
            return net.cost(X, Y)

        with quiet():
            numeric = gradcheck.numerical_gradient(cost_of, p)
        assert_close(
            got[k],
            numeric,
            f"{label}: {names[k]} vs central differences",
            rtol=1e-5,
            atol=1e-8,
            mistakes={d: c[k] for d, c in wrong.items()},
        )


def check_networks(fn, cases, output="sigmoid", linear=False):
    """:func:`check_network` for each (sizes, n, seed) in ``cases``."""
    __tracebackhide__ = True
    for sizes, n, seed in cases:
        check_network(fn, sizes, n, seed, output=output, linear=linear)
