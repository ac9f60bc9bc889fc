"""Checkers of notebook 02_perceptron: outputs, the boundary line, gates, the learning rule.

Each checker calls the student's function quietly (its nnlib reference disabled), compares
with the fresh nnlib reference or with a rule computed here, and raises ``AssertionError``
with a message that names a recognised mistake or says what is wrong. Shapes: ``X`` (n, d)
inputs, one sample per row; ``w`` (d,) weights; ``b`` a float; ``y`` (n,) targets in
{0, 1}; ``x1``, ``x2`` (n,) arrays of 0/1.
"""

from __future__ import annotations

import numpy as np

from nnlib import perceptron
from nnlib.grading.compare import (
    assert_close,
    assert_shape,
    assert_unchanged,
    check_output,
    mistake_values,
)
from nnlib.grading.feedback import fmt
from nnlib.grading.forbid import forbidden
from nnlib.grading.quiet import call, quiet

#: the four rows of a two-input truth table, and each gate's outputs on them
CORNERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
TABLES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "XOR": [0, 1, 1, 0]}


def _pair(res, label: str, what: str) -> tuple:
    """``res`` as a 2-tuple, or a failure saying that ``label`` should return ``what``."""
    if not (isinstance(res, (tuple, list)) and len(res) == 2):
        raise AssertionError(f"{label} should return {what}, got {res!r}")
    return tuple(res)


# generic: the message a ValueError carries, or a failure when ``fn(*args)`` raises none
def _value_error(fn, args, label: str, missing: str) -> str:
    """Call ``fn(*args)`` quietly and return the message of the ValueError it must raise;
    fail with ``missing`` if it returns, and name any other exception."""
    __tracebackhide__ = True
    try:
        with quiet():
            fn(*args)
    except ValueError as err:
        return str(err).strip()
    except NotImplementedError:
        raise AssertionError(
            f"{label} is not written yet: replace `raise NotImplementedError()` with your code"
        ) from None
    except Exception as err:  # noqa: BLE001 (any other exception is the wrong one)
        raise AssertionError(f"{label} raised {type(err).__name__}: {err}; {missing}") from None
    raise AssertionError(missing)


# ----- perceptron_output(X, w, b) ----------------------------------------------------------

OUTPUT_FORBID = "nnlib.perceptron.perceptron_output"

#: description -> what that slip returns, a function of (X, w, b)
OUTPUT_MISTAKES = {
    "z = 0 gave 1: the output is 1 only when w.x + b > 0 (strictly)": lambda X, w, b: (
        X @ w + b >= 0
    ).astype(int),
    "0 and 1 are swapped (the output is 1 where w.x + b > 0)": lambda X, w, b: (
        X @ w + b <= 0
    ).astype(int),
    "the bias was subtracted instead of added": lambda X, w, b: (X @ w - b > 0).astype(int),
}


def check_perceptron_output(perceptron_output, X, w, b: float, expected=None, name=None):
    """Check ``perceptron_output(X, w, b)``: (n,) 0/1, 1 where X w + b > 0 (strictly).

    expected: (n,) the right outputs (default: the reference's). Returns the result.
    """
    __tracebackhide__ = True
    if expected is None:
        expected = perceptron.perceptron_output(X, w, b)
    return check_output(
        perceptron_output,
        X,
        w,
        b,
        expected=np.asarray(expected),
        arg_names=("X", "w", "b"),
        name=name,
        mistakes=OUTPUT_MISTAKES,
        forbid=OUTPUT_FORBID,
    )


