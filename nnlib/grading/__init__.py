"""Helpers for the notebooks' nbgrader test cells.

A test cell starts with ``import numpy as np; from nnlib.grading import fresh; G = fresh()``
and then calls helpers instead of bare asserts:

- ``G.check_output(fn, *args, expected=..., mistakes=..., forbid=...)``: call quietly,
  compare, explain (expected vs received shape, values, largest error, likely mistake);
- ``G.check_no_warnings(fn, *args, hint=...)``: only where the exercise asks for it;
- ``G.check_derivative(g_prime, g, z, reference_prime=...)``: against the reference and
  against central differences of the student's own g;
- ``G.check_backward(forward, backward, *inputs, reference=...)``: the same for layers;
- ``G.assert_close``, ``G.assert_shape``, ``G.call``, ``G.quiet``, ``G.forbid``;
- ``G.ref.<module>``: fresh copies of the nnlib reference modules.

Guarantees: nothing is written to stderr by a check (nbgrader would zero the cell), so a
student's harmless warning costs nothing, while a wrong result raises ``AssertionError``.
No helper uses ``np.testing``; tolerances are computed explicitly.

Limits, honestly: these checks run in the student's own kernel. ``fresh()`` defeats
rebinding of grading helpers, ``np.testing`` and nnlib names, and ``forbid`` defeats calls
to the reference in every form we know of, but a determined student can still tamper with
what the checks themselves rely on: numpy functions (``np.abs``, ``np.max``), builtins,
``sys.modules`` or ``importlib`` before ``fresh()`` runs, ``nnlib.grading.fresh`` itself,
or the test cells' source (nbgrader restores that, not the kernel state). Only running the
hidden tests in a separate process against the submitted source closes those holes; that
is future work. The checks are meant to make honest work the easy path and to explain
mistakes, not to be an exam-proof sandbox.
"""

from nnlib.grading.compare import (
    assert_close,
    assert_shape,
    check_no_warnings,
    check_output,
)
from nnlib.grading.feedback import fmt
from nnlib.grading.forbid import forbid, forbidden
from nnlib.grading.gradients import check_backward, check_derivative
from nnlib.grading.quiet import call, quiet
from nnlib.grading.reference import fresh

__all__ = [
    "assert_close",
    "assert_shape",
    "call",
    "check_backward",
    "check_derivative",
    "check_no_warnings",
    "check_output",
    "fmt",
    "forbid",
    "forbidden",
    "fresh",
    "quiet",
]
