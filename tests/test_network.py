"""Tests for nnlib.network.Network: backprop vs numerics, training, errors."""

import warnings

import numpy as np
import pytest

from nnlib.activations import ELEMENTWISE, sigmoid, softmax
from nnlib.gradcheck import check_network
from nnlib.network import Network, TrainingDivergedError

TOL = 1e-7
OUTPUT_COSTS = [
    ("sigmoid", "quadratic"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "quadratic"),
    ("softmax", "cross_entropy"),
    ("identity", "quadratic"),
]
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


def _targets(output, n, k, rng):
    if output == "softmax":
        return rng.integers(0, k, n)
    if output == "sigmoid":
        return rng.random((n, k))
    return rng.standard_normal((n, k))


# ----- backprop against numerical gradients -----------------------------------------------


@pytest.mark.parametrize("output, cost", OUTPUT_COSTS)
@pytest.mark.parametrize("hidden", sorted(ELEMENTWISE))
def test_backprop_matches_numerical_gradient(hidden, output, cost, rng):
    net = Network([4, 5, 3, 3], hidden=hidden, output=output, cost=cost, rng=rng)
    for b in net.biases:
        b[:] = 0.1 * rng.standard_normal(b.shape)  # non-zero biases exercise BP3 fully
    X = rng.standard_normal((7, 4))
    errors = check_network(net, X, _targets(output, 7, 3, rng))
    assert set(errors) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert max(errors.values()) < TOL, errors


def test_backprop_single_output_unit_with_1d_targets(rng):
    net = Network([3, 4, 1], output="sigmoid", cost="cross_entropy", rng=rng)
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)
    assert max(check_network(net, X, y).values()) < TOL
    assert net.cost(X, y) == net.cost(X, y[:, None].astype(float))


def test_int_labels_equal_one_hot_for_softmax(rng):
    net = Network([3, 4, 5], hidden="relu", output="softmax", cost="cross_entropy", rng=rng)
    X, y = rng.standard_normal((8, 3)), rng.integers(0, 5, 8)
    Y = np.eye(5)[y]
    assert net.cost(X, y) == net.cost(X, Y)
    for g_labels, g_onehot in zip(net.backprop(X, y), net.backprop(X, Y), strict=True):
        for a, b in zip(g_labels, g_onehot, strict=True):
            np.testing.assert_array_equal(a, b)


# ----- forward pass ---------------------------------------------------------------------


def test_shapes_of_parameters_and_cache(rng):
    net = Network([4, 6, 3], rng=rng)
    assert [W.shape for W in net.weights] == [(6, 4), (3, 6)]
    assert [b.shape for b in net.biases] == [(6,), (3,)]
    X = rng.standard_normal((5, 4))
    zs, acts = net.forward(X)
    assert [z.shape for z in zs] == [(5, 6), (5, 3)]
    assert [a.shape for a in acts] == [(5, 4), (5, 6), (5, 3)]
    np.testing.assert_array_equal(acts[0], X)
    np.testing.assert_array_equal(net.feedforward(X), acts[-1])


def test_hand_set_xor_network_feedforward():
    # hidden units compute OR and NAND with steep sigmoids; the output unit ANDs them
    net = Network([2, 2, 1], rng=np.random.default_rng(0))
    net.weights = [np.array([[20.0, 20.0], [-20.0, -20.0]]), np.array([[20.0, 20.0]])]
    net.biases = [np.array([-10.0, 30.0]), np.array([-30.0])]
    a = net.feedforward(XOR_X)
    expected_hidden = sigmoid(XOR_X @ net.weights[0].T + net.biases[0])
    np.testing.assert_allclose(a, sigmoid(expected_hidden @ net.weights[1].T + net.biases[1]))
    np.testing.assert_array_equal(net.predict(XOR_X), XOR_Y)
    assert net.evaluate(XOR_X, XOR_Y) == 1.0


def test_softmax_output_rows_are_distributions(rng):
    net = Network([3, 4, 6], output="softmax", cost="cross_entropy", rng=rng)
    X = rng.standard_normal((5, 3))
    a = net.feedforward(X)
    np.testing.assert_allclose(a.sum(axis=1), np.ones(5))
    np.testing.assert_allclose(a, softmax(net.forward(X)[0][-1]))


def test_num_params_softmax_regression_on_mnist():
    assert Network([784, 10], output="softmax", cost="cross_entropy").num_params() == 7850
    assert Network([784, 30, 10]).num_params() == 784 * 30 + 30 + 30 * 10 + 10


