"""Run a student's function without letting it write to stderr.

nbgrader gives zero to a test cell that writes anything to stderr, so a student's harmless
numpy warning ("overflow encountered in exp") would cost points although the answer is
right. Everything a test helper evaluates therefore runs inside :func:`quiet`, which

- silences numpy floating-point warnings (``np.errstate(all="ignore")``),
- silences Python warnings (``warnings.simplefilter("ignore")``), and
- captures whatever is printed to ``sys.stderr`` during the call.

A wrong answer still fails: the helpers raise ``AssertionError``, whose traceback is the
cell's error output, which is how nbgrader records a failed test.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sysconfig
import traceback
import warnings

import numpy as np


@contextlib.contextmanager
def quiet():
    """Context manager: no numpy warnings, no Python warnings, stderr captured.

    Yields the ``io.StringIO`` that received anything written to ``sys.stderr``.
    """
    captured = io.StringIO()
    with (
        np.errstate(all="ignore"),
        warnings.catch_warnings(),
        contextlib.redirect_stderr(captured),
    ):
        warnings.simplefilter("ignore")
        yield captured


def call(fn, *args, name: str | None = None, **kwargs):
    """Return ``fn(*args, **kwargs)`` computed quietly; any failure becomes an AssertionError.

    ``name`` is how the message refers to the function (default: its ``__name__``).
    ``NotImplementedError`` means the exercise is not done yet and is reported as such.
    """
    __tracebackhide__ = True  # IPython hides this frame: the student sees the message
    with quiet():
        return invoke(fn, args, kwargs, name)


def invoke(fn, args=(), kwargs=None, name: str | None = None):
    """``fn(*args, **kwargs)`` with exceptions turned into teaching AssertionErrors (not quiet)."""
    __tracebackhide__ = True  # IPython hides this frame: the student sees the message
    label = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        raise AssertionError(f"{label} should be a function, but it is {type(fn).__name__}")
    try:
        return fn(*args, **(kwargs or {}))
    except AssertionError:
        raise  # a forbidden call, or the student's own assert: its message says it all
    except NotImplementedError:
        raise AssertionError(
            f"{label} is not written yet: replace `raise NotImplementedError()` with your code"
        ) from None
    except Exception as err:  # the student's code crashed: say which error and where
        where = _your_line(err)
        raise AssertionError(
            f"calling {label} raised {type(err).__name__}: {err}"
            + (f"\n({where})" if where else "")
        ) from err


# Files that are not the student's: the standard library, installed packages, nnlib.
_LIBRARY = tuple(
    os.path.realpath(p) + os.sep
    for p in {*sysconfig.get_paths().values(), os.path.dirname(os.path.dirname(__file__))}
)
_REPORTED = re.compile(
    r'File "(?P<file>[^"]*)", line (?P<line>\d+), in (?P<name>\S+)\n(?P<code>.*)'
)


def _your_line(err: BaseException) -> str:
    """'in your tanh_prime, line 2: return x + y' for the last line of the student's own
    code that `err` passed through, or '' when there is none."""
    reported = getattr(err, "student_traceback", None)  # a graded run: the sandbox's frames
    if reported:
        # the sandbox names the student's cells "<label>"; other frames are libraries
        cells = [
            m for m in map(_REPORTED.search, map(str, reported)) if m and m["file"][:1] == "<"
        ]
        if not cells:
            return ""
        line, name, code = cells[-1]["line"], cells[-1]["name"], cells[-1]["code"].strip()
    else:
        frames = [
            f
            for f in traceback.extract_tb(err.__traceback__)
            if not os.path.realpath(f.filename).startswith(_LIBRARY)
        ]
        if not frames:
            return ""
        line, name, code = frames[-1].lineno, frames[-1].name, (frames[-1].line or "").strip()
    where = f"in your {name}, line {line}" if name != "<module>" else f"at line {line}"
    return f"{where}: {code}" if code else where
