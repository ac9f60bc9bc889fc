"""Autograde 08_dropout: solved, untouched, planted mistakes and delegation to nnlib.

One nbgrader run grades all four submissions (module-scoped fixture). Mistakes in
different exercises share a submission; where a later exercise calls the student's own
earlier function (mlp_forward uses dropout_forward, train_step uses l2_gradient), the
mistake is meant to cost those cells too, and the tests list them.

- "no_rescale": dropout without the 1/(1-p) scaling and an L2 gradient without the 1/n;
- "delegates": a dropout_backward that delegates to nnlib (absent while grading, so the
  training step that uses it fails too);
- "keep_prob": p read as the keep probability, a network whose dropout stays on at test
  time, and an L2 gradient that keeps the 1/2.
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
    "delegates": BACKWARD_CELLS | STEP_CELLS,
    "keep_prob": DROPOUT_VALUE_CELLS
    | L2_GRADIENT_CELLS
    | STEP_CELLS
    | MLP_TRAIN_CELLS
    | {"test_mlp_forward_eval", "test_mlp_forward_expectation"},
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
            "delegates": {"dropout_backward": DELEGATES_BACKWARD},
            "keep_prob": {
                "dropout_forward": KEEP_PROB,
                "mlp_forward": ALWAYS_TRAIN,
                "l2_gradient": L2_HALF,
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
    ],
)
def test_student_sees_what_went_wrong(grades, student, cell, message):
    assert message in grades[student].output_text(cell)
