"""Gradient checks for derivatives and backward passes written by students.

A student's derivative is checked two ways, each usable in its own test cell:

1. against the nnlib reference (is it *the* right derivative?), and
2. against central differences of the student's OWN forward function (is it the
   derivative of what they wrote?), computed with ``nnlib.gradcheck.numerical_gradient``.

Everything runs in float64. Fixed tolerances: the step is h = 1e-5, whose central
difference is accurate to about 1e-9 relative to the gradient's scale (truncation error
O(h^2), rounding error O(eps / h)); a check passes when
``nnlib.gradcheck.relative_error(analytic, numerical) <= GRAD_TOL = 1e-6``, far below the
error of any real mistake (a missing factor or term is off by 1e-2 or more). Comparisons
with the reference use ``RTOL = 1e-6`` and an absolute tolerance of ``1e-9`` times the
gradient's scale. Choose inputs at least 1e-3 away from kinks (ReLU at 0), where the
central difference straddles the corner and is meaningless.
"""

from __future__ import annotations

import contextlib

import numpy as np

from nnlib.gradcheck import numerical_gradient, relative_error
from nnlib.grading.compare import (
    RTOL,
    assert_close,
    assert_shape,
    assert_unchanged,
    mistake_values,
)
from nnlib.grading.feedback import explain
from nnlib.grading.forbid import forbidden
from nnlib.grading.quiet import call, invoke, quiet

#: central-difference step
H = 1e-5
#: largest accepted relative error between an analytic and a numerical gradient
GRAD_TOL = 1e-6


def _scaled_atol(*arrays) -> float:
    scale = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    return 1e-9 * max(scale, 1.0)


def _assert_matches_numerical(analytic, numeric, label, what, inputs, mistakes=None):
    analytic = np.asarray(analytic, dtype=np.float64)
    with quiet():
        err = relative_error(analytic, numeric)
    if not err <= GRAD_TOL:  # also catches NaN
        scale = max(float(np.max(np.abs(analytic) + np.abs(numeric))), 1e-12)
        text = explain(analytic, numeric, label, 0.0, GRAD_TOL * scale, mistakes, inputs)
        raise AssertionError(
            f"{text}\n  (compared with central differences of your own {what}, "
            f"h = {H:g}: relative error {err:.3g} > {GRAD_TOL:g})"
        )


def check_derivative(
    g_prime,
    g,
    z,
    reference_prime=None,
    numerical: bool = True,
    name: str | None = None,
    mistakes: dict | None = None,
    forbid: str | tuple[str, ...] = (),
):
    """Check an element-wise derivative ``g_prime(z)`` and return it.

    g_prime, g: the student's derivative and forward, element-wise, z -> same shape.
    z: the points (any shape); used as float64.
    reference_prime: the nnlib derivative (``G.ref.activations.sigmoid_prime``); when given,
        ``g_prime(z)`` must equal it (``mistakes`` then name known-wrong answers: arrays or
        callables of z).
    numerical: also require ``g_prime(z)`` to match central differences of ``g`` itself.
    forbid: nnlib references disabled while the student's functions run.
    """
    __tracebackhide__ = True  # IPython hides this frame: the student sees the message
    z = np.array(z, dtype=np.float64)
    label = name or f"{getattr(g_prime, '__name__', 'derivative')}(z)"
    with forbidden(g_prime, forbid):
        d = call(g_prime, z.copy(), name=label)
    if reference_prime is not None:
        with quiet():
            expected = reference_prime(z.copy())
            wrong = {k: (v(z.copy()) if callable(v) else v) for k, v in (mistakes or {}).items()}
        atol = _scaled_atol(np.asarray(expected))
        assert_close(d, expected, label, RTOL, atol, wrong, {"z": z})
    if numerical:
        assert_shape(d, z.shape, label)
        g_name = getattr(g, "__name__", "g")
        with forbidden(g, forbid), quiet():
            numeric = numerical_gradient(lambda x: np.sum(invoke(g, (x,), name=g_name)), z, H)
        _assert_matches_numerical(d, numeric, label, f"{g_name}(z)", {"z": z})
    return d


