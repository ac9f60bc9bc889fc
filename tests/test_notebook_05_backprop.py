"""05_backprop graded by nbgrader: full marks, zero, and the classic backprop mistakes.

One autograde run grades four submissions: the solution, the untouched release, and two
notebooks with planted mistakes. Per-cell scores are independent, so each planted notebook
carries one mistake per exercise; the exercises that call the student's own BP functions
(`backprop`, `backprop_linear`) get self-contained answers there, so that each mistake
costs exactly the cells of its own exercise. For every mistake the test asserts the points
lost and the message the student reads (naming the equation and the likely slip).
"""

import pytest
from nbgrader_harness import (
    assert_earns_nothing,
    assert_feedback_shows,
    assert_full_marks,
    assert_loses_exactly,
    assert_scores_zero,
)

pytestmark = pytest.mark.slow

A = "05_backprop"

POINTS = {
    "numerical_gradient_visible": 1,
    "numerical_gradient_accuracy": 1,
    "numerical_gradient_matrix": 1,
    "relative_error_visible": 1,
    "relative_error_hidden": 1,
    "relative_error_shapes": 1,
    "bp1_quadratic_visible": 1,
    "bp1_quadratic_random": 1,
    "bp1_quadratic_numerical": 1,
    "bp1_softmax_ce_visible": 1,
    "bp1_softmax_ce_numerical": 2,
    "bp2_visible": 1,
    "bp2_random": 1,
    "bp2_numerical": 1,
    "bp3_visible": 1,
    "bp3_hidden": 1,
    "bp4_visible": 1,
    "bp4_random": 1,
    "bp4_numerical": 1,
    "backprop_visible": 1,
    "backprop_numerical": 2,
    "backprop_edge": 1,
    "backprop_softmax": 2,
    "backprop_linear_visible": 1,
    "backprop_linear_numerical": 2,
    "backprop_linear_edge": 1,
}


def cells_of(exercise: str) -> list[str]:
    """The test cells of one exercise (its grade ids start with the exercise name)."""
    others = [e for e in EXERCISES if e != exercise and e.startswith(exercise)]
    return [
        g
        for g in POINTS
        if g.startswith(exercise + "_") and not any(g.startswith(o) for o in others)
    ]


EXERCISES = [
    "numerical_gradient",
    "relative_error",
    "bp1_quadratic",
    "bp1_softmax_ce",
    "bp2",
    "bp3",
    "bp4",
    "backprop",
    "backprop_linear",
]

# ----- planted answers ---------------------------------------------------------------------

FORWARD_DIFFERENCE = """def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    f0 = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - f0) / h
        x[i] = old
    return grad
"""

PER_ENTRY_RATIO = """def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))
"""

BP1_NO_SIGMA_PRIME = """def bp1_quadratic(a_L, y, z_L):
    return a_L - y
"""

BP1_SOFTMAX_EXTRA_FACTOR = """def bp1_softmax_ce(a_L, y):
    return (a_L - y) * a_L * (1 - a_L)
"""

BP2_NO_SIGMA_PRIME = """def bp2(delta_next, W_next, z):
    return delta_next @ W_next
"""

BP3_SUM = """def bp3(delta):
    return delta.sum(axis=0)
"""

BP4_SUM = """def bp4(delta, a_prev):
    return delta.T @ a_prev
"""

# Self-contained (uses none of the student's BP functions), wrong only in BP4's input layer.
BACKPROP_WRONG_LAYER = """def backprop(X, Y, weights, biases, output="sigmoid"):
    zs, activations = forward(X, weights, biases, output)
    n = len(X)
    nabla_W, nabla_b = [None] * len(weights), [None] * len(biases)
    if output == "softmax":
        delta = activations[-1] - Y
    else:
        delta = (activations[-1] - Y) * sigmoid_prime(zs[-1])
    for i in reversed(range(len(weights))):
        if i < len(weights) - 1:
            delta = (delta @ weights[i + 1]) * sigmoid_prime(zs[i])
        nabla_b[i] = delta.mean(axis=0)
        nabla_W[i] = delta.T @ activations[i + 1] / n  # a^l instead of a^(l-1)
    return nabla_W, nabla_b
"""