def test_initialisation_is_seeded_and_lecun_scaled():
    a = Network([400, 300, 2], rng=np.random.default_rng(1))
    b = Network([400, 300, 2], rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert a.weights[0].std() == pytest.approx(1 / 20, rel=0.02)
    assert np.all(a.biases[0] == 0)
    he = Network([400, 300, 2], init="he", rng=np.random.default_rng(1))
    assert he.weights[0].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)


# ----- training -------------------------------------------------------------------------


def test_learns_xor():
    net = Network(
        [2, 3, 1],
        hidden="sigmoid",
        output="sigmoid",
        cost="cross_entropy",
        rng=np.random.default_rng(0),
    )
    history = net.sgd(
        (XOR_X, XOR_Y),
        epochs=1000,
        batch_size=4,
        eta=2.0,
        rng=np.random.default_rng(0),
        progress=False,
    )
    np.testing.assert_array_equal(net.predict(XOR_X), XOR_Y)
    assert history["accuracy"][-1] == 1.0
    assert history["cost"][-1] < 0.1 < history["cost"][0]


def test_sgd_history_reproducibility_and_test_data(rng):
    X = np.vstack([rng.normal(-1, 0.5, (40, 2)), rng.normal(1, 0.5, (40, 2))])
    y = np.repeat([0, 1], 40)

    def train(seed):
        net = Network(
            [2, 5, 2],
            hidden="tanh",
            output="softmax",
            cost="cross_entropy",
            rng=np.random.default_rng(seed),
        )
        hist = net.sgd(
            (X, y),
            epochs=5,
            batch_size=10,
            eta=0.5,
            rng=np.random.default_rng(seed),
            test_data=(X[::2], y[::2]),
            progress=False,
        )
        return net, hist

    net, hist = train(3)
    assert set(hist) == {"cost", "accuracy", "test_cost", "test_accuracy"}
    assert all(len(v) == 5 for v in hist.values())
    assert hist["cost"][-1] < hist["cost"][0]
    assert hist["accuracy"][-1] > 0.9
    assert hist["test_accuracy"][-1] == net.evaluate(X[::2], y[::2])
    net2, hist2 = train(3)
    assert hist2 == hist
    np.testing.assert_array_equal(net2.weights[0], net.weights[0])


def test_sgd_accepts_float32_inputs_and_one_hot(rng):
    X = rng.standard_normal((20, 3)).astype(np.float32)
    Y = np.eye(3)[rng.integers(0, 3, 20)]
    net = Network([3, 4, 3], output="softmax", cost="cross_entropy", rng=rng)
    hist = net.sgd((X, Y), epochs=2, batch_size=7, eta=0.1, rng=rng, progress=False)
    assert np.isfinite(hist["cost"]).all()


def test_update_mini_batch_with_l2_is_the_documented_step(rng):
    net = Network([3, 2], output="sigmoid", rng=rng)
    X, Y = rng.standard_normal((4, 3)), rng.random((4, 2))
    W0, b0 = net.weights[0].copy(), net.biases[0].copy()
    (dW,), (db,) = net.backprop(X, Y)
    cost_before = net.cost(X, Y)
    assert net.update_mini_batch(X, Y, eta=0.5, lmbda=2.0, n=10) == cost_before
    np.testing.assert_allclose(net.weights[0], W0 - 0.5 * (dW + 0.2 * W0), rtol=1e-14)
    np.testing.assert_allclose(net.biases[0], b0 - 0.5 * db, rtol=1e-14)


def test_nan_cost_stops_training_with_advice(rng):
    X = rng.standard_normal((64, 3))
    Y = X @ np.array([[1.0], [2.0], [3.0]])
    net = Network([3, 8, 1], hidden="relu", output="identity", cost="quadratic", rng=rng)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        with pytest.raises(TrainingDivergedError, match=r"epoch 1, step \d+.*smaller learning"):
            net.sgd((X, Y), epochs=5, batch_size=8, eta=1e3, rng=rng, progress=False)
    assert issubclass(TrainingDivergedError, FloatingPointError)