def check_gate_output(perceptron_output, gate: str, w, b: float):
    """``perceptron_output(CORNERS, w, b)`` with w (2,) and b the weights of ``gate`` ("AND",
    ...): shape (4,), an integer dtype (not booleans, not floats), then the gate's truth
    table."""
    __tracebackhide__ = True
    with forbidden(perceptron_output, OUTPUT_FORBID):
        out = call(perceptron_output, CORNERS, w, b, name="perceptron_output")
    assert_shape(out, (4,), "perceptron_output(X, w, b) for X of shape (4, 2)", floats=False)
    dtype = np.asarray(out).dtype
    if dtype.kind == "b":
        raise AssertionError(
            "perceptron_output returned booleans (True/False, dtype bool); it should return "
            "the numbers 0 and 1 as integers: convert the comparison with .astype(int)"
        )
    if dtype.kind not in "iu":
        raise AssertionError(
            f"perceptron_output returned dtype {dtype}; it should return an integer array of "
            "0s and 1s, e.g. (X @ w + b > 0).astype(int)"
        )
    resolved = mistake_values(OUTPUT_MISTAKES, CORNERS, np.asarray(w, dtype=float), b)
    assert_close(
        out, TABLES[gate], f"perceptron_output on the {gate} truth table", mistakes=resolved
    )
    return out


def check_perceptron_output_random(perceptron_output, shapes, seed: int) -> None:
    """``check_perceptron_output`` on random X (n, d), w and b for each (n, d) of
    ``shapes``, then on 40 integer points, many of them exactly on the boundary (z = 0)."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for n, d in shapes:
        X, w, b = rng.standard_normal((n, d)), rng.standard_normal(d), float(rng.standard_normal())
        check_perceptron_output(perceptron_output, X, w, b)
    X = rng.integers(-2, 3, size=(40, 2))
    check_perceptron_output(perceptron_output, X, np.array([1.0, -1.0]), 0.0)


# ----- boundary_line(w, b) -----------------------------------------------------------------

#: description -> the (slope, intercept) that slip returns, a function of (w, b)
BOUNDARY_MISTAKES = {
    "slope and intercept have the wrong sign": lambda w, b: (w[0] / w[1], b / w[1]),
    "slope and intercept are swapped": lambda w, b: (-b / w[1], -w[0] / w[1]),
    "divided by w1 instead of w2": lambda w, b: (-w[1] / w[0], -b / w[0]),
}


def _line(w, b: float) -> str:
    return f"w=({w[0]:.3g}, {w[1]:.3g}), b={b:.3g}"


def check_boundary_line(boundary_line, w, b: float) -> tuple:
    """Check ``boundary_line(w, b)``, w (2,) with w2 != 0: (slope, intercept) with
    x2 = slope x1 + intercept on w . x + b = 0. Returns the two floats."""
    __tracebackhide__ = True
    w = np.asarray(w, dtype=float)
    res = call(boundary_line, w.copy(), b, name=f"boundary_line({_line(w, b)})")
    slope, intercept = _pair(res, "boundary_line", "(slope, intercept)")
    got = np.array([slope, intercept], dtype=float)
    wrong = mistake_values(BOUNDARY_MISTAKES, w, b)
    expected = [-w[0] / w[1], -b / w[1]]
    assert_close(got, expected, f"(slope, intercept) for {_line(w, b)}", mistakes=wrong)
    x1 = np.array([-1.0, 2.0])  # two points of the returned line lie on the boundary
    z = w[0] * x1 + w[1] * (got[0] * x1 + got[1]) + b
    assert_close(z, [0.0, 0.0], "w . x + b at points of your line", atol=1e-9)
    return slope, intercept


def check_boundary_line_random(boundary_line, n: int, seed: int) -> None:
    """``check_boundary_line`` on ``n`` random (w, b)."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for _ in range(n):
        check_boundary_line(boundary_line, rng.standard_normal(2), float(rng.standard_normal()))


def check_boundary_line_vertical(boundary_line, w, b: float) -> str:
    """``boundary_line(w, b)`` with w2 = 0 must raise a ValueError with a message (returned)."""
    __tracebackhide__ = True
    w = np.asarray(w, dtype=float)
    label = f"boundary_line({_line(w, b)})"
    with quiet():
        where = f"the boundary x1 = -b/w1 = {-b / w[0]:.3g} is vertical and has no slope"
    message = _value_error(
        boundary_line, (w.copy(), b), label, f"{label} should raise ValueError: {where}"
    )
    if not message:
        raise AssertionError(
            f"{label} raised ValueError without a message; the message should say why, "
            "e.g. ValueError('w2 = 0: the boundary is vertical')"
        )
    return message


