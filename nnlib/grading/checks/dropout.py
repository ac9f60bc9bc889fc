"""Checkers for notebook 08: the L2 penalty, inverted dropout, a network with a train/eval
switch, one training step with both, and shifted images.

Each ``check_*`` calls the student's function (passed as its first argument), compares what
comes back with values computed here in float64, and raises ``AssertionError`` with a
message that names the mistake when it is one of the table beside it. Randomness is always
replayed from a seed: dropout's recipe is ``u = rng.random(x.shape)``, drop where
``u < p``, keep ``x / (1 - p)`` elsewhere, so ``default_rng(seed)`` here gives the very
mask a correct answer draws.

Shapes: ``x`` any shape (n, ...); a network's ``params`` is a dict with ``"W1"`` (h, d),
``"b1"`` (h,), ``"W2"`` (K, h), ``"b2"`` (K,); ``X`` is (m, d) and ``y`` (m,) integer labels.
"""

from __future__ import annotations

import numpy as np

from nnlib import gradcheck, losses
from nnlib.grading.compare import (
    assert_close,
    assert_new,
    assert_shape,
    assert_unchanged,
    check_output,
    mistake_values,
)
from nnlib.grading.feedback import fmt
from nnlib.grading.forbid import forbidden
from nnlib.grading.gradients import check_backward
from nnlib.grading.quiet import call, invoke, quiet

#: the nnlib references a dropout answer must not call
FORBID = ("nnlib.layers.dropout.dropout_forward", "nnlib.layers.dropout.dropout_backward")
#: the parameter names of the d-h-K network of exercises 5 and 6
KEYS = ("W1", "b1", "W2", "b2")


# ---------------------------------------------------------------------------------------
# Exercises 1 and 2: the L2 penalty and its gradient


def _squares(weights) -> float:
    return sum(float(np.sum(np.square(W))) for W in weights)


#: description -> penalty(weights, lmbda, n) of a known mistake
PENALTY_MISTAKES = {
    "the 1/2 is missing: the penalty is (lambda / (2 n)) * sum of w^2": (
        lambda weights, lmbda, n: lmbda / n * _squares(weights)
    ),
    "the 1/n is missing: divide by 2 n, where n is the number of training samples": (
        lambda weights, lmbda, n: lmbda / 2 * _squares(weights)
    ),
    "sum of |w| (an L1 penalty) instead of the sum of squares": (
        lambda weights, lmbda, n: lmbda / (2 * n) * sum(float(np.sum(np.abs(W))) for W in weights)
    ),
    "square of the sum instead of the sum of squares: square every weight, then add": (
        lambda weights, lmbda, n: lmbda / (2 * n) * sum(float(np.sum(W)) ** 2 for W in weights)
    ),
    "only the first weight array counted: sum over every array in the list": (
        lambda weights, lmbda, n: lmbda / (2 * n) * _squares(weights[:1])
    ),
}


def check_l2_penalty(l2_penalty, weights, lmbda, n, expected=None):
    """Check ``l2_penalty(weights, lmbda, n)`` = (lmbda / (2 n)) * sum of all squared weights.

    weights: list of weight arrays, any shapes (dense (n_out, n_in), conv (c_out, c_in, k, k)).
    lmbda: float >= 0. n: int, the training-set size.
    expected: the penalty, when the test states it (a worked example); default: computed.
    Returns the student's value.
    """
    __tracebackhide__ = True
    shapes = [np.shape(W) for W in weights]
    if expected is None:
        expected = lmbda / (2 * n) * _squares(weights)
    return check_output(
        l2_penalty,
        weights,
        lmbda,
        n,
        expected=np.array(expected, dtype=float),
        name=f"l2_penalty(weights of shapes {shapes}, lmbda={lmbda}, n={n})",
        arg_names=("weights", "lmbda", "n"),
        mistakes=PENALTY_MISTAKES,
    )


