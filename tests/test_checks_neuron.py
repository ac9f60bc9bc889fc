"""The checkers of notebook 01_neuron: right answers pass, each planted mistake fails with
the message that names it, and nothing reaches stderr."""

import numpy as np
import pytest
from checking import fails

from nnlib.grading import fresh
from nnlib.grading.checks import neuron as C

# right answers, written here (the nnlib references are disabled while a checker runs)


def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)


def relu_prime(z):
    return (np.asarray(z) > 0).astype(float)


def tanh_prime(z):
    return 1 - np.tanh(z) ** 2


def softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def neuron(X, w, b, g):
    return g(X @ w + b)


X = np.array([[1.0, 2.0], [4.0, 0.0]])
W = np.array([0.5, -1.0])
Z3 = np.array([-2.0, 0.0, 2.0])


def test_loaded_afresh_through_the_grader():
    checks = fresh().checks.neuron
    assert checks is not C and checks.activations is not C.activations
    checks.check_sigmoid(sigmoid, Z3)


def test_normal_draws_in_turn_from_one_seed():
    a, b = C.normal(7, (2, 3), (4,), scale=2)
    rng = np.random.default_rng(7)
    assert np.array_equal(a, 2 * rng.standard_normal((2, 3)))
    assert np.array_equal(b, 2 * rng.standard_normal(4))


def test_right_answers_pass(capsys):
    C.check_neuron(neuron, X, W, 0.5, "identity", expected=[-1.0, 2.5])
    C.check_neuron(neuron, X, W, 0.5, "tanh", expected=np.tanh([-1.0, 2.5]))
    C.check_neuron_random(neuron, [(3, 2), (1, 4)], seed=1)
    for z in (Z3, np.array([-1000.0, -30.0, 30.0, 1000.0]), *C.normal(0, (3, 4), scale=4)):
        C.check_sigmoid(sigmoid, z)
        C.check_sigmoid_prime(sigmoid_prime, z)
        C.check_tanh_prime(tanh_prime, z)
    C.check_sigmoid_stable(sigmoid, np.array([-1000.0, 0.0, 1000.0]))
    C.check_sigmoid_prime_extremes(sigmoid_prime, np.array([-1000.0, 1000.0]))
    C.check_sigmoid_prime_gradient(sigmoid_prime, sigmoid, np.linspace(-6, 6, 13))
    C.check_relu_prime(relu_prime, np.array([-1.0, 0.0, 2.0]), expected=[0.0, 0.0, 1.0])
    C.check_relu_prime(relu_prime, np.array([[-1.0, 1e-4], [0.3, 2.0]]), gradient=True)
    C.check_tanh_prime_gradient(tanh_prime, np.linspace(-4, 4, 9))
    Z = np.array([[1000.0, 1000.0, -1000.0], [5.0, 4.0, 3.0]])
    assert np.allclose(C.check_softmax(softmax, Z[1:]).sum(axis=1), 1)
    C.check_softmax_large(softmax, Z)
    C.check_softmax_shift(softmax, Z[1:], shift=500.0)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda X, w, b, g: X @ w + b, "the activation g is not applied"),
        (lambda X, w, b, g: g(X @ w), "the bias b is missing"),
        (lambda X, w, b, g: g(X @ w) + b, "the bias is added after the activation"),
    ],
)
def test_neuron_mistakes_are_named(wrong, message):
    with fails("neuron(X, w, b, tanh) is not right.", message):
        C.check_neuron(wrong, X, W, 0.5, "tanh")
    with fails("neuron(X, w, b, sigmoid) with X of shape (3, 2)"):
        C.check_neuron_random(wrong, [(3, 2)], seed=1)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda z: 1 / (1 + np.exp(z)), "the minus sign is missing"),
        (lambda z: 1 / (1 - np.exp(-z)), "use a plus sign in the denominator"),
        (lambda z: np.exp(-z) / (1 + np.exp(-z)), "which is 1 - sigma(z): the minus sign"),
    ],
)
def test_sigmoid_mistakes_are_named(wrong, message):
    with fails(message):
        C.check_sigmoid(wrong, np.array([[-2.0, 0.5, 2.0], [1.0, -1.0, 0.5]]))


def test_a_literal_sigmoid_warns_and_gets_the_hint(capsys):
    def literal(z):
        return 1 / (1 + np.exp(-z))

    C.check_sigmoid(literal, Z3)  # right values
    with fails("overflow encountered in exp", "np.exp(-np.abs(z))"):
        C.check_sigmoid_stable(literal, np.array([-1000.0, 1000.0]))
    assert capsys.readouterr().err == ""


def test_sigmoid_delegating_to_the_reference_earns_nothing():
    import nnlib.activations

    with fails("calling nnlib.activations.sigmoid earns no points"):
        C.check_sigmoid(lambda z: nnlib.activations.sigmoid(z), Z3)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (sigmoid, "this is sigma(z), not its derivative"),
        (lambda z: z * (1 - z), "this is z (1 - z)"),
        (lambda z: sigmoid(z) * (1 - z), "this is sigma(z) (1 - z)"),
        (lambda z: 1 - sigmoid(z), "this is 1 - sigma(z)"),
        (lambda z: 2 * sigmoid_prime(z), "derivative off by a factor of 2"),
        (lambda z: sigmoid_prime(sigmoid(z)), "this is sigma'(sigma(z))"),
    ],
)
def test_sigmoid_prime_mistakes_are_named(wrong, message):
    with fails(message):
        C.check_sigmoid_prime(wrong, Z3)


