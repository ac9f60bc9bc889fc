"""nnlib.grading.checks.backprop: each checker passes right answers and names planted mistakes."""

from pathlib import Path

import numpy as np
import pytest
from checking import fails

from nnlib.activations import sigmoid, sigmoid_prime, softmax
from nnlib.grading import fresh


@pytest.fixture(scope="module")
def C():
    return fresh().checks.backprop


# ----- answers, right and wrong ------------------------------------------------------------


def central(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        grad[i] = (up - f(x)) / (2 * h)
        x[i] = old
    return grad


def central_truncating(f, x, h=1e-5):
    grad = np.zeros(np.shape(x))
    for i in np.ndindex(grad.shape):
        step = np.zeros_like(x)  # an integer array when x is one: h is truncated to 0
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), 1e-12))


def bp1_quadratic(a_L, y, z_L):
    return (a_L - y) * sigmoid_prime(z_L)


def bp2(delta_next, W_next, z):
    return (delta_next @ W_next) * sigmoid_prime(z)


def bp3(delta):
    return delta.mean(axis=0)


def bp4(delta, a_prev):
    return delta.T @ a_prev / len(delta)


def make_backprop(mistake="", linear=False):
    """A whole-network backprop, right or with one mistake."""

    def backprop(X, Y, weights, biases, output="sigmoid"):
        if mistake == "ignore_softmax":
            output = "sigmoid"
        g = (lambda z: z) if linear else sigmoid
        gp = (lambda z: np.ones_like(z)) if linear and mistake != "sigma" else sigmoid_prime
        zs, acts = [], [X]
        for i, (W, b) in enumerate(zip(weights, biases, strict=True)):
            zs.append(acts[-1] @ W.T + b)
            soft = output == "softmax" and i == len(weights) - 1
            acts.append(softmax(zs[-1]) if soft else g(zs[-1]))
        if output == "softmax":
            delta = acts[-1] - Y
        else:
            delta = (acts[-1] - Y) * (1 if mistake == "bp1" else gp(zs[-1]))
        if mistake == "sign":
            delta = -delta
        L, n = len(weights), len(X)
        nW, nb = [None] * L, [None] * L
        for i in reversed(range(L)):
            if i < L - 1:
                delta = delta @ weights[i + 1]
                if mistake != "bp2":
                    delta = delta * gp(zs[i])
            scale = 1 if mistake == "sum" else n
            nb[i] = delta.sum(axis=0) / scale
            nW[i] = delta.T @ acts[i + 1 if mistake == "layer" else i] / scale
        if mistake == "in_place":
            X -= 1.0
        return nW, nb

    backprop.__name__ = "backprop_linear" if linear else "backprop"
    return backprop


RNG = np.random.default_rng(0)


# ----- numerical_gradient and relative_error -----------------------------------------------


def cube(v):
    return float(np.sum(v**3))


def test_numerical_gradient_passes_and_names_a_one_sided_difference(C):
    x = np.array([1.0, 2.0, -1.0])
    C.check_numerical_gradient(central, cube, x, 1e-5, expected=3 * x**2)
    with fails("one-sided (forward) difference"):
        C.check_numerical_gradient(C.forward_difference, cube, x, 1e-5, expected=3 * x**2)
    with fails("divided by h instead of 2h"):
        C.check_numerical_gradient(
            lambda f, x, h: 2 * central(f, x, h), cube, x, 1e-5, expected=3 * x**2
        )


def test_numerical_gradient_on_integers_and_matrices(C):
    xi = np.array([1, 2, 3])
    C.check_numerical_gradient(central, cube, xi, 1e-4, expected=3.0 * xi**2)
    with fails("x + h was truncated: work on a float64 copy of x"):
        C.check_numerical_gradient(central_truncating, cube, xi, 1e-4, expected=3.0 * xi**2)
    W = RNG.standard_normal((4, 3))
    with fails("(f, W, h) has the wrong shape: expected shape (4, 3), received shape (12,)"):
        C.check_numerical_gradient(
            lambda f, x, h: central(f, x, h).ravel(), cube, W, 1e-5, 3 * W**2, x_name="W"
        )


def test_relative_error_checks(C):
    a, b = np.array([3.0, -1.0, 1e-3]), np.array([2.0, -3.5, 3e-3])
    C.check_relative_error(relative_error, a, b, expected=0.5)
    with fails("you divided entry by entry"):
        C.check_relative_error(
            lambda a, b: np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))), a, b, expected=0.5
        )
    with fails("the scale is max|a| + max|b|"):
        C.check_relative_error(
            lambda a, b: np.max(np.abs(a - b)) / (np.max(np.abs(a)) + np.max(np.abs(b))),
            np.array([4.0, 0.5]),
            np.array([0.5, 4.0]),
        )
    with fails("has the wrong shape: expected shape (), received shape (3,)"):
        C.check_relative_error(lambda a, b: np.abs(a - b) / np.max(np.abs(a) + np.abs(b)), a, b)


