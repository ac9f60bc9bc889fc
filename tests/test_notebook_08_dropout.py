"""Autograde 08_dropout: solved, untouched, planted mistakes and delegation to nnlib.

One nbgrader run grades all four submissions (module-scoped fixture). Mistakes in
different exercises share a submission; where a later exercise calls the student's own
earlier function (mlp_forward uses dropout_forward, train_step uses l2_gradient), the
mistake is meant to cost those cells too, and the tests list them.

- "no_rescale": dropout without the 1/(1-p) scaling and an L2 gradient without the 1/n;
- "delegates": a dropout_backward that delegates to nnlib (absent while grading, so the
  training step that uses it fails too), and a dropout_forward that draws one random
  number more than the recipe's u = rng.random(x.shape);
- "keep_prob": p read as the keep probability, a network whose dropout stays on at test
  time, and an L2 gradient that keeps the 1/2;
- "in_place": a dropout_forward that changes x in place (the text says not to), a
  shift_images that returns float64 for float32 images, and a training step whose
  backward pass forgets the dropout mask;
- "batch_mean": a training step with notebook 05's convention (bias gradient
  delta.mean(axis=0), weight gradient / m, on top of a delta2 that already carries the
  1/m), and a dropout_forward that draws from rng even at test time;
- "ones_at_test": a dropout_forward that returns a mask of ones instead of None at test
  time, a training step that updates the caller's params in place, and a dropout_backward
  that returns dout itself at test time (the text asks for a new array).
"""

import pytest
from nbgrader_harness import assert_full_marks, assert_loses_exactly, assert_scores_zero

pytestmark = pytest.mark.slow

A = "08_dropout"

NO_RESCALE = """def dropout_forward(x, p, rng, train):
    if not train:
        return x, None
    mask = (rng.random(x.shape) >= p).astype(float)  # no division by 1 - p
    return x * mask, mask
"""

KEEP_PROB = """def dropout_forward(x, p, rng, train):
    if not train:
        return x, None
    mask = (rng.random(x.shape) < p) / p  # p used as the keep probability
    return x * mask, mask
"""

L2_NO_N = """def l2_gradient(W, lmbda, n):
    return lmbda * W
"""

L2_HALF = """def l2_gradient(W, lmbda, n):
    return lmbda / (2 * n) * W
"""

ALWAYS_TRAIN = """def mlp_forward(params, X, p, rng, train):
    z1 = X @ params["W1"].T + params["b1"]
    a1 = np.maximum(z1, 0.0)
    a1_tilde, mask = dropout_forward(a1, p, rng, True)  # dropout even at test time
    z2 = a1_tilde @ params["W2"].T + params["b2"]
    return z2, {"X": X, "z1": z1, "a1_tilde": a1_tilde, "mask": mask}
"""

DELEGATES_BACKWARD = """import nnlib.layers


def dropout_backward(dout, mask):
    return nnlib.layers.dropout_backward(dout, mask)
"""

IN_PLACE = """def dropout_forward(x, p, rng, train):
    if not train:
        return x, None
    mask = (rng.random(x.shape) >= p) / (1 - p)
    x *= mask  # changes the caller's array
    return x, mask
"""

DRAWS_AT_TEST_TIME = """def dropout_forward(x, p, rng, train):
    u = rng.random(x.shape)  # drawn even when train is False
    if not train:
        return x, None
    mask = (u >= p) / (1 - p)
    return x * mask, mask
"""

DRAWS_TWICE = """def dropout_forward(x, p, rng, train):
    if not train:
        return x, None
    mask = (rng.random(x.shape) >= p) / (1 - p)
    rng.random()  # one draw more than the recipe
    return x * mask, mask
"""

ONES_AT_TEST_TIME = """def dropout_forward(x, p, rng, train):
    if not train:
        return x, np.ones_like(x)  # a mask of ones instead of None
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
"""

FLOAT64_SHIFT = """def shift_images(X, dy, dx):
    n, h, w = X.shape
    out = np.zeros((n, h, w))  # float64, whatever the dtype of X
    if abs(dy) >= h or abs(dx) >= w:
        return out
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = X[
        :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out
"""

STEP_HEAD = """def train_step(params, X, y, p, lmbda, n, eta, rng):
    z2, cache = mlp_forward(params, X, p, rng, True)
    W1, W2 = params["W1"], params["W2"]
    cost = categorical_cross_entropy(z2, y) + l2_penalty([W1, W2], lmbda, n)
    delta2 = categorical_cross_entropy_grad(z2, y)
"""
STEP_TAIL = """    return {key: params[key] - eta * grads[key] for key in params}, float(cost)
"""