def test_sigmoid_prime_extremes_say_where_the_values_differ():
    with fails("Where the values differ:", "every entry differs (2 of 2)"):
        C.check_sigmoid_prime_extremes(lambda z: z * (1 - z), np.array([-1000.0, 1000.0]))


def test_sigmoid_prime_must_match_the_students_own_sigmoid():
    def scaled(z):  # the student's sigmoid is wrong by a factor, sigmoid_prime is not
        return 2 * sigmoid(z)

    with fails("central differences of your own scaled(z)"):
        C.check_sigmoid_prime_gradient(sigmoid_prime, scaled, np.linspace(-3, 3, 7))


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda z: np.maximum(z, 0.0), "this is relu(z) itself"),
        (lambda z: (z >= 0).astype(float), "use relu'(0) = 0"),
    ],
)
def test_relu_prime_mistakes_are_named(wrong, message):
    with fails(message):
        C.check_relu_prime(wrong, np.array([[-3.0, 0.0, 0.5], [2.0, -1.0, 10.0]]))


def test_relu_prime_booleans_are_refused():
    with fails("dtype bool"):
        C.check_relu_prime(lambda z: z > 0, np.array([-1.0, 2.0]))


def test_relu_prime_gradient_moves_points_off_the_corner():
    # within h = 1e-5 of 0 the difference quotient of relu is about 1/2; moved to 0.5 first
    C.check_relu_prime(relu_prime, np.array([1e-6, -1e-6, 1.0]), gradient=True)
    with fails("<lambda>(z) is not right"):
        C.check_relu_prime(lambda z: 0 * z + 1.0, np.array([-1.0, 1.0]), gradient=True)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda z: 1 - np.tanh(z**2), "square tanh(z)"),
        (lambda z: 1 - np.tanh(z), "the tanh must be squared"),
        (lambda z: 1 - z**2, "this is 1 - z**2"),
        (lambda z: np.tanh(z) ** 2, "this is tanh(z)**2"),
        (lambda z: 1 + np.tanh(z) ** 2, "not 1 + tanh(z)**2"),
        (lambda z: 2 * tanh_prime(z), "derivative off by a factor of 2"),
        (lambda z: 1 - np.tanh(np.tanh(z)) ** 2, "this is 1 - tanh(tanh(z))**2"),
    ],
)
def test_tanh_prime_mistakes_are_named(wrong, message):
    with fails(message):
        C.check_tanh_prime(wrong, np.array([-1.0, 0.0, 1.0, 2.5]))


def test_tanh_prime_gradient_compares_with_np_tanh():
    with fails("central differences of your own tanh(z)"):
        C.check_tanh_prime_gradient(lambda z: 1 - np.tanh(z) ** 2 + 1e-3, np.linspace(-2, 2, 5))


def _by_columns(Z):
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_by_columns, "softmax normalised over the wrong axis"),
        (lambda Z: np.exp(Z) / np.exp(Z).sum(), "the sum over the whole batch"),
        (lambda Z: Z / Z.sum(axis=1, keepdims=True), "the exponential is missing"),
    ],
)
def test_softmax_mistakes_are_named(wrong, message):
    with fails(message):
        C.check_softmax(wrong, np.array([[1.0, 2.0, 3.0], [0.5, 0.2, 2.0]]))


def test_a_naive_softmax_fails_on_large_logits_only(capsys):
    def naive(Z):
        e = np.exp(Z)
        return e / e.sum(axis=1, keepdims=True)

    C.check_softmax(naive, np.array([[1.0, 2.0, 3.0]]))
    with fails("subtract each row's maximum before np.exp", "NaN or inf"):
        C.check_softmax_large(naive, np.array([[1000.0, 1000.0, -1000.0]]))
    with fails("softmax(Z + 1000) (adding a constant to a row must not change it)"):
        C.check_softmax_shift(naive, np.array([[5.0, 4.0, 3.0]]), shift=1000.0)
    assert capsys.readouterr().err == ""


def test_softmax_that_changes_its_input_fails():
    def in_place(Z):
        Z -= Z.max(axis=1, keepdims=True)
        return softmax(Z)

    with fails("changed its input Z in place"):
        C.check_softmax(in_place, np.array([[1.0, 2.0, 3.0]]))


def test_an_unwritten_exercise_says_so():
    def unwritten(z):
        raise NotImplementedError()

    with fails("unwritten(z) is not written yet"):
        C.check_sigmoid_prime(unwritten, Z3)


def test_softmax_through_log_softmax_earns_nothing():
    import nnlib.activations

    with fails("calling nnlib.activations.log_softmax earns no points"):
        C.check_softmax(lambda Z: np.exp(nnlib.activations.log_softmax(Z)), Z3[None, :])
