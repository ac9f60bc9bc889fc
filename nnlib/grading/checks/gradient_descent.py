"""Checks of notebook 03 (the sigmoid neuron and gradient descent), each written once.

The exercises: the two costs (``quadratic_cost``, ``cross_entropy_cost``), their gradients
(``quadratic_gradients``, ``cross_entropy_gradients``), one step (``gd_step``) and the
training loop with a batch size (``train``). The sigmoid neuron is ``a = sigma(X @ w + b)``
with ``X`` (n, d), ``w`` (d,), ``b`` a float and targets ``y`` (n,).

Each ``check_*`` calls the student's function with the nnlib references of the same thing
disabled (the ``*_REFERENCES`` tuples), compares with the reference and raises
``AssertionError`` naming the mistake when it recognises one (the ``*_MISTAKES`` tables).
"""

from __future__ import annotations

import numpy as np

from nnlib import activations, gradcheck, losses, neuron
from nnlib.grading.compare import assert_close, assert_shape, check_output
from nnlib.grading.forbid import forbidden
from nnlib.grading.quiet import call, quiet

KINDS = ("quadratic", "cross_entropy")

#: what each exercise must not call (grading's sandbox reads these names here too, and
#: stubs them out of its copy of nnlib: nncourse.autograde.program.hidden_names)
COST_REFERENCES = (
    "nnlib.losses.quadratic",
    "nnlib.losses.binary_cross_entropy",
    "nnlib.losses.binary_cross_entropy_from_logits",
    "nnlib.neuron.neuron_cost",
)
GRADIENT_REFERENCES = (
    "nnlib.neuron.neuron_gradients",
    "nnlib.losses.quadratic_grad",
    "nnlib.losses.binary_cross_entropy_grad",
    "nnlib.losses.binary_cross_entropy_from_logits_grad",
    "nnlib.backprop.bp1_quadratic_sigmoid",
)
STEP_REFERENCES = ("nnlib.neuron.SigmoidNeuron.step",)
TRAIN_REFERENCES = ("nnlib.neuron.SigmoidNeuron.fit", "nnlib.neuron.SigmoidNeuron.step")


def _log1m(a):
    return np.log1p(-a)


#: kind -> {description: the wrong cost as a function of (a (n,), y (n,))}
COST_MISTAKES = {
    "quadratic": {
        "the 1/2 is missing: C = mean of 1/2 (a - y)^2": lambda a, y: np.mean((a - y) ** 2),
        "summed over the batch instead of averaged (the 1/n is missing)": lambda a, y: (
            0.5 * np.sum((a - y) ** 2)
        ),
        "summed over the batch instead of averaged, and the 1/2 is missing": lambda a, y: np.sum(
            (a - y) ** 2
        ),
        "the square is missing: square the differences, (a - y) ** 2": lambda a, y: (
            0.5 * np.mean(a - y)
        ),
        "used |a - y| instead of (a - y)^2": lambda a, y: 0.5 * np.mean(np.abs(a - y)),
    },
    "cross_entropy": {
        "the minus sign is missing: C = -mean(y ln a + (1-y) ln(1-a))": lambda a, y: np.mean(
            y * np.log(a) + (1 - y) * _log1m(a)
        ),
        "summed over the batch instead of averaged (the 1/n is missing)": lambda a, y: (
            -np.sum(y * np.log(a) + (1 - y) * _log1m(a))
        ),
        "the (1 - y) ln(1 - a) term is missing": lambda a, y: -np.mean(y * np.log(a)),
        "the y ln a term is missing": lambda a, y: -np.mean((1 - y) * _log1m(a)),
        "ln a and ln(1 - a) are swapped: y goes with ln a": lambda a, y: (
            -np.mean(y * _log1m(a) + (1 - y) * np.log(a))
        ),
        "the sign between the terms is wrong: it is y ln a + (1 - y) ln(1 - a)": lambda a, y: (
            -np.mean(y * np.log(a) - (1 - y) * _log1m(a))
        ),
        "np.log10 instead of the natural logarithm np.log": lambda a, y: (
            -np.mean(y * np.log10(a) + (1 - y) * np.log10(1 - a))
        ),
    },
}

