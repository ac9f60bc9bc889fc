"""nnlib.grading.checks.mlp: each checker passes a right answer and fails a planted wrong
one with the message a student should read."""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nncourse.autograde.program import hidden_names
from nnlib.activations import identity, sigmoid, softmax, tanh
from nnlib.grading import fresh

NOTEBOOK = Path(__file__).resolve().parent.parent / "solutions" / "04_mlp" / "04_mlp.ipynb"


@pytest.fixture(scope="module")
def C():
    return fresh().checks.mlp


def pairs(sizes):
    """(n_in, n_out) of each layer."""
    return zip(sizes[:-1], sizes[1:], strict=True)


def fails(check, *args, match: str, **kwargs) -> str:
    """Run a checker that must raise AssertionError whose message contains `match`."""
    with pytest.raises(AssertionError, match=re.escape(match)) as err:
        check(*args, **kwargs)
    return str(err.value)


# ----- init_params ------------------------------------------------------------------------


def init_params(sizes, rng):
    W = [rng.standard_normal((m, k)) / np.sqrt(k) for k, m in pairs(sizes)]
    return W, [np.zeros(m) for m in sizes[1:]]


def init_with(draw):
    """An init_params whose weights (n_out, n_in) come from draw(rng, n_in, n_out)."""

    def init(sizes, rng):
        W = [draw(rng, k, m) for k, m in pairs(sizes)]
        return W, [np.zeros(m) for m in sizes[1:]]

    return init


def global_state(sizes, rng):
    W = [np.random.randn(m, k) / np.sqrt(k) for k, m in pairs(sizes)]  # noqa: NPY002
    return W, [np.zeros(m) for m in sizes[1:]]


def own_rng(sizes, rng):
    return init_params(sizes, np.random.default_rng(0))


def draws_once_then_own_rng(sizes, rng):
    rng.random()
    return own_rng(sizes, rng)


def test_right_init_passes_every_check(C):
    C.check_init_params(init_params, [3, 5, 2], seed=0)
    C.check_init_spread(init_params, [1000, 400, 3], seed=404)
    C.check_init_spread(init_params, [300, 200, 10], seed=11)
    C.check_init_random_sizes(init_params, count=4, seed=405)
    C.check_init_rng(init_params, [6, 4, 3], seed=7)


@pytest.mark.parametrize(
    "wrong, match",
    [
        (
            lambda s, rng: (init_params(s, rng)[0], [np.ones(m) for m in s[1:]]),
            "should be all zeros",
        ),
        (
            init_with(lambda rng, k, m: rng.standard_normal((k, m))),
            "the transpose of the expected",
        ),
        (global_state, "two calls with np.random.default_rng(0) gave different weights"),
        (own_rng, "did not draw any number from the rng it was given"),
        (lambda s, rng: init_params(s, rng)[0][0], "should return a pair (W, b) of lists"),
        (lambda s, rng: ([np.zeros((5, 3))], [np.zeros(5)]), "describe 2 weight layers"),
        (init_with(lambda rng, k, m: np.full((m, k), 0.5)), "must not all be equal"),
    ],
)
def test_init_params_fails(C, wrong, match):
    fails(C.check_init_params, wrong, [3, 5, 2], seed=0, match=match)


@pytest.mark.parametrize(
    "draw, match",
    [
        (lambda rng, k, m: rng.standard_normal((m, k)), "Likely mistake: no scaling"),
        (lambda rng, k, m: rng.standard_normal((m, k)) / k, "Likely mistake: divided by n_in"),
        (
            lambda rng, k, m: rng.standard_normal((m, k)) / np.sqrt(m),
            "Likely mistake: scaled by 1/sqrt(n_out)",
        ),
        (
            lambda rng, k, m: rng.uniform(-1, 1, (m, k)) * np.sqrt(3 / k),
            "do not look Gaussian",
        ),
        (
            lambda rng, k, m: rng.standard_normal((m, k)) / np.sqrt(k) + 0.01,
            "should have mean 0",
        ),
        (
            lambda rng, k, m: rng.standard_normal((m, k)) / np.sqrt(k if k == 1000 else 2 * k),
            "W[1] (n_in = 400) should have std 0.0500",
        ),
    ],
)
def test_init_spread_fails(C, draw, match):
    fails(C.check_init_spread, init_with(draw), [1000, 400, 3], seed=404, match=match)


