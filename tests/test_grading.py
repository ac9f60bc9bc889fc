"""nnlib.grading: the helpers every notebook test cell uses."""

from __future__ import annotations

import functools
import sys
import warnings

import numpy as np
import pytest

import nnlib.activations
from nnlib.grading import fresh

G = fresh()
A = G.ref.activations
Z = np.linspace(-4.0, 4.0, 9)


def fails(fn, *args, **kwargs) -> str:
    """Run a check that must fail; return its message."""
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def noisy_sigmoid(z):
    """Right values, but warns on the way (both branches are evaluated)."""
    warnings.warn("a harmless note from the student", UserWarning, stacklevel=1)
    print("debug output on stderr", file=sys.stderr)
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


# --- check_output / assert_close --------------------------------------------------------


def test_right_answer_passes_and_returns_the_result():
    out = G.check_output(stable_sigmoid, Z, expected=A.sigmoid(Z))
    assert np.array_equal(out, stable_sigmoid(Z))


def test_right_answer_with_warnings_passes_silently(capfd):
    extreme = np.array([-1000.0, 0.0, 1000.0])
    G.check_output(noisy_sigmoid, extreme, expected=A.sigmoid(extreme))
    G.check_derivative(A.tanh_prime, np.tanh, extreme, reference_prime=A.tanh_prime)
    captured = capfd.readouterr()
    assert captured.err == ""


def test_known_mistake_is_named():
    msg = fails(
        G.check_output,
        lambda z: 1 / (1 + np.exp(z)),
        Z,
        expected=A.sigmoid(Z),
        name="sigmoid(z)",
        mistakes={"the minus sign is missing": lambda z: 1 / (1 + np.exp(z))},
    )
    assert "sigmoid(z) is not right" in msg
    assert "Likely mistake: the minus sign is missing" in msg
    assert "largest error" in msg and "expected" in msg and "received" in msg


def test_wrong_axis_softmax_is_named():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.5, -1.0]])

    def by_columns(z):
        e = np.exp(z)
        return e / e.sum(axis=0, keepdims=True)

    msg = fails(
        G.check_output,
        by_columns,
        logits,
        expected=A.softmax(logits),
        mistakes={"normalised over the wrong axis (columns instead of rows)": by_columns},
    )
    assert "wrong axis (columns instead of rows)" in msg


def test_generic_mistakes():
    M = np.arange(1.0, 10.0).reshape(3, 3)
    assert "transposed" in fails(G.assert_close, M.T, M)
    assert "transposed" in fails(G.assert_close, M[:2].T, M[:2])
    assert "constant factor of 2" in fails(G.assert_close, 2 * M, M)
    assert "sign is flipped" in fails(G.assert_close, -M, M)
    assert "constant offset of 0.5" in fails(G.assert_close, M + 0.5, M)
    assert "did you forget `return`" in fails(G.assert_close, None, M)
    nan = M.copy()
    nan[1, 2] = np.nan
    assert "NaN or inf (1 entries, first at index (1, 2))" in fails(G.assert_close, nan, M)
    assert "dtype int64" in fails(G.assert_close, M.astype(np.int64), M)
    assert "dtype bool" in fails(G.assert_close, Z > 0, (Z > 0).astype(float))
    assert "expected shape (3, 3), received shape (9,)" in fails(G.assert_close, M.ravel(), M)
    assert "numpy array was expected" in fails(G.assert_close, [M], M)


def test_shapes():
    G.assert_shape(np.zeros((2, 3)), (2, 3))
    assert "should have shape (3, 2)" in fails(G.assert_shape, np.zeros((2, 3)), (3, 2))


def test_input_modified_in_place_fails():
    def softmax_inplace(z):
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    logits = np.array([[1.0, 2.0], [3.0, 5.0]])
    msg = fails(G.check_output, softmax_inplace, logits, expected=A.softmax(logits))
    assert "changed its input arg0 in place" in msg