def test_relative_error_shapes(C):
    C.check_relative_error_shapes(relative_error, (4, 1), (4,), names_shapes=True)
    with fails("should raise ValueError naming both shapes; it returned 0.0"):
        C.check_relative_error_shapes(lambda a, b: 0.0, (3, 1), (3,))
    with fails("the ValueError should name both shapes, (4, 1) and (4,)"):

        def vague(a, b):
            raise ValueError("the shapes differ")

        C.check_relative_error_shapes(vague, (4, 1), (4,), names_shapes=True)
    C.check_relative_error_shapes(vague, (4, 1), (4,))  # the visible cell asks less


# ----- BP1 to BP4 --------------------------------------------------------------------------


def test_bp1_quadratic(C):
    z, y = RNG.normal(size=(4, 3)), RNG.uniform(size=(4, 3))
    C.check_bp1_quadratic(bp1_quadratic, z, y)
    C.check_bp1_quadratic_numerical(bp1_quadratic, z, y)
    with fails("BP1: missing sigma'(z^L)"):
        C.check_bp1_quadratic(lambda a, y, z: a - y, z, y)
    with fails("BP1: delta is per sample"):
        C.check_bp1_quadratic_numerical(lambda a, y, z: bp1_quadratic(a, y, z) / len(a), z, y)
    with fails("used sigma(z) instead of sigma'(z)"):
        C.check_bp1_quadratic(lambda a, y, z: (a - y) * a, z, y)


def test_bp1_softmax_ce(C):
    z = RNG.normal(scale=2.0, size=(5, 4))
    y = np.eye(4)[RNG.integers(4, size=5)]
    C.check_bp1_softmax_ce(lambda a, y: a - y, softmax(z), y)
    C.check_bp1_softmax_ce_numerical(lambda a, y: a - y, z, y)
    with fails("the sigma'(z) factor cancels"):
        C.check_bp1_softmax_ce_numerical(lambda a, y: (a - y) * a * (1 - a), z, y)
    with fails("BP1: delta is per sample"):
        C.check_bp1_softmax_ce(lambda a, y: (a - y) / len(a), softmax(z), y)


def test_bp2(C):
    d, W, z = RNG.standard_normal((5, 2)), RNG.standard_normal((2, 3)), RNG.normal(size=(5, 3))
    C.check_bp2(bp2, d, W, z)
    C.check_bp2_numerical(bp2, d, W, z)
    with fails("BP2: your delta looks like it is missing the factor sigma'(z)"):
        C.check_bp2_numerical(lambda d, W, z: d @ W, d, W, z)
    square = RNG.standard_normal((3, 3))
    d3 = RNG.standard_normal((5, 3))
    with fails("BP2: W not transposed"):
        C.check_bp2(lambda d, W, z: (d @ W.T) * sigmoid_prime(z), d3, square, z)
    with fails("(and sigma'(z) is missing)"):
        C.check_bp2(lambda d, W, z: d @ W.T, d3, square, z)
    with fails("BP2: the result is transposed"):
        C.check_bp2(lambda d, W, z: bp2(d, W, z).T, d, W, z)


def test_bp3(C):
    delta = np.array([[0.3, -0.6], [0.0, 0.3], [0.6, 0.9]])
    C.check_bp3(bp3, delta, expected=np.array([0.3, 0.2]))
    C.check_bp3_numerical(bp3, RNG.standard_normal((5, 3)), RNG.standard_normal(3))
    with fails("you summed over the batch instead of averaging (off by a factor n)"):
        C.check_bp3(lambda d: d.sum(axis=0), delta)
    with fails("BP3: bias gradient summed over the wrong axis"):
        C.check_bp3(lambda d: d.mean(axis=1), RNG.standard_normal((4, 4)))
    with fails("the batch axis was kept"):
        C.check_bp3_numerical(lambda d: d.mean(axis=0, keepdims=True), delta, np.zeros(2))


def test_bp4(C):
    delta, a_prev = RNG.standard_normal((6, 3)), RNG.uniform(size=(6, 2))
    C.check_bp4(bp4, delta, a_prev)
    C.check_bp4_numerical(bp4, delta, a_prev, RNG.standard_normal((3, 2)))
    with fails("dW = delta.T @ a_prev / n"):
        C.check_bp4_numerical(lambda d, a: d.T @ a, delta, a_prev, np.zeros((3, 2)))
    square = RNG.uniform(size=(6, 3))
    with fails("BP4: dW is transposed"):
        C.check_bp4(lambda d, a: a.T @ d / len(d), delta, square)
    with fails("= delta.T @ a_prev / n (and summed instead of averaged)"):
        C.check_bp4(lambda d, a: a.T @ d, delta, square)


# ----- whole networks ----------------------------------------------------------------------


def worked_case(sizes, n, seed=62):
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((m, k)) for k, m in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.standard_normal(m) for m in sizes[1:]]
    return rng.standard_normal((n, sizes[0])), rng.uniform(size=(n, sizes[-1])), Ws, bs