#: kind -> what the student wrote who returned the OTHER kind's gradient
OTHER_GRADIENT = {
    "quadratic": "the factor sigma'(z) = a (1 - a) is missing (the cross-entropy gradient)",
    "cross_entropy": "the factor a (1 - a) cancels for cross-entropy (that is the quadratic one)",
}
SUMMED = "summed over the batch instead of averaged"
FLIPPED = "the sign is flipped: the gradient of (a - y), not (y - a)"


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return kind


def _name(fn, default: str) -> str:
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() else default


def _pair(result, label: str, what: str):
    """The student's result unpacked into its parts, or a message saying what came back."""
    n = len(what.split(", "))
    if not (isinstance(result, (tuple, list)) and len(result) == n):
        raise AssertionError(f"{label} should return ({what}), got {type(result).__name__}")
    return result


# --- the two costs -------------------------------------------------------------------------


def reference_cost(kind: str, a, y) -> float:
    """The mean cost of outputs ``a`` (n,) for targets ``y`` (n,), from the reference."""
    if _kind(kind) == "quadratic":
        return losses.quadratic(a, y)
    return losses.binary_cross_entropy(a, y)


def check_cost(cost, kind: str, a, y, expected=None, forbid=COST_REFERENCES) -> float:
    """``cost(a, y)`` is the mean cost of this ``kind`` ("quadratic" or "cross_entropy").

    cost: the student's quadratic_cost or cross_entropy_cost. a: (n,) outputs in (0, 1).
    y: (n,) targets in [0, 1]. expected: the value (default: the reference's).
    Returns the student's value (a float).
    """
    __tracebackhide__ = True
    label = _name(cost, f"{_kind(kind)}_cost")
    a, y = np.asarray(a, dtype=float), np.asarray(y, dtype=float)
    value = check_output(
        cost,
        a,
        y,
        expected=reference_cost(kind, a, y) if expected is None else expected,
        arg_names=("a", "y"),
        mistakes=COST_MISTAKES[kind],
        forbid=forbid,
    )
    if np.ndim(value) != 0:
        raise AssertionError(
            f"{label} should return one number (the mean over the batch), got {value!r}"
        )
    return float(value)