def test_init_spread_names_no_mistake_it_does_not_know(C):
    text = fails(
        C.check_init_spread,
        init_with(lambda rng, k, m: 0.5 * rng.standard_normal((m, k))),
        [300, 200, 10],
        seed=11,
        match="should have standard deviation 1/sqrt(300) = 0.05774",
    )
    assert "Likely mistake" not in text


def test_init_random_sizes_fails_on_a_deeper_network(C):
    def two_layers_at_most(sizes, rng):
        W, b = init_params(sizes[:3], rng)
        return W, b

    C.check_init_params(two_layers_at_most, [3, 5, 2], seed=0)
    fails(
        C.check_init_random_sizes,
        two_layers_at_most,
        count=4,
        seed=405,
        match="describe 4 weight layers: W and b should be lists of length 4, got lengths 2",
    )


@pytest.mark.parametrize(
    "wrong, match",
    [
        (global_state, "drew from numpy's global random state"),
        (own_rng, "did not draw any number from the rng it was given"),
        (draws_once_then_own_rng, "different seeds gave the same weights"),
    ],
)
def test_init_rng_fails_and_restores_the_global_state(C, wrong, match):
    np.random.seed(3)  # noqa: NPY002
    before = np.random.get_state()  # noqa: NPY002
    fails(C.check_init_rng, wrong, [6, 4, 3], seed=7, match=match)
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(before[1], after[1]) and before[2] == after[2]


def test_init_delegating_to_nnlib_earns_nothing(C):
    import nnlib.init

    def delegates(sizes, rng):
        W = [nnlib.init.lecun(k, m, rng) for k, m in pairs(sizes)]
        return W, [np.zeros(m) for m in sizes[1:]]

    fails(C.check_init_spread, delegates, [300, 200, 10], seed=11, match="earns no points")


# ----- dense_forward ----------------------------------------------------------------------


def dense_forward(A_prev, W, b, g):
    Z = A_prev @ W.T + b
    return Z, g(Z)


def test_right_dense_forward_passes(C):
    A_prev = np.array([[1.0, 2.0], [0.0, 0.0], [-1.0, 0.5], [3.0, -2.0]])
    W = np.array([[0.5, -1.0], [2.0, 0.0], [-1.5, 1.0]])
    C.check_dense_forward(dense_forward, A_prev, W, np.array([0.1, -0.5, 0.0]), "sigmoid")
    cases = [(6, 4, 3, "tanh"), (1, 5, 2, "sigmoid"), (5, 4, 6, "softmax"), (3, 1, 1, "relu")]
    C.check_dense_forward_random(dense_forward, cases, seed=505)


@pytest.mark.parametrize(
    "wrong, match",
    [
        (lambda A, W, b, g: (A @ W + b, g(A @ W + b)), "Likely mistake: A_prev @ W: A_prev is"),
        (lambda A, W, b, g: (A @ W.T, g(A @ W.T)), "Likely mistake: the bias b is missing"),
        (
            lambda A, W, b, g: (A @ W.T - b, g(A @ W.T - b)),
            "Likely mistake: the bias is subtracted",
        ),
        (lambda A, W, b, g: (A @ W.T + b, A @ W.T + b), "Likely mistake: the activation is not"),
        (lambda A, W, b, g: A @ W.T + b, "should return the pair (Z, A)"),
    ],
)
def test_dense_forward_fails_on_a_square_layer(C, wrong, match):
    square = [(5, 4, 4, "identity"), (3, 4, 4, "sigmoid")]
    fails(C.check_dense_forward_random, wrong, square, seed=606, match=match)


def test_dense_forward_explains_the_shape_error_of_the_transpose(C):
    def transposed(A_prev, W, b, g):
        return A_prev @ W + b, None

    text = fails(
        C.check_dense_forward_random,
        transposed,
        [(8, 5, 3, "tanh")],
        seed=707,
        match="raised ValueError",
    )
    assert "Likely mistake: A_prev is (n, n_in) and W is (n_out, n_in)" in text


# ----- forward ----------------------------------------------------------------------------


def make_forward(layer=dense_forward, pick=None):
    """A forward pass; pick(l, L, g_hidden, g_output) chooses each layer's activation."""
    pick = pick or (lambda l, L, g_h, g_o: g_o if l == L - 1 else g_h)

    def forward(X, W, b, g_hidden=sigmoid, g_output=sigmoid):
        zs, acts = [], [X]
        for l in range(len(W)):
            Z, A = layer(acts[-1], W[l], b[l], pick(l, len(W), g_hidden, g_output))
            zs.append(Z)
            acts.append(A)
        return zs, acts

    return forward