#: description -> gradient(W, lmbda, n) of a known mistake
GRADIENT_MISTAKES = {
    "the factor 1/n is missing: the gradient of (lambda / (2 n)) sum w^2 is (lambda / n) W": (
        lambda W, lmbda, n: lmbda * W
    ),
    (
        "the 1/2 should not be in the gradient: differentiating w^2 gives 2 w, "
        "which cancels the 1/2 of the penalty, so the gradient is (lambda / n) W"
    ): lambda W, lmbda, n: lmbda / (2 * n) * W,
    (
        "a factor 2 too many: the 2 from differentiating w^2 cancels the 1/2 "
        "of the penalty, so the gradient is (lambda / n) W"
    ): lambda W, lmbda, n: 2 * lmbda / n * W,
    "the factor 1/n is missing and the 1/2 kept: the gradient is (lambda / n) W": (
        lambda W, lmbda, n: lmbda / 2 * W
    ),
    (
        "this is the updated weight W - (lambda / n) W, not the gradient: return (lambda / n) W"
    ): lambda W, lmbda, n: W - lmbda / n * W,
}


def check_l2_gradient(l2_gradient, W, lmbda, n, expected=None):
    """Check ``l2_gradient(W, lmbda, n)`` = (lmbda / n) W, leaving W unchanged.

    W: a weight array of any shape. lmbda: float >= 0. n: int, the training-set size.
    expected: the gradient, shape of W, when the test states it; default (lmbda / n) W.
    Returns the student's gradient.
    """
    __tracebackhide__ = True
    W = np.asarray(W, dtype=float)
    return check_output(
        l2_gradient,
        W,
        lmbda,
        n,
        expected=lmbda / n * W if expected is None else np.asarray(expected, dtype=float),
        name=f"l2_gradient(W of shape {W.shape}, lmbda={lmbda}, n={n})",
        arg_names=("W", "lmbda", "n"),
        mistakes=GRADIENT_MISTAKES,
    )


# ---------------------------------------------------------------------------------------
# Exercise 3: dropout forward


def run_dropout_forward(dropout_forward, x, p, seed, train, replay=True):
    """The student's ``(out, mask)`` for ``dropout_forward(x, p, default_rng(seed), train)``.

    x: any shape (n, ...), passed as a copy that must come back unchanged. With ``replay``
    the rng must afterwards be where the recipe leaves it: one draw ``rng.random(x.shape)``
    in training mode, no draw at all at test time.
    """
    __tracebackhide__ = True
    label = f"dropout_forward(x, p={p}, rng, train={train})"
    given, rng = x.copy(), np.random.default_rng(seed)
    with forbidden(dropout_forward, FORBID):
        result = call(dropout_forward, given, p, rng, train, name=label)
    if not np.array_equal(given, x):
        raise AssertionError(
            f"{label} changed its input x in place (for example with `x *= mask`): "
            "do not modify x; return out = x * mask, a new array"
        )
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError(
            f"{label} should return a pair (out, mask), got {type(result).__name__}"
        )
    recipe = np.random.default_rng(seed)
    if train:
        recipe.random(x.shape)  # the one draw u = rng.random(x.shape)
    if replay and not np.array_equal(rng.random(3), recipe.random(3)):
        if not train:
            raise AssertionError(
                f"{label} drew random numbers from rng at test time: with train=False "
                "nothing is drawn (return x and None before touching rng)"
            )
        raise AssertionError(
            f"{label} did not use rng as the recipe says: draw exactly once, "
            "u = rng.random(x.shape), and nothing else, so that your masks can be replayed"
        )
    return result