NO_BACKWARD_MASK = (
    STEP_HEAD
    + """    grads = {"W2": delta2.T @ cache["a1_tilde"] + l2_gradient(W2, lmbda, n)}
    grads["b2"] = delta2.sum(axis=0)
    delta1 = (delta2 @ W2) * (cache["z1"] > 0)  # the dropout mask is forgotten
    grads["W1"] = delta1.T @ cache["X"] + l2_gradient(W1, lmbda, n)
    grads["b1"] = delta1.sum(axis=0)
"""
    + STEP_TAIL
)

MEAN_AS_IN_05 = (
    STEP_HEAD
    + """    m = len(X)
    grads = {"W2": delta2.T @ cache["a1_tilde"] / m + l2_gradient(W2, lmbda, n)}
    grads["b2"] = delta2.mean(axis=0)
    delta1 = dropout_backward(delta2 @ W2, cache["mask"]) * (cache["z1"] > 0)
    grads["W1"] = delta1.T @ cache["X"] / m + l2_gradient(W1, lmbda, n)
    grads["b1"] = delta1.mean(axis=0)
"""
    + STEP_TAIL
)

STEP_IN_PLACE = (
    STEP_HEAD
    + """    grads = {"W2": delta2.T @ cache["a1_tilde"] + l2_gradient(W2, lmbda, n)}
    grads["b2"] = delta2.sum(axis=0)
    delta1 = dropout_backward(delta2 @ W2, cache["mask"]) * (cache["z1"] > 0)
    grads["W1"] = delta1.T @ cache["X"] + l2_gradient(W1, lmbda, n)
    grads["b1"] = delta1.sum(axis=0)
    for key in params:
        params[key] -= eta * grads[key]  # changes the caller's arrays
    return params, float(cost)
"""
)

BACKWARD_SAME_AT_TEST_TIME = """def dropout_backward(dout, mask):
    if mask is None:
        return dout  # the caller's own array, not a new one
    return dout * mask
"""

DROPOUT_VALUE_CELLS = {
    "test_dropout_forward_visible",
    "test_dropout_forward_values",
    "test_dropout_forward_properties",
}
L2_GRADIENT_CELLS = {"test_l2_gradient_visible", "test_l2_gradient_hidden"}
# train_step calls the student's l2_gradient; the dropout cell also has a lambda = 0 case,
# but every case of a cell must pass.
STEP_CELLS = {"test_train_step_visible", "test_train_step_l2", "test_train_step_dropout"}
# mlp_forward calls the student's dropout_forward: training-mode cells fail with it.
MLP_TRAIN_CELLS = {"test_mlp_forward_visible", "test_mlp_forward_train"}
BACKWARD_CELLS = {"test_dropout_backward_visible", "test_dropout_backward_gradcheck"}

EXPECTED_LOST = {
    "no_rescale": DROPOUT_VALUE_CELLS
    | L2_GRADIENT_CELLS
    | STEP_CELLS
    | MLP_TRAIN_CELLS
    | {"test_mlp_forward_expectation"},
    # The extra draw leaves the masks right, so only the cells that replay the rng fail.
    "delegates": BACKWARD_CELLS
    | STEP_CELLS
    | {"test_dropout_forward_visible", "test_dropout_forward_values"},
    "keep_prob": DROPOUT_VALUE_CELLS
    | L2_GRADIENT_CELLS
    | STEP_CELLS
    | MLP_TRAIN_CELLS
    | {"test_mlp_forward_eval", "test_mlp_forward_expectation"},
    # The in-place check runs in every dropout_forward cell with train=True; the step's
    # missing mask is caught by the visible test's dropout case and by the hidden one.
    "in_place": DROPOUT_VALUE_CELLS
    | {"test_shift_images_visible", "test_shift_images_hidden"}
    | {"test_train_step_visible", "test_train_step_dropout"},
    # Drawing at test time costs the test-time cells of dropout_forward and, through the
    # solution's mlp_forward that calls it, the evaluation-mode cells of mlp_forward.
    "batch_mean": STEP_CELLS
    | {"test_dropout_forward_visible", "test_dropout_forward_test_time"}
    | {"test_mlp_forward_visible", "test_mlp_forward_eval"},
    # The mask of ones is harmless where the solution's mlp_forward uses it: only the
    # test-time cells of dropout_forward fail. The in-place step fails every step cell.
    "ones_at_test": STEP_CELLS
    | {"test_dropout_forward_visible", "test_dropout_forward_test_time"}
    | BACKWARD_CELLS,
}


@pytest.fixture(scope="module")
def grades(course):
    return course.autograde_planted(
        A,
        {
            "no_rescale": {
                "dropout_forward": NO_RESCALE,
                "l2_gradient": L2_NO_N,
            },
            "delegates": {
                "dropout_backward": DELEGATES_BACKWARD,
                "dropout_forward": DRAWS_TWICE,
            },
            "keep_prob": {
                "dropout_forward": KEEP_PROB,
                "mlp_forward": ALWAYS_TRAIN,
                "l2_gradient": L2_HALF,
            },
            "in_place": {
                "dropout_forward": IN_PLACE,
                "shift_images": FLOAT64_SHIFT,
                "train_step": NO_BACKWARD_MASK,
            },
            "batch_mean": {
                "dropout_forward": DRAWS_AT_TEST_TIME,
                "train_step": MEAN_AS_IN_05,
            },
            "ones_at_test": {
                "dropout_forward": ONES_AT_TEST_TIME,
                "train_step": STEP_IN_PLACE,
                "dropout_backward": BACKWARD_SAME_AT_TEST_TIME,
            },
        },
    )


