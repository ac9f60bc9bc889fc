"""Checkers of notebook 01_neuron: the neuron, the sigmoid, the derivatives, the softmax.

Each exercise has one checker per kind of test (worked values, stable computation,
agreement with central differences) and one table of the mistakes it can name. A checker
calls the student's function quietly, with the nnlib reference of that very function
disabled, compares with the fresh nnlib reference and raises ``AssertionError`` with a
message that names a recognised mistake or says where the values differ.

Element-wise exercises (``sigmoid``, ``sigmoid_prime``, ``relu_prime``, ``tanh_prime``)
take ``z`` of any shape; ``softmax`` takes ``Z`` of shape (n, K); ``neuron`` takes
``X`` (n, d), ``w`` (d,), a float ``b`` and the name of an activation.
"""

from __future__ import annotations

import numpy as np

from nnlib import activations
from nnlib.grading.compare import check_no_warnings, check_output
from nnlib.grading.gradients import check_derivative


def normal(seed: int, *shapes: tuple, scale: float = 1.0) -> list:
    """Arrays ``scale * N(0, 1)`` of the given shapes, drawn in turn from one generator
    seeded by ``seed`` (the random inputs of a hidden test)."""
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(shape) for shape in shapes]


# ----- neuron(X, w, b, g) ------------------------------------------------------------------

#: description -> what that slip returns, a function of (X, w, b, g)
NEURON_MISTAKES = {
    "the activation g is not applied: return g(z), not z": lambda X, w, b, g: X @ w + b,
    "the bias b is missing": lambda X, w, b, g: g(X @ w),
    "the bias is added after the activation: use g(X w + b)": lambda X, w, b, g: g(X @ w) + b,
}


def check_neuron(neuron, X, w, b: float, g: str, expected=None, name: str | None = None):
    """Check ``neuron(X, w, b, g) = g(X w + b)`` and return the student's result.

    X: (n, d) inputs. w: (d,) weights. b: the bias. g: the name of an nnlib activation
    ("identity", "tanh", "sigmoid", "relu"), passed to the student as that function.
    expected: (n,) the right outputs (default: computed with the reference).
    """
    __tracebackhide__ = True
    act = getattr(activations, g)
    return check_output(
        neuron,
        X,
        w,
        b,
        act,
        expected=act(X @ w + b) if expected is None else np.asarray(expected, dtype=float),
        arg_names=("X", "w", "b", "g"),
        name=name or f"neuron(X, w, b, {g})",
        mistakes=NEURON_MISTAKES,
    )