#: description -> out(x, u, p) of a known training-mode mistake, u the recipe's draws
FORWARD_MISTAKES = {
    (
        "no rescaling: divide the kept units by the keep probability 1 - p (inverted dropout); "
        "without it the expected activation shrinks to (1 - p) x"
    ): lambda x, u, p: x * (u >= p),
    (
        "p interpreted as the keep probability: p is the probability of DROPPING a unit, so "
        "drop where u < p, keep where u >= p and divide by 1 - p"
    ): lambda x, u, p: x * (u < p) / p,
    (
        "p interpreted as the keep probability (kept where u >= 1 - p, divided by p): p is the "
        "probability of DROPPING a unit; keep where u >= p and divide by 1 - p"
    ): lambda x, u, p: x * (u >= 1 - p) / p,
    "units kept where u < p: a unit is dropped when u < p and kept when u >= p": (
        lambda x, u, p: x * (u < p) / (1 - p)
    ),
    "divided by p instead of the keep probability 1 - p": lambda x, u, p: x * (u >= p) / p,
    (
        "multiplied by 1 - p instead of divided by it: inverted dropout divides "
        "the kept units by 1 - p"
    ): lambda x, u, p: x * (u >= p) * (1 - p),
}

#: description -> out(x, u, p) of a known test-time mistake
TEST_TIME_MISTAKES = {
    (
        "dropout is active at test time: with train=False every unit is used "
        "and x is returned unchanged"
    ): lambda x, u, p: x * (u >= p) / (1 - p),
    (
        "scaled by 1 - p at test time: that is the old, non-inverted dropout; "
        "with inverted dropout the test-time layer is the identity"
    ): lambda x, u, p: x * (1 - p),
    "divided by 1 - p at test time: the scaling belongs to training only": (
        lambda x, u, p: x / (1 - p)
    ),
}


def check_dropout_forward(dropout_forward, x, p, seed):
    """Check training mode: ``dropout_forward(x, p, default_rng(seed), True)``.

    x: any shape (n, ...). The output must be x * mask and the mask (shape of x) must be
    (u >= p) / (1 - p) for the recipe's draws u = rng.random(x.shape), drawn exactly once.
    Returns the student's (out, mask).
    """
    __tracebackhide__ = True
    x = np.asarray(x, dtype=float)
    out, mask = run_dropout_forward(dropout_forward, x, p, seed, True)
    u = np.random.default_rng(seed).random(x.shape)
    expected_mask = (u >= p) / (1 - p)
    call_text = f"dropout_forward(x of shape {x.shape}, p={p}, default_rng({seed}), True)"
    assert_close(
        out,
        x * expected_mask,
        f"out = {call_text}[0]",
        mistakes=mistake_values(FORWARD_MISTAKES, x, u, p),
        inputs={"x": x},
    )
    assert_close(
        mask,
        expected_mask,
        f"the mask {call_text}[1] (entries 0 or 1 / (1 - p))",
        mistakes={"the mask should hold 1 / (1 - p) for kept units (the scale), not 1": u >= p},
    )
    return out, mask


def check_dropout_test_time(dropout_forward, x, p, seed=0):
    """Check test time: ``dropout_forward(x, p, rng, False)`` returns (x, None), draws nothing.

    x: any shape (n, ...). Returns the student's out.
    """
    __tracebackhide__ = True
    x = np.asarray(x, dtype=float)
    out, mask = run_dropout_forward(dropout_forward, x, p, seed, False)
    u = np.random.default_rng(seed).random(x.shape)
    assert_close(
        out,
        x,
        f"dropout_forward(x of shape {x.shape}, p={p}, rng, train=False)[0]",
        mistakes=mistake_values(TEST_TIME_MISTAKES, x, u, p),
        inputs={"x": x},
    )
    if mask is not None:
        raise AssertionError(f"at test time the mask should be None, got {mask!r:.200}")
    return out


def _kept_hint(kept, p) -> str:
    if kept.size == 1 and abs(kept[0] - 1) < 1e-9:
        return ": no rescaling, divide the kept units by 1 - p"
    if kept.size == 1 and abs(kept[0] - 1 / p) < 1e-9:
        return ": divided by p, but the keep probability is 1 - p"
    return ""