def test_network_worked_case(C):
    case = worked_case([3, 4, 2], 5)
    C.check_network_worked(make_backprop(), *case)
    C.check_network_worked(make_backprop(linear=True), *case, linear=True)
    with fails("BP4: you used the activations of the wrong layer"):
        C.check_network_worked(make_backprop("layer"), *case)
    with fails("the error enters when delta moves back a layer (BP2)"):
        C.check_network_worked(make_backprop("bp2"), *case)
    with fails("Layer by layer: wrong: nabla_W[0], nabla_b[0]; right: nabla_W[1], nabla_b[1]"):
        C.check_network_worked(make_backprop("bp2"), *case)
    with fails("the sign is flipped: the output error starts from a^L - y"):
        C.check_network_worked(make_backprop("sign"), *case)
    with fails("BP1: missing sigma'(z^L)"):
        C.check_network_worked(make_backprop("bp1"), *case)
    with fails("summed over the batch instead of averaged (off by the factor n = 5)"):
        C.check_network_worked(make_backprop("sum", linear=True), *case, linear=True)
    with fails("these are the gradients of a sigmoid network"):
        C.check_network_worked(make_backprop(), *case, linear=True)
    with fails("check the forward pass (a = z, no activation function)"):
        C.check_network_worked(make_backprop(), *case, linear=True)
    with fails("backprop(X, Y, weights, biases) changed its input X in place"):
        C.check_network_worked(make_backprop("in_place"), *case)


@pytest.mark.parametrize(
    "mistake, message",
    [
        ("bp1", "BP1: missing sigma'(z^L)"),
        ("bp2", "BP2: your delta looks like it is missing the factor sigma'(z)"),
        ("layer", "BP4: you used the activations of the wrong layer"),
        ("sum", "BP3/BP4: you summed over the batch instead of averaging"),
    ],
)
def test_network_names_each_mistake(C, mistake, message):
    C.check_network(make_backprop(), [4, 5, 3], 6, 63)
    with fails(message):
        C.check_network(make_backprop(mistake), [4, 5, 3], 6, 63)


def test_network_softmax_and_linear(C):
    C.check_network(make_backprop(), [3, 4, 4, 2], 1, 70, output="softmax")
    with fails("output='softmax' was ignored"):
        C.check_network(make_backprop("ignore_softmax"), [4, 5, 3], 6, 69, output="softmax")
    with fails("backprop(..., output='softmax') on a [4, 5, 3] network with a batch of 6"):
        C.check_network(make_backprop("layer"), [4, 5, 3], 6, 69, output="softmax")
    C.check_network(make_backprop(linear=True), [2, 3, 3, 3, 2], 3, 75, linear=True)
    C.check_network(make_backprop(linear=True), [1, 1], 1, 78, linear=True)
    with fails("linear neurons: g'(z) = 1, so there is no sigma'(z) factor"):
        C.check_network(make_backprop("sigma", linear=True), [3, 4, 4, 2], 5, 74, linear=True)
    with fails("backprop_linear on a [4, 5, 3] network with a batch of 6 changed its input X"):
        C.check_network(make_backprop("in_place", linear=True), [4, 5, 3], 6, 73, linear=True)


def test_network_forward_pass_must_be_the_answers_own(C):
    from nnlib.network import Network

    def linear_via_nnlib_forward(X, Y, weights, biases):
        net = Network([weights[0].shape[1], *(W.shape[0] for W in weights)],
                      hidden="identity", output="identity", cost="quadratic")  # fmt: skip
        net.weights, net.biases = weights, biases
        activations = net.forward(X)[1]
        delta, nabla_W, nabla_b = activations[-1] - Y, [], []
        for i in reversed(range(len(weights))):
            if i < len(weights) - 1:
                delta = delta @ weights[i + 1]
            nabla_W.insert(0, delta.T @ activations[i] / len(X))
            nabla_b.insert(0, delta.mean(axis=0))
        return nabla_W, nabla_b

    with fails("calling nnlib.network.Network.forward earns no points"):
        C.check_network(linear_via_nnlib_forward, [2, 3, 2], 4, 72, linear=True)


def test_network_result_form(C):
    with fails("should return the pair (nabla_W, nabla_b)"):
        C.check_network(lambda X, Y, W, b: W, [2, 1], 1, 68)
    with fails(
        "nabla_W and nabla_b should hold 2 arrays each (one per weight layer), got 1 and 1"
    ):
        C.check_network(lambda X, Y, W, b: (W[:1], b[:1]), [3, 4, 2], 1, 66)


def test_every_forbidden_reference_is_named_in_the_notebook(C):
    """Grading leaves out of the sandbox the references a notebook forbids, read from its
    cells and from the checkers they call: it must find every list this module uses."""
    import nbformat

    from nncourse.autograde.program import hidden_names

    root = Path(__file__).resolve().parents[1]
    source = nbformat.read(root / "solutions/05_backprop/05_backprop.ipynb", as_version=4)
    release = nbformat.read(root / "course/05_backprop/05_backprop.ipynb", as_version=4)
    used = set()
    for name, value in vars(C).items():
        if name.startswith("FORBID"):
            used |= {value} if isinstance(value, str) else set(value)
    assert used - hidden_names(source, release) == set()