def check_neuron_random(neuron, shapes, seed: int) -> None:
    """``check_neuron`` on random X (n, d), w (d,) and b for each (n, d) of ``shapes``,
    with the activations sigmoid, relu and identity."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for n, d in shapes:
        X, w, b = rng.standard_normal((n, d)), rng.standard_normal(d), float(rng.standard_normal())
        for g in ("sigmoid", "relu", "identity"):
            check_neuron(neuron, X, w, b, g, name=f"neuron(X, w, b, {g}) with X of shape {(n, d)}")


# ----- the element-wise exercises ----------------------------------------------------------

#: description -> the wrong function of z it names
SIGMOID_MISTAKES = {
    # exp(-z)/(1+exp(-z)) is the same function: one description for both ways to type it
    "your sigmoid seems to compute 1/(1+exp(z)) = exp(-z)/(1+exp(-z)), which is "
    "1 - sigma(z): the minus sign is missing": lambda z: 1 / (1 + np.exp(z)),
    "your sigmoid seems to compute 1/(1-exp(-z)): use a plus sign in the denominator": lambda z: (
        1 / (1 - np.exp(-z))
    ),
}

SIGMOID_PRIME_MISTAKES = {
    "this is sigma(z), not its derivative": activations.sigmoid,
    "this is z (1 - z): the formula a (1 - a) takes the activation a = sigma(z), not z; "
    "compute s = sigmoid(z) first and return s * (1 - s)": lambda z: z * (1 - z),
    "this is sigma(z) (1 - z): the second factor is 1 - sigma(z), not 1 - z": lambda z: (
        activations.sigmoid(z) * (1 - z)
    ),
    "this is 1 - sigma(z), not its derivative": lambda z: 1 - activations.sigmoid(z),
    "derivative off by a factor of 2": lambda z: 2 * activations.sigmoid_prime(z),
    "this is sigma'(sigma(z)): the derivative was taken at a = sigma(z) instead of at z "
    "(apply sigmoid once, then s * (1 - s))": lambda z: activations.sigmoid_prime(
        activations.sigmoid(z)
    ),
}

RELU_PRIME_MISTAKES = {
    "this is relu(z) itself, not its derivative": lambda z: np.maximum(z, 0.0),
    "use relu'(0) = 0 (z > 0, not z >= 0)": lambda z: (z >= 0).astype(float),
}

TANH_PRIME_MISTAKES = {
    "square tanh(z) (1 - tanh(z)**2), not z": lambda z: 1 - np.tanh(z**2),
    "this is 1 - tanh(z); the tanh must be squared": lambda z: 1 - np.tanh(z),
    "this is 1 - z**2: the formula 1 - a**2 takes the activation a = tanh(z), not z": lambda z: (
        1 - z**2
    ),
    "this is tanh(z)**2; the derivative is 1 - tanh(z)**2": lambda z: np.tanh(z) ** 2,
    "the sign: the derivative is 1 - tanh(z)**2, not 1 + tanh(z)**2": lambda z: (
        1 + np.tanh(z) ** 2
    ),
    "derivative off by a factor of 2": lambda z: 2 * activations.tanh_prime(z),
    "this is 1 - tanh(tanh(z))**2: the derivative was taken at a = tanh(z) instead of at z "
    "(apply tanh once, then 1 - t**2)": lambda z: 1 - np.tanh(np.tanh(z)) ** 2,
}

#: exercise -> (its reference, the table of its mistakes)
ELEMENTWISE = {
    "sigmoid": (activations.sigmoid, SIGMOID_MISTAKES),
    "sigmoid_prime": (activations.sigmoid_prime, SIGMOID_PRIME_MISTAKES),
    "relu_prime": (activations.relu_prime, RELU_PRIME_MISTAKES),
    "tanh_prime": (activations.tanh_prime, TANH_PRIME_MISTAKES),
}


def _forbid(exercise: str) -> str:
    return f"nnlib.activations.{exercise}"


def _check_elementwise(exercise, fn, z, expected=None, named=True):
    __tracebackhide__ = True
    reference, mistakes = ELEMENTWISE[exercise]
    z = np.asarray(z, dtype=float)
    return check_output(
        fn,
        z,
        expected=reference(z) if expected is None else np.asarray(expected, dtype=float),
        arg_names=("z",),
        mistakes=mistakes if named else None,
        forbid=_forbid(exercise),
    )


def check_sigmoid(sigmoid, z, expected=None):
    """Check ``sigmoid(z)`` (any shape) against the reference; return the student's result."""
    __tracebackhide__ = True
    return _check_elementwise("sigmoid", sigmoid, z, expected)


#: what the stable-sigmoid check tells a student whose sigmoid warns
STABLE_HINT = (
    "Typed literally, 1/(1+np.exp(-z)) computes exp(1000) at z = -1000. Only exponentiate "
    "numbers <= 0: compute e = np.exp(-np.abs(z)) and build both branches of np.where from "
    "e (np.where evaluates both branches everywhere)."
)


def check_sigmoid_stable(sigmoid, z) -> None:
    """Fail if ``sigmoid(z)`` emits any warning (overflow in exp at z = -1000, say)."""
    __tracebackhide__ = True
    check_no_warnings(
        sigmoid, np.asarray(z, dtype=float), hint=STABLE_HINT, forbid=_forbid("sigmoid")
    )


def check_sigmoid_prime(sigmoid_prime, z, expected=None):
    """Check ``sigmoid_prime(z)`` (any shape) against the reference derivative."""
    __tracebackhide__ = True
    return _check_elementwise("sigmoid_prime", sigmoid_prime, z, expected)


