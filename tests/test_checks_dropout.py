"""nnlib.grading.checks.dropout: each checker passes right answers and names planted mistakes."""

import numpy as np
import pytest
from checking import fails

from nnlib.gradcheck import numerical_gradient
from nnlib.grading import fresh
from nnlib.losses import categorical_cross_entropy, categorical_cross_entropy_grad


@pytest.fixture(scope="module")
def D():
    return fresh().checks.dropout


# ----- answers, right and wrong ------------------------------------------------------------


def l2_penalty(weights, lmbda, n):
    return lmbda / (2 * n) * sum(float(np.sum(W * W)) for W in weights)


def l2_gradient(W, lmbda, n):
    return lmbda / n * W


def dropout_forward(x, p, rng, train):
    if not train:
        return x, None
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask


def dropout_backward(dout, mask):
    return dout.copy() if mask is None else dout * mask


def make_mlp_forward(dropout=dropout_forward):
    def mlp_forward(params, X, p, rng, train):
        z1 = X @ params["W1"].T + params["b1"]
        a1, mask = dropout(np.maximum(z1, 0.0), p, rng, train)
        z2 = a1 @ params["W2"].T + params["b2"]
        return z2, {"X": X, "z1": z1, "a1": a1, "mask": mask}

    return mlp_forward


mlp_forward = make_mlp_forward()


def make_train_step(bias_per_m=False, backward_mask=True, l2_factor=1.0, in_place=False):
    """A training step; the keywords plant mistakes."""

    def train_step(params, X, y, p, lmbda, n, eta, rng):
        z2, cache = mlp_forward(params, X, p, rng, True)
        cost = categorical_cross_entropy(z2, y) + l2_penalty(
            [params["W1"], params["W2"]], lmbda, n
        )
        m = len(X) if bias_per_m else 1
        delta2 = categorical_cross_entropy_grad(z2, y)
        grads = {"W2": delta2.T @ cache["a1"] / m, "b2": delta2.sum(axis=0) / m}
        da1 = delta2 @ params["W2"]
        if backward_mask:
            da1 = dropout_backward(da1, cache["mask"])
        delta1 = da1 * (cache["z1"] > 0)
        grads["W1"], grads["b1"] = delta1.T @ X / m, delta1.sum(axis=0) / m
        for key in ("W1", "W2"):
            grads[key] = grads[key] + l2_factor * l2_gradient(params[key], lmbda, n)
        if in_place:
            for key in params:
                params[key] -= eta * grads[key]
            return dict(params), float(cost)
        return {key: params[key] - eta * grads[key] for key in params}, float(cost)

    return train_step


def shift_images(X, dy, dx):
    _, h, w = X.shape
    out = np.zeros_like(X)
    if abs(dy) < h and abs(dx) < w:
        out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = X[
            :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
    return out


# ----- the L2 penalty and its gradient -----------------------------------------------------


WEIGHTS = [np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[-1.0, 0.5]])]


def test_l2_penalty_passes_the_worked_example_and_random_weights(D, rng):
    D.check_l2_penalty(l2_penalty, WEIGHTS, 0.1, 10, expected=0.15625)
    D.check_l2_penalty(l2_penalty, [rng.standard_normal((6, 2, 3, 3))], 2.5, 60)
    D.check_l2_penalty(l2_penalty, [rng.standard_normal((3, 3))], 0.0, 5)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda ws, lmbda, n: lmbda / n * sum(np.sum(W * W) for W in ws), "the 1/2 is missing"),
        (lambda ws, lmbda, n: lmbda / 2 * sum(np.sum(W * W) for W in ws), "the 1/n is missing"),
        (
            lambda ws, lmbda, n: lmbda / (2 * n) * sum(np.sum(np.abs(W)) for W in ws),
            "an L1 penalty",
        ),
        (
            lambda ws, lmbda, n: lmbda / (2 * n) * sum(np.sum(W) ** 2 for W in ws),
            "square of the sum instead of the sum of squares",
        ),
        (
            lambda ws, lmbda, n: lmbda / (2 * n) * np.sum(ws[0] ** 2),
            "only the first weight array counted",
        ),
        (lambda ws, lmbda, n: None, "did you forget `return`?"),
    ],
)
def test_l2_penalty_names_the_mistake(D, wrong, message):
    with fails(message):
        D.check_l2_penalty(wrong, WEIGHTS, 0.1, 10, expected=0.15625)


