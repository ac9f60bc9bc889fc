"""Checkers of notebook 06 (training on MNIST): one-hot targets, the mini-batch iterator,
the SGD update, the training loop, accuracy and the confusion matrix.

A test cell gives its inputs (or a seed) and calls one of these with the student's function:

    G.checks.training.check_one_hot(one_hot, np.array([0, 2, 1, 2]), 3)

Each checker calls the function quietly, with the nnlib reference of the same exercise
disabled, compares with the right answer (computed here with numpy) and raises
``AssertionError`` naming the mistake when it recognises one (the tables ``*_MISTAKES``).
It returns what the student's function returned, so that a visible cell can show it.
"""

from __future__ import annotations

import numpy as np

from nnlib.grading.compare import assert_close, assert_unchanged, check_output, mistake_values
from nnlib.grading.forbid import forbidden
from nnlib.grading.quiet import call, quiet

#: the nnlib references each exercise must not call: disabled while the answer runs, and
#: left out of the grading sandbox (which reads the names spelled out here)
ONE_HOT_REFERENCES = ("nnlib.data.batches.one_hot", "nnlib.losses.targets_like")
MINIBATCH_REFERENCES = ("nnlib.data.batches.minibatches",)
CONFUSION_REFERENCES = ("nnlib.plotting.confusion_matrix",)


# ---------------------------------------------------------------- one-hot targets


def one_hot_rows(y, k: int) -> np.ndarray:
    """The right answer: Y (n, k) float with Y[i, y[i]] = 1. y: (n,) integer labels."""
    y = np.asarray(y).astype(np.int64)
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), y] = 1.0
    return Y


#: description -> what that mistake returns, as a function of one_hot's arguments (y, k)
ONE_HOT_MISTAKES = {
    "each 1 is one column too far left (y - 1?); label y is the column index": (
        lambda y, k: np.roll(one_hot_rows(y, k), -1, axis=1)
    ),
    "each 1 is one column too far right (y + 1?); label y is the column index": (
        lambda y, k: np.roll(one_hot_rows(y, k), 1, axis=1)
    ),
}


def check_one_hot(one_hot, y, k: int) -> np.ndarray:
    """one_hot(y, k) must give the one-hot rows of y.

    one_hot: the student's function, (y (n,), k) -> Y (n, k).
    y: (n,) integer labels in {0, ..., k-1} (any integer dtype, n may be 0).
    k: the number of classes (int).
    Returns what one_hot returned, Y (n, k).
    """
    __tracebackhide__ = True
    y = np.asarray(y)
    return check_output(
        one_hot,
        y,
        k,
        arg_names=("y", "k"),
        expected=one_hot_rows(y, k),
        forbid=ONE_HOT_REFERENCES,
        mistakes=ONE_HOT_MISTAKES,
    )


