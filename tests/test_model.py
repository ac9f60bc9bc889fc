"""Tests of nnlib.model.Sequential and nnlib.optim.SGD."""

import warnings

import numpy as np
import pytest

from nnlib.data import make_blobs
from nnlib.gradcheck import numerical_gradient, relative_error
from nnlib.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sigmoid, Tanh
from nnlib.model import Sequential
from nnlib.optim import SGD

TOL = 1e-7


def numerical_param_grad(model, layer, key, x, y):
    """Central differences of model.loss(x, y) w.r.t. layer.params[key]."""
    original = layer.params[key]

    def cost(p):
        layer.params[key] = p
        return model.loss(x, y)

    try:
        return numerical_gradient(cost, original)
    finally:
        layer.params[key] = original


def tiny_cnn(rng, loss="softmax_cross_entropy", n_out=4):
    return Sequential(
        [
            Conv2D(2, 3, 3, padding=1, rng=rng),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(3 * 2 * 3, 5, rng=rng),
            Tanh(),
            Dense(5, n_out, rng=rng),
        ],
        loss=loss,
        input_grad=True,
    )


def test_model_gradient_check_tiny_cnn():
    rng = np.random.default_rng(0)
    model = tiny_cnn(rng)
    for layer in model.layers:
        if "b" in layer.params:
            layer.params["b"][:] = 0.1 * rng.standard_normal(layer.params["b"].shape)
    x = rng.standard_normal((3, 2, 4, 6))
    y = np.array([0, 3, 1])
    loss, grads = model.loss_and_grads(x, y, train=False)
    assert loss == pytest.approx(model.loss(x, y))
    assert set(grads) == {"0.W", "0.b", "4.W", "4.b", "6.W", "6.b"}
    for i, layer in enumerate(model.layers):
        for key in layer.params:
            numeric = numerical_param_grad(model, layer, key, x, y)
            err = relative_error(grads[f"{i}.{key}"], numeric)
            assert err < TOL, f"layer {i} ({layer!r}) {key}: relative error {err:.2e}"
    # the input gradient too (input_grad=True)
    z = model.forward(x)
    dx = model.backward(model.cost_grad(z, y))
    numeric_dx = numerical_gradient(lambda xc: model.loss(xc, y), x)
    assert relative_error(dx, numeric_dx) < TOL


@pytest.mark.parametrize(
    "loss, last, y",
    [
        ("quadratic", Sigmoid(), np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])),
        ("categorical_cross_entropy", None, np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])),
        ("binary_cross_entropy_from_logits", None, np.array([[1.0, 0.0], [0.0, 0.0], [1, 1]])),
    ],
)
def test_model_gradient_check_each_cost(loss, last, y):
    rng = np.random.default_rng(1)
    layers = [Dense(3, 4, rng=rng), Tanh(), Dense(4, 2, rng=rng)]
    model = Sequential(layers + ([last] if last is not None else []), loss=loss)
    x = rng.standard_normal((3, 3))
    _, grads = model.loss_and_grads(x, y)
    for i, layer in enumerate(model.layers):
        for key in layer.params:
            numeric = numerical_param_grad(model, layer, key, x, y)
            assert relative_error(grads[f"{i}.{key}"], numeric) < TOL


def test_first_layer_skips_input_gradient_by_default():
    rng = np.random.default_rng(2)
    model = Sequential([Dense(3, 2, rng=rng)])
    assert model.layers[0].needs_input_grad is False
    z = model.forward(rng.standard_normal((4, 3)))
    assert model.backward(np.ones_like(z)) is None


def test_training_reduces_loss_on_blobs():
    rng = np.random.default_rng(3)
    X, y = make_blobs(300, rng, k=3)
    model = Sequential([Dense(2, 16, rng=rng), ReLU(), Dense(16, 3, rng=rng)])
    before = model.loss(X, y)
    history = model.fit(
        X, y, epochs=15, batch_size=32, optimizer=SGD(0.1, momentum=0.9), rng=rng,
        validation_data=(X, y), progress=False,
    )  # fmt: skip
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 15 for v in history.values())
    assert history["val_loss"][-1] < 0.5 * before
    assert history["loss"][-1] < history["loss"][0]
    assert model.evaluate(X, y) > 0.9
    assert history["val_accuracy"][-1] == pytest.approx(model.evaluate(X, y))