def check_dropout_statistics(dropout_forward, p, seed, other_seed, shape=(200, 500)):
    """Check what any correct dropout does, whatever the order of its draws.

    On x = ones(shape): the same seed gives the same output, another seed another one,
    a fraction p (within 0.01) of the entries is 0 and every kept entry is 1 / (1 - p).
    """
    __tracebackhide__ = True
    x = np.ones(shape)
    label = f"dropout_forward(x, p={p}, rng, True)[0]"
    outs = []
    for s in (seed, seed, other_seed):
        out = run_dropout_forward(dropout_forward, x, p, s, True, replay=False)[0]
        assert_shape(out, shape, label)
        outs.append(np.asarray(out, dtype=float))
    first, again, other = outs
    if not np.array_equal(first, again):
        raise AssertionError(
            "the same seed gave two different masks: draw every random number from the rng "
            "argument (never np.random.* or a new generator)"
        )
    if np.array_equal(first, other):
        raise AssertionError("different seeds gave the same mask: use the rng argument")
    dropped = float(np.mean(first == 0))
    if not abs(dropped - p) < 0.01:
        swapped = abs(dropped - (1 - p)) < 0.01
        raise AssertionError(
            f"with p={p} a fraction {dropped:.3f} of the units was dropped, expected about {p}"
            + (": p is the probability of DROPPING a unit, not of keeping it" if swapped else "")
        )
    kept = np.unique(first[first != 0])
    if not (kept.size == 1 and abs(kept[0] - 1 / (1 - p)) < 1e-9):
        raise AssertionError(
            f"with p={p} the kept entries of x = 1 became {kept[:5]}, "
            f"expected all equal to 1 / (1 - p) = {1 / (1 - p):.6g}{_kept_hint(kept, p)}"
        )


def check_dropout_keeps_all(dropout_forward, x, seed):
    """Check that p = 0 in training mode drops nothing: the output is x (any shape)."""
    __tracebackhide__ = True
    x = np.asarray(x, dtype=float)
    out = run_dropout_forward(dropout_forward, x, 0.0, seed, True, replay=False)[0]
    assert_close(out, x, "dropout_forward(x, p=0.0, rng, train=True)[0]", inputs={"x": x})
    return out


# ---------------------------------------------------------------------------------------
# Exercise 4: dropout backward

#: description -> dx(dout, mask) of a known mistake (mask holds 0 or 1 / (1 - p))
BACKWARD_MISTAKES = {
    "dout returned unchanged: the gradient passes through the kept units, times the mask": (
        lambda dout, mask: dout
    ),
    "the 1 / (1 - p) scale is missing: multiply by the mask itself, which holds it": (
        lambda dout, mask: dout * (mask > 0)
    ),
    "divided by (1 - p) once more: the mask already holds the scale": (
        lambda dout, mask: dout * mask * np.max(mask)
    ),
}


def check_dropout_backward(dropout_backward, dout, mask):
    """Check ``dropout_backward(dout, mask)`` = dout * mask (a copy of dout when mask is None).

    dout: any shape (n, ...). mask: the shape of dout (entries 0 or 1 / (1 - p)) or None.
    Returns the student's dx.
    """
    __tracebackhide__ = True
    dout = np.asarray(dout, dtype=float)
    if mask is None:  # test time: the layer was the identity
        expected, name, mistakes = dout, "dropout_backward(dout, None)", None
    else:
        expected, name, mistakes = dout * mask, None, BACKWARD_MISTAKES
    args = (dout, mask)
    dx = check_output(
        dropout_backward,
        *args,
        expected=expected,
        name=name,
        arg_names=("dout", "mask"),
        forbid=FORBID,
        mistakes=mistakes,
    )
    label = name or "dropout_backward(dout, mask)"
    assert_new(label, dx, "dout", dout, hint=" (dout.copy() when mask is None)")
    return dx


def check_dropout_gradient(dropout_backward, x, mask):
    """Gradient check of ``dropout_backward`` for a fixed mask, against x -> x * mask.

    x: any shape (n, ...). mask: shape of x, entries 0 or 1 / (1 - p), as the forward
    pass makes it. The student's gradient must equal dout * mask and central differences.
    """
    __tracebackhide__ = True
    mask = np.asarray(mask, dtype=float)

    def dropout_with_mask(x):
        return x * mask  # what dropout does in training, for this mask

    def dropout_backward_with_mask(dout, x):
        return dropout_backward(dout, mask)

    return check_backward(
        dropout_with_mask,
        dropout_backward_with_mask,
        x,
        names=("x",),
        reference=lambda dout, x: dout * mask,
        forbid=FORBID,
        mistakes={
            description: (lambda dout, x, wrong=wrong: wrong(dout, mask))
            for description, wrong in BACKWARD_MISTAKES.items()
        },
    )


