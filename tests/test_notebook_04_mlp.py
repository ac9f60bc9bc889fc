"""Notebook 04_mlp graded as nbgrader grades it: right, empty, wrong and delegating answers.

All submissions go through ONE autograde run (module-scoped fixture). Several planted
mistakes share a submission when they sit in different exercises; each must lose exactly
the test cells listed for it, with a message that names the mistake.
"""

import pytest
from nbgrader_harness import (
    assert_full_marks,
    assert_loses_exactly,
    assert_scores_zero,
)

pytestmark = pytest.mark.slow

A = "04_mlp"

INIT_CELLS = {
    "test_init_params_visible",
    "test_init_params_stats",
    "test_init_params_rng",
    "test_init_params_honest",
}
DENSE_CELLS = {
    "test_dense_forward_visible",
    "test_dense_forward_random",
    "test_dense_forward_transpose",
    "test_dense_forward_honest",
}
FORWARD_CELLS = {
    "test_forward_visible",
    "test_forward_random",
    "test_forward_batch",
    "test_forward_honest",
}
OUTPUT_CELLS = {"test_output_activation_visible", "test_output_activation_hidden"}
COUNT_CELLS = {"test_count_params_visible", "test_count_params_hidden"}

# ----- submission "mistakes": one wrong answer per exercise, plus two delegations -------

GLOBAL_RNG = '''def init_params(sizes, rng):
    """Right spread, but drawn from numpy's global random state."""
    W = [np.random.randn(m, k) / np.sqrt(k) for k, m in zip(sizes[:-1], sizes[1:])]
    return W, [np.zeros(m) for m in sizes[1:]]
'''

DENSE_DELEGATES = """from nnlib.layers.dense import dense_forward as reference_dense


def dense_forward(A_prev, W, b, g):
    Z, _ = reference_dense(A_prev, W, b)
    return Z, g(Z)
"""

FORWARD_DELEGATES = """from nnlib.network import Network


def forward(X, W, b, g_hidden=sigmoid, g_output=sigmoid):
    sizes = [W[0].shape[1]] + [W_l.shape[0] for W_l in W]
    net = Network(sizes, hidden=g_hidden.__name__, output=g_output.__name__)
    net.weights, net.biases = list(W), list(b)
    return net.forward(X)
"""

SIGMOID_FOR_CLASSES = '''def output_activation(task):
    """Sigmoid for multi-class outputs: rows do not sum to one."""
    if task == "regression":
        return identity
    if task in ("binary", "multiclass"):
        return sigmoid
    raise ValueError(task)
'''

NO_BIASES = """def count_params(sizes):
    return sum(m * k for k, m in zip(sizes[:-1], sizes[1:]))
"""

OR_NOT_XOR = '''def xor_network():
    """Computes OR: (1, 1) -> 1."""
    W = [np.array([[20.0, 20.0], [20.0, 20.0]]), np.array([[20.0, 20.0]])]
    b = [np.array([-10.0, -10.0]), np.array([-10.0])]
    return W, b
'''

MISTAKES_LOSE = (
    {"test_init_params_visible", "test_init_params_rng"}
    | DENSE_CELLS
    | FORWARD_CELLS
    | OUTPUT_CELLS
    | COUNT_CELLS
    | {"test_xor_network_hidden"}
)

# ----- submission "sly": the transposed-W bug, plus delegations to the library ----------

TRANSPOSED = """def dense_forward(A_prev, W, b, g):
    Z = A_prev @ W + b
    return Z, g(Z)
"""

INIT_DELEGATES = """import nnlib.init


def init_params(sizes, rng):
    W = [nnlib.init.lecun(k, m, rng) for k, m in zip(sizes[:-1], sizes[1:])]
    return W, [np.zeros(m) for m in sizes[1:]]
"""

COUNT_DELEGATES = """from nnlib.network import Network


def count_params(sizes):
    return Network(sizes).num_params()
"""

# the transposed dense_forward also breaks the forward pass built on it
SLY_LOSES = INIT_CELLS | DENSE_CELLS | FORWARD_CELLS | COUNT_CELLS


# ----- submission "rules": answers right but for one rule that the text states -----------

RANDOM_BIASES = """def init_params(sizes, rng):
    W = [rng.standard_normal((m, k)) / np.sqrt(k) for k, m in zip(sizes[:-1], sizes[1:])]
    return W, [0.1 * rng.standard_normal(m) for m in sizes[1:]]
"""

NO_VALUE_ERROR = """def output_activation(task):
    return {"regression": identity, "binary": sigmoid}.get(task, softmax)
"""

RULES_LOSE = {
    "test_init_params_visible": "should be all zeros",
    "test_output_activation_visible": "should raise ValueError",
    "test_output_activation_hidden": "should raise ValueError",
}

# ----- submission "own_rng": a generator made inside, so the rng argument is ignored -------

OWN_RNG = """def init_params(sizes, rng):
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((m, k)) / np.sqrt(k) for k, m in zip(sizes[:-1], sizes[1:])]
    return W, [np.zeros(m) for m in sizes[1:]]
"""