def bars(n, rng):
    """8x8 images holding one horizontal (label 0) or vertical (label 1) bar, plus noise."""
    y = rng.integers(0, 2, size=n)
    X = 0.1 * rng.standard_normal((n, 1, 8, 8))
    pos = rng.integers(0, 8, size=n)
    X[y == 0, 0, pos[y == 0], :] += 1.0
    X[y == 1, 0, :, pos[y == 1]] += 1.0
    return X, y


def test_small_cnn_learns_bar_orientation():
    rng = np.random.default_rng(4)
    X, y = bars(400, rng)
    model = Sequential(
        [Conv2D(1, 4, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2), Flatten(),
         Dense(64, 2, rng=rng)]
    )  # fmt: skip
    history = model.fit(
        X, y, epochs=5, batch_size=20, optimizer=SGD(0.05, momentum=0.9), rng=rng,
        progress=False,
    )  # fmt: skip
    assert history["val_loss"] == [] and history["val_accuracy"] == []
    assert history["loss"][-1] < history["loss"][0]
    X_test, y_test = bars(200, np.random.default_rng(5))
    assert model.evaluate(X_test, y_test) > 0.95


def test_nan_loss_stops_training_with_a_clear_message():
    rng = np.random.default_rng(6)
    X, y = make_blobs(64, rng, k=2)
    X[10, 0] = np.nan
    model = Sequential([Dense(2, 2, rng=rng)])
    with pytest.raises(FloatingPointError, match=r"epoch 1, step \d+.*smaller learning rate"):
        model.fit(X, y, epochs=3, batch_size=8, optimizer=SGD(0.1), rng=rng, progress=False)


def test_divergence_stops_training_without_numpy_warnings():
    rng = np.random.default_rng(7)
    X, y = make_blobs(200, rng, k=2)
    X *= 1e3
    model = Sequential([Dense(2, 8, rng=rng), ReLU(), Dense(8, 2, rng=rng)], loss="quadratic")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning would fail the test
        with pytest.raises(FloatingPointError, match=r"epoch \d+, step \d+.*learning rate"):
            model.fit(X, y, epochs=50, batch_size=10, optimizer=SGD(10.0), rng=rng,
                      progress=False)  # fmt: skip