def test_assert_unchanged_names_the_changed_input():
    x, y = np.ones(3), np.zeros(2)
    G.assert_unchanged("f", [("x", x.copy(), x), ("y", y.copy(), y)])
    y_after = np.zeros(3)  # a different shape counts as a change as well
    msg = fails(G.assert_unchanged, "f", [("x", x.copy(), x), ("y", y, y_after)])
    assert msg.startswith("f changed its input y in place")


def test_assert_new_refuses_the_input_itself():
    x = np.ones(2)
    G.assert_new("pad(x, 0)", x.copy(), "x", x)
    msg = fails(G.assert_new, "pad(x, 0)", x, "x", x, hint=" (x.copy())")
    assert msg.startswith("pad(x, 0) returned x itself: return a new array (x.copy()), so")


def test_mistake_values_computes_each_candidate_on_copies():
    x = np.array([1.0, 2.0])

    def doubles_in_place(v):
        v *= 2
        return v

    got = G.mistake_values(
        {"doubled": doubles_in_place, "fixed": np.zeros(2), "crashes": lambda v: v @ np.ones(5)},
        x,
    )
    assert np.array_equal(got["doubled"], [2.0, 4.0]) and np.array_equal(x, [1.0, 2.0])
    assert np.array_equal(got["fixed"], np.zeros(2)) and got["crashes"] is None


def test_call_explains_unfinished_and_crashing_answers():
    def todo(z):
        raise NotImplementedError()

    assert "todo is not written yet" in fails(G.call, todo, Z)
    msg = fails(G.call, lambda z: z @ np.ones(3), Z, name="neuron")
    assert "calling neuron raised ValueError" in msg


def test_a_crash_is_located_in_the_students_code():
    def tanh_prime(z):
        y = np.tanh(z)
        return undefined + y  # noqa: F821 (the student's slip)

    msg = fails(G.call, tanh_prime, Z)
    assert "\n(in your tanh_prime, line " in msg
    assert msg.endswith(": return undefined + y  # noqa: F821 (the student's slip))"), msg
    # reported by the sandbox (a graded run): its frames, the student's cell last
    err = NameError("name 'undefined' is not defined")
    err.student_traceback = [
        '  File "<tanh_prime>", line 3, in tanh_prime\n    return undefined + y\n',
    ]

    def remote(z):
        raise err

    msg = fails(G.call, remote, Z, name="tanh_prime(z)")
    assert msg.endswith("(in your tanh_prime, line 3: return undefined + y)"), msg
    # nothing of the student's own: no location, and no pointer to a traceback
    msg = fails(G.call, np.reshape, Z, (7,), name="reshape")
    assert msg.startswith("calling reshape raised ValueError") and "(in your" not in msg, msg


# --- warnings where the exercise forbids them -------------------------------------------


def test_check_no_warnings(capfd):
    extreme = np.array([-1000.0, 1000.0])
    G.check_no_warnings(stable_sigmoid, extreme)
    msg = fails(
        G.check_no_warnings, lambda z: 1 / (1 + np.exp(-z)), extreme, name="sigmoid", hint="H!"
    )
    assert "overflow encountered in exp" in msg and msg.endswith("H!")
    assert "text on stderr" in fails(G.check_no_warnings, noisy_sigmoid, extreme)
    assert capfd.readouterr().err == ""


# --- derivatives and backward passes ----------------------------------------------------


def test_check_derivative():
    G.check_derivative(A.sigmoid_prime, stable_sigmoid, Z, reference_prime=A.sigmoid_prime)

    def double(z):
        return 2 * A.sigmoid_prime(z)

    msg = fails(G.check_derivative, double, stable_sigmoid, Z, reference_prime=A.sigmoid_prime)
    assert "constant factor of 2" in msg
    msg = fails(G.check_derivative, double, stable_sigmoid, Z)  # numerical check alone
    assert "central differences of your own stable_sigmoid(z)" in msg