def check_one_hot_random(one_hot, seed: int, sizes) -> None:
    """check_one_hot on random labels: for each (n, k) of ``sizes``, n labels drawn
    uniformly from {0, ..., k-1} (some classes may not occur) with the rng of ``seed``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for n, k in sizes:
        check_one_hot(one_hot, rng.integers(0, k, size=n), k)


# ---------------------------------------------------------------- mini-batches


def numbered(n: int):
    """Samples that say who they are: X (n, 3) with X[i] = (i, -i, i / 2), so that column 0
    is the sample index; labels y (n,) = index % 10 and their one-hot rows Y (n, 10)."""
    idx = np.arange(n)
    X = np.column_stack([idx, -idx, 0.5 * idx]).astype(float)
    return X, idx % 10, np.eye(10)[idx % 10]


def all_batches(iterate_minibatches, X, Y, batch_size: int, rng) -> list:
    """The (X_batch, Y_batch) pairs of one epoch of the student's iterator, as a list,
    computed quietly with the reference iterator disabled.

    X: (n, d) inputs; Y: (n,) labels or (n, k) one-hot rows; rng: numpy Generator.
    """
    __tracebackhide__ = True
    label = f"iterate_minibatches(X, Y, batch_size={batch_size}, rng)"
    with forbidden(iterate_minibatches, MINIBATCH_REFERENCES):
        batches = call(
            lambda: list(iterate_minibatches(X, Y, batch_size, rng)),
            name=label,
        )
    for item in batches:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise AssertionError(
                f"{label} should yield pairs (X_batch, Y_batch), but one item it gave is "
                f"{type(item).__name__} {item!r:.100}"
            )
    return [tuple(item) for item in batches]


def batch_sizes(n: int, batch_size: int) -> list[int]:
    """The sizes of the batches of one epoch: m, m, ..., then the n % m left over, if any."""
    return [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])


def batch_order(batches, n: int, batch_size: int) -> np.ndarray:
    """The sample indices (n,) in the order the batches of a ``numbered(n)`` set give them,
    after checking the batch sizes, that each X_batch keeps the 3 features, that X_batch
    and Y_batch belong together and that every sample comes exactly once."""
    __tracebackhide__ = True
    sizes = [len(Xb) for Xb, _ in batches]
    expected_sizes = batch_sizes(n, batch_size)
    if sizes != expected_sizes:
        hint = ""
        if sizes == expected_sizes[:-1]:
            hint = (
                " The last, smaller batch is missing: keep it (range(0, n, batch_size) covers it)."
            )
        raise AssertionError(
            f"with n={n} samples and batch_size={batch_size} the batch sizes should be "
            f"{expected_sizes}, got {sizes}.{hint}"
        )
    for Xb, _ in batches:
        if np.shape(Xb)[1:] != (3,):
            raise AssertionError(
                f"X_batch rows must keep all 3 features: an X_batch of shape {np.shape(Xb)} "
                f"came back, expected ({len(Xb)}, 3). Index the rows only: X[idx]"
            )
    order = np.concatenate([np.asarray(Xb)[:, 0] for Xb, _ in batches]).astype(int)
    for Xb, Yb in batches:
        Yb = np.asarray(Yb)
        own = Yb if Yb.ndim == 1 else np.argmax(Yb, axis=1)
        if not np.array_equal(own, np.asarray(Xb)[:, 0].astype(int) % 10):
            raise AssertionError(
                "X_batch and Y_batch do not belong together: row i of Y_batch must be the "
                "target of row i of X_batch. Index X and Y with the same indices."
            )
    counts = np.bincount(order, minlength=n)
    if order.size != n or np.any(counts != 1):
        raise AssertionError(
            f"every sample must appear exactly once per epoch; missing: "
            f"{np.flatnonzero(counts == 0)[:10]}, repeated: {np.flatnonzero(counts > 1)[:10]}"
        )
    return order


def epoch_order(iterate_minibatches, n: int, batch_size: int, rng, one_hot: bool = False):
    """The order (n,) in which one epoch of the student's iterator gives the samples of
    ``numbered(n)`` (labels, or one-hot rows if ``one_hot``), all checks of batch_order
    passed. rng: the numpy Generator handed to the iterator."""
    __tracebackhide__ = True
    X, y, Y = numbered(n)
    batches = all_batches(iterate_minibatches, X, Y if one_hot else y, batch_size, rng)
    return batch_order(batches, n, batch_size)


def _shown(order: np.ndarray) -> str:
    return str(order) if len(order) <= 12 else f"{order[:8]}..."


def check_minibatch_order(iterate_minibatches, n: int, batch_size: int, seed: int):
    """One epoch over ``numbered(n)`` with rng = default_rng(seed) must give the samples in
    the order rng.permutation(n), cut into consecutive batches of batch_size, and must draw
    from rng exactly that one permutation. Returns the order (n,) it gave."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    order = epoch_order(iterate_minibatches, n, batch_size, rng)
    rng_ref = np.random.default_rng(seed)
    untouched = rng.bit_generator.state == rng_ref.bit_generator.state
    expected = rng_ref.permutation(n)
    drew_once = rng.bit_generator.state == rng_ref.bit_generator.state
    if np.array_equal(order, np.arange(n)):
        why = "the samples come in their stored order: shuffle with order = rng.permutation(n)"
    elif untouched or (not drew_once and not np.array_equal(order, expected)):
        why = (
            "the order does not come from the rng argument (it was not used, or drew more than "
            "one permutation): numpy's global np.random (np.random.permutation, "
            "np.random.shuffle, np.random.seed) or a generator of your own makes runs "
            "irreproducible. All randomness must come from rng: order = rng.permutation(n), "
            "once per epoch"
        )
    elif not np.array_equal(order, expected):
        why = "the batches should be consecutive slices order[0:m], order[m:2m], ... of that order"
    elif not drew_once:
        why = (
            "the order is right, but iterate_minibatches drew more from rng than that one "
            "permutation: draw with rng.permutation(n) once per epoch, and nothing else"
        )
    else:
        return order
    raise AssertionError(
        f"with rng = np.random.default_rng({seed}), the samples should come in the order "
        f"{_shown(expected)} (rng.permutation({n})); got {_shown(order)}: {why}"
    )


