"""nnlib.grading.checks.training: each checker passes a right answer and fails a planted
wrong one with the message a student should read."""

import contextlib
import io

import numpy as np
import pytest

from nnlib.grading import fresh
from nnlib.grading.checks import training as T

# ---------------------------------------------------------------- right answers


def one_hot(y, k):
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), np.asarray(y)] = 1.0
    return Y


def iterate_minibatches(X, Y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], Y[idx]


def sgd_update(params, grads, eta):
    if isinstance(params, dict):
        return {name: params[name] - eta * grads[name] for name in params}
    return [p - eta * g for p, g in zip(params, grads, strict=True)]


def train(params, loss_and_grads, X, Y, epochs, batch_size, eta, rng, callback=None):
    history = {"loss": [], "step_loss": []}
    for _ in range(epochs):
        losses = []
        for X_batch, Y_batch in iterate_minibatches(X, Y, batch_size, rng):
            loss, grads = loss_and_grads(params, X_batch, Y_batch)
            params = sgd_update(params, grads, eta)
            losses.append(loss)
        history["step_loss"] += losses
        history["loss"].append(float(np.mean(losses)))
    return params, history


def accuracy(scores, y):
    return float(np.mean(np.argmax(scores, axis=1) == y))


def confusion_matrix(y_true, y_pred, k):
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def fails(message, check, *args, **kwargs):
    """check(*args, **kwargs) raises AssertionError containing `message`, prints nothing
    to stderr."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    assert message in str(info.value), str(info.value)
    assert stderr.getvalue() == ""
    return str(info.value)


def test_checks_load_afresh_through_fresh():
    assert fresh().checks.training.check_one_hot is not T.check_one_hot


# ---------------------------------------------------------------- one_hot


def test_one_hot_right_answer_passes():
    Y = T.check_one_hot(one_hot, np.array([0, 2, 1, 2]), 3)
    assert Y.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]
    T.check_one_hot_random(one_hot, seed=1, sizes=[(30, 5), (0, 3)])


@pytest.mark.parametrize(
    ("shift", "message"), [(-1, "one column too far left"), (1, "one column too far right")]
)
def test_one_hot_off_by_one_is_named(shift, message):
    def shifted(y, k):
        return np.roll(one_hot(y, k), shift, axis=1)

    fails(message, T.check_one_hot, shifted, np.array([0, 2, 1, 2]), 3)


def test_one_hot_calling_the_reference_earns_nothing():
    from nnlib.data import one_hot as reference

    fails("earns no points", T.check_one_hot, lambda y, k: reference(y, k), np.array([1, 0]), 2)


# ---------------------------------------------------------------- mini-batches


def test_minibatch_checks_pass_a_right_iterator():
    order = T.check_minibatch_order(iterate_minibatches, n=10, batch_size=4, seed=0)
    assert order.tolist() == np.random.default_rng(0).permutation(10).tolist()
    T.check_every_sample_once(iterate_minibatches, 53, 8, seed=1, one_hot=True)
    T.check_minibatches_shuffled(iterate_minibatches, n=36, batch_size=6, seed=7)


def test_unshuffled_batches_are_named():
    def unshuffled(X, Y, batch_size, rng):
        for start in range(0, len(X), batch_size):
            yield X[start : start + batch_size], Y[start : start + batch_size]

    fails("stored order", T.check_minibatch_order, unshuffled, 10, 4, 0)
    fails("stored order", T.check_minibatches_shuffled, unshuffled, 36, 6, 7)


def test_dropped_last_batch_is_named():
    def drops_last(X, Y, batch_size, rng):
        order = rng.permutation(len(X))
        for start in range(0, len(X) - batch_size + 1, batch_size):
            idx = order[start : start + batch_size]
            yield X[idx], Y[idx]

    fails("last, smaller batch is missing", T.check_every_sample_once, drops_last, 10, 4, 0)


def test_inputs_and_targets_out_of_step_are_named():
    def mixed(X, Y, batch_size, rng):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            yield X[order[start : start + batch_size]], Y[start : start + batch_size]

    fails("do not belong together", T.check_every_sample_once, mixed, 20, 5, 3)


def test_repeated_samples_are_named():
    def with_replacement(X, Y, batch_size, rng):
        order = rng.integers(0, len(X), size=len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            yield X[idx], Y[idx]

    fails("exactly once per epoch", T.check_every_sample_once, with_replacement, 20, 5, 3)


def test_lost_features_are_named():
    def first_column(X, Y, batch_size, rng):
        for X_batch, Y_batch in iterate_minibatches(X, Y, batch_size, rng):
            yield X_batch[:, 0], Y_batch

    fails("all 3 features", T.check_every_sample_once, first_column, 10, 4, 0)


def test_items_that_are_not_pairs_are_named():
    def x_only(X, Y, batch_size, rng):
        for X_batch, _ in iterate_minibatches(X, Y, batch_size, rng):
            yield X_batch

    fails("should yield pairs", T.check_every_sample_once, x_only, 10, 4, 0)

    def list_pairs(X, Y, batch_size, rng):
        for X_batch, Y_batch in iterate_minibatches(X, Y, batch_size, rng):
            yield [X_batch, Y_batch]

    T.check_minibatch_order(list_pairs, 10, 4, 0)  # a list of two is a pair too


def test_global_random_state_is_named():
    def global_state(X, Y, batch_size, rng):
        return iterate_minibatches(X, Y, batch_size, np.random.default_rng())

    fails("numpy's global np.random", T.check_minibatch_order, global_state, 10, 4, 0)
    fails("same seed gave different orders", T.check_minibatches_shuffled, global_state, 36, 6, 7)


def test_reseeding_is_named():
    def reseeds(X, Y, batch_size, rng):
        return iterate_minibatches(X, Y, batch_size, np.random.default_rng(0))

    fails("does not come from the rng argument", T.check_minibatch_order, reseeds, 10, 4, 0)
    fails("same rng gave the same order", T.check_minibatches_shuffled, reseeds, 36, 6, 7)


def test_an_extra_draw_from_rng_is_named():
    def extra_draw(X, Y, batch_size, rng):
        order = rng.permutation(len(X))
        rng.random()
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            yield X[idx], Y[idx]

    message = "drew more from rng than that one permutation"
    fails(message, T.check_minibatch_order, extra_draw, 10, 4, 0)


def test_batches_that_are_not_consecutive_slices_are_named():
    def strided(X, Y, batch_size, rng):
        order = rng.permutation(len(X))
        n_batches = -(-len(X) // batch_size)
        for b in range(n_batches):
            idx = order[b::n_batches]
            yield X[idx], Y[idx]

    fails("consecutive slices", T.check_minibatch_order, strided, 12, 4, 0)


def test_calling_the_reference_iterator_earns_nothing():
    from nnlib.data import minibatches

    def delegates(X, Y, batch_size, rng):
        return minibatches(X, Y, batch_size, rng)

    fails("earns no points", T.check_minibatch_order, delegates, 10, 4, 0)


# ---------------------------------------------------------------- sgd_update


def test_sgd_update_right_answer_passes():
    new = T.check_sgd_update(
        sgd_update,
        {"W": np.ones((2, 2)), "b": np.zeros(2)},
        {"W": np.eye(2), "b": np.ones(2)},
        0.1,
    )
    assert new["W"].tolist() == [[0.9, 1.0], [1.0, 0.9]]
    T.check_sgd_update_random(sgd_update, [(4, 3), (4,)], eta=0.05, rng=31)
    T.check_sgd_update_random(sgd_update, {"w": (2, 3, 4), "c": ()}, 2.5, np.random.default_rng(2))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda p, g, eta: p + eta * g, "you moved uphill"),
        (lambda p, g, eta: p - g, "learning rate eta is missing"),
        (lambda p, g, eta: -eta * g, "eta * grad alone"),
    ],
)
def test_sgd_update_mistakes_are_named(wrong, message):
    def update(params, grads, eta):
        return {name: wrong(params[name], grads[name], eta) for name in params}

    fails(message, T.check_sgd_update_random, update, {"W": (3, 2), "b": (3,)}, 0.3, 0)


def test_sgd_update_in_place_is_named():
    def in_place(params, grads, eta):
        for name in params:
            params[name] -= eta * grads[name]
        return params

    message = "changed its input params['W'] in place"
    fails(message, T.check_sgd_update_random, in_place, {"W": (3, 2)}, 0.3, 0)


def test_sgd_update_changing_grads_is_named():
    def scales_grads(params, grads, eta):
        for i in range(len(grads)):
            grads[i] *= eta
        return [p - g for p, g in zip(params, grads, strict=True)]

    message = "changed its input grads[0] in place"
    fails(message, T.check_sgd_update_random, scales_grads, [(3, 2)], 0.3, 0)


def test_sgd_update_structure_is_checked():
    def as_list(params, grads, eta):
        return [params[name] - eta * grads[name] for name in params]

    def drops_a_key(params, grads, eta):
        return {"W": params["W"] - eta * grads["W"]}

    fails(
        "should return a dict like params", T.check_sgd_update_random, as_list, {"W": (2,)}, 1, 0
    )
    shapes = {"W": (2,), "b": (1,)}
    fails("should return entries", T.check_sgd_update_random, drops_a_key, shapes, 1, 0)


# ---------------------------------------------------------------- train


@pytest.fixture
def notebook_train():
    """A right train whose globals hold right helpers, as the notebook's namespace does."""
    namespace = {
        "np": np,
        "iterate_minibatches": iterate_minibatches,
        "sgd_update": sgd_update,
    }
    exec(  # noqa: S102 - the test's own source, for a train with its own globals
        "def train(params, loss_and_grads, X, Y, epochs, batch_size, eta, rng):\n"
        "    history = {'loss': [], 'step_loss': []}\n"
        "    for _ in range(epochs):\n"
        "        losses = []\n"
        "        for Xb, Yb in iterate_minibatches(X, Y, batch_size, rng):\n"
        "            loss, grads = loss_and_grads(params, Xb, Yb)\n"
        "            params = sgd_update(params, grads, eta)\n"
        "            losses.append(loss)\n"
        "        history['step_loss'] += losses\n"
        "        history['loss'].append(float(np.mean(losses)))\n"
        "    return params, history\n",
        namespace,
    )
    return namespace


