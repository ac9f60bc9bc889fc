"""Shared pytest set-up: tests/ on sys.path (so `import nbgrader_harness` works) and a
session-wide throwaway nbgrader course."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

# pytest-xdist runs two workers on two cores; a BLAS that also starts a thread per core in
# every worker and every notebook kernel (which inherit this environment) oversubscribes
# the machine and makes small matrix products many times slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from nbgrader_harness import Course, known_solutions  # noqa: E402


@pytest.fixture(scope="session")
def course(tmp_path_factory) -> Course:
    """One throwaway nbgrader course holding every notebook of solutions/ (each released
    on first use), shared by all tests of a pytest worker."""
    return Course(tmp_path_factory.mktemp("nbgrader-course"), known_solutions())


@pytest.fixture(scope="session")
def playwright():
    """One Playwright per test process: the browser tests and the class tests both drive
    Chromium, and a second sync_playwright() cannot start while one runs in the process
    (it sees the first one's event loop), which is where pytest-xdist may put both."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def rng(request):
    """A generator seeded from the test's own name: each test gets its own fixed stream,
    unchanged when tests are added, removed or run alone."""
    return np.random.default_rng(list(request.node.nodeid.encode()))