def _as_list(grads, n: int, label: str) -> list:
    if n == 1 and not isinstance(grads, (tuple, list)):
        return [grads]
    if not isinstance(grads, (tuple, list)) or len(grads) != n:
        kind = type(grads).__name__
        size = f" of length {len(grads)}" if isinstance(grads, (tuple, list)) else ""
        raise AssertionError(f"{label} should return {n} gradients, got a {kind}{size}")
    return list(grads)


def check_backward(
    forward,
    backward,
    *inputs,
    names: tuple[str, ...] | None = None,
    wrt: tuple[int, ...] | None = None,
    dout=None,
    reference=None,
    numerical: bool = True,
    mistakes: dict | None = None,
    forbid: str | tuple[str, ...] = (),
    seed: int = 0,
):
    """Check a backward pass against the reference and against numerical gradients.

    forward(*inputs) -> out: the student's forward (wrap it in a lambda to adapt a
        signature, e.g. ``lambda x, W, b: dense_forward(x, W, b)[0]``).
    backward(dout, *inputs) -> the gradients of sum(out * dout) w.r.t. ``inputs[i]`` for i in
        ``wrt`` (default: all), as a tuple in that order (a bare array if there is one).
    inputs: arrays, used as float64 copies. names: their names in messages.
    dout: upstream gradient, shape of out (default: standard normal, seeded by ``seed``).
    reference(dout, *inputs): the nnlib gradients in the same structure; when given the
        student's must equal them. numerical: also require agreement with central
        differences of sum(forward(...) * dout), using the student's own forward.
    mistakes: description -> callable(dout, *inputs) returning gradients in the same
        structure as backward (a known-wrong answer that the message then names).
    Returns the list of the student's gradients. Neither inputs nor dout may be modified.
    """
    __tracebackhide__ = True  # IPython hides this frame: the student sees the message
    xs = [np.array(x, dtype=np.float64) for x in inputs]
    names = tuple(names or (f"input{i}" for i in range(len(xs))))
    wrt = tuple(range(len(xs)) if wrt is None else wrt)
    f_label = getattr(forward, "__name__", "forward")
    b_label = getattr(backward, "__name__", "backward")
    with forbidden(forward, forbid):
        out = np.asarray(call(forward, *[x.copy() for x in xs], name=f_label), dtype=np.float64)
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(out.shape)
    dout = np.array(dout, dtype=np.float64)
    passed = [x.copy() for x in xs]
    dout_passed = dout.copy()
    with forbidden(backward, forbid):
        raw = call(backward, dout_passed, *passed, name=b_label)
    grads = _as_list(raw, len(wrt), b_label)
    assert_unchanged(
        b_label, zip(("dout", *names), (dout, *xs), (dout_passed, *passed), strict=True)
    )
    ref = None
    if reference is not None:
        with quiet():
            ref = _as_list(reference(dout.copy(), *[x.copy() for x in xs]), len(wrt), "reference")
    wrong = {}
    for description, value in mistake_values(mistakes, dout, *xs).items():
        with contextlib.suppress(AssertionError):  # None or another structure: no match
            wrong[description] = _as_list(value, len(wrt), description)
    inputs_shown = {"dout": dout, **{names[i]: xs[i] for i in wrt}}
    for k, i in enumerate(wrt):
        label = f"{b_label}: gradient w.r.t. {names[i]}"
        cands = {d: c[k] for d, c in wrong.items()}
        numeric = None
        if numerical:

            def scalar(x, i=i):
                args = [x if j == i else xs[j].copy() for j in range(len(xs))]
                return np.sum(np.asarray(invoke(forward, args, name=f_label)) * dout)

            with forbidden(forward, forbid), quiet():
                numeric = numerical_gradient(scalar, xs[i], H)
        if ref is not None:
            expected = np.asarray(ref[k], dtype=np.float64)
            atol = _scaled_atol(expected)
            assert_close(grads[k], expected, label, RTOL, atol, cands, inputs_shown)
        elif np.shape(grads[k]) != xs[i].shape and numeric is not None:
            # wrong shape: assert_close explains it (transposed, extra axis, named mistake)
            assert_close(grads[k], numeric, label, 1e-4, _scaled_atol(numeric) * 1e3, cands)
        assert_shape(grads[k], xs[i].shape, label)
        if numeric is not None:
            _assert_matches_numerical(grads[k], numeric, label, f_label, inputs_shown, cands)
    return grads