# ----- gate_weights(gate) ------------------------------------------------------------------


def _gate_weights(gate_weights, gate: str) -> tuple:
    res = call(gate_weights, gate, name=f"gate_weights({gate!r})")
    return _pair(res, f"gate_weights({gate!r})", "(w, b)")


def check_gate_shapes(gate_weights, *gates: str) -> None:
    """``gate_weights(gate)`` returns (w, b), w of shape (2,) floats and b a number."""
    __tracebackhide__ = True
    for gate in gates:
        w, b = _gate_weights(gate_weights, gate)
        assert_shape(w, (2,), f"w of gate_weights({gate!r})")
        if np.ndim(b) != 0:
            raise AssertionError(f"b of gate_weights({gate!r}) should be a number, got {b!r}")


def check_gate_truth_tables(gate_weights, *gates: str) -> None:
    """The threshold rule, computed here (not with the student's perceptron_output), with
    each gate's (w, b) gives its truth table on the four corners."""
    __tracebackhide__ = True
    for gate in gates:
        w, b = _gate_weights(gate_weights, gate)
        out = (CORNERS @ np.asarray(w, dtype=float) + float(b) > 0).astype(int)
        if list(out) != TABLES[gate]:
            raise AssertionError(
                f"{gate} with w={w}, b={b}: outputs on (0,0), (0,1), (1,0), (1,1) are "
                f"{out.tolist()}, expected {TABLES[gate]}"
            )


def check_gate_margins(gate_weights, *gates: str, margin: float = 0.1) -> None:
    """Every corner lies at distance >= ``margin`` from each gate's boundary w . x + b = 0."""
    __tracebackhide__ = True
    for gate in gates:
        w, b = _gate_weights(gate_weights, gate)
        w = np.asarray(w, dtype=float)
        norm = float(np.sqrt(np.sum(w * w)))
        if not norm > 0:
            raise AssertionError(f"{gate}: w = {w} is zero, so there is no boundary")
        dist = np.abs(CORNERS @ w + float(b)) / norm
        k = int(np.argmin(dist))
        if not dist[k] >= margin:
            raise AssertionError(
                f"{gate} with w={w}, b={b}: corner {CORNERS[k]} is only {dist[k]:.3g} from the "
                f"boundary (at least {margin:g} required); move the boundary away from the "
                "corners, e.g. b halfway between the values that just work"
            )


def check_gate_refused(gate_weights, *gates: str) -> None:
    """``gate_weights(gate)`` raises ValueError for each of these names (no single
    perceptron computes XOR; unknown names are refused)."""
    __tracebackhide__ = True
    for gate in gates:
        label = f"gate_weights({gate!r})"
        _value_error(
            gate_weights, (gate,), label, f"{label} should raise ValueError (only AND, OR, NAND)"
        )


# ----- nand(x1, x2) and xor_gate(x1, x2) ---------------------------------------------------

#: exercise -> (the gate's truth as a function of x1 and x2, its named mistakes, the
#: references disabled while it runs)
GATE_EXERCISES = {
    "nand": (
        lambda x1, x2: 1 - x1 * x2,
        {"that is AND, not NAND": lambda x1, x2: x1 * x2},
        ("nnlib.perceptron.nand_gate", "nnlib.perceptron._gate"),
    ),
    "xor_gate": (
        lambda x1, x2: (x1 != x2).astype(int),
        {
            "that is OR, not XOR": lambda x1, x2: np.maximum(x1, x2),
            "that is XNOR (XOR negated)": lambda x1, x2: (x1 == x2).astype(int),
        },
        ("nnlib.perceptron.xor_from_nand", "nnlib.perceptron.nand_gate"),
    ),
}


