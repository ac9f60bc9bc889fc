"""Helpers for the notebooks' nbgrader test cells.

A test cell starts with ``import numpy as np; from nnlib.grading import fresh; G = fresh()``
and then calls helpers instead of bare asserts:

- ``G.check_output(fn, *args, expected=..., mistakes=..., forbid=...)``: call quietly,
  compare, explain (expected vs received shape, values, largest error, likely mistake);
- ``G.check_no_warnings(fn, *args, hint=...)``: only where the exercise asks for it;
- ``G.check_derivative(g_prime, g, z, reference_prime=...)``: against the reference and
  against central differences of the student's own g;
- ``G.check_backward(forward, backward, *inputs, reference=...)``: the same for layers;
- ``G.assert_unchanged(label, [(name, before, after), ...])``: no input changed in place;
- ``G.assert_new(label, result, name, arg)``: the result is not the input ``arg`` itself;
- ``G.mistake_values(mistakes, *args)``: what each known mistake returns for these inputs;
- ``G.assert_close``, ``G.assert_shape``, ``G.call``, ``G.quiet``, ``G.forbid``;
- ``G.ref.<module>``: fresh copies of the nnlib reference modules;
- ``G.checks.<topic>``: each topic's checkers (``nnlib.grading.checks``), loaded afresh too.

Guarantees: nothing is written to stderr by a check (nbgrader would zero the cell), so a
student's harmless warning costs nothing, while a wrong result raises ``AssertionError``.
No helper uses ``np.testing``; tolerances are computed explicitly.

Where the trust comes from: when a class is graded (``nncourse autograde``, ``nbgrader
autograde``), these checks run in a trusted process and the student's code in an OS
sandbox, reached through proxies that carry only data (see nncourse/autograde/). There,
nothing the student writes can touch the checks, and the references they must not call
are absent. In the student's own kernel (the Validate button, a self-learner's run) the
same checks explain mistakes and ``forbid`` catches calls to the reference, but nothing
stops a student from tampering with their own kernel: that is not where grades come from.
"""

from nnlib.grading.compare import (
    assert_close,
    assert_new,
    assert_shape,
    assert_unchanged,
    check_no_warnings,
    check_output,
    mistake_values,
)
from nnlib.grading.feedback import fmt
from nnlib.grading.forbid import forbid, forbidden
from nnlib.grading.gradients import check_backward, check_derivative
from nnlib.grading.quiet import call, quiet
from nnlib.grading.reference import fresh

__all__ = [
    "assert_close",
    "assert_new",
    "assert_shape",
    "assert_unchanged",
    "call",
    "check_backward",
    "check_derivative",
    "check_no_warnings",
    "check_output",
    "fmt",
    "forbid",
    "forbidden",
    "fresh",
    "mistake_values",
    "quiet",
]
