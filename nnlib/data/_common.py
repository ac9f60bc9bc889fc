"""Argument checks shared by the data helpers."""

from __future__ import annotations

import numbers

import numpy as np


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as ``int``; ``ValueError`` unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_non_negative(value, name: str) -> float:
    """Return ``value`` as ``float``, or raise ``ValueError`` unless it is a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value