def check_cost_random(cost, kind: str, seed: int) -> None:
    """``check_cost`` on random batches of 1, 5 and 64 samples with 0/1 targets, then on
    10 samples with soft targets anywhere in [0, 1]."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for n in [1, 5, 64]:
        check_cost(cost, kind, rng.uniform(1e-4, 1 - 1e-4, n), rng.integers(0, 2, n))
    check_cost(cost, kind, rng.uniform(0.05, 0.95, 10), rng.uniform(0, 1, 10))


# --- the two gradients ---------------------------------------------------------------------


def gradient_mistakes(kind: str, w, b, X, y) -> tuple[dict, dict]:
    """({description: wrong dw (d,)}, {description: wrong db}) for these inputs.

    w: (d,). b: float. X: (n, d). y: (n,).
    """
    other = KINDS[1 - KINDS.index(_kind(kind))]
    dw, db = neuron.neuron_gradients(w, b, X, y, kind)
    dw_other, db_other = neuron.neuron_gradients(w, b, X, y, other)
    n = X.shape[0]
    wrong_dw = {OTHER_GRADIENT[kind]: dw_other, SUMMED: n * dw, FLIPPED: -dw}
    wrong_db = {OTHER_GRADIENT[kind]: db_other, SUMMED: n * db, FLIPPED: -db}
    return wrong_dw, {f"db: {d}": v for d, v in wrong_db.items()}


def _gradients(gradients, kind, w, b, X, y, forbid):
    label = _name(gradients, f"{kind}_gradients")
    with forbidden(gradients, forbid):
        res = call(gradients, w.copy(), b, X.copy(), y.copy(), name=label)
    return label, _pair(res, label, "dw, db")


def check_gradients(gradients, kind: str, w, b, X, y, forbid=GRADIENT_REFERENCES):
    """``gradients(w, b, X, y)`` is ``(dw, db)`` of the mean cost of this ``kind``.

    gradients: the student's quadratic_gradients or cross_entropy_gradients.
    w: (d,). b: float. X: (n, d). y: (n,). Returns the student's (dw (d,), db).
    """
    __tracebackhide__ = True
    w, X, y = (np.asarray(v, dtype=float) for v in (w, X, y))
    label, (dw, db) = _gradients(gradients, _kind(kind), w, b, X, y, forbid)
    dw_ref, db_ref = neuron.neuron_gradients(w, b, X, y, kind)
    wrong_dw, wrong_db = gradient_mistakes(kind, w, b, X, y)
    assert_shape(dw, w.shape, "dw")
    assert_close(
        dw, dw_ref, f"dw of {label} for X of shape {X.shape}", atol=1e-12, mistakes=wrong_dw
    )
    if np.ndim(db) != 0:
        raise AssertionError(f"db should be one number, got {db!r}")
    assert_close(float(db), db_ref, f"db of {label}", atol=1e-12, mistakes=wrong_db)
    return dw, db


def check_gradients_random(gradients, kind: str, seed: int) -> None:
    """``check_gradients`` on random (n, d) = (1, 1), (10, 3) and (50, 6) problems."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for n, d in [(1, 1), (10, 3), (50, 6)]:
        X, y = rng.standard_normal((n, d)), rng.integers(0, 2, n).astype(float)
        check_gradients(
            gradients, kind, rng.standard_normal(d), float(rng.standard_normal()), X, y
        )