def test_the_l2_gradient_of_the_checker_is_the_gradient_of_the_penalty(rng):
    for shape, lmbda, n in [((4, 9), 5.0, 1000), ((2, 3, 3, 3), 1.5, 50)]:
        W = rng.standard_normal(shape)
        numeric = numerical_gradient(lambda w, lmbda=lmbda, n=n: l2_penalty([w], lmbda, n), W)
        np.testing.assert_allclose(numeric, lmbda / n * W, rtol=1e-6, atol=1e-9)


def test_l2_gradient_passes_and_names_mistakes(D, rng):
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    D.check_l2_gradient(l2_gradient, W, 0.1, 10, expected=0.01 * W)
    D.check_l2_gradient(l2_gradient, rng.standard_normal((3,)), 0.3, 7)
    planted = {
        "the factor 1/n is missing: the gradient": lambda W, lmbda, n: lmbda * W,
        "the 1/2 should not be in the gradient": lambda W, lmbda, n: lmbda / (2 * n) * W,
        "a factor 2 too many": lambda W, lmbda, n: 2 * lmbda / n * W,
        "the factor 1/n is missing and the 1/2 kept": lambda W, lmbda, n: lmbda / 2 * W,
        "this is the updated weight": lambda W, lmbda, n: W - lmbda / n * W,
    }
    for message, wrong in planted.items():
        with fails(message):
            D.check_l2_gradient(wrong, W, 0.1, 10)


def test_l2_gradient_that_updates_W_in_place_fails(D):
    def in_place(W, lmbda, n):
        W *= lmbda / n
        return W

    with fails("changed its input W in place"):
        D.check_l2_gradient(in_place, np.ones((2, 3)), 0.1, 10)


# ----- dropout forward ---------------------------------------------------------------------


X_DEMO = np.arange(1.0, 9.0).reshape(2, 4)


def planted_forward(out_of, draw_at_test=False, extra_draw=False, mask_of=None):
    """A dropout_forward whose output is out_of(x, u, p) for the draws u."""

    def forward(x, p, rng, train):
        u = rng.random(x.shape) if (train or draw_at_test) else None
        if not train:
            return x, None
        if extra_draw:
            rng.random()
        mask = (u >= p) / (1 - p) if mask_of is None else mask_of(u, p)
        return out_of(x, u, p), mask

    return forward


@pytest.mark.parametrize(
    "out_of, message",
    [
        (lambda x, u, p: x * (u >= p), "no rescaling"),
        (lambda x, u, p: x * (u < p) / p, "p interpreted as the keep probability: p is"),
        (lambda x, u, p: x * (u >= 1 - p) / p, "(kept where u >= 1 - p, divided by p)"),
        (lambda x, u, p: x * (u < p) / (1 - p), "units kept where u < p"),
        (lambda x, u, p: x * (u >= p) / p, "divided by p instead of the keep probability"),
        (lambda x, u, p: x * (u >= p) * (1 - p), "multiplied by 1 - p instead of divided"),
    ],
)
def test_dropout_forward_names_the_mistake(D, out_of, message):
    # p = 0.3 tells the keep-probability mistakes apart (at 0.5 several coincide)
    with fails(message):
        D.check_dropout_forward(planted_forward(out_of), X_DEMO, 0.3, seed=0)


def test_dropout_forward_passes_and_checks_the_mask(D, rng):
    D.check_dropout_forward(dropout_forward, X_DEMO, 0.5, seed=0)
    D.check_dropout_forward(dropout_forward, rng.standard_normal((2, 3, 5, 5)), 0.9, seed=4)
    unscaled_mask = planted_forward(
        lambda x, u, p: x * (u >= p) / (1 - p), mask_of=lambda u, p: u >= p
    )
    with fails("the mask should hold 1 / (1 - p) for kept units"):
        D.check_dropout_forward(unscaled_mask, X_DEMO, 0.5, seed=0)