def check_every_sample_once(
    iterate_minibatches, n: int, batch_size: int, seed: int, one_hot: bool = False
):
    """One epoch over ``numbered(n)`` (labels, or one-hot targets if ``one_hot``) gives
    batches of batch_size and a smaller last one, each sample exactly once, X_batch and
    Y_batch matching. Returns the order (n,) of the samples."""
    __tracebackhide__ = True
    return epoch_order(
        iterate_minibatches, n, batch_size, np.random.default_rng(seed), one_hot=one_hot
    )


def check_minibatches_shuffled(iterate_minibatches, n: int, batch_size: int, seed: int):
    """The order over ``numbered(n)`` is shuffled, the same for the same seed, new in each
    epoch drawn from one rng, and different for seed + 1."""
    __tracebackhide__ = True

    def one_epoch(rng):
        return epoch_order(iterate_minibatches, n, batch_size, rng)

    first = one_epoch(np.random.default_rng(seed))
    if np.array_equal(first, np.arange(n)):
        raise AssertionError(
            "the samples come out in their stored order: shuffle them with "
            "order = rng.permutation(n)"
        )
    if not np.array_equal(first, one_epoch(np.random.default_rng(seed))):
        raise AssertionError(
            "two generators with the same seed gave different orders: take all randomness "
            "from rng (no np.random.seed, no new default_rng inside the function)"
        )
    rng = np.random.default_rng(seed)
    if np.array_equal(one_epoch(rng), one_epoch(rng)):
        raise AssertionError(
            "two epochs drawn from the same rng gave the same order: draw a new permutation "
            "from rng at every call (do not re-seed)"
        )
    if np.array_equal(first, one_epoch(np.random.default_rng(seed + 1))):
        raise AssertionError("different seeds should give different orders")


# ---------------------------------------------------------------- the SGD update

#: description -> what that mistake returns, from (p, g, eta): a parameter, its gradient
SGD_MISTAKES = {
    "you moved uphill: the update is p - eta * grad, not p + eta * grad": (
        lambda p, g, eta: p + eta * g
    ),
    "the learning rate eta is missing": lambda p, g, eta: p - g,
    "this is eta * grad alone; subtract it from p": lambda p, g, eta: -eta * g,
}