def test_train_right_answer_passes():
    history = T.check_train_decreases(train, epochs=6, batch_size=5, eta=0.5, seed=0)
    assert len(history["step_loss"]) == 30
    T.check_train_trajectory(train, epochs=3, batch_size=8, eta=1.3, seed=2)
    T.check_train_leaves_inputs(train, epochs=2, batch_size=50, eta=0.3, seed=5)
    T.check_train_leaves_inputs(train, epochs=1, batch_size=1, eta=0.1, seed=6)


def test_train_without_reassigning_is_named():
    def no_reassign(params, loss_and_grads, X, Y, epochs, batch_size, eta, rng):
        history = {"loss": [], "step_loss": []}
        for _ in range(epochs):
            losses = [loss_and_grads(params, X, Y)[0] for _ in range(-(-len(X) // batch_size))]
            history["step_loss"] += losses
            history["loss"].append(float(np.mean(losses)))
        return params, history

    fails("assign the result of sgd_update", T.check_train_decreases, no_reassign, 6, 5, 0.5, 0)
    fails("is not right", T.check_train_trajectory, no_reassign, 3, 8, 1.3, 2)


def test_train_history_is_checked():
    def one_loss_per_epoch(*args):
        params, history = train(*args)
        history["step_loss"] = history["loss"]
        return params, history

    def no_history(*args):
        return train(*args)[0]

    def renamed(*args):
        params, history = train(*args)
        return params, {"epoch_loss": history["loss"], "step_loss": history["step_loss"]}

    fails("one value per mini-batch", T.check_train_decreases, one_loss_per_epoch, 6, 5, 0.5, 0)
    fails("one per mini-batch", T.check_train_leaves_inputs, one_loss_per_epoch, 1, 1, 0.1, 6)
    fails("return (params, history)", T.check_train_decreases, no_history, 6, 5, 0.5, 0)
    fails("history has no key 'loss'", T.check_train_trajectory, renamed, 3, 8, 1.3, 2)

    def params_as_list(*args):
        params, history = train(*args)
        return [params["W"], params["b"]], history

    fails("params with keys W and b", T.check_train_trajectory, params_as_list, 3, 8, 1.3, 2)


def test_train_updating_the_callers_params_is_named():
    def in_place(params, loss_and_grads, X, Y, epochs, batch_size, eta, rng):
        history = {"loss": [], "step_loss": []}
        for _ in range(epochs):
            for Xb, Yb in iterate_minibatches(X, Y, batch_size, rng):
                loss, grads = loss_and_grads(params, Xb, Yb)
                for name in params:
                    params[name] -= eta * grads[name]
                history["step_loss"].append(loss)
            history["loss"].append(float(np.mean(history["step_loss"][-3:])))
        return params, history

    fails("use params = sgd_update", T.check_train_leaves_inputs, in_place, 2, 50, 0.3, 5)
    fails("changed its input params['W'] in place", T.check_train_trajectory, in_place, 1, 8, 1, 2)


def test_train_shuffling_the_callers_data_is_named():
    def shuffles_X(params, loss_and_grads, X, Y, *rest):
        X[:] = X[::-1]
        return train(params, loss_and_grads, X, Y, *rest)

    fails("changed its input X in place", T.check_train_leaves_inputs, shuffles_X, 1, 5, 0.1, 0)


def test_train_with_its_own_rng_is_named():
    def own_rng(params, loss_and_grads, X, Y, epochs, batch_size, eta, rng):
        return train(
            params, loss_and_grads, X, Y, epochs, batch_size, eta, np.random.default_rng(0)
        )

    fails("step_loss", T.check_train_trajectory, own_rng, 3, 8, 1.3, 2)


def test_stand_ins_replace_the_students_helpers_and_are_put_back(notebook_train):
    ns = notebook_train

    def uphill(params, grads, eta):
        return {name: params[name] + eta * grads[name] for name in params}

    ns["sgd_update"] = uphill
    fails("loss should go down", T.check_train_decreases, ns["train"], 6, 5, 0.5, 0)
    T.check_train_trajectory(ns["train"], epochs=3, batch_size=8, eta=1.3, seed=2)
    T.check_train_leaves_inputs(ns["train"], epochs=1, batch_size=1, eta=0.1, seed=6)
    assert ns["sgd_update"] is uphill and ns["iterate_minibatches"] is iterate_minibatches


# ---------------------------------------------------------------- accuracy


def test_accuracy_right_answer_passes():
    scores = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 3.0], [1.0, 5.0, 0.0], [0.0, 0.0, 1.0]])
    assert T.check_accuracy(accuracy, scores, np.array([0, 2, 0, 2]), expected=0.75) == 0.75
    T.check_accuracy_random(accuracy, seed=99, sizes=[(31, 3), (12, 12)])


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda s, y: 100 * accuracy(s, y), "percentage"),
        (lambda s, y: 1 - accuracy(s, y), "error rate"),
        (lambda s, y: float(np.mean(s[np.arange(len(y)), y])), "accuracy is not right"),
        (lambda s, y: np.argmax(s, axis=1) == y, "one number"),
        (lambda s, y: None, "did you forget `return`"),
    ],
)
def test_accuracy_mistakes_are_named(wrong, message):
    fails(message, T.check_accuracy_random, wrong, seed=99, sizes=[(31, 3)])