def check_gradients_numerically(gradients, cost, kind: str, seed: int, n=12, d=4) -> None:
    """``gradients`` agrees with central differences of the student's own ``cost`` of
    ``a = sigma(X @ w + b)`` on a random problem: X (n, d), w (d,), relative error < 1e-6."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.integers(0, 2, n).astype(float)
    w, b = 0.5 * rng.standard_normal(d), 0.2
    _, (dw, db) = _gradients(gradients, _kind(kind), w, b, X, y, GRADIENT_REFERENCES)
    yours = _name(cost, f"{kind}_cost")
    sigmoid = activations.sigmoid
    with quiet():
        num_w = gradcheck.numerical_gradient(lambda v: cost(sigmoid(X @ v + b), y), w)
        num_b = gradcheck.numerical_gradient(
            lambda v: cost(sigmoid(X @ w + float(v)), y), np.array(b)
        )
    err_w = gradcheck.relative_error(np.asarray(dw, dtype=float), num_w)
    err_b = gradcheck.relative_error(np.asarray(float(db)), num_b)
    if not err_w < 1e-6:
        raise AssertionError(
            f"dw disagrees with central differences of your {yours}: relative error "
            f"{err_w:.2g}\n  yours: {np.round(dw, 6)}\n  numerical: {np.round(num_w, 6)}"
        )
    if not err_b < 1e-6:
        raise AssertionError(
            f"db disagrees with central differences of your {yours}: relative error "
            f"{err_b:.2g} (yours {float(db):.6g}, numerical {float(num_b):.6g})"
        )


# --- one step ------------------------------------------------------------------------------


def fixed_gradients(dw, db):
    """A gradient function (w, b, X, y) -> (dw, db) that returns these fixed values."""
    dw = np.asarray(dw, dtype=float)
    return lambda w, b, X, y: (dw.copy(), float(db))


def reference_gradients(w, b, X, y):
    """The reference gradient of the cross-entropy cost: (dw (d,), db float)."""
    return neuron.neuron_gradients(w, b, X, y, "cross_entropy")


def check_gd_step(gd_step, w, b, X, y, eta, gradients=reference_gradients, forbid=STEP_REFERENCES):
    """``gd_step(w, b, X, y, eta, gradients)`` returns ``(w - eta dw, b - eta db)``, calls
    ``gradients`` once on (X, y) and leaves ``w`` unchanged.

    w: (d,). b: float. X: (n, d). y: (n,). eta: learning rate.
    gradients: (w, b, X, y) -> (dw (d,), db). Returns the student's (w_new, b_new).
    """
    __tracebackhide__ = True
    w, X, y = (np.asarray(v, dtype=float) for v in (w, X, y))
    dw, db = gradients(w.copy(), b, X.copy(), y.copy())
    calls = []

    def counted(w_, b_, X_, y_):
        calls.append((np.shape(X_), np.shape(y_)))
        return gradients(w_, b_, X_, y_)

    w_passed = w.copy()
    with forbidden(gd_step, forbid):
        out = call(gd_step, w_passed, b, X, y, eta, counted, name="gd_step")
    w_new, b_new = _pair(out, "gd_step", "w_new, b_new")
    with quiet():
        expected_w, uphill = w - eta * np.asarray(dw), w + eta * np.asarray(dw)
    assert_close(
        w_new,
        expected_w,
        f"w_new = w - eta dw with dw = {np.round(dw, 6).tolist()}, eta = {eta}",
        mistakes={"the step went uphill: use w - eta dw": uphill},
    )
    assert_close(float(b_new), b - eta * db, f"b_new = b - eta db with db = {db:.6g}, eta = {eta}")
    if not np.array_equal(w_passed, w):
        raise AssertionError(
            "gd_step changed w in place; it must not change in place: return a new "
            "array, w - eta * dw"
        )
    if calls != [(X.shape, y.shape)]:
        raise AssertionError(
            "gd_step should call gradients(w, b, X, y) once on the batch it was given, "
            f"it made {len(calls)} call(s)"
        )
    return w_new, b_new


def check_gd_step_random(gd_step, seed: int, n=8, d=3) -> None:
    """``check_gd_step`` with the reference cross-entropy gradient on a random batch."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.integers(0, 2, n).astype(float)
    check_gd_step(gd_step, rng.standard_normal(d), -0.3, X, y, 0.7)


# --- the training loop ---------------------------------------------------------------------