def test_dropout_forward_replays_the_rng_and_keeps_x(D):
    extra = planted_forward(lambda x, u, p: x * (u >= p) / (1 - p), extra_draw=True)
    with fails("draw exactly once, u = rng.random(x.shape)"):
        D.check_dropout_forward(extra, X_DEMO, 0.5, seed=0)

    def in_place(x, p, rng, train):
        mask = (rng.random(x.shape) >= p) / (1 - p)
        x *= mask
        return x, mask

    with fails("changed its input x in place (for example with `x *= mask`)"):
        D.check_dropout_forward(in_place, X_DEMO, 0.5, seed=0)
    with fails("should return a pair (out, mask)"):
        D.check_dropout_forward(lambda x, p, rng, train: x, X_DEMO, 0.5, seed=0)


def test_dropout_test_time(D):
    D.check_dropout_test_time(dropout_forward, X_DEMO, 0.5)
    drawing = planted_forward(lambda x, u, p: x, draw_at_test=True)
    with fails("drew random numbers from rng at test time"):
        D.check_dropout_test_time(drawing, X_DEMO, 0.5)
    planted = {
        "dropout is active at test time": (
            lambda x, p, rng, train: dropout_forward(x, p, np.random.default_rng(1), True)
        ),
        "scaled by 1 - p at test time": lambda x, p, rng, train: (x * (1 - p), None),
        "divided by 1 - p at test time": lambda x, p, rng, train: (x / (1 - p), None),
        "at test time the mask should be None": lambda x, p, rng, train: (x, np.ones_like(x)),
    }
    for message, wrong in planted.items():
        with fails(message):
            D.check_dropout_test_time(wrong, X_DEMO, 0.3, seed=1)


def test_dropout_statistics(D):
    D.check_dropout_statistics(dropout_forward, 0.5, seed=11, other_seed=12)

    def global_rng(x, p, rng, train):
        return dropout_forward(x, p, np.random.default_rng(0), train)

    def keep_prob(x, p, rng, train):
        return dropout_forward(x, 1 - p, rng, train)

    def unscaled(x, p, rng, train):
        keep = rng.random(x.shape) >= p
        return x * keep, keep

    def by_p(x, p, rng, train):
        keep = rng.random(x.shape) >= p
        return x * keep / p, keep / p

    with fails("different seeds gave the same mask"):
        D.check_dropout_statistics(global_rng, 0.2, seed=11, other_seed=12)
    with fails("not of keeping it"):
        D.check_dropout_statistics(keep_prob, 0.2, seed=11, other_seed=12)
    with fails(": no rescaling, divide the kept units by 1 - p"):
        D.check_dropout_statistics(unscaled, 0.2, seed=11, other_seed=12)
    with fails(": divided by p, but the keep probability is 1 - p"):
        D.check_dropout_statistics(by_p, 0.2, seed=11, other_seed=12)


def test_dropout_statistics_catches_a_mask_that_changes_with_the_same_seed(D):
    calls = []

    def drifting(x, p, rng, train):
        calls.append(1)
        return dropout_forward(x, p, np.random.default_rng(len(calls)), train)

    with fails("the same seed gave two different masks"):
        D.check_dropout_statistics(drifting, 0.5, seed=11, other_seed=12)


def test_dropout_with_p_zero_keeps_all(D):
    x = np.random.default_rng(5).standard_normal((4, 6))
    D.check_dropout_keeps_all(dropout_forward, x, seed=5)

    def drops_at_zero(x, p, rng, train):
        keep = rng.random(x.shape) >= 0.5
        return x * keep, keep

    with fails("dropout_forward(x, p=0.0, rng, train=True)[0]"):
        D.check_dropout_keeps_all(drops_at_zero, x, seed=5)


# ----- dropout backward --------------------------------------------------------------------

MASK = np.array([[2.0, 0.0, 2.0, 0.0], [0.0, 2.0, 2.0, 2.0]])
DOUT = np.array([[0.1, -0.2, 0.3, 0.4], [0.5, -0.6, 0.7, -0.8]])

BACKWARD_PLANTED = {
    "dout returned unchanged": lambda dout, mask: dout,
    "the 1 / (1 - p) scale is missing": lambda dout, mask: dout * (mask > 0),
    "divided by (1 - p) once more": lambda dout, mask: dout * mask * 2,
}