def random_bits(seed: int, n: int) -> tuple:
    """x1, x2: two (n,) random arrays of 0/1."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, n), rng.integers(0, 2, n)


def _check_gate(exercise: str, fn, x1, x2, expected=None, forbid=None):
    __tracebackhide__ = True
    truth, mistakes, references = GATE_EXERCISES[exercise]
    return check_output(
        fn,
        x1,
        x2,
        expected=truth(x1, x2) if expected is None else np.asarray(expected),
        arg_names=("x1", "x2"),
        mistakes=mistakes,
        forbid=references if forbid is None else forbid,
    )


def check_nand(nand, x1, x2, expected=None, forbid=None):
    """Check ``nand(x1, x2)``: (n,) 0 where both inputs are 1, else 1.

    forbid: the nnlib references disabled meanwhile (default: nnlib's NAND gate).
    """
    __tracebackhide__ = True
    return _check_gate("nand", nand, x1, x2, expected, forbid)


def check_xor_gate(xor_gate, x1, x2, expected=None, forbid=None):
    """Check ``xor_gate(x1, x2)``: (n,) 1 where exactly one input is 1.

    forbid: the nnlib references disabled meanwhile (default: nnlib's XOR and NAND gates).
    """
    __tracebackhide__ = True
    return _check_gate("xor_gate", xor_gate, x1, x2, expected, forbid)


# generic: a student function run with one of its globals replaced, its uses counted
def _with_global(fn, name: str, stand_in, *args) -> tuple:
    """(``fn(*args)``, how many times it called its global ``name``), computed quietly with
    that global replaced by ``stand_in`` (a function), and put back after."""
    calls = []

    def counting(*a, **kw):
        calls.append(1)
        return stand_in(*a, **kw)

    space = fn.__globals__
    original = space.get(name)
    space[name] = counting
    try:
        out = call(fn, *args, name=getattr(fn, "__name__", "your function"))
    finally:
        space[name] = original
    return out, len(calls)


def check_nand_uses_perceptron(nand, x1, x2) -> None:
    """``nand(x1, x2)`` computes its output with the student's own perceptron_output."""
    __tracebackhide__ = True
    own = nand.__globals__.get("perceptron_output")
    _, n_calls = _with_global(nand, "perceptron_output", own, x1, x2)
    if not n_calls:
        raise AssertionError(
            "nand should compute its output with your perceptron_output (it never called it)"
        )


def _xor_with_nand(xor_gate, fake) -> tuple:
    """xor_gate on the truth table with its global nand replaced by ``fake`` (a function of
    two arrays): (the (4,) result, how many times nand was called)."""
    out, n_calls = _with_global(
        xor_gate, "nand", lambda a, b: fake(np.asarray(a), np.asarray(b)), *CORNERS.T
    )
    return np.asarray(out), n_calls


def check_xor_gate_counts_nand(xor_gate) -> None:
    """With another correct NAND in place of ``nand``, xor_gate still computes XOR, and
    calls nand at least four times."""
    __tracebackhide__ = True
    out, n_calls = _xor_with_nand(xor_gate, lambda a, b: 1 - a * b)
    if list(out.astype(int)) != TABLES["XOR"]:
        raise AssertionError(
            f"with another correct NAND implementation xor_gate gave {out.tolist()}; it must "
            "compute XOR through calls to nand only"
        )
    if n_calls < 4:
        raise AssertionError(
            f"xor_gate called nand {n_calls} time(s); XOR needs at least four NAND gates"
        )


def check_xor_gate_only_nand(xor_gate) -> None:
    """xor_gate's result comes from nand gates only: with a nand that always outputs c it
    returns c, and with NOR in place of nand it no longer computes XOR."""
    __tracebackhide__ = True
    for c in (0, 1):
        out, _ = _xor_with_nand(xor_gate, lambda a, b, c=c: np.full(np.shape(a), c))
        if not (np.shape(out) == (4,) and np.all(out == c)):
            raise AssertionError(
                f"with nand replaced by a gate that always outputs {c}, xor_gate returned "
                f"{out.tolist()}: its result must be the output of a nand gate, computed from "
                "nand gates only"
            )
    out, _ = _xor_with_nand(xor_gate, lambda a, b: 1 - np.maximum(a, b))
    if list(out.astype(int)) == TABLES["XOR"]:
        raise AssertionError(
            "xor_gate still computes XOR when nand is replaced by NOR, so it does not compute "
            "XOR from nand gates"
        )


# ----- train_perceptron(X, y, rng, eta=1.0, max_epochs=100) --------------------------------

TRAIN_FORBID = "nnlib.perceptron.Perceptron.fit"


def separable(n: int, d: int, seed: int, margin: float = 0.05) -> tuple:
    """At most ``n`` points X (n, d) in [-1, 1]^d labelled y (n,) by a random hyperplane,
    none closer to it than ``margin``: data the perceptron rule must learn."""
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(d)
    w_true /= np.sqrt(np.sum(w_true**2))
    b_true = rng.uniform(-0.3, 0.3)
    X = rng.uniform(-1, 1, size=(20 * n, d))
    X = X[np.abs(X @ w_true + b_true) >= margin][:n]
    return X, (X @ w_true + b_true > 0).astype(np.int64)


def _shown(a) -> str:
    a = np.asarray(a)
    return str(a.tolist()) if a.size <= 12 else fmt(a)


def _ints(values) -> list:
    """A list of plain ints for messages (as given, if they are not numbers)."""
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        return list(values)


def _epochs(mistakes: list) -> str:
    """Mistakes per epoch for a message: all of them, or the first ten of a long run."""
    if len(mistakes) <= 12:
        return str(mistakes)
    return f"{str(mistakes[:10])[:-1]}, ...] ({len(mistakes)} epochs)"


def _train(
    train_perceptron, X, y, seed: int, check_inputs=False, forbid=TRAIN_FORBID, **kw
) -> tuple:
    """(w, b, mistakes, converged) of a run on copies of X (n, d) and y (n,), with a
    generator seeded by ``seed`` and the references ``forbid`` disabled; ``check_inputs``:
    fail first if the run changed X or y."""
    __tracebackhide__ = True
    X_in, y_in = X.copy(), y.copy()
    with forbidden(train_perceptron, forbid):
        res = call(
            train_perceptron,
            X_in,
            y_in,
            np.random.default_rng(seed),
            name="train_perceptron",
            **kw,
        )
    try:
        if check_inputs:
            assert_unchanged("train_perceptron", [("X", X, X_in), ("y", y, y_in)])
    except AssertionError as err:
        now = [
            f"{name} is now {_shown(new)}"
            for name, new, old in (("X", X_in, X), ("y", y_in, y))
            if not np.array_equal(new, old)
        ]
        raise AssertionError(f"{err} ({'; '.join(now)})") from None
    if not (isinstance(res, (tuple, list)) and len(res) == 4):
        size = f" of length {len(res)}" if isinstance(res, (tuple, list)) else ""
        raise AssertionError(
            "train_perceptron should return (w, b, mistakes, converged), got "
            f"{type(res).__name__}{size}"
        )
    return tuple(res)


def check_train_separable(
    train_perceptron, X, y, what=None, seed=0, max_epochs=100, forbid=TRAIN_FORBID
) -> tuple:
    """On separable X (n, d), y (n,): the run leaves X and y unchanged, converges within
    ``max_epochs``, its mistakes per epoch end at the first 0, and the learned w (d,), b
    classify every point. ``what`` names the data in messages; ``forbid``: the nnlib
    references disabled meanwhile. Returns (w, b, mistakes)."""
    __tracebackhide__ = True
    n, d = X.shape
    what = what or f"separable data ({n} points in {d}-D)"
    w, b, mistakes, converged = _train(
        train_perceptron, X, y, seed, check_inputs=True, forbid=forbid, max_epochs=max_epochs
    )
    assert_shape(w, (d,), "w")
    mistakes = _ints(mistakes)
    if not converged:
        raise AssertionError(
            f"{what} is separable: train_perceptron should converge within {max_epochs} "
            f"epochs, but converged is {converged!r}; mistakes per epoch: {_epochs(mistakes)}"
        )
    if not (mistakes and mistakes[-1] == 0 and all(m > 0 for m in mistakes[:-1])):
        raise AssertionError(
            f"mistakes per epoch should end with the first 0 (stop after the first epoch "
            f"without a mistake): {_epochs(mistakes)}"
        )
    out = (X @ np.asarray(w, dtype=float) + float(b) > 0).astype(int)
    if not np.array_equal(out, y):
        shown = f" (outputs {out.tolist()})" if n <= 8 else ""
        raise AssertionError(
            f"converged is True but the learned w={w}, b={b} misclassify {(out != y).sum()} "
            f"of the {n} points of {what}{shown}"
        )
    return w, b, mistakes


def check_train_not_separable(train_perceptron, X, y, what: str, seed=0, max_epochs=100):
    """On data X (n, d), y (n,) that no line separates: converged is False, all
    ``max_epochs`` epochs run and each has a mistake. Returns the mistakes per epoch."""
    __tracebackhide__ = True
    w, b, mistakes, converged = _train(train_perceptron, X, y, seed, max_epochs=max_epochs)
    mistakes = _ints(mistakes)
    if converged:
        raise AssertionError(f"{what} is not linearly separable: converged must be False")
    if len(mistakes) != max_epochs:
        raise AssertionError(
            f"without convergence all max_epochs={max_epochs} epochs run: expected "
            f"{max_epochs} mistake counts, got {len(mistakes)}"
        )
    if not all(m > 0 for m in mistakes):
        raise AssertionError(f"every epoch on {what} has a mistake, got {_epochs(mistakes)}")
    return mistakes


def check_train_reproducible(train_perceptron, X, y, seed=0, max_epochs=100) -> None:
    """Two runs with generators of the same seed give the same mistakes and w."""
    __tracebackhide__ = True
    runs = [_train(train_perceptron, X, y, seed, max_epochs=max_epochs) for _ in range(2)]
    if not (
        list(runs[0][2]) == list(runs[1][2])
        and np.array_equal(np.asarray(runs[0][0]), np.asarray(runs[1][0]))
    ):
        raise AssertionError(
            "the same rng seed must give the same run (use only the rng argument for randomness)"
        )


def check_train_like_reference(train_perceptron, X, y, seed=0, eta=1.0, max_epochs=100) -> None:
    """The run follows the recipe exactly: the same mistakes per epoch, w (d,), b and
    converged as the nnlib reference trained with a generator of the same seed."""
    __tracebackhide__ = True
    w, b, mistakes, converged = _train(
        train_perceptron, X, y, seed, eta=eta, max_epochs=max_epochs
    )
    with quiet():
        ref = perceptron.Perceptron(X.shape[1], eta=eta).fit(
            X, y, np.random.default_rng(seed), max_epochs=max_epochs
        )
    if _ints(mistakes) != list(ref.errors):
        raise AssertionError(
            f"eta={eta}, max_epochs={max_epochs}: mistakes per epoch {_epochs(_ints(mistakes))} "
            f"differ from the recipe's {_epochs(ref.errors)}; start from zeros, draw "
            "rng.permutation(n) once per epoch, update only on a mistake"
        )
    assert_close(np.asarray(w, dtype=float), ref.w, "w after training")
    assert_close(float(b), ref.b, "b after training")
    if bool(converged) != ref.converged:
        raise AssertionError(f"converged should be {ref.converged}")