def check_sgd_update(sgd_update, params, grads, eta: float):
    """sgd_update(params, grads, eta) must return new parameters p - eta * g of the same
    structure and leave params and grads unchanged.

    params: dict name -> array (any shapes), or a list of arrays.
    grads: the same structure, each gradient shaped like its parameter.
    eta: the learning rate (float >= 0).
    Returns what sgd_update returned.
    """
    __tracebackhide__ = True
    label = f"sgd_update(params, grads, eta={eta})"
    keys = list(params) if isinstance(params, dict) else list(range(len(params)))
    before_p = {key: np.array(params[key], copy=True) for key in keys}
    before_g = {key: np.array(grads[key], copy=True) for key in keys}
    new = call(sgd_update, params, grads, eta, name=label)
    if not isinstance(new, type(params)):
        raise AssertionError(
            f"sgd_update should return a {type(params).__name__} like params, "
            f"got {type(new).__name__}"
        )
    new_keys = list(new) if isinstance(new, dict) else list(range(len(new)))
    if sorted(map(str, new_keys)) != sorted(map(str, keys)):
        raise AssertionError(f"sgd_update should return entries {keys}, got {new_keys}")
    for key in keys:
        assert_close(
            new[key],
            before_p[key] - eta * before_g[key],
            name=f"the new params[{key!r}]",
            mistakes=mistake_values(SGD_MISTAKES, before_p[key], before_g[key], eta),
        )
    assert_unchanged(
        label,
        [(f"params[{key!r}]", before_p[key], params[key]) for key in keys]
        + [(f"grads[{key!r}]", before_g[key], grads[key]) for key in keys],
    )
    return new


def random_arrays(shapes, rng):
    """Standard normal arrays of the given shapes: a dict name -> array for a dict of
    shapes, a list for a list. rng: a numpy Generator (or a seed)."""
    rng = np.random.default_rng(rng)
    if isinstance(shapes, dict):
        return {name: rng.normal(size=shape) for name, shape in shapes.items()}
    return [rng.normal(size=shape) for shape in shapes]


def check_sgd_update_random(sgd_update, shapes, eta: float, rng):
    """check_sgd_update on random parameters and gradients of the given shapes (a dict
    name -> shape, or a list of shapes), drawn from rng (a numpy Generator or a seed):
    first every parameter, then every gradient."""
    __tracebackhide__ = True
    rng = np.random.default_rng(rng)
    params = random_arrays(shapes, rng)
    return check_sgd_update(sgd_update, params, random_arrays(shapes, rng), eta)


# ---------------------------------------------------------------- the training loop


def tiny_problem():
    """A small 3-class problem: X (23, 4) standard normal, Y (23, 3) one-hot, the class of
    each sample the largest of its first three features plus some noise."""
    rng = np.random.default_rng(2024)
    X = rng.normal(size=(23, 4))
    Y = np.eye(3)[np.argmax(X[:, :3] + 0.3 * rng.normal(size=(23, 3)), axis=1)]
    return X, Y


def tiny_loss_and_grads(params, X, Y):
    """Softmax regression: mean cross-entropy of softmax(X W.T + b) against Y, and its
    gradients. params: {"W": (3, 4), "b": (3,)}; X: (m, 4); Y: (m, 3) one-hot.
    Returns (loss, {"W": (3, 4), "b": (3,)})."""
    Z = X @ params["W"].T + params["b"]
    Z = Z - Z.max(axis=1, keepdims=True)
    log_a = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    delta = np.exp(log_a) - Y  # (BP1)
    loss = float(-(Y * log_a).sum() / len(X))
    return loss, {"W": delta.T @ X / len(X), "b": delta.mean(axis=0)}  # (BP4), (BP3)


def reference_iterate(X, Y, batch_size: int, rng) -> list:
    """The mini-batches of one epoch, (X[idx], Y[idx]) for consecutive slices idx of
    rng.permutation(n), as a list (it stands in for the student's iterator)."""
    order = rng.permutation(len(X))
    return [
        (X[order[s : s + batch_size]], Y[order[s : s + batch_size]])
        for s in range(0, len(X), batch_size)
    ]


def reference_update(params, grads, eta: float):
    """p - eta * g for every parameter, a dict or a list like params."""
    if isinstance(params, dict):
        return {name: params[name] - eta * grads[name] for name in params}
    return [p - eta * g for p, g in zip(params, grads, strict=True)]


#: what stands in for the student's helpers while train's hidden tests run
STAND_INS = {"iterate_minibatches": reference_iterate, "sgd_update": reference_update}