def test_solution_gets_full_marks(grades):
    assert_full_marks(grades["solved"], 19)


def test_untouched_release_scores_zero(grades):
    assert_scores_zero(
        grades["untouched"], "test_dropout_forward_visible", "test_l2_penalty_visible"
    )


@pytest.mark.parametrize("student", sorted(EXPECTED_LOST))
def test_planted_mistakes_lose_exactly_their_cells(grades, student):
    g = grades[student]
    assert_loses_exactly(g, EXPECTED_LOST[student])
    assert g.score == g.max_score - len(EXPECTED_LOST[student])  # every cell is worth 1


@pytest.mark.parametrize(
    "student, cell, message",
    [
        ("no_rescale", "test_dropout_forward_visible", "no rescaling"),
        ("no_rescale", "test_dropout_forward_values", "no rescaling"),
        ("no_rescale", "test_dropout_forward_properties", "no rescaling"),
        ("no_rescale", "test_mlp_forward_train", "no rescaling in dropout"),
        ("no_rescale", "test_mlp_forward_expectation", "Likely mistake: no rescaling"),
        ("no_rescale", "test_l2_gradient_visible", "the factor 1/n is missing"),
        ("no_rescale", "test_l2_gradient_hidden", "the factor 1/n is missing"),
        ("no_rescale", "test_train_step_l2", "the L2 gradient is missing the factor 1/n"),
        (
            "delegates",
            "test_dropout_backward_visible",
            "calling nnlib.layers.dropout.dropout_backward earns no points",
        ),
        (
            "delegates",
            "test_dropout_backward_gradcheck",
            "calling nnlib.layers.dropout.dropout_backward earns no points",
        ),
        ("keep_prob", "test_dropout_forward_visible", "p interpreted as the keep probability"),
        ("keep_prob", "test_dropout_forward_values", "p interpreted as the keep probability"),
        ("keep_prob", "test_dropout_forward_properties", "not of keeping it"),
        ("keep_prob", "test_mlp_forward_train", "p interpreted as the keep probability"),
        ("keep_prob", "test_mlp_forward_eval", "dropout is still active at test time"),
        ("keep_prob", "test_l2_gradient_visible", "the 1/2 should not be in the gradient"),
        ("keep_prob", "test_l2_gradient_hidden", "the 1/2 should not be in the gradient"),
        ("delegates", "test_dropout_forward_visible", "draw exactly once"),
        ("delegates", "test_dropout_forward_values", "draw exactly once"),
        ("in_place", "test_dropout_forward_visible", "changed its input x in place"),
        ("in_place", "test_dropout_forward_values", "changed its input x in place"),
        ("in_place", "test_dropout_forward_properties", "changed its input x in place"),
        ("in_place", "test_shift_images_visible", "the result must have the dtype of X"),
        ("in_place", "test_shift_images_hidden", "the result must have the dtype of X"),
        ("in_place", "test_train_step_visible", "the mask is not applied in the backward pass"),
        ("in_place", "test_train_step_dropout", "the mask is not applied in the backward pass"),
        ("batch_mean", "test_train_step_visible", "once too often (a factor 1/m = 0.1667)"),
        ("batch_mean", "test_train_step_l2", "already carries the 1/m"),
        ("batch_mean", "test_train_step_dropout", "already carries the 1/m"),
        (
            "batch_mean",
            "test_dropout_forward_visible",
            "drew random numbers from rng at test time",
        ),
        (
            "batch_mean",
            "test_dropout_forward_test_time",
            "drew random numbers from rng at test time",
        ),
        ("batch_mean", "test_mlp_forward_visible", "drew random numbers from rng"),
        ("batch_mean", "test_mlp_forward_eval", "drew random numbers from rng"),
        ("ones_at_test", "test_dropout_forward_visible", "the mask should be None"),
        ("ones_at_test", "test_dropout_forward_test_time", "the mask should be None"),
        ("ones_at_test", "test_train_step_visible", "changed its input params['W1'] in place"),
        ("ones_at_test", "test_train_step_l2", "changed its input params['W1'] in place"),
        ("ones_at_test", "test_train_step_dropout", "changed its input params['W1'] in place"),
        ("ones_at_test", "test_dropout_backward_visible", "returned dout itself"),
        ("ones_at_test", "test_dropout_backward_gradcheck", "returned dout itself"),
    ],
)
def test_student_sees_what_went_wrong(grades, student, cell, message):
    assert message in grades[student].output_text(cell)