def data(n: int, d: int, seed: int):
    """A noisy linearly separable problem: X (n, d) standard normal, y (n,) in {0., 1.}."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0).astype(float)
    return X, y


def _cost(a, y):
    return losses.binary_cross_entropy(a, y)


def _gd_step(w, b, X, y, eta, gradients):
    dw, db = gradients(w, b, X, y)
    return w - eta * np.asarray(dw), b - eta * db


def run_train(train, w, b, X, y, eta, epochs, batch_size, seed, forbid=TRAIN_REFERENCES):
    """The student's ``train`` with the cross-entropy reference gradient and cost, an rng
    seeded with ``seed``, and a correct ``gd_step`` standing in for theirs during the call
    (train is graded on its own). w: (d,). X: (n, d). y: (n,). Returns (w (d,), b, costs)."""
    __tracebackhide__ = True
    space = train.__globals__
    saved = space.get("gd_step")
    space["gd_step"] = _gd_step
    try:
        with forbidden(train, forbid):
            res = call(
                train,
                w,
                b,
                X,
                y,
                eta,
                epochs,
                batch_size,
                np.random.default_rng(seed),
                reference_gradients,
                _cost,
                name="train",
            )
    finally:
        space["gd_step"] = saved
    return _pair(res, "train", "w, b, costs")


def reference_train(w, b, X, y, eta, epochs, batch_size, seed):
    """(w (d,), b) after training the reference SigmoidNeuron with the cross-entropy cost
    from w (d,), b on X (n, d), y (n,) (batch_size None: full-batch gradient descent, one
    step per epoch)."""
    unit = neuron.SigmoidNeuron(X.shape[1], cost="cross_entropy")
    unit.w, unit.b = np.array(w, dtype=float), float(b)
    rng = None if batch_size is None else np.random.default_rng(seed)
    unit.fit(X, y, epochs=epochs, eta=eta, batch_size=batch_size, rng=rng)
    return unit.w, unit.b


def recipe_costs(w, b, X, y, eta, epochs, batch_size, seed):
    """The costs (1 + updates,) that the notebook's recipe records from w (d,), b on
    X (n, d), y (n,), and {description: the costs that a known slip records instead}."""
    sigmoid, n = activations.sigmoid, X.shape[0]

    def run(orders, whole):
        w_, b_ = np.array(w, dtype=float), float(b)
        out = [_cost(sigmoid(X @ w_ + b_), y)]
        for order in orders:
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                w_, b_ = _gd_step(w_, b_, X[idx], y[idx], eta, reference_gradients)
                rows = slice(None) if whole else idx
                out.append(_cost(sigmoid(X[rows] @ w_ + b_), y[rows]))
        return np.array(out)

    rng = np.random.default_rng(seed)
    each_epoch = [rng.permutation(n) for _ in range(epochs)]
    once = [np.random.default_rng(seed).permutation(n)] * epochs
    slips = {
        "costs[1:] are costs of the mini-batch just used: after each update record "
        "cost(neuron_output(X, w, b), y) on the whole training set": run(each_epoch, False),
        "the order was drawn once: draw order = rng.permutation(n) at the start of "
        "every epoch": run(once, True),
        "the samples were visited in their stored order: each epoch visits them in "
        "the order rng.permutation(n)": run([np.arange(n)] * epochs, True),
    }
    return run(each_epoch, True), slips


def _unchanged(given) -> None:
    for arg, now, before in given:
        if not np.array_equal(now, before):
            raise AssertionError(
                f"train changed its argument {arg} in place; leave the arguments unchanged "
                "(for w, start from a new array such as np.array(w, dtype=float))"
            )


def check_train(train, X, y, w, b, eta, epochs, batch_size, seed, forbid=TRAIN_REFERENCES):
    """``train`` follows the recipe: every recorded cost (on all of X, y) is the recipe's,
    the arguments are left unchanged and the cost goes down.

    X: (n, d). y: (n,). w: (d,) start. Returns the student's (w, b, costs).
    """
    __tracebackhide__ = True
    n, w = X.shape[0], np.asarray(w, dtype=float)
    before = [("w", w.copy()), ("X", X.copy()), ("y", y.copy())]
    w_end, b_end, costs = run_train(train, w, b, X, y, eta, epochs, batch_size, seed, forbid)
    _unchanged([(arg, now, old) for (arg, old), now in zip(before, (w, X, y), strict=True)])
    assert_shape(w_end, w.shape, "w after training")
    per_epoch = -(-n // batch_size)
    updates = epochs * per_epoch
    if len(costs) != 1 + updates:
        raise AssertionError(
            f"{n} samples in batches of {batch_size} make {per_epoch} updates per epoch, so "
            f"{epochs} epochs give 1 + {updates} costs (the first before any update); "
            f"got {len(costs)}"
        )
    expected, slips = recipe_costs(w, b, X, y, eta, epochs, batch_size, seed)
    assert_close(
        costs[0], expected[0], "costs[0] (the cost of the starting point on all the data)"
    )
    assert_close(
        np.array([float(c) for c in costs]),
        expected,
        f"costs (the cost on all {n} samples before training and after each of the "
        f"{updates} updates; rng seed {seed}, batch_size {batch_size})",
        rtol=1e-9,
        atol=1e-12,
        mistakes=slips,
    )
    if not costs[-1] < costs[0]:
        raise AssertionError(f"the cost should go down: {costs[0]:.4f} -> {costs[-1]:.4f}")
    return w_end, b_end, costs


def check_train_full_batch(train, X, y, w, b, eta, epochs, seed):
    """With batch_size = n, ``train`` is full-batch gradient descent: (w, b) as the
    reference's after ``epochs`` steps, one cost per epoch, never increasing.

    X: (n, d). y: (n,). w: (d,) start.
    """
    __tracebackhide__ = True
    n = X.shape[0]
    w_ref, b_ref = reference_train(w, b, X, y, eta, epochs, None, seed)
    w_end, b_end, costs = run_train(train, w, b, X, y, eta, epochs, n, seed)
    what = f"after {epochs} epochs with batch_size = n (full-batch gradient descent)"
    assert_close(w_end, w_ref, f"w {what}", rtol=1e-9, atol=1e-12)
    assert_close(float(b_end), b_ref, f"b {what}", rtol=1e-9, atol=1e-12)
    if len(costs) != 1 + epochs:
        raise AssertionError(
            f"batch_size = n makes one update per epoch: {1 + epochs} costs, got {len(costs)}"
        )
    if not all(c2 <= c1 + 1e-12 for c1, c2 in zip(costs, costs[1:], strict=False)):
        raise AssertionError(
            "full-batch gradient descent with a small step should never increase the cost"
        )


def check_train_minibatches(train, X, y, w, b, eta, runs, seed):
    """For each (batch_size, epochs) of ``runs``, (w, b) as the reference's trained with
    the same rng seed, and 1 + epochs * ceil(n / batch_size) costs.

    X: (n, d). y: (n,). w: (d,) start.
    """
    __tracebackhide__ = True
    n = X.shape[0]
    for batch_size, epochs in runs:
        w_ref, b_ref = reference_train(w, b, X, y, eta, epochs, batch_size, seed)
        w_end, b_end, costs = run_train(train, w, b, X, y, eta, epochs, batch_size, seed)
        assert_close(
            w_end,
            w_ref,
            f"w after {epochs} epochs with batch_size={batch_size} (rng seed {seed}): draw "
            "order = rng.permutation(n) each epoch and take consecutive slices",
            rtol=1e-9,
            atol=1e-12,
        )
        assert_close(float(b_end), b_ref, f"b with batch_size={batch_size}", rtol=1e-9, atol=1e-12)
        updates = epochs * -(-n // batch_size)
        if len(costs) != 1 + updates:
            raise AssertionError(f"expected {1 + updates} costs, got {len(costs)}")


def check_train_seeded(train, X, y, w, b, eta, epochs, batch_size, seeds):
    """Two runs with the first seed of ``seeds`` are identical and leave X, y and w as they
    were; a run with the second seed visits the samples in another order.

    X: (n, d). y: (n,). w: (d,) start. seeds: (seed, another seed).
    """
    __tracebackhide__ = True
    first, other = seeds
    before = [np.array(v, copy=True) for v in (X, y, w)]
    runs = [run_train(train, w, b, X, y, eta, epochs, batch_size, first) for _ in range(2)]
    if not all(np.array_equal(v, old) for v, old in zip((X, y, w), before, strict=True)):
        raise AssertionError(
            "train changed its arguments (X, y or the starting w) in place; leave them unchanged"
        )
    assert_close(runs[1][0], runs[0][0], "w of a second run with the same seed", rtol=0, atol=0)
    assert_close(
        np.asarray(runs[1][2]),
        np.asarray(runs[0][2]),
        "costs of a second run with the same seed",
        rtol=0,
        atol=0,
    )
    w_other = run_train(train, w, b, X, y, eta, epochs, batch_size, other)[0]
    if np.array_equal(w_other, runs[0][0]):
        raise AssertionError("a different rng seed should visit the samples in a different order")
    if not runs[0][2][-1] < runs[0][2][0]:
        raise AssertionError("the cost should decrease")