def run_train(train, params, epochs, batch_size, eta, seed, stand_ins=False, data=None):
    """Call the student's train on data (default ``tiny_problem()``) with
    tiny_loss_and_grads and rng = default_rng(seed); check it returns (params, history)
    with the two lists.

    params: {"W": (3, 4), "b": (3,)}, the starting point. data: (X (n, 4), Y (n, 3)).
    stand_ins: during the call, STAND_INS replace the student's iterate_minibatches and
    sgd_update in train's globals (then put back), so that a mistake in those exercises
    is not counted here again. Returns (params, history) as train returned them.
    """
    __tracebackhide__ = True
    X, Y = tiny_problem() if data is None else data
    swap = STAND_INS if stand_ins else {}
    ns = train.__globals__ if swap else {}  # the notebook's namespace (a view when graded)
    yours = {name: ns.get(name) for name in swap}
    try:
        for name, stand_in in swap.items():
            ns[name] = stand_in
        out = call(
            train,
            params,
            tiny_loss_and_grads,
            X,
            Y,
            epochs,
            batch_size,
            eta,
            np.random.default_rng(seed),
            name="train(params, loss_and_grads, ...)",
        )
    finally:
        for name, value in yours.items():
            ns[name] = value
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict)):
        raise AssertionError("train should return (params, history) with history a dict")
    for key in ("loss", "step_loss"):
        if key not in out[1]:
            raise AssertionError(f"history has no key {key!r}; it has {list(out[1])}")
    if not (isinstance(out[0], dict) and sorted(out[0]) == ["W", "b"]):
        shown = list(out[0]) if isinstance(out[0], dict) else type(out[0]).__name__
        raise AssertionError(f"train should return params with keys W and b, got {shown}")
    return out


def zero_start() -> dict:
    """The starting parameters of the tiny problem: W (3, 4) and b (3,), all zeros."""
    return {"W": np.zeros((3, 4)), "b": np.zeros(3)}