# ---------------------------------------------------------------------------------------
# Exercise 5: a network with a train/eval switch


def random_params(rng, d, h, k):
    """Random float64 parameters of a d-h-K network: W1 (h, d), b1 (h,), W2 (k, h), b2 (k,).

    The biases b1 lean positive so that most hidden units are active.
    """
    return {
        "W1": rng.standard_normal((h, d)),
        "b1": rng.standard_normal(h) + 0.5,
        "W2": rng.standard_normal((k, h)),
        "b2": rng.standard_normal(k),
    }


def run_mlp_forward(mlp_forward, params, X, p, rng, train):
    """The student's logits z2 (n, K), float64, for ``mlp_forward(params, X, p, rng, train)``.

    At test time the rng must not be drawn from. params and X are passed as copies.
    """
    __tracebackhide__ = True
    label = f"mlp_forward(params, X, p={p}, rng, train={train})"
    copies = {key: value.copy() for key, value in params.items()}
    before = rng.bit_generator.state
    with forbidden(mlp_forward, FORBID):
        result = call(mlp_forward, copies, X.copy(), p, rng, train, name=label)
    if not train and rng.bit_generator.state != before:
        raise AssertionError(
            f"{label} drew random numbers from rng: dropout is still active at test time, "
            "or a mask is drawn and not used; with train=False no mask is drawn and every "
            "unit is used (pass train on to dropout_forward)"
        )
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError(
            f"{label} should return a pair (z2, cache), got {type(result).__name__}"
        )
    assert_shape(result[0], (X.shape[0], params["W2"].shape[0]), f"{label}[0]")
    return np.asarray(result[0], dtype=np.float64)


def _hidden(params, X):
    return np.maximum(X @ params["W1"].T + params["b1"], 0.0)  # a1, (n, h)


def mlp_logits(params, X, p, seed, train, scale=True, keep_prob=False):
    """The logits z2 (n, K) of the d-h-K network; in training mode with the recipe's mask
    for ``default_rng(seed)``. ``scale=False`` and ``keep_prob=True`` give known mistakes."""
    a1 = _hidden(params, X)
    if train:
        u = np.random.default_rng(seed).random(a1.shape)
        keep = (u < p) if keep_prob else (u >= p)
        a1 = a1 * keep / ((p if keep_prob else 1 - p) if scale else 1.0)
    return a1 @ params["W2"].T + params["b2"]


#: description -> logits(params, X, p, seed) of a known training-mode mistake
TRAIN_MISTAKES = {
    "no rescaling in dropout: the kept hidden units must be divided by 1 - p": (
        lambda params, X, p, seed: mlp_logits(params, X, p, seed, True, scale=False)
    ),
    "p interpreted as the keep probability: p is the probability of DROPPING a unit": (
        lambda params, X, p, seed: mlp_logits(params, X, p, seed, True, keep_prob=True)
    ),
    "dropout is missing in training mode: apply dropout_forward to a1": (
        lambda params, X, p, seed: mlp_logits(params, X, p, seed, False)
    ),
}

#: description -> logits(params, X, p, seed) of a known evaluation-mode mistake
EVAL_MISTAKES = {
    "dropout is active at test time: with train=False every unit is used": (
        lambda params, X, p, seed: mlp_logits(params, X, p, seed, True)
    ),
    (
        "hidden activations scaled by 1 - p at test time: with inverted dropout "
        "the test-time network is used as it is"
    ): lambda params, X, p, seed: (1 - p) * _hidden(params, X) @ params["W2"].T + params["b2"],
}