def linear_answer(keep_sigma_prime: bool = False, summed: bool = False, bp4_layer: int = 0) -> str:
    """A self-contained backprop_linear: right by default, or with one planted mistake
    (sigma'(z) kept, gradients summed over the batch, BP4 fed a^(l-1+bp4_layer))."""
    factor = " * sigmoid_prime(z)" if keep_sigma_prime else ""
    n = "" if summed else " / len(X)"
    bias = "delta.sum(axis=0)" if summed else "delta.mean(axis=0)"
    layer = f"i + {bp4_layer}" if bp4_layer else "i"
    return f"""def backprop_linear(X, Y, weights, biases):
    zs, activations = [], [np.asarray(X, dtype=float)]
    for W, b in zip(weights, biases):
        zs.append(activations[-1] @ W.T + b)
        activations.append(zs[-1])
    nabla_W, nabla_b = [None] * len(weights), [None] * len(biases)
    z = zs[-1]
    delta = (activations[-1] - Y){factor}
    for i in reversed(range(len(weights))):
        z = zs[i]
        if i < len(weights) - 1:
            delta = (delta @ weights[i + 1]){factor}
        nabla_b[i] = {bias}
        nabla_W[i] = delta.T @ activations[{layer}]{n}
    return nabla_W, nabla_b
"""


DELEGATE_NUMGRAD = """def numerical_gradient(f, x, h=1e-5):
    from nnlib.gradcheck import numerical_gradient as reference

    return reference(f, x, h)
"""

DELEGATE_RELERR = """def relative_error(a, b):
    import nnlib.gradcheck

    return nnlib.gradcheck.relative_error(a, b)
"""

DELEGATE_BP1 = """def bp1_quadratic(a_L, y, z_L):
    from nnlib import backprop as reference

    return reference.bp1_quadratic_sigmoid(a_L, y, z_L)
"""

BP2_NOT_TRANSPOSED = """def bp2(delta_next, W_next, z):
    return (delta_next @ W_next.T) * sigmoid_prime(z)
"""

BP3_WRONG_AXIS = """def bp3(delta):
    return delta.mean(axis=1)
"""

DELEGATE_BP4 = """import nnlib.backprop


def bp4(delta, a_prev):
    return nnlib.backprop.bp4(delta, a_prev)
"""

DELEGATE_BACKPROP = """def backprop(X, Y, weights, biases, output="sigmoid"):
    from nnlib.network import Network

    sizes = [weights[0].shape[1]] + [W.shape[0] for W in weights]
    cost = "cross_entropy" if output == "softmax" else "quadratic"
    net = Network(sizes, output=output, cost=cost)
    net.weights = [W.copy() for W in weights]
    net.biases = [b.copy() for b in biases]
    return net.backprop(X, Y)
"""

SCALE_OF_TWO_ENTRIES = """def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"shapes {a.shape} and {b.shape} differ")
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)) + np.max(np.abs(b)), 1e-12))
"""

SHAPES_NOT_NAMED = """def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError("the shapes differ")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), 1e-12))
"""

# Self-contained, wrong only in BP2: the hidden layers' sigma'(z) is missing.
BACKPROP_BP2_NO_SIGMA_PRIME = """def backprop(X, Y, weights, biases, output="sigmoid"):
    zs, activations = forward(X, weights, biases, output)
    n = len(X)
    nabla_W, nabla_b = [None] * len(weights), [None] * len(biases)
    if output == "softmax":
        delta = activations[-1] - Y
    else:
        delta = (activations[-1] - Y) * sigmoid_prime(zs[-1])
    for i in reversed(range(len(weights))):
        if i < len(weights) - 1:
            delta = delta @ weights[i + 1]
        nabla_b[i] = delta.mean(axis=0)
        nabla_W[i] = delta.T @ activations[i] / n
    return nabla_W, nabla_b
"""

LINEAR_SUMMED = linear_answer(summed=True)  # sums over the batch instead of averaging