def test_check_derivative_of_own_wrong_forward():
    """A correct sigma' next to a wrong forward: right vs reference, not vs own forward."""

    def wrong_forward(z):
        return 1 / (1 + np.exp(z))

    G.check_derivative(A.sigmoid_prime, wrong_forward, Z, A.sigmoid_prime, numerical=False)
    msg = fails(G.check_derivative, A.sigmoid_prime, wrong_forward, Z)
    assert "sign is flipped" in msg


def dense_forward(x, W, b):
    return x @ W.T + b


def dense_backward(dout, x, W, b):
    return dout @ W, dout.T @ x, dout.sum(axis=0)


def test_check_backward():
    rng = np.random.default_rng(1)
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    names = ("x", "W", "b")
    G.check_backward(dense_forward, dense_backward, x, W, b, names=names, reference=dense_backward)

    def no_transpose(dout, x, W, b):
        return dout @ W, x.T @ dout, dout.sum(axis=0)

    msg = fails(
        G.check_backward,
        dense_forward,
        no_transpose,
        x,
        W,
        b,
        names=names,
        mistakes={"dW is transposed: use dout.T @ x": no_transpose},
    )
    assert "gradient w.r.t. W" in msg and "dW is transposed" in msg

    def mean_db(dout, x, W, b):
        return dout @ W, dout.T @ x, dout.mean(axis=0)

    msg = fails(G.check_backward, dense_forward, mean_db, x, W, b, names=names, reference=None)
    assert "gradient w.r.t. b" in msg and "factor of 0.25" in msg
    # only the gradient w.r.t. x
    G.check_backward(dense_forward, lambda d, x, W, b: d @ W, x, W, b, wrt=(0,))


def test_check_backward_rejects_mutation():
    def mutating(dout, x):
        dout *= 1.0 - np.tanh(x) ** 2
        return dout

    x = np.linspace(-1, 1, 6).reshape(2, 3)
    assert "changed its input dout in place" in fails(G.check_backward, np.tanh, mutating, x)


# --- honest grading ---------------------------------------------------------------------

MSG = "calling nnlib.activations.sigmoid earns no points"


def delegation_forms():
    import nnlib.activations as acts
    from nnlib.activations import sigmoid as s

    def via_module(z):
        return nnlib.activations.sigmoid(z)

    def via_alias(z):
        return acts.sigmoid(z)

    def via_from_import(z):
        return s(z)

    def via_default(z, f=nnlib.activations.sigmoid):
        return f(z)

    def via_dict(z):
        return nnlib.activations.ELEMENTWISE["sigmoid"][0](z)

    def via_fresh_copy(z):
        return G.ref.activations.sigmoid(z)

    return {
        "module attribute": via_module,
        "import as": via_alias,
        "from import as": via_from_import,
        "closure": lambda z: s(z),
        "default argument": via_default,
        "dict": via_dict,
        "partial": functools.partial(nnlib.activations.sigmoid),
        "the reference itself": nnlib.activations.sigmoid,
        "fresh copy": via_fresh_copy,
    }


@pytest.mark.parametrize("form", list(delegation_forms()))
def test_forbid_catches_delegation(form):
    fn = delegation_forms()[form]
    msg = fails(G.check_output, fn, Z, expected=A.sigmoid(Z), forbid="nnlib.activations.sigmoid")
    assert MSG in msg
    assert "write sigmoid yourself" in msg
    # restored afterwards
    assert np.allclose(fn(Z), A.sigmoid(Z))
    assert np.allclose(nnlib.activations.sigmoid(Z), A.sigmoid(Z))


def test_forbid_lets_honest_answers_through():
    G.check_output(stable_sigmoid, Z, expected=A.sigmoid(Z), forbid="nnlib.activations.sigmoid")
    wrapped = G.forbid(nnlib.activations.sigmoid_prime, "nnlib.activations.sigmoid_prime")
    assert "write sigmoid_prime yourself" in fails(wrapped, Z)
    # the derivative may use the reference forward when only sigmoid_prime is forbidden
    G.check_derivative(
        lambda z: nnlib.activations.sigmoid(z) * (1 - nnlib.activations.sigmoid(z)),
        stable_sigmoid,
        Z,
        reference_prime=A.sigmoid_prime,
        forbid="nnlib.activations.sigmoid_prime",
    )