def check_mlp_forward_eval(mlp_forward, params, X, p):
    """Check evaluation mode: every unit used, no draw, the same logits for any rng.

    params: the d-h-K dict (see the module docstring). X: (n, d). Returns the logits (n, K).
    """
    __tracebackhide__ = True
    z = run_mlp_forward(mlp_forward, params, X, p, np.random.default_rng(1), False)
    z_again = run_mlp_forward(mlp_forward, params, X, p, np.random.default_rng(2), False)
    if not np.array_equal(z, z_again):
        raise AssertionError(
            f"mlp_forward(params, X, p={p}, rng, train=False) gave different outputs "
            "for two different rngs: "
            "dropout is still active at test time; with train=False every unit must be used"
        )
    assert_close(
        z,
        mlp_logits(params, X, p, 1, False),
        f"mlp_forward(params, X, p={p}, rng, train=False)",
        mistakes=mistake_values(EVAL_MISTAKES, params, X, p, 1),
    )
    return z


def check_mlp_forward_train(mlp_forward, params, X, p, seed):
    """Check training mode: the recipe's mask for ``default_rng(seed)`` on the hidden layer.

    params: the d-h-K dict. X: (n, d). Returns the logits (n, K).
    """
    __tracebackhide__ = True
    z = run_mlp_forward(mlp_forward, params, X, p, np.random.default_rng(seed), True)
    assert_close(
        z,
        mlp_logits(params, X, p, seed, True),
        f"mlp_forward(params, X, p={p}, rng, train=True)",
        mistakes=mistake_values(TRAIN_MISTAKES, params, X, p, seed) if p > 0 else None,
    )
    return z


def check_mlp_forward_expectation(mlp_forward, params, X, p, seed=9, draws=4000):
    """Check that training-mode logits vary from call to call and average to the
    evaluation-mode logits, within 5 standard errors of the mean over ``draws`` masks.

    params: the d-h-K dict. X: (n, d). All calls share one ``default_rng(seed)``.
    """
    __tracebackhide__ = True
    z_eval = mlp_logits(params, X, p, 0, False)
    rng = np.random.default_rng(seed)
    first = run_mlp_forward(mlp_forward, params, X, p, rng, True)
    second = run_mlp_forward(mlp_forward, params, X, p, rng, True)
    if np.array_equal(first, second):
        raise AssertionError(
            f"two training-mode calls with the same rng (p={p}) gave the same output: "
            "draw a new mask from rng on every call"
        )
    label = f"mlp_forward(params, X, p={p}, rng, train=True)"
    with quiet():
        total = sum(
            np.asarray(invoke(mlp_forward, (params, X, p, rng, True), name=label)[0], dtype=float)
            for _ in range(draws)
        )
    mean = total / draws
    # Standard error of the mean of z2 over masks: var = sum_j (a1_j W2_kj)^2 p / (1 - p).
    a1 = _hidden(params, X)
    se = np.sqrt((a1**2) @ (params["W2"] ** 2).T * p / (1 - p) / draws)
    err = np.abs(mean - z_eval)
    if np.any(err > 5 * se + 1e-9):
        no_scale = (1 - p) * a1 @ params["W2"].T + params["b2"]
        hint = ""
        if np.all(np.abs(mean - no_scale) <= 5 * se + 1e-9):
            hint = "\n  Likely mistake: no rescaling (the mean is (1 - p) times too small)"
        raise AssertionError(
            f"with p={p}, the mean of {draws} training-mode outputs should equal the "
            "evaluation-mode output (inverted dropout keeps expected values)"
            f"\n  expected: {fmt(z_eval)}\n  mean of training outputs: {fmt(mean)}"
            f"\n  largest gap {err.max():.3g}, more than 5 standard errors{hint}"
        )


# ---------------------------------------------------------------------------------------
# Exercise 6: one training step with dropout and L2