MISTAKES_C = {
    "relative_error": SCALE_OF_TWO_ENTRIES,
    "backprop": BACKPROP_BP2_NO_SIGMA_PRIME,
    "backprop_linear": LINEAR_SUMMED,
}
LOST_C = {
    "relative_error_visible": "the scale is max|a| + max|b|, two different entries",
    "relative_error_hidden": "the scale is max|a| + max|b|, two different entries",
    "backprop_visible": [
        "Layer by layer: wrong: nabla_W[0], nabla_b[0]; right: nabla_W[1], nabla_b[1]",
        "the error enters when delta moves back a layer (BP2)",
    ],
    "backprop_numerical": "BP2: your delta looks like it is missing the factor sigma'(z)",
    "backprop_edge": "BP2: your delta looks like it is missing the factor sigma'(z)",
    "backprop_softmax": "BP2: your delta looks like it is missing the factor sigma'(z)",
    "backprop_linear_visible": "summed over the batch instead of averaged (off by the factor n",
    "backprop_linear_numerical": "you summed over the batch instead of averaging",
    "backprop_linear_edge": "you summed over the batch instead of averaging",
}

# feeds each layer's gradient the activations it outputs, a^l instead of a^(l-1)
LINEAR_WRONG_LAYER = linear_answer(bp4_layer=1)

MISTAKES_D = {"relative_error": SHAPES_NOT_NAMED, "backprop_linear": LINEAR_WRONG_LAYER}
WRONG_LAYER = "Likely mistake: BP4: you used the activations of the wrong layer"
LOST_D = {
    "relative_error_shapes": "the ValueError should name both shapes, (4, 1) and (4,)",
    "backprop_linear_visible": ["nabla_W[0] should have the shape of weights[0]", WRONG_LAYER],
    "backprop_linear_numerical": WRONG_LAYER,
    "backprop_linear_edge": WRONG_LAYER,
}

MISTAKES_A = {
    "numerical_gradient": FORWARD_DIFFERENCE,
    "relative_error": PER_ENTRY_RATIO,
    "bp1_quadratic": BP1_NO_SIGMA_PRIME,
    "bp1_softmax_ce": BP1_SOFTMAX_EXTRA_FACTOR,
    "bp2": BP2_NO_SIGMA_PRIME,
    "bp3": BP3_SUM,
    "bp4": BP4_SUM,
    "backprop": BACKPROP_WRONG_LAYER,
    "backprop_linear": linear_answer(keep_sigma_prime=False),  # right, and independent
}

MISTAKES_B = {
    "numerical_gradient": DELEGATE_NUMGRAD,
    "relative_error": DELEGATE_RELERR,
    "bp1_quadratic": DELEGATE_BP1,
    # bp1_softmax_ce stays solved
    "bp2": BP2_NOT_TRANSPOSED,
    "bp3": BP3_WRONG_AXIS,
    "bp4": DELEGATE_BP4,
    "backprop": DELEGATE_BACKPROP,
    "backprop_linear": linear_answer(keep_sigma_prime=True),
}

# cells expected to lose their points in each planted submission
LOST_A = [
    *cells_of("numerical_gradient"),
    *cells_of("relative_error"),
    *cells_of("bp1_quadratic"),
    *cells_of("bp1_softmax_ce"),
    *cells_of("bp2"),
    *cells_of("bp3"),
    *cells_of("bp4"),
    *cells_of("backprop"),
]
LOST_B = [g for g in POINTS if g not in cells_of("bp1_softmax_ce")]

