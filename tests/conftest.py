"""Shared pytest set-up: tests/ on sys.path so `import nbgrader_harness` works."""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