def test_progress_false_is_silent(rng, capsys):
    net = Network([2, 3, 1], rng=rng)
    net.sgd((XOR_X, XOR_Y), epochs=3, batch_size=2, eta=1.0, rng=rng, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# ----- errors ---------------------------------------------------------------------------


def test_input_shape_errors_name_shapes(rng):
    net = Network([4, 3, 2], rng=rng)
    with pytest.raises(ValueError, match=r"4 input features.*\(5, 3\)"):
        net.feedforward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"\(batch, 4\).*\(4,\)"):
        net.feedforward(np.zeros(4))
    with pytest.raises(ValueError, match=r"\(5, 2\).*\(5, 3\)"):
        net.backprop(np.zeros((5, 4)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="5 rows"):
        net.cost(np.zeros((5, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match="X has 5 rows"):
        net.sgd((np.zeros((5, 4)), np.zeros((3, 2))), 1, 2, 0.1, rng, progress=False)


def test_constructor_errors():
    with pytest.raises(ValueError, match="identity"):
        Network([2, 1], output="identity", cost="cross_entropy")
    with pytest.raises(ValueError, match="unknown output"):
        Network([2, 1], output="relu")
    with pytest.raises(ValueError, match="unknown cost"):
        Network([2, 1], cost="hinge")
    with pytest.raises(ValueError, match="unknown activation"):
        Network([2, 2, 1], hidden="swish")
    with pytest.raises(ValueError, match="at least 2 units"):
        Network([2, 1], output="softmax")
    with pytest.raises(ValueError, match="sizes"):
        Network([3])
    with pytest.raises(TypeError, match="Generator"):
        Network([2, 3, 1]).sgd((XOR_X, XOR_Y), 1, 2, 0.1, rng=42, progress=False)


# ----- the costs: each carries its value and its output error (BP1) -----------------------


@pytest.mark.parametrize("output, cost", OUTPUT_COSTS)
def test_each_cost_delta_is_the_gradient_of_its_value(output, cost):
    """delta^L / n = dC/dz^L, with a^L = g(z^L), checked by central differences."""
    from nnlib.gradcheck import numerical_gradient, relative_error
    from nnlib.losses import targets_like
    from nnlib.network import COST_FUNCTIONS, OUTPUT_ACTIVATIONS

    rng = np.random.default_rng(40)
    n, k = 5, 3
    z_L = rng.standard_normal((n, k))
    Y = targets_like(z_L, _targets(output, n, k, rng))
    g, fn = OUTPUT_ACTIVATIONS[output], COST_FUNCTIONS[cost]
    delta = fn.delta(z_L, g(z_L), Y, output)
    assert delta.shape == (n, k)
    numeric = numerical_gradient(lambda z: fn.fn(z, g(z), Y, output), z_L.copy())
    assert relative_error(delta / n, numeric) < TOL


def test_network_asks_its_cost_and_not_which_cost_it_has():
    """Network takes the cost value and delta^L from cost_function, whatever it is."""

    class Halved:
        outputs = ("sigmoid",)

        @staticmethod
        def fn(z_L, a_L, Y, output):
            return 0.5 * float(np.mean(np.sum(a_L * Y, axis=1)))

        @staticmethod
        def delta(z_L, a_L, Y, output):
            return np.full(a_L.shape, 0.5)  # (BP1)

    net = Network([2, 3, 2], rng=np.random.default_rng(41))
    net.cost_function = Halved
    X, Y = XOR_X, np.eye(2)[XOR_Y]
    a_L = net.feedforward(X)
    assert net.cost(X, Y) == pytest.approx(0.5 * np.mean(np.sum(a_L * Y, axis=1)))
    nabla_W, nabla_b = net.backprop(X, Y)
    np.testing.assert_allclose(nabla_b[-1], [0.5, 0.5])  # (BP3) mean of delta^L


def test_cross_entropy_is_not_defined_for_identity_outputs():
    from nnlib.network import COST_FUNCTIONS, OUTPUTS

    assert COST_FUNCTIONS["quadratic"].outputs == OUTPUTS
    assert "identity" not in COST_FUNCTIONS["cross_entropy"].outputs
    with pytest.raises(ValueError, match="cross_entropy needs probabilities"):
        Network([2, 1], output="identity", cost="cross_entropy")


def test_the_two_vocabularies_agree_when_weight_decay_is_lmbda_over_n():
    """The table in nnlib's docstring: lr = eta and weight_decay = lmbda / n give one step."""
    from nnlib.layers import Dense, Sigmoid
    from nnlib.model import Sequential
    from nnlib.optim import SGD

    rng = np.random.default_rng(42)
    X, y = rng.standard_normal((6, 2)), rng.integers(0, 2, 6)
    eta, lmbda, n = 0.5, 3.0, 60
    net = Network([2, 3, 2], output="softmax", cost="cross_entropy", rng=rng)
    model = Sequential([Dense(2, 3, rng=rng), Sigmoid(), Dense(3, 2, rng=rng)])
    for layer, W, b in zip(model.layers[::2], net.weights, net.biases, strict=True):
        layer.params["W"][...], layer.params["b"][...] = W, b
    net.update_mini_batch(X, y, eta, lmbda=lmbda, n=n)
    model.loss_and_grads(X, y)
    SGD(lr=eta, weight_decay=lmbda / n).step(model)
    for layer, W, b in zip(model.layers[::2], net.weights, net.biases, strict=True):
        np.testing.assert_allclose(layer.params["W"], W, rtol=1e-12)
        np.testing.assert_allclose(layer.params["b"], b, rtol=1e-12)