def step_cost(params, X, y, p, lmbda, n, seed):
    """C = mean cross-entropy in training mode (the recipe's mask for ``default_rng(seed)``;
    none when p = 0) + (lmbda / (2 n)) (|W1|^2 + |W2|^2). X (m, d), y (m,)."""
    a1 = _hidden(params, X)
    if p > 0:
        a1 = a1 * (np.random.default_rng(seed).random(a1.shape) >= p) / (1 - p)
    z2 = a1 @ params["W2"].T + params["b2"]
    penalty = lmbda / (2 * n) * _squares([params["W1"], params["W2"]])
    return losses.categorical_cross_entropy(z2, y) + penalty


def step_gradients(params, X, y, p, lmbda, n, seed):
    """The gradient of :func:`step_cost` by central differences: dict of KEYS, params' shapes."""
    grads = {}
    for key in KEYS:

        def cost_of(value, key=key):
            return step_cost({**params, key: value}, X, y, p, lmbda, n, seed)

        grads[key] = gradcheck.numerical_gradient(cost_of, params[key].copy())
    return grads


def step_mistakes(params, X, y, p, lmbda, n, seed):
    """description -> gradients (dict of KEYS) that a known mistake in the step uses."""
    z1 = X @ params["W1"].T + params["b1"]
    a1 = np.maximum(z1, 0.0)
    u = np.random.default_rng(seed).random(a1.shape)
    mask = (u >= p) / (1 - p) if p > 0 else np.ones_like(a1)
    m = len(X)

    def grads(l2=lmbda / n, back=None, l2_bias=0.0, fwd=mask, per_m=1.0, relu=True):
        back = fwd if back is None else back  # the backward pass reuses the forward mask
        a1_tilde = a1 * fwd
        delta2 = losses.categorical_cross_entropy_grad(a1_tilde @ params["W2"].T + params["b2"], y)
        delta1 = (delta2 @ params["W2"]) * back * ((z1 > 0) if relu else 1.0)
        return {
            "W1": per_m * (delta1.T @ X) + l2 * params["W1"],
            "b1": per_m * delta1.sum(axis=0) + l2_bias * params["b1"],
            "W2": per_m * (delta2.T @ a1_tilde) + l2 * params["W2"],
            "b2": per_m * delta2.sum(axis=0) + l2_bias * params["b2"],
        }

    out = {
        "the L2 gradient is missing the factor 1/n: it is (lambda / n) W": grads(l2=lmbda),
        "the L2 gradient includes the 1/2: it is (lambda / n) W, the 2 of w^2 cancels the 1/2": (
            grads(l2=lmbda / (2 * n))
        ),
        "the L2 gradient is missing: add l2_gradient(W, lmbda, n) to each weight gradient": (
            grads(l2=0.0)
        ),
        "the biases are decayed too: the L2 penalty is on the weights only": grads(
            l2_bias=lmbda / n
        ),
        (
            f"divided by the batch size m = {m} once too often (a factor 1/m = {1 / m:.4g}): "
            "categorical_cross_entropy_grad(z2, y) already carries the 1/m, so here the bias "
            "gradient is delta.sum(axis=0) and the weight gradient delta.T @ a, with no / m "
            "(notebook 05 put the 1/m into BP3 and BP4 instead; see the warning box in "
            "Exercise 6)"
        ): grads(per_m=1 / m),
        "the ReLU derivative is missing in BP2: multiply by (z1 > 0)": grads(relu=False),
    }
    if p > 0:
        out["the mask is not applied in the backward pass: use dropout_backward"] = grads(
            back=np.ones_like(a1)
        )
        out["the backward mask lacks the 1 / (1 - p) scale"] = grads(back=(u >= p) * 1.0)
        out[
            "the forward pass of the step ran in evaluation mode: call mlp_forward with "
            "train=True, so that this step uses a dropout mask"
        ] = grads(fwd=np.ones_like(a1))
    return out