# --- fresh copies -----------------------------------------------------------------------


def test_fresh_survives_rebinding(monkeypatch):
    before = {k: v for k, v in sys.modules.items() if k.split(".")[0] == "nnlib"}
    monkeypatch.setattr(np.testing, "assert_allclose", lambda *a, **k: None)
    monkeypatch.setattr(nnlib.activations, "sigmoid", lambda z: np.zeros_like(z))
    H = fresh()
    assert H.ref.activations is not nnlib.activations
    assert np.allclose(H.ref.activations.sigmoid(np.array([0.0])), 0.5)
    assert "is not right" in fails(
        H.check_output, nnlib.activations.sigmoid, Z, expected=H.ref.activations.sigmoid(Z)
    )
    # the fresh copies load their own dependencies and leave sys.modules as it was
    assert H.ref.activations.as_float_array is H.ref._checks.as_float_array
    after = {k: v for k, v in sys.modules.items() if k.split(".")[0] == "nnlib"}
    assert after == before


def test_fresh_survives_rebound_grading_helpers(monkeypatch):
    import nnlib.grading.compare

    monkeypatch.setattr(nnlib.grading.compare, "assert_close", lambda *a, **k: None)
    monkeypatch.setattr(nnlib.grading, "check_output", lambda *a, **k: None)
    H = fresh()
    assert "is not right" in fails(H.check_output, np.tanh, Z, expected=A.sigmoid(Z))


def test_checks_are_loaded_afresh_with_the_references_of_the_same_copy(monkeypatch):
    import nnlib.grading.checks.neuron as shared

    monkeypatch.setattr(shared, "check_softmax", lambda *a, **k: None)  # a rebinding
    H = fresh()
    assert H.checks.neuron is not shared and H.checks.neuron is H.checks.neuron
    assert H.checks.neuron.activations is H.ref.activations  # imported at its top: fresh
    assert "is not right" in fails(H.checks.neuron.check_softmax, np.tanh, np.eye(2))


def test_forbid_several_targets_at_once():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    targets = ("nnlib.activations.softmax", "nnlib.activations.log_softmax")

    def via_log_softmax(Z):
        return np.exp(nnlib.activations.log_softmax(Z))

    msg = fails(
        G.check_output, via_log_softmax, logits, expected=A.softmax(logits), forbid=targets
    )
    assert "calling nnlib.activations.log_softmax earns no points" in msg
    G.check_output(lambda Z: A.sigmoid(Z) * 0 + A.softmax(Z), logits, expected=A.softmax(logits))


def test_forbid_accepts_methods():
    import nnlib.perceptron

    def fit_by_delegation(X, y, rng):
        return nnlib.perceptron.Perceptron(2).fit(X, y, rng)

    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(
        AssertionError, match="write it yourself; calling nnlib.perceptron.Perceptron.fit earns"
    ):
        with G.forbidden(fit_by_delegation, "nnlib.perceptron.Perceptron.fit") as fn:
            fn(X, y, np.random.default_rng(0))
    # restored afterwards
    assert fit_by_delegation(X, y, np.random.default_rng(0)).epochs >= 1
    for typo in ("nosuchpackage.thing", "nnlib.perceptron.Perceptron.fitt"):
        with pytest.raises(ValueError, match="cannot forbid"):
            with G.forbidden(fit_by_delegation, typo):
                pass


def test_forbid_follows_re_exports_and_whole_classes():
    import nnlib.data
    import nnlib.layers

    def one_hot_by_delegation(y):
        return nnlib.data.one_hot(y, 3)

    with pytest.raises(AssertionError, match="write one_hot yourself"):
        G.forbid(one_hot_by_delegation, "nnlib.data.one_hot")(np.array([0, 2]))

    def dropout_by_delegation(x):
        return nnlib.layers.Dropout(0.5, rng=np.random.default_rng(0)).forward(x, train=True)

    with pytest.raises(AssertionError, match="write Dropout yourself"):
        G.forbid(dropout_by_delegation, "nnlib.layers.Dropout")(np.ones((2, 3)))
    assert dropout_by_delegation(np.ones((2, 3))).shape == (2, 3)