def test_dropout_backward_worked_example(D):
    D.check_dropout_backward(dropout_backward, DOUT, MASK)
    D.check_dropout_backward(dropout_backward, DOUT, None)
    for message, wrong in BACKWARD_PLANTED.items():
        with fails(message):
            D.check_dropout_backward(wrong, DOUT, MASK)
    with fails("dropout_backward(dout, None)"):
        D.check_dropout_backward(lambda dout, mask: 0 * dout, DOUT, None)
    with fails("dropout_backward(dout, None) returned dout itself: return a new array"):
        D.check_dropout_backward(lambda dout, mask: dout if mask is None else dout, DOUT, None)

    def in_place(dout, mask):
        dout *= mask
        return dout

    with fails("changed its input dout in place"):
        D.check_dropout_backward(in_place, DOUT, MASK)


def test_dropout_gradient_check(D, rng):
    x = rng.standard_normal((3, 9))
    mask = (rng.random((3, 9)) >= 0.5) / 0.5
    D.check_dropout_gradient(dropout_backward, x, mask)
    for message, wrong in BACKWARD_PLANTED.items():
        with fails(message):
            D.check_dropout_gradient(wrong, x, mask)


def test_dropout_backward_that_calls_the_reference_earns_nothing(D):
    import nnlib.layers.dropout as reference

    with fails("calling nnlib.layers.dropout.dropout_backward earns no points"):
        D.check_dropout_backward(reference.dropout_backward, DOUT, MASK)


# ----- the network with a train/eval switch ------------------------------------------------


@pytest.fixture
def net(D, rng):
    return D.random_params(rng, 3, 6, 2), rng.standard_normal((4, 3))


def test_mlp_forward_passes(D, net):
    params, X = net
    D.check_mlp_forward_eval(mlp_forward, params, X, 0.5)
    D.check_mlp_forward_train(mlp_forward, params, X, 0.5, seed=1)
    D.check_mlp_forward_train(mlp_forward, params, X, 0.0, seed=1)
    D.check_mlp_forward_expectation(mlp_forward, params, X, 0.5, draws=500)


def unscaled_dropout(x, p, rng, train):
    if not train:
        return x, None
    keep = rng.random(x.shape) >= p
    return x * keep, keep


def keep_prob_dropout(x, p, rng, train):
    if not train:
        return x, None
    mask = (rng.random(x.shape) < p) / p  # p used as the keep probability
    return x * mask, mask


def test_mlp_forward_train_names_the_mistake(D, net):
    params, X = net
    planted = {
        "no rescaling in dropout": make_mlp_forward(unscaled_dropout),
        "p interpreted as the keep probability": make_mlp_forward(keep_prob_dropout),
        "dropout is missing in training mode": make_mlp_forward(lambda x, p, rng, t: (x, None)),
    }
    for message, wrong in planted.items():
        with fails(message):
            D.check_mlp_forward_train(wrong, params, X, 0.3, seed=1)
    with fails("should return a pair (z2, cache)"):
        D.check_mlp_forward_train(lambda *args: mlp_forward(*args)[0], params, X, 0.3, seed=1)


def test_mlp_forward_eval_names_the_mistake(D, net):
    params, X = net
    always = make_mlp_forward(lambda x, p, rng, train: dropout_forward(x, p, rng, True))
    with fails("drew random numbers from rng: dropout is still active at test time"):
        D.check_mlp_forward_eval(always, params, X, 0.5)

    def fresh_masks(x, p, rng, train):
        return dropout_forward(x, p, np.random.default_rng(), True)

    with fails("gave different outputs for two different rngs"):
        D.check_mlp_forward_eval(make_mlp_forward(fresh_masks), params, X, 0.5)

    def fixed_mask(x, p, rng, train):
        return dropout_forward(x, p, np.random.default_rng(1), True)

    with fails("dropout is active at test time: with train=False every unit is used"):
        D.check_mlp_forward_eval(make_mlp_forward(fixed_mask), params, X, 0.5)
    old_style = make_mlp_forward(lambda x, p, rng, train: (x * (1 - p), None))
    with fails("hidden activations scaled by 1 - p at test time"):
        D.check_mlp_forward_eval(old_style, params, X, 0.5)