forward = make_forward()
NETWORKS = [([4, 3], "tanh", "identity"), ([3, 6, 4, 1], "tanh", "sigmoid")]
X_SMALL = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
W_SMALL = [np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.0]]), np.array([[1.0, -2.0, 0.5]])]
B_SMALL = [np.array([0.0, 0.1, -0.2]), np.array([0.3])]


def test_right_forward_passes(C):
    zs, acts = C.check_forward(forward, X_SMALL, W_SMALL, B_SMALL, "tanh", "sigmoid")
    assert [np.shape(a) for a in acts] == [(3, 2), (3, 3), (3, 1)]
    C.check_forward_random(forward, NETWORKS, seed=808)
    C.check_forward_batch(forward, [5, 8, 6, 3], n=4, n_big=300, seed=909)


def without_x(X, W, b, g_hidden=sigmoid, g_output=sigmoid):
    zs, acts = forward(X, W, b, g_hidden, g_output)
    return zs, acts[1:]


@pytest.mark.parametrize(
    "wrong, match",
    [
        (without_x, "is X missing at index 0?"),
        (make_forward(pick=lambda l, L, g_h, g_o: g_o), "a hidden layer uses g_output"),
        (make_forward(pick=lambda l, L, g_h, g_o: g_h), "the output layer uses g_hidden"),
        (make_forward(pick=lambda l, L, g_h, g_o: identity), "the activation is not applied"),
        (
            make_forward(layer=lambda A, W, b, g: (A @ W.T, g(A @ W.T))),
            "zs[0] (Z^1) of forward(X (3, 2), W, b, tanh, sigmoid) is not right",
        ),
        (lambda X, W, b, g_h, g_o: forward(X, W, b, g_h, g_o)[1], "the pair (zs, activations)"),
    ],
)
def test_forward_fails(C, wrong, match):
    fails(C.check_forward, wrong, X_SMALL, W_SMALL, B_SMALL, "tanh", "sigmoid", match=match)


def test_forward_names_a_missing_bias(C):
    no_bias = make_forward(layer=lambda A, W, b, g: (A @ W.T, g(A @ W.T)))
    fails(
        C.check_forward_random,
        no_bias,
        NETWORKS,
        seed=808,
        match="Likely mistake: the bias b is missing",
    )


def test_forward_random_fails_on_a_network_of_one_layer(C):
    # right while there are hidden layers; with L = 1 the only layer gets g_hidden
    first_hidden = make_forward(pick=lambda l, L, g_h, g_o: g_o if 0 < l == L - 1 else g_h)
    C.check_forward_random(first_hidden, NETWORKS[1:], seed=808)
    fails(
        C.check_forward_random,
        first_hidden,
        NETWORKS,
        seed=808,
        match="the output layer uses g_hidden",
    )


def test_forward_batch_fails_when_one_sample_loses_its_axis(C):
    def squeezed(X, W, b, g_hidden=sigmoid, g_output=sigmoid):
        zs, acts = forward(X, W, b, g_hidden, g_output)
        return zs, acts[:-1] + [np.squeeze(acts[-1])]

    fails(
        C.check_forward_batch,
        squeezed,
        [5, 8, 6, 3],
        n=4,
        n_big=300,
        seed=909,
        match="(a batch of one sample) should have shape (1, 3)",
    )


# ----- output_activation ------------------------------------------------------------------


def output_activation(task):
    choices = {"regression": identity, "binary": sigmoid, "multiclass": softmax}
    if task not in choices:
        raise ValueError(task)
    return choices[task]


Z_EXTREME = np.array([[-1000.0, 0.0, 1000.0], [500.0, 500.0, -5.0]])


def test_right_output_activation_passes(C):
    for Z in [np.array([[2.0, -1.0, 0.5], [-3.0, 0.0, 3.0]]), Z_EXTREME]:
        for task in ["regression", "binary", "multiclass"]:
            C.check_output_activation(output_activation, task, Z)
    C.check_unknown_task(output_activation, "ranking")