def test_integer_answers_are_fine_when_integers_are_expected():
    G.assert_close(np.array([1, 0, 1]), np.array([1, 0, 1]), "out")
    with pytest.raises(AssertionError, match="dtype int64"):
        G.assert_close(np.array([1, 0, 1]), np.array([1.0, 0.0, 1.0]), "out")


def test_mistake_callables_receive_function_arguments_intact():
    def forward_difference(f, x, h=1e-5):  # the planted mistake: one-sided differences
        return (f(x + h) - f(x)) / h

    def student(f, x):
        return forward_difference(f, x)

    def square(x):
        return x * x

    x = np.array([1.0, 2.0])
    with pytest.raises(AssertionError, match="one-sided difference"):
        G.check_output(
            student,
            square,
            x,
            expected=2 * x,
            rtol=1e-9,
            atol=0,
            mistakes={"a one-sided difference": lambda f, x: forward_difference(f, x)},
        )


def test_forbid_ignores_a_student_function_rebound_over_the_reference(monkeypatch):
    original = nnlib.activations.sigmoid

    def my_sigmoid(z):  # the student's own (wrong) sigmoid, rebound over the reference
        return 1 / (1 + np.exp(z))

    monkeypatch.setattr(nnlib.activations, "sigmoid", my_sigmoid)
    z = np.array([0.0, 1.0])
    with G.forbidden(my_sigmoid, "nnlib.activations.sigmoid") as fn:
        assert np.allclose(fn(z), 1 / (1 + np.exp(z)))  # the student's own still runs
        with pytest.raises(AssertionError, match="earns no points"):
            original(z)


# --- forbidding methods and classes -------------------------------------------------------

SHAPES = """
import functools


class Base:
    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side**2


class Square(Base):
    def __init__(self, side):
        super().__init__(side)  # a closure over __class__

    @property
    def perimeter(self):
        return 4 * self.side

    @staticmethod
    def unit():
        return 1.0

    @classmethod
    def of_side(cls, side):
        return cls(side)

    @functools.cached_property
    def diagonal(self):
        return self.side * 2**0.5

    class Corner:
        def angle(self):
            return 90
"""


@pytest.fixture
def shapes(tmp_path, monkeypatch):
    """A module outside nnlib with the kinds of class members nnlib has few of."""
    (tmp_path / "forbid_shapes.py").write_text(SHAPES)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "forbid_shapes", raising=False)
    import forbid_shapes

    yield forbid_shapes
    sys.modules.pop("forbid_shapes", None)


def test_forbid_a_method_of_the_sigmoid_neuron_in_every_form():
    import nnlib.neuron

    X, y = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([1.0, 0.0])
    ref = G.ref.neuron

    class Mine(nnlib.neuron.SigmoidNeuron):  # inherits step
        pass

    forms = {
        "instance": lambda: nnlib.neuron.SigmoidNeuron(2).step(X, y, 0.1),
        "unbound": lambda: nnlib.neuron.SigmoidNeuron.step(Mine(2), X, y, 0.1),
        "subclass": lambda: Mine(2).step(X, y, 0.1),
        "fresh copy": lambda: ref.SigmoidNeuron(2).step(X, y, 0.1),
        "through fit": lambda: ref.SigmoidNeuron(2).fit(X, y, epochs=1, eta=0.1),
    }
    for form, delegate in forms.items():
        with G.forbidden(delegate, "nnlib.neuron.SigmoidNeuron.step") as fn:
            msg = fails(fn)
        assert "calling nnlib.neuron.SigmoidNeuron.step earns no points" in msg, form
        assert "asks you to write it yourself" in msg  # gd_step or train, not "step"
        delegate()  # restored afterwards
    # the rest of the class and the module's functions still work while step is forbidden
    with G.forbidden(None, "nnlib.neuron.SigmoidNeuron.step"):
        assert nnlib.neuron.SigmoidNeuron(2).predict(X).shape == (2,)
        assert np.shape(nnlib.neuron.neuron_gradients(np.zeros(2), 0.0, X, y)[0]) == (2,)