OWN_RNG_LOSES = {
    "test_init_params_visible": "did not draw any number from the rng it was given",
    "test_init_params_rng": "did not draw any number from the rng it was given",
}


# ----- submission "named": one known mistake per exercise, each named in the feedback -----

NO_SCALING = """def init_params(sizes, rng):
    W = [rng.standard_normal((m, k)) for k, m in zip(sizes[:-1], sizes[1:])]
    return W, [np.zeros(m) for m in sizes[1:]]
"""

NO_BIAS = """def dense_forward(A_prev, W, b, g):
    Z = A_prev @ W.T
    return Z, g(Z)
"""

SOFTMAX_OVER_COLUMNS = """def output_activation(task):
    if task == "multiclass":
        return lambda Z: np.exp(Z) / np.exp(Z).sum(axis=0)
    return {"regression": identity, "binary": sigmoid}[task]
"""

BIASES_PER_INPUT = """def count_params(sizes):
    return sum(m * k + k for k, m in zip(sizes[:-1], sizes[1:]))
"""

# forward calls the student's dense_forward, so the missing bias costs its cells too
NAMED_LOSE = (
    {"test_init_params_stats", "test_init_params_honest"}
    | DENSE_CELLS
    | FORWARD_CELLS
    | OUTPUT_CELLS
    | COUNT_CELLS
)


@pytest.fixture(scope="module")
def grades(course):
    mistakes = {
        "init_params": GLOBAL_RNG,
        "dense_forward": DENSE_DELEGATES,
        "forward": FORWARD_DELEGATES,
        "output_activation": SIGMOID_FOR_CLASSES,
        "count_params": NO_BIASES,
        "xor_network": OR_NOT_XOR,
    }
    sly = {
        "init_params": INIT_DELEGATES,
        "dense_forward": TRANSPOSED,
        "count_params": COUNT_DELEGATES,
    }
    rules = {"init_params": RANDOM_BIASES, "output_activation": NO_VALUE_ERROR}
    named = {
        "init_params": NO_SCALING,
        "dense_forward": NO_BIAS,
        "output_activation": SOFTMAX_OVER_COLUMNS,
        "count_params": BIASES_PER_INPUT,
    }
    return course.autograde_planted(
        A,
        {
            "mistakes": mistakes,
            "sly": sly,
            "rules": rules,
            "own_rng": {"init_params": OWN_RNG},
            "named": named,
        },
    )


def test_solution_gets_full_marks(grades):
    assert_full_marks(grades["solved"], 19)


def test_untouched_release_scores_zero(grades):
    assert_scores_zero(grades["untouched"], "test_init_params_visible", "test_xor_network_hidden")


@pytest.mark.parametrize(
    "student, cells",
    [
        ("mistakes", MISTAKES_LOSE),
        ("sly", SLY_LOSES),
        ("rules", RULES_LOSE),
        ("own_rng", OWN_RNG_LOSES),
        ("named", NAMED_LOSE),
    ],
)
def test_planted_mistakes_lose_exactly_their_cells(grades, student, cells):
    assert_loses_exactly(grades[student], cells)


@pytest.mark.parametrize(
    "student, cell, messages",
    [
        ("mistakes", "test_init_params_rng", ["numpy's global random state"]),
        ("mistakes", "test_init_params_visible", ["gave different weights"]),
        (
            "mistakes",
            "test_dense_forward_random",
            ["calling nnlib.layers.dense.dense_forward earns no points"],
        ),
        (
            "mistakes",
            "test_forward_visible",
            # Network() itself is the reference's: absent while grading, it fails first.
            ["calling nnlib.network.Network.__init__ earns no points"],
        ),
        ("mistakes", "test_output_activation_visible", ["this is the sigmoid (binary output)"]),
        ("mistakes", "test_count_params_visible", ["the biases are missing"]),
        ("mistakes", "test_xor_network_hidden", ["XOR needs outputs", "(1, 1) -> 1.000"]),
        ("sly", "test_dense_forward_transpose", ["Likely mistake: A_prev @ W:", "A_prev @ W.T"]),
        ("sly", "test_dense_forward_visible", ["raised ValueError", "Likely mistake"]),
        ("sly", "test_init_params_stats", ["calling nnlib.init.lecun earns no points"]),
        (
            "sly",
            "test_count_params_hidden",
            ["calling nnlib.network.Network.__init__ earns no points"],
        ),
        ("named", "test_init_params_stats", ["Likely mistake: no scaling"]),
        ("named", "test_init_params_honest", ["Likely mistake: no scaling"]),
        ("named", "test_dense_forward_visible", ["Likely mistake: the bias b is missing"]),
        (
            "named",
            "test_forward_visible",
            ["zs[0] (Z^1)", "Likely mistake: the bias b is missing"],
        ),
        (
            "named",
            "test_output_activation_hidden",
            ["Likely mistake: softmax over the columns instead of each row"],
        ),
        (
            "named",
            "test_count_params_hidden",
            ["Likely mistake: biases belong to the receiving layer"],
        ),
    ],
)
def test_feedback_names_the_mistake(grades, student, cell, messages):
    text = grades[student].output_text(cell)
    for message in messages:
        assert message in text, text[-1500:]
