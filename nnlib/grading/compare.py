"""Compare what a student's function returns with what it should return.

``check_output`` is the workhorse of a test cell: it calls the function quietly (see
:mod:`nnlib.grading.quiet`), optionally with an nnlib reference disabled (see
:mod:`nnlib.grading.forbid`), checks that the inputs were not modified, and compares the
result with :func:`assert_close`, whose failure message says what differs and, where it can,
why. No helper here uses ``np.testing``: tolerances are computed explicitly.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np

from nnlib.grading.feedback import allclose, explain, fmt, match_mistake
from nnlib.grading.forbid import forbidden
from nnlib.grading.quiet import call, invoke, quiet

#: default tolerances for comparing float64 results with a reference
RTOL = 1e-6
ATOL = 1e-9


def assert_shape(received, shape: tuple, name: str = "result", floats: bool = True) -> None:
    """Fail unless ``received`` is a numeric array of exactly ``shape`` (floats if ``floats``)."""
    __tracebackhide__ = True  # IPython hides this frame: the student sees the message
    raw = _as_numeric(received, name)
    if raw.shape != tuple(shape):
        raise AssertionError(
            f"{name} should have shape {tuple(shape)}, but it has shape {raw.shape}"
        )
    if floats and raw.dtype.kind not in "fc":
        raise AssertionError(_dtype_message(name, raw.dtype))


def _dtype_message(name: str, dtype) -> str:
    return (
        f"{name} has dtype {dtype}; return a float array "
        "(a comparison gives booleans: convert with `.astype(float)`)"
    )


def _as_numeric(received, name: str) -> np.ndarray:
    if received is None:
        raise AssertionError(f"{name} is None: did you forget `return`?")
    if getattr(type(received), "__nncourse_remote__", False):
        # Graded in the sandbox: only plain data crosses, so an object of the student's
        # own class (an ndarray subclass included) stays behind.
        raise AssertionError(
            f"{name} is {received!r}, an object of your own; return a plain numpy array"
        )
    if isinstance(received, (tuple, list)):
        raise AssertionError(
            f"{name} is a {type(received).__name__} of length {len(received)}; "
            "a numpy array was expected"
        )
    raw = np.asarray(received)
    if raw.dtype.kind not in "biufc":
        raise AssertionError(
            f"{name} should be a numeric array, but it is {type(received).__name__}: "
            f"{received!r:.200}"
        )
    return raw


def assert_close(
    received,
    expected,
    name: str = "result",
    rtol: float = RTOL,
    atol: float = ATOL,
    mistakes: dict | None = None,
    inputs: dict | None = None,
    check_dtype: bool = True,
) -> None:
    """Fail with a teaching message unless ``received`` equals ``expected`` within tolerance.

    ``|received - expected| <= atol + rtol |expected|`` must hold element-wise and the shapes
    must be equal. ``mistakes`` maps a description of a known mistake to the array that
    mistake produces (or a zero-argument callable computing it); a match is named in the
    message. ``inputs`` (label -> array) are shown in the message. With ``check_dtype`` a
    boolean or integer result fails when a float result is expected.
    """
    __tracebackhide__ = True  # IPython hides this frame: the student sees the message
    raw = _as_numeric(received, name)
    with quiet():
        mistakes = {d: (c() if callable(c) else c) for d, c in (mistakes or {}).items()}
        expected_kind = np.asarray(expected).dtype.kind  # before the float64 cast below
        exp = np.asarray(expected, dtype=np.float64)
        got = raw.astype(np.float64)
        header = "".join(f"\n  input {k}: {fmt(v)}" for k, v in (inputs or {}).items())
        if got.shape != exp.shape:
            lines = [
                f"{name} has the wrong shape: expected shape {exp.shape}, "
                f"received shape {got.shape}.{header}"
            ]
            hint = match_mistake(got, mistakes, rtol, atol) or _shape_hint(got, exp, rtol, atol)
            if hint:
                lines.append(f"  Likely mistake: {hint}")
            raise AssertionError("\n".join(lines))
        if not allclose(got, exp, rtol, atol):
            raise AssertionError(explain(got, exp, name, rtol, atol, mistakes, inputs))
    if check_dtype and expected_kind in "fc" and raw.dtype.kind not in "fc":
        raise AssertionError(_dtype_message(name, raw.dtype))


def _shape_hint(got: np.ndarray, exp: np.ndarray, rtol, atol) -> str | None:
    if got.ndim == 0 and exp.ndim > 0:
        return "a single number came back: did you sum or average over everything?"
    if got.shape == exp.shape[::-1] and allclose(got.T, exp, rtol, atol):
        return "the result is transposed (rows and columns swapped)"
    if got.size == exp.size and allclose(got.reshape(exp.shape), exp, rtol, atol):
        return f"the values are right but arranged as {got.shape}: avoid the extra axis or reshape"
    if got.ndim == exp.ndim + 1 and exp.shape == got.shape[: exp.ndim] + got.shape[exp.ndim + 1 :]:
        return "an extra axis appeared; check keepdims or the shape of your weights"
    return None


def _copy(arg):
    """A private copy of an array argument; anything else (a function, a number) as is."""
    return np.array(arg, copy=True) if isinstance(arg, np.ndarray) else arg


def assert_unchanged(label: str, given) -> None:
    """Fail if a call changed an input in place.

    given: (name, copy taken before the call, the array the call received) for each array
    input, e.g. ``[("x", x_before, x_passed)]``.
    """
    __tracebackhide__ = True
    for name, old, new in given:
        old, new = np.asarray(old), np.asarray(new)
        if not np.array_equal(old, new, equal_nan=True):
            raise AssertionError(
                f"{label} changed its input {name} in place (e.g. with `{name} -= ...`); "
                "work on a new array instead so the caller's data stay intact"
            )


def assert_new(label: str, result, name: str, arg, hint: str = "") -> None:
    """Fail if a call returned its input ``arg`` (called ``name``) itself where the exercise
    asks for a new array: a later change of the result in place would change the caller's
    data. ``hint`` follows "return a new array" in the message (", also for p = 0")."""
    __tracebackhide__ = True
    if result is arg:
        raise AssertionError(
            f"{label} returned {name} itself: return a new array{hint}, so that changing "
            f"the result cannot change the caller's {name}"
        )


def mistake_values(mistakes: dict | None, *args) -> dict:
    """description -> what that known mistake returns for ``args``.

    ``mistakes`` maps a description to a value, or to a callable taking ``args`` (each array
    passed as a private copy). A callable that raises for these inputs (the mistake cannot
    happen with these shapes) maps to None, which matches nothing.
    """
    resolved = {}
    for description, candidate in (mistakes or {}).items():
        if callable(candidate):
            try:
                with quiet():
                    candidate = candidate(*[_copy(a) for a in args])
            except Exception:  # noqa: BLE001 (a candidate that cannot be computed does not match)
                candidate = None
        resolved[description] = candidate
    return resolved


def check_output(
    fn,
    *args,
    expected,
    name: str | None = None,
    arg_names: tuple[str, ...] | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
    mistakes: dict | None = None,
    forbid: str | tuple[str, ...] = (),
    check_dtype: bool = True,
):
    """Call ``fn(*args)`` quietly and fail unless it returns ``expected``; return the result.

    ``expected`` is an array (compute it with a fresh reference, ``G.ref...``).
    ``mistakes``: description -> array, or callable taking the same ``*args``.
    ``forbid``: dotted names of nnlib references disabled during the call.
    The call must also leave its input arrays unchanged.
    """
    __tracebackhide__ = True  # IPython hides this frame: the student sees the message
    names = arg_names or tuple(f"arg{i}" for i in range(len(args)))
    label = name or f"{getattr(fn, '__name__', 'f')}({', '.join(names)})"
    before = [_copy(a) if isinstance(a, np.ndarray) else None for a in args]
    with forbidden(fn, forbid):
        received = call(fn, *args, name=label)
    assert_unchanged(
        label,
        [
            (n, old, new)
            for n, old, new in zip(names, before, args, strict=True)
            if old is not None
        ],
    )
    resolved = mistake_values(mistakes, *args)
    inputs = {n: a for n, a in zip(names, args, strict=True) if isinstance(a, np.ndarray)}
    assert_close(received, expected, label, rtol, atol, resolved, inputs, check_dtype)
    return received


def check_no_warnings(fn, *args, name: str | None = None, hint: str = "", forbid=()):
    """Fail if ``fn(*args)`` emits any warning (numpy floating-point or Python) or stderr text.

    numpy's own default decides what counts: overflow, division by zero and invalid
    operations warn; underflow to 0 (exp(-1000)) is exact enough and does not.

    Use it only where the exercise itself asks for a warning-free computation (a stable
    sigmoid); elsewhere a harmless warning must not cost points. Nothing is printed.
    """
    __tracebackhide__ = True  # IPython hides this frame: the student sees the message
    label = name or getattr(fn, "__name__", "your function")
    buf = io.StringIO()
    with (
        forbidden(fn, forbid),
        warnings.catch_warnings(record=True) as caught,
        np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"),
        contextlib.redirect_stderr(buf),
    ):
        warnings.simplefilter("always")
        invoke(fn, args, name=label)
    issues = [f"{w.category.__name__}: {w.message}" for w in caught]
    if buf.getvalue().strip():
        issues.append(f"text on stderr: {buf.getvalue().strip()[:200]}")
    if issues:
        shown = "\n".join(f"  - {m}" for m in dict.fromkeys(issues))
        raise AssertionError(
            f"{label} gives the right kind of result but emits warnings:\n{shown}\n{hint}".rstrip()
        )