def naive_softmax(Z):
    return np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    "g, Z, match",
    [
        (sigmoid, np.array([[2.0, -1.0, 0.5]]), "Likely mistake: this is the sigmoid"),
        (tanh, np.array([[2.0, -1.0, 0.5]]), "output_activation('multiclass')(Z) is not right"),
        (
            lambda Z: np.exp(Z) / np.exp(Z).sum(axis=0),
            np.array([[2.0, -1.0, 0.5], [-3.0, 0.0, 3.0]]),
            "Likely mistake: softmax over the columns instead of each row",
        ),
        (naive_softmax, Z_EXTREME, "your result contains NaN or inf"),
        (3.0, np.array([[2.0, -1.0, 0.5]]), "should return a function, got float"),
    ],
)
def test_output_activation_fails(C, g, Z, match, capfd):
    def wrong(task):
        return g if task == "multiclass" else output_activation(task)

    fails(C.check_output_activation, wrong, "multiclass", Z, match=match)
    assert capfd.readouterr().err == ""  # the overflow warning of naive_softmax stays quiet


@pytest.mark.parametrize(
    "wrong, match",
    [
        (lambda task: softmax, "should raise ValueError (an unknown task), but it returned"),
        (lambda task: {"binary": sigmoid}[task], "but it raised KeyError"),
    ],
)
def test_unknown_task_fails(C, wrong, match):
    fails(C.check_unknown_task, wrong, "ranking", match=match)


# ----- count_params -----------------------------------------------------------------------


def count_params(sizes):
    return sum(m * (k + 1) for k, m in pairs(sizes))


def test_right_count_params_passes(C):
    for sizes in ([784, 10], [784, 100, 10], [1, 1], [10_000, 20_000, 10_000]):
        C.check_count_params(count_params, sizes)
    C.check_count_params(lambda sizes: np.int64(count_params(sizes)), [2, 2, 1])


@pytest.mark.parametrize(
    "wrong, match",
    [
        (lambda s: sum(m * k for k, m in pairs(s)), "the biases are missing"),
        (
            lambda s: sum(m * k + k for k, m in pairs(s)),
            "biases belong to the receiving layer",
        ),
        (lambda s: count_params(s) + s[0], "the input layer has no biases"),
        (lambda s: float(count_params(s)), "should return an int, got float"),
        (lambda s: True, "should return an int, got bool"),
    ],
)
def test_count_params_fails(C, wrong, match):
    fails(C.check_count_params, wrong, [784, 100, 10], match=match)


def test_count_params_names_no_mistake_it_does_not_know(C):
    text = fails(
        C.check_count_params,
        lambda s: count_params(s) + 1,
        [784, 100, 10],
        match="count_params([784, 100, 10]) should be 79,510, got 79,511",
    )
    assert "Likely mistake" not in text


# ----- xor_network ------------------------------------------------------------------------


def xor_network():
    W = [np.array([[20.0, 20.0], [-20.0, -20.0]]), np.array([[20.0, 20.0]])]
    return W, [np.array([-10.0, 30.0]), np.array([-30.0])]


def test_right_xor_network_passes(C):
    W, b = C.check_xor_shapes(xor_network)
    assert [w.shape for w in W] == [(2, 2), (1, 2)]
    C.check_xor_truth_table(xor_network)


def or_network():
    W = [np.array([[20.0, 20.0], [20.0, 20.0]]), np.array([[20.0, 20.0]])]
    return W, [np.array([-10.0, -10.0]), np.array([-10.0])]


@pytest.mark.parametrize(
    "wrong, match",
    [
        (or_network, "your network gives (0, 0) -> 0.000, (0, 1) -> 1.000"),
        (lambda: (xor_network()[0], [np.zeros(2), np.zeros((1, 1))]), "b[1] should have shape"),
        (lambda: xor_network()[0][0], "should return a pair (W, b) of lists, got ndarray"),
        (lambda: ([np.zeros((2, 2))], [np.zeros(2)]), "should have length 2, got 1, 1"),
    ],
)
def test_xor_fails(C, wrong, match):
    fails(C.check_xor_truth_table, wrong, match=match)


# ----- the references are left out while grading too ---------------------------------------


def test_grading_leaves_out_every_reference_a_checker_forbids(C):
    # The sandbox of a graded class stubs out what hidden_names lists: it reads this module.
    source = nbformat.read(NOTEBOOK, as_version=4)
    forbidden = {*C.INIT_FORBID, *C.DENSE_FORBID, *C.FORWARD_FORBID, *C.COUNT_FORBID}
    assert forbidden <= hidden_names(source, nbformat.v4.new_notebook())