def check_train_decreases(train, epochs: int, batch_size: int, eta: float, seed: int):
    """train, with the student's own iterator and update, from zeros on tiny_problem():
    one loss per epoch and per mini-batch, params W and b, and a last epoch loss below
    0.8 times the first. Returns the history."""
    __tracebackhide__ = True
    _, history = run_train(train, zero_start(), epochs, batch_size, eta, seed)
    steps = -(-23 // batch_size)
    if len(history["loss"]) != epochs:
        raise AssertionError(
            f"history['loss'] needs one value per epoch ({epochs}), got {len(history['loss'])}"
        )
    if len(history["step_loss"]) != epochs * steps:
        raise AssertionError(
            f"history['step_loss'] needs one value per mini-batch: {epochs} epochs x {steps} "
            f"batches = {epochs * steps}, got {len(history['step_loss'])}"
        )
    if not history["loss"][-1] < 0.8 * history["loss"][0]:
        raise AssertionError(
            f"the epoch loss should go down clearly, got {np.round(history['loss'], 4)}; "
            "do you assign the result of sgd_update back to params? (Check that the tests of "
            "iterate_minibatches and sgd_update pass: train relies on them.)"
        )
    return history


def check_train_trajectory(train, epochs: int, batch_size: int, eta: float, seed: int):
    """train (the reference iterator and update standing in) from zeros on tiny_problem()
    must follow mini-batch SGD step by step: each batch's loss before its update, each
    epoch's mean, the trained W (3, 4) and b (3,); the caller's params stay unchanged."""
    __tracebackhide__ = True
    start = zero_start()
    params, history = run_train(train, start, epochs, batch_size, eta, seed, stand_ins=True)
    assert_unchanged("train", [(f"params[{k!r}]", v, start[k]) for k, v in zero_start().items()])
    X, Y = tiny_problem()
    rng = np.random.default_rng(seed)
    p_ref, steps_ref, epochs_ref = zero_start(), [], []
    with quiet():
        for _ in range(epochs):
            losses = []
            for Xb, Yb in reference_iterate(X, Y, batch_size, rng):
                loss, grads = tiny_loss_and_grads(p_ref, Xb, Yb)
                p_ref = reference_update(p_ref, grads, eta)
                losses.append(loss)
            steps_ref += losses
            epochs_ref.append(np.mean(losses))
    assert_close(
        np.asarray(history["step_loss"], dtype=float),
        np.array(steps_ref),
        name="history['step_loss'] (each batch's loss, computed before its update)",
    )
    assert_close(
        np.asarray(history["loss"], dtype=float),
        np.array(epochs_ref),
        name="history['loss'] (mean of each epoch's batch losses)",
    )
    assert_close(params["W"], p_ref["W"], name="the trained W")
    assert_close(params["b"], p_ref["b"], name="the trained b")


def check_train_leaves_inputs(train, epochs: int, batch_size: int, eta: float, seed: int):
    """train (the reference iterator and update standing in) on tiny_problem() from a
    non-zero start leaves the caller's params, X and Y unchanged and records one finite
    loss per mini-batch: epochs x ceil(23 / batch_size) of them."""
    __tracebackhide__ = True
    start = {"W": 0.1 * np.ones((3, 4)), "b": np.array([0.1, -0.1, 0.0])}
    copies = {name: value.copy() for name, value in start.items()}
    X, Y = tiny_problem()
    _, history = run_train(train, start, epochs, batch_size, eta, seed, True, (X, Y))
    try:
        assert_unchanged("train", [(f"params[{k!r}]", copies[k], start[k]) for k in start])
    except AssertionError as err:
        raise AssertionError(f"{err}: use params = sgd_update(params, grads, eta)") from None
    assert_unchanged("train", [("X", tiny_problem()[0], X), ("Y", tiny_problem()[1], Y)])
    steps = -(-23 // batch_size)
    if len(history["step_loss"]) != epochs * steps:
        why = (
            "with batch_size >= n every epoch is a single step"
            if steps == 1
            else f"with batch_size = {batch_size} an epoch has {steps} steps (n = 23)"
        )
        raise AssertionError(
            f"history['step_loss'] should hold {epochs * steps} losses, one per mini-batch, "
            f"got {len(history['step_loss'])}: {why}"
        )
    if not all(np.isfinite(float(v)) for v in history["step_loss"]):
        raise AssertionError("losses must be finite numbers")


# ---------------------------------------------------------------- accuracy

#: description -> what that mistake returns, as a function of the right accuracy
ACCURACY_MISTAKES = {
    "this is a percentage: return a fraction in [0, 1]": lambda right: 100 * right,
    "this is the error rate 1 - accuracy": lambda right: 1 - right,
}


def check_accuracy(accuracy, scores, y, expected: float | None = None) -> float:
    """accuracy(scores, y) must be one number, the fraction of rows whose argmax is y.

    scores: (n, k) scores or probabilities; y: (n,) integer labels in {0, ..., k-1}.
    expected: the right fraction, computed here when not given.
    Returns what accuracy returned, as a float.
    """
    __tracebackhide__ = True
    got = call(accuracy, scores, y, name="accuracy(scores_or_probs, y)")
    if np.ndim(got) != 0:
        raise AssertionError(
            f"accuracy should return one number, got an array of shape {np.shape(got)}"
        )
    if expected is None:
        expected = float(np.mean(np.argmax(scores, axis=1) == np.asarray(y)))
    assert_close(
        got if got is None else float(got),
        expected,
        name="accuracy",
        atol=1e-12,
        mistakes=mistake_values(ACCURACY_MISTAKES, expected),
    )
    return float(got)


def check_accuracy_random(accuracy, seed: int, sizes) -> None:
    """check_accuracy on random scores Z (n, k) for each (n, k) of ``sizes`` (a third of
    the labels made right on purpose, the rest random) and on their softmax rows, which
    must give the same accuracy. seed: for numpy's default_rng."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for n, k in sizes:
        Z = rng.normal(size=(n, k)) * 3
        y = rng.integers(0, k, size=n)
        y[: n // 3] = np.argmax(Z[: n // 3], axis=1)
        expected = float(np.mean(np.argmax(Z, axis=1) == y))
        check_accuracy(accuracy, Z, y, expected)
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        check_accuracy(accuracy, P / P.sum(axis=1, keepdims=True), y, expected)


# ---------------------------------------------------------------- the confusion matrix


def counts(y_true, y_pred, k: int) -> np.ndarray:
    """The right confusion matrix, as floats: (k, k), entry (i, j) the number of samples
    with true label i and predicted label j. y_true, y_pred: (n,) integer labels."""
    cm = np.zeros((k, k))
    for i, j in zip(np.asarray(y_true).tolist(), np.asarray(y_pred).tolist(), strict=True):
        cm[i, j] += 1
    return cm


def _classes(first: int, last: int) -> str:
    if first == last:
        return f"class {first} never occurs"
    if last == first + 1:
        return f"classes {first} and {last} never occur"
    return f"classes {first} to {last} never occur"


def confusion_mistakes(y_true, y_pred, k: int) -> dict:
    """description -> the (k, k) matrix (or smaller) that mistake gives on these labels.
    y_true, y_pred: (n,) integer labels; k: the number of classes."""
    expected = counts(y_true, y_pred, k)
    table = {
        "rows and columns are swapped: rows are true classes, columns predictions": expected.T
    }
    repeated = np.argwhere(expected > 1)
    if len(repeated):
        t, p = (int(v) for v in repeated[0])
        times = int(expected[t, p])
        what = (
            f"the repeated pair (true {t}, predicted {p}) was counted once (it occurs {times} "
            "times)"
            if len(repeated) == 1
            else f"repeated (true, predicted) pairs were counted once, e.g. (true {t}, "
            f"predicted {p}), which occurs {times} times"
        )
        table[
            f"{what}: cm[t, p] += 1 with fancy indexing does not accumulate repeats; use "
            "np.add.at(cm, (y_true, y_pred), 1)"
        ] = np.minimum(expected, 1)
    table["each row was divided by its count: cm holds counts, not fractions"] = expected / (
        np.maximum(expected.sum(axis=1, keepdims=True), 1)
    )
    seen = int(max(np.max(y_true, initial=0), np.max(y_pred, initial=0))) + 1
    if seen < k:
        table[
            f"the size came from the labels (largest label + 1), not from k: "
            f"{_classes(seen, k - 1)} here but still get a row and a column, cm is (k, k)"
        ] = expected[:seen, :seen]
    return table


def check_confusion_matrix(confusion_matrix, y_true, y_pred, k: int, integer: bool = False):
    """confusion_matrix(y_true, y_pred, k) must count each (true, predicted) pair.

    y_true, y_pred: (n,) integer labels in {0, ..., k-1}; k: the number of classes.
    integer: also require an integer dtype (the docstring asks for integer counts).
    Returns what confusion_matrix returned, cm (k, k).
    """
    __tracebackhide__ = True
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    cm = check_output(
        confusion_matrix,
        y_true,
        y_pred,
        k,
        arg_names=("y_true", "y_pred", "k"),
        expected=counts(y_true, y_pred, k),
        forbid=CONFUSION_REFERENCES,
        check_dtype=False,
        mistakes=confusion_mistakes(y_true, y_pred, k),
    )
    if integer and np.asarray(cm).dtype.kind not in "iu":
        raise AssertionError(
            "confusion_matrix should return integer counts (the docstring says an integer "
            f"array), but its dtype is {np.asarray(cm).dtype}: start from "
            "np.zeros((k, k), dtype=int)"
        )
    return cm


def check_confusion_random(confusion_matrix, seed: int, sizes) -> None:
    """check_confusion_matrix on n random labels for each (n, k) of ``sizes``, 70% of the
    predictions right, so that many (true, predicted) pairs repeat. seed: for default_rng."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for n, k in sizes:
        t = rng.integers(0, k, size=n)
        p = np.where(rng.random(n) < 0.7, t, rng.integers(0, k, size=n))
        check_confusion_matrix(confusion_matrix, t, p, k)