def check_train_step(train_step, params, X, y, p, lmbda, n, eta, seed):
    """Check ``train_step(params, X, y, p, lmbda, n, eta, default_rng(seed))``.

    params: the d-h-K dict (not to be modified). X: (m, d). y: (m,) labels in [0, K).
    The step must return (new_params, cost): new arrays of params' shapes whose change
    (params - new_params) / eta is the gradient of :func:`step_cost` for this step's mask,
    and the cost C before the update. Returns the student's pair.
    """
    __tracebackhide__ = True
    label = f"train_step(params, X, y, p={p}, lmbda={lmbda}, n={n}, eta={eta}, rng)"
    copies = {key: value.copy() for key, value in params.items()}
    rng = np.random.default_rng(seed)
    result = call(train_step, copies, X.copy(), y.copy(), p, lmbda, n, eta, rng, name=label)
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], dict)):
        raise AssertionError(
            f"{label} should return a pair (new_params, cost), got {type(result).__name__}"
        )
    new_params, cost = result
    assert_unchanged(label, [(f"params[{key!r}]", params[key], copies[key]) for key in KEYS])
    for key in KEYS:
        if key not in new_params:
            raise AssertionError(f"{label}: the new params have no key {key!r}")
        assert_shape(new_params[key], params[key].shape, f"new_params[{key!r}]")
    numeric = step_gradients(params, X, y, p, lmbda, n, seed)
    wrong = step_mistakes(params, X, y, p, lmbda, n, seed)
    for key in KEYS:
        used = (params[key] - np.asarray(new_params[key], dtype=float)) / eta
        scale = max(float(np.max(np.abs(numeric[key]))), 1e-3)
        assert_close(
            used,
            numeric[key],
            f"(params[{key!r}] - new_params[{key!r}]) / eta, the gradient your step used",
            rtol=1e-5,
            atol=1e-7 * scale,
            mistakes={description: g[key] for description, g in wrong.items()},
        )
    assert_close(
        np.asarray(cost, dtype=float),
        np.array(step_cost(params, X, y, p, lmbda, n, seed)),
        "the returned cost",
        mistakes={
            "the L2 penalty is missing from the cost": step_cost(params, X, y, p, 0.0, n, seed),
            "the cost is computed in evaluation mode: use this step's training-mode logits": (
                step_cost(params, X, y, 0.0, lmbda, n, seed)
            ),
        },
    )
    return result


# ---------------------------------------------------------------------------------------
# Exercise 7: shifted images


def shifted(X, dy, dx):
    """X (n, h, w) moved dy rows down and dx columns right, zero fill, dtype of X."""
    _, h, w = X.shape
    out = np.zeros_like(X)
    if abs(dy) < h and abs(dx) < w:
        source = X[:, max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)]
        out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = source
    return out


#: description -> shifted images(X, dy, dx) of a known mistake
SHIFT_MISTAKES = {
    "the pixels wrap around the border (np.roll): pixels shifted out must disappear": (
        lambda X, dy, dx: np.roll(X, (dy, dx), axis=(1, 2))
    ),
    "dy and dx swapped: dy moves rows (down), dx moves columns (right)": (
        lambda X, dy, dx: shifted(X, dx, dy)
    ),
    "shifted the opposite way: positive dy moves the content down, positive dx right": (
        lambda X, dy, dx: shifted(X, -dy, -dx)
    ),
}


def check_shift_images(shift_images, X, dy, dx, expected=None):
    """Check ``shift_images(X, dy, dx)``: the shifted images, in the dtype of X.

    X: (n, h, w) images (float64 or float32). expected: (n, h, w), when the test states it.
    Returns the student's images.
    """
    __tracebackhide__ = True
    X = np.asarray(X)
    label = f"shift_images(X of shape {X.shape} and dtype {X.dtype}, dy={dy}, dx={dx})"
    got = check_output(
        shift_images,
        X,
        dy,
        dx,
        expected=shifted(X, dy, dx) if expected is None else np.asarray(expected, dtype=X.dtype),
        name=label,
        arg_names=("X", "dy", "dx"),
        mistakes=SHIFT_MISTAKES,
    )
    if np.asarray(got).dtype != X.dtype:
        raise AssertionError(
            f"{label} returned dtype {np.asarray(got).dtype}: the result must have the dtype "
            "of X (np.zeros_like(X) keeps it, np.zeros(X.shape) does not)"
        )
    return got