# what the student reads: grade_id -> text that must appear in that cell's output
MESSAGES_A = {
    "numerical_gradient_visible": "one-sided (forward) difference",
    "numerical_gradient_accuracy": "one-sided (forward) difference",
    "relative_error_visible": "you divided entry by entry",
    "relative_error_hidden": "you divided entry by entry",
    "relative_error_shapes": "should raise ValueError",
    "bp1_quadratic_visible": "BP1: missing sigma'(z^L)",
    "bp1_quadratic_random": "BP1: missing sigma'(z^L)",
    "bp1_quadratic_numerical": "BP1: missing sigma'(z^L)",
    "bp1_softmax_ce_visible": "the sigma'(z) factor cancels",
    "bp1_softmax_ce_numerical": "the sigma'(z) factor cancels",
    "bp2_visible": "BP2: your delta looks like it is missing the factor sigma'(z)",
    "bp2_random": "BP2: your delta looks like it is missing the factor sigma'(z)",
    "bp2_numerical": "BP2: your delta looks like it is missing the factor sigma'(z)",
    "bp3_visible": "BP3/BP4: you summed over the batch instead of averaging",
    "bp3_hidden": "BP3/BP4: you summed over the batch instead of averaging",
    "bp4_visible": "BP3/BP4: you summed over the batch instead of averaging",
    "bp4_random": "BP3/BP4: you summed over the batch instead of averaging",
    "bp4_numerical": "BP3/BP4: you summed over the batch instead of averaging",
    "backprop_visible": "BP4: you used the activations of the wrong layer (a^l instead of",
    "backprop_numerical": "BP4: you used the activations of the wrong layer",
    "backprop_edge": "BP4: you used the activations of the wrong layer",
    "backprop_softmax": "BP4: you used the activations of the wrong layer",
}
MESSAGES_B = {
    "numerical_gradient_visible": "calling nnlib.gradcheck.numerical_gradient earns no points",
    "numerical_gradient_matrix": "calling nnlib.gradcheck.numerical_gradient earns no points",
    "relative_error_visible": "calling nnlib.gradcheck.relative_error earns no points",
    "relative_error_shapes": "calling nnlib.gradcheck.relative_error earns no points",
    "bp1_quadratic_visible": "calling nnlib.backprop.bp1_quadratic_sigmoid earns no points",
    "bp2_visible": "BP2: W not transposed (you used W instead of W^T / the wrong side of",
    "bp2_random": "BP2: W not transposed",
    "bp2_numerical": "BP2: W not transposed",
    "bp3_visible": "BP3: bias gradient summed over the wrong axis",
    "bp3_hidden": "BP3: bias gradient summed over the wrong axis",
    "bp4_visible": "calling nnlib.backprop.bp4 earns no points",
    "bp4_numerical": "calling nnlib.backprop.bp4 earns no points",
    "backprop_visible": "earns no points",
    "backprop_softmax": "earns no points",
    "backprop_linear_numerical": "linear neurons: g'(z) = 1, so there is no sigma'(z) factor",
    "backprop_linear_edge": "linear neurons: g'(z) = 1",
    "backprop_linear_visible": [
        "Layer by layer: wrong: nabla_W[0], nabla_W[1], nabla_b[0], nabla_b[1]; right: none",
        "check the forward pass (a = z, no activation function) and BP1 for linear neurons",
    ],
}


@pytest.fixture(scope="module")
def grades(course):
    return course.autograde_planted(
        A,
        {
            "mistakes_a": MISTAKES_A,
            "mistakes_b": MISTAKES_B,
            "mistakes_c": MISTAKES_C,
            "mistakes_d": MISTAKES_D,
        },
    )


def test_points_per_cell_are_as_designed(grades):
    g = grades["solved"]
    assert {k: v[1] for k, v in g.cells.items()} == POINTS
    assert g.max_score == sum(POINTS.values()) == 30


def test_solution_gets_full_marks(grades):
    assert_full_marks(grades["solved"], sum(POINTS.values()))


def test_untouched_release_scores_zero(grades):
    assert_scores_zero(grades["untouched"], "bp2_visible")


@pytest.mark.parametrize(
    "student, lost",
    [("mistakes_a", LOST_A), ("mistakes_b", LOST_B)],
)
def test_planted_mistakes_lose_exactly_their_cells(grades, student, lost):
    g = grades[student]
    assert {k: v[1] for k, v in g.cells.items()} == POINTS
    assert_loses_exactly(g, lost)


@pytest.mark.parametrize(
    "student, messages",
    [("mistakes_a", MESSAGES_A), ("mistakes_b", MESSAGES_B)],
)
def test_feedback_names_the_equation_and_the_mistake(grades, student, messages):
    assert_feedback_shows(grades[student], messages)


@pytest.mark.parametrize("student, lost", [("mistakes_c", LOST_C), ("mistakes_d", LOST_D)])
def test_rules_and_diagnoses(grades, student, lost):
    """The scale of the relative error, the shapes its ValueError names, backprop's
    messages that say which layers are right, and the wrong layer's activations named in
    every cell of the linear network."""
    assert_loses_exactly(grades[student], lost)


def test_delegating_to_the_reference_earns_nothing(grades):
    delegated = ("numerical_gradient", "relative_error", "bp1_quadratic", "bp4", "backprop")
    # mistakes_b also holds non-delegating mistakes: its exact losses are checked above.
    assert_earns_nothing(grades["mistakes_b"], {e: cells_of(e) for e in delegated}, exactly=False)