def test_predict_in_batches_matches_one_pass():
    rng = np.random.default_rng(8)
    model = Sequential([Dense(5, 7, rng=rng), ReLU(), Dense(7, 3, rng=rng)])
    x = rng.standard_normal((23, 5))
    z = model.forward(x)
    np.testing.assert_array_equal(model.predict(x, batch_size=4), np.argmax(z, axis=1))
    proba = model.predict_proba(x, batch_size=5)
    assert proba.shape == (23, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    y = rng.integers(0, 3, size=23)
    assert model.evaluate(x, y, batch_size=6) == pytest.approx(np.mean(np.argmax(z, 1) == y))
    assert model.loss(x, y, batch_size=4) == pytest.approx(model.cost(z, y), rel=1e-12)


def test_binary_logits_model_predicts_zero_or_one():
    rng = np.random.default_rng(9)
    model = Sequential([Dense(2, 1, rng=rng)], loss="sigmoid_cross_entropy")
    x = rng.standard_normal((10, 2))
    z = model.forward(x)[:, 0]
    np.testing.assert_array_equal(model.predict(x), (z > 0).astype(int))
    np.testing.assert_allclose(model.predict_proba(x)[:, 0], 1 / (1 + np.exp(-z)))


def test_fit_input_errors():
    rng = np.random.default_rng(10)
    model = Sequential([Dense(2, 2, rng=rng)])
    X, y = np.zeros((4, 2)), np.zeros(4, dtype=int)
    with pytest.raises(TypeError, match="rng"):
        model.fit(X, y, optimizer=SGD(0.1), rng=None, progress=False)
    with pytest.raises(TypeError, match="optimizer"):
        model.fit(X, y, rng=rng, progress=False)
    with pytest.raises(ValueError, match="4 samples but y has 3"):
        model.fit(X, y[:3], optimizer=SGD(0.1), rng=rng, progress=False)
    with pytest.raises(ValueError, match="unknown cost"):
        Sequential([Dense(2, 2, rng=rng)], loss="hinge")


def test_dropout_in_a_model_is_off_at_test_time():
    rng = np.random.default_rng(11)
    model = Sequential([Dense(4, 6, rng=rng), ReLU(), Dropout(0.5, rng=rng), Dense(6, 2, rng=rng)])
    x = rng.standard_normal((5, 4))
    np.testing.assert_array_equal(model.forward(x), model.forward(x))
    assert not np.array_equal(model.forward(x, train=True), model.forward(x, train=True))


# ----- SGD -------------------------------------------------------------------------------


def dense_with(W, b, dW, db):
    layer = Dense(2, 1, rng=np.random.default_rng(0))
    layer.params = {"W": np.array(W), "b": np.array(b)}
    layer.grads = {"W": np.array(dW), "b": np.array(db)}
    return layer


def test_sgd_plain_step():
    layer = dense_with([[1.0, -2.0]], [1.0], [[0.5, -1.0]], [2.0])
    SGD(0.1).step([layer])
    np.testing.assert_allclose(layer.params["W"], [[0.95, -1.9]])
    np.testing.assert_allclose(layer.params["b"], [0.8])


def test_sgd_momentum_and_weight_decay_two_steps():
    layer = dense_with([[1.0, -2.0]], [1.0], [[0.5, 0.5]], [0.5])
    opt = SGD(0.1, momentum=0.9, weight_decay=0.01)
    opt.step([layer])
    # g = dW + 0.01 W = [0.51, 0.48]; v = -0.1 g; W += v. The bias is not decayed.
    np.testing.assert_allclose(layer.params["W"], [[0.949, -2.048]], rtol=1e-12)
    np.testing.assert_allclose(layer.params["b"], [0.95], rtol=1e-12)
    opt.step([layer])
    # g = [0.5 + 0.00949, 0.5 - 0.02048]; v = 0.9 v - 0.1 g
    np.testing.assert_allclose(layer.params["W"], [[0.852151, -2.139152]], rtol=1e-12)
    np.testing.assert_allclose(layer.params["b"], [0.95 - 0.045 - 0.05], rtol=1e-12)


def test_sgd_steps_a_model_and_rejects_bad_settings():
    rng = np.random.default_rng(12)
    model = Sequential([Dense(3, 2, rng=rng)])
    model.loss_and_grads(rng.standard_normal((4, 3)), np.array([0, 1, 1, 0]))
    W0 = model.layers[0].params["W"].copy()
    SGD(0.5).step(model)
    np.testing.assert_allclose(model.layers[0].params["W"], W0 - 0.5 * model.layers[0].grads["W"])
    for kwargs in ({"lr": 0.0}, {"lr": 0.1, "momentum": 1.0}, {"lr": 0.1, "weight_decay": -1}):
        with pytest.raises(ValueError):
            SGD(**kwargs)


def test_fit_takes_every_step_with_loss_and_grads():
    """fit = for each mini-batch: loss_and_grads, then the optimizer's step."""
    rng = np.random.default_rng(30)
    X, y = make_blobs(30, rng, k=3)
    model = Sequential([Dense(2, 8, rng=rng), ReLU(), Dense(8, 3, rng=rng)])
    seen = []
    real = model.loss_and_grads

    def spy(x, y, train=True):
        loss, grads = real(x, y, train)
        seen.append((len(x), loss, model.last_output.copy()))
        return loss, grads

    model.loss_and_grads = spy
    history = model.fit(X, y, epochs=2, batch_size=8, optimizer=SGD(0.1), rng=rng, progress=False)
    assert [m for m, _, _ in seen] == [8, 8, 8, 6] * 2
    first = seen[:4]
    assert history["loss"][0] == pytest.approx(sum(m * loss for m, loss, _ in first) / 30)
    assert all(z.shape == (m, 3) for m, _, z in seen)


def test_named_params_and_loss_and_grads_use_the_same_names():
    rng = np.random.default_rng(31)
    model = Sequential([Dense(2, 3, rng=rng), ReLU(), Dense(3, 2, rng=rng)])
    params = model.named_params()
    _, grads = model.loss_and_grads(rng.standard_normal((4, 2)), np.array([0, 1, 1, 0]))
    assert list(params) == list(grads) == ["0.W", "0.b", "2.W", "2.b"]
    assert params["2.W"] is model.layers[2].params["W"]
    assert all(grads[k].shape == params[k].shape for k in params)