def test_mlp_forward_expectation_names_the_mistake(D, net):
    params, X = net

    def same_mask(x, p, rng, train):
        return dropout_forward(x, p, np.random.default_rng(3), train)

    with fails("gave the same output: draw a new mask from rng on every call"):
        D.check_mlp_forward_expectation(make_mlp_forward(same_mask), params, X, 0.5)
    with fails("Likely mistake: no rescaling (the mean is (1 - p) times too small)"):
        D.check_mlp_forward_expectation(make_mlp_forward(unscaled_dropout), params, X, 0.5)


# ----- the training step -------------------------------------------------------------------


@pytest.fixture
def batch(D):
    rng = np.random.default_rng(3)
    params = D.random_params(rng, 4, 5, 3)
    return params, rng.standard_normal((6, 4)), np.array([0, 2, 1, 2, 0, 1])


def test_train_step_passes(D, batch):
    params, X, y = batch
    D.check_train_step(make_train_step(), params, X, y, 0.0, 0.5, 50, 0.1, seed=0)
    D.check_train_step(make_train_step(), params, X, y, 0.5, 0.5, 50, 0.1, seed=1)


@pytest.mark.parametrize(
    "p, planted, message",
    [
        (0.0, {"l2_factor": 0.0}, "the L2 gradient is missing: add l2_gradient"),
        (0.0, {"l2_factor": 50.0}, "the L2 gradient is missing the factor 1/n"),
        (0.0, {"l2_factor": 0.5}, "the L2 gradient includes the 1/2"),
        (0.0, {"bias_per_m": True}, "once too often (a factor 1/m = 0.1667)"),
        (0.5, {"backward_mask": False}, "the mask is not applied in the backward pass"),
        (0.0, {"in_place": True}, "changed its input params['W1'] in place"),
    ],
)
def test_train_step_names_the_mistake(D, batch, p, planted, message):
    params, X, y = batch
    with fails(message):
        D.check_train_step(make_train_step(**planted), params, X, y, p, 0.5, 50, 0.1, seed=1)


def test_train_step_checks_the_cost(D, batch):
    params, X, y = batch
    right = make_train_step()

    def no_penalty(params, X, y, p, lmbda, n, eta, rng):
        new, _ = right(params, X, y, p, lmbda, n, eta, rng)
        return new, categorical_cross_entropy(mlp_forward(params, X, p, None, False)[0], y)

    with fails("the L2 penalty is missing from the cost"):
        D.check_train_step(no_penalty, params, X, y, 0.0, 0.5, 50, 0.1, seed=1)
    with fails("should return a pair (new_params, cost)"):
        D.check_train_step(lambda *args: right(*args)[0], params, X, y, 0.0, 0.5, 50, 0.1, 1)


# ----- shifted images ----------------------------------------------------------------------

X_SHIFT = np.arange(1.0, 10.0).reshape(1, 3, 3)
DOWN = [[[0, 0, 0], [1, 2, 3], [4, 5, 6]]]


def test_shift_images_passes(D, rng):
    D.check_shift_images(shift_images, X_SHIFT, 1, 0, expected=DOWN)
    D.check_shift_images(shift_images, X_SHIFT.astype(np.float32), 1, 0, expected=DOWN)
    X = rng.random((3, 6, 5))
    for dy, dx in [(2, 1), (-1, 3), (0, 0), (6, 0), (-7, 9)]:
        D.check_shift_images(shift_images, X, dy, dx)


def test_shift_images_names_the_mistake(D):
    planted = {
        "the pixels wrap around the border (np.roll)": (
            lambda X, dy, dx: np.roll(X, (dy, dx), axis=(1, 2))
        ),
        "dy and dx swapped": lambda X, dy, dx: shift_images(X, dx, dy),
        "shifted the opposite way": lambda X, dy, dx: shift_images(X, -dy, -dx),
    }
    for message, wrong in planted.items():
        with fails(message):
            D.check_shift_images(wrong, X_SHIFT, 1, 0, expected=DOWN)

    def float64(X, dy, dx):
        return shift_images(X, dy, dx).astype(np.float64)

    with fails("the result must have the dtype of X (np.zeros_like(X) keeps it"):
        D.check_shift_images(float64, X_SHIFT.astype(np.float32), 1, 0)
