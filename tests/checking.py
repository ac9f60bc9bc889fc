"""What the unit tests of nnlib.grading.checks share."""

import contextlib
import io

import pytest


@contextlib.contextmanager
def fails(*messages: str):
    """The block raises AssertionError whose message contains each of `messages` literally,
    and writes nothing to stderr (nbgrader would zero a test cell that did)."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), pytest.raises(AssertionError) as caught:
        yield caught
    missing = [m for m in messages if m not in str(caught.value)]
    assert not missing, f"{missing} not in: {caught.value}"
    assert stderr.getvalue() == "", stderr.getvalue()