def check_sigmoid_prime_extremes(sigmoid_prime, z):
    """Check ``sigmoid_prime(z)`` for very large |z| (where it is 0), values only.

    No formula is named here: at |z| = 1000 every slip is far off, and the message says
    where the values differ (NaN, which entries) instead.
    """
    __tracebackhide__ = True
    return _check_elementwise("sigmoid_prime", sigmoid_prime, z, named=False)


def _check_gradient(exercise, g_prime, g, z):
    __tracebackhide__ = True
    check_derivative(g_prime, g, np.asarray(z, dtype=float), forbid=_forbid(exercise))


def check_sigmoid_prime_gradient(sigmoid_prime, sigmoid, z) -> None:
    """``sigmoid_prime(z)`` must agree with central differences of the student's own
    ``sigmoid`` at the points ``z`` (any shape)."""
    __tracebackhide__ = True
    _check_gradient("sigmoid_prime", sigmoid_prime, sigmoid, z)


def check_relu_prime(relu_prime, z, expected=None, gradient: bool = False):
    """Check ``relu_prime(z)`` (any shape; relu'(0) = 0) against the reference.

    gradient: also compare with central differences of relu; points within 1e-3 of the
    corner at 0 are first moved to 0.5, where the difference quotient means something.
    """
    __tracebackhide__ = True
    z = np.array(z, dtype=float)
    if gradient:
        z[np.abs(z) < 1e-3] = 0.5
    out = _check_elementwise("relu_prime", relu_prime, z, expected)
    if gradient:
        _check_gradient("relu_prime", relu_prime, activations.relu, z)
    return out


def check_tanh_prime(tanh_prime, z, expected=None):
    """Check ``tanh_prime(z)`` (any shape) against the reference derivative."""
    __tracebackhide__ = True
    return _check_elementwise("tanh_prime", tanh_prime, z, expected)


def check_tanh_prime_gradient(tanh_prime, z) -> None:
    """``tanh_prime(z)`` must agree with central differences of ``np.tanh`` at ``z``."""
    __tracebackhide__ = True
    _check_gradient("tanh_prime", tanh_prime, np.tanh, z)


# ----- softmax(Z) --------------------------------------------------------------------------


def _by_columns(Z):
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _over_batch(Z):
    e = np.exp(Z - Z.max())
    return e / e.sum()


SOFTMAX_MISTAKES = {
    "softmax normalised over the wrong axis (columns instead of rows)": _by_columns,
    "normalised by the sum over the whole batch instead of each row": _over_batch,
    "the exponential is missing: softmax divides exp(z_k), not z_k": lambda Z: (
        Z / Z.sum(axis=1, keepdims=True)
    ),
}

SOFTMAX_FORBID = ("nnlib.activations.softmax", "nnlib.activations.log_softmax")


def check_softmax(softmax, Z, expected=None, name: str | None = None, forbid=SOFTMAX_FORBID):
    """Check ``softmax(Z)``, Z (n, K) logits, row by row against the reference; return the
    student's (n, K) probabilities. forbid: the nnlib references disabled meanwhile."""
    __tracebackhide__ = True
    Z = np.asarray(Z, dtype=float)
    return check_output(
        softmax,
        Z,
        expected=activations.softmax(Z) if expected is None else np.asarray(expected, float),
        arg_names=("Z",),
        name=name,
        mistakes=SOFTMAX_MISTAKES,
        forbid=forbid,
    )


def check_softmax_large(softmax, Z):
    """``check_softmax`` for logits Z (n, K) as large as 1000, where exp overflows unless
    each row's maximum is subtracted first (the message says so)."""
    __tracebackhide__ = True
    label = "softmax(Z) for logits of size 1000 (subtract each row's maximum before np.exp)"
    return check_softmax(softmax, Z, name=label)


def check_softmax_shift(softmax, Z, shift: float):
    """``softmax(Z + shift)`` must equal the reference ``softmax(Z)``, Z (n, K): adding a
    constant to every logit of a row does not change its probabilities."""
    __tracebackhide__ = True
    Z = np.asarray(Z, dtype=float)
    label = f"softmax(Z + {shift:g}) (adding a constant to a row must not change it)"
    return check_softmax(softmax, Z + shift, expected=activations.softmax(Z), name=label)