# ---------------------------------------------------------------- confusion_matrix


def test_confusion_right_answer_passes():
    cm = T.check_confusion_matrix(
        confusion_matrix, [0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3, integer=True
    )
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    T.check_confusion_random(confusion_matrix, seed=7, sizes=[(40, 4)])


def test_confusion_mistakes_are_named():
    def transposed(t, p, k):
        return confusion_matrix(p, t, k)

    def no_repeats(t, p, k):
        cm = np.zeros((k, k), dtype=int)
        cm[t, p] += 1
        return cm

    def fractions(t, p, k):
        cm = confusion_matrix(t, p, k)
        return cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)

    def sized_by_labels(t, p, k):
        return confusion_matrix(t, p, int(max(np.max(t), np.max(p))) + 1)

    def floats(t, p, k):
        return confusion_matrix(t, p, k).astype(float)

    t, p = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2])
    fails("rows and columns are swapped", T.check_confusion_matrix, transposed, t, p, 3)
    message = "the repeated pair (true 2, predicted 2) was counted once (it occurs 2 times)"
    fails(message, T.check_confusion_matrix, no_repeats, t, p, 3)
    fails("np.add.at", T.check_confusion_random, no_repeats, seed=7, sizes=[(500, 10)])
    fails("counts, not fractions", T.check_confusion_matrix, fractions, t, p, 3)
    message = "not from k: classes 3 and 4 never occur here"
    fails(message, T.check_confusion_matrix, sized_by_labels, t, p, 5)
    fails("integer counts", T.check_confusion_matrix, floats, t, p, 3, integer=True)
    T.check_confusion_matrix(floats, t, p, 3)  # the dtype is checked only where asked


def test_calling_the_reference_confusion_matrix_earns_nothing():
    from nnlib.plotting import confusion_matrix as reference

    fails("earns no points", T.check_confusion_matrix, reference, [0, 1], [1, 1], 2)