def test_forbid_a_whole_class_covers_every_kind_of_member(shapes):
    calls = {
        "__init__ through super()": lambda: shapes.Square(2),
        "property": lambda: shapes.Square.perimeter.fget(object.__new__(shapes.Square)),
        "staticmethod": lambda: shapes.Square.unit(),
        "classmethod": lambda: shapes.Square.of_side.__func__(shapes.Base, 3),
        "cached_property": lambda: shapes.Square.diagonal.func(shapes.Base(1)),
        "nested class": lambda: shapes.Square.Corner().angle(),
    }
    with G.forbidden(None, "forbid_shapes.Square"):
        for member, delegate in calls.items():
            assert "calling forbid_shapes.Square earns no points" in fails(delegate), member
        assert shapes.Base(3).area() == 9  # the base class is not part of Square
    square = shapes.Square(2)
    assert (square.perimeter, square.unit(), shapes.Square.Corner().angle()) == (8, 1.0, 90)


def test_forbid_methods_with_a_closure_and_members_by_name(shapes):
    with G.forbidden(None, "forbid_shapes.Square.__init__"):
        assert "write this yourself" in fails(shapes.Square, 2)  # a closure (super())
        assert shapes.Base(2).side == 2
    for target, delegate in [
        ("forbid_shapes.Square.perimeter", lambda: shapes.Square(2).perimeter),
        ("forbid_shapes.Square.unit", lambda: shapes.Square.unit()),
        ("forbid_shapes.Square.of_side", lambda: shapes.Square.of_side(2)),
        ("forbid_shapes.Square.area", lambda: shapes.Square(2).area()),  # the inherited one
    ]:
        with G.forbidden(None, target):
            assert f"calling {target} earns no points" in fails(delegate), target
        delegate()
    for bad in ("forbid_shapes.Square.side", "forbid_shapes.Square.missing"):
        with pytest.raises(ValueError, match="cannot forbid"):
            with G.forbidden(None, bad):
                pass


def test_forbid_reaches_a_module_imported_only_during_the_call(monkeypatch):
    import nnlib
    import nnlib.neuron

    monkeypatch.delitem(sys.modules, "nnlib.neuron")
    monkeypatch.setattr(nnlib, "neuron", nnlib.neuron)  # put back the package attribute too

    def fit_by_late_import(X, y):
        from nnlib.neuron import SigmoidNeuron  # first imported here

        return SigmoidNeuron(2).fit(X, y, epochs=1, eta=0.1)

    X, y = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([1.0, 0.0])
    with G.forbidden(fit_by_late_import, "nnlib.neuron.SigmoidNeuron.fit") as fn:
        assert "calling nnlib.neuron.SigmoidNeuron.fit earns no points" in fails(fn, X, y)
    assert len(fit_by_late_import(X, y)["cost"]) == 1


def test_the_sandbox_view_strips_methods_and_classes(tmp_path):
    """The graded path resolves the same targets (jail.hidden_targets uses code_keys)."""
    from nncourse.autograde import jail

    targets = jail.hidden_targets(
        {"nnlib.neuron.SigmoidNeuron.fit", "nnlib.perceptron.Perceptron"}
    )
    by_name = {q: t for keys in targets.values() for q, t in keys.items()}
    assert by_name["SigmoidNeuron.fit"] == "nnlib.neuron.SigmoidNeuron.fit"
    assert "SigmoidNeuron.step" not in by_name
    assert (
        by_name["Perceptron.fit"]
        == by_name["Perceptron.__init__"]
        == "nnlib.perceptron.Perceptron"
    )
