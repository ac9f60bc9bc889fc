"""Messages that teach: how a received array differs from the expected one.

The comparison helpers call :func:`explain` when a check fails. It reports the expected and
received shape, a few values, the largest error and where it is, and, when it can tell, the
likely mistake: a known-wrong candidate that the received value matches (supplied by the
test as ``mistakes={"description": array}``), or a generic one (transposed, off by a
constant factor or offset, NaN/inf produced).
"""

from __future__ import annotations

import numpy as np

#: how many values a message shows
N_SHOWN = 6


def fmt(x) -> str:
    """Short one-line text for an array: shape, dtype and its values (a few if large)."""
    arr = np.asarray(x)
    if arr.ndim == 0:
        return f"{arr.item()!r}" if arr.dtype.kind not in "fc" else f"{float(arr):.6g}"
    with np.printoptions(precision=6, threshold=N_SHOWN * 2, edgeitems=N_SHOWN // 2):
        text = " ".join(np.array2string(arr, separator=", ", max_line_width=10_000).split())
        if len(text) > 160:  # too big to read at a glance: the first few values in order
            first = np.array2string(arr.ravel()[:N_SHOWN], separator=", ")
            text = f"first values {' '.join(first.split())[:-1]}, ...]"
    return f"shape {arr.shape}, dtype {arr.dtype}: {text}"


def close(a, b, rtol: float, atol: float) -> np.ndarray:
    """Element-wise |a - b| <= atol + rtol |b|, with equal infinities counting as equal.

    Written out (not ``np.isclose``/``np.testing``) so that a rebound numpy helper cannot
    change what the grader accepts.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(all="ignore"):
        ok = np.abs(a - b) <= atol + rtol * np.abs(b)
        same_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    return ok | same_inf


def allclose(a, b, rtol: float, atol: float) -> bool:
    """True when ``a`` and ``b`` have the same shape and are close everywhere."""
    try:
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.all(close(a, b, rtol, atol)))


def worst(received: np.ndarray, expected: np.ndarray) -> str:
    """'largest error E at index I: expected X, received Y' for same-shaped float arrays."""
    with np.errstate(all="ignore"):
        err = np.abs(received - expected)
    err = np.where(np.isnan(err), np.inf, err)
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape))
    where = idx if len(idx) != 1 else idx[0]
    return (
        f"largest error {float(err[idx]):.3g} at index {where}: "
        f"expected {float(expected[idx]):.6g}, received {float(received[idx]):.6g}"
    )


def generic_mistake(received: np.ndarray, expected: np.ndarray, rtol, atol) -> str | None:
    """Name a mistake that needs no knowledge of the exercise, or return None."""
    if received.shape == expected.shape:
        if (
            received.ndim == 2
            and received.shape[0] == received.shape[1]
            and allclose(received.T, expected, rtol, atol)
        ):
            return "the result is transposed (rows and columns swapped)"
        nz = np.abs(expected) > 1e-12
        if nz.sum() >= 2:
            with np.errstate(all="ignore"):
                ratio = received[nz] / expected[nz]
            c = float(np.median(ratio))
            scaled = c * expected
            if np.isfinite(c) and abs(c - 1) > 1e-3 and allclose(received, scaled, rtol, atol):
                if abs(c + 1) < 1e-3:
                    return "the sign is flipped everywhere (off by a factor of -1)"
                return f"off by a constant factor of {c:.4g} (received = {c:.4g} x expected)"
        if expected.size >= 2:
            d = float(np.median(received - expected))
            if np.isfinite(d) and allclose(received, expected + d, rtol, atol):
                return f"off by a constant offset of {d:.4g} everywhere"
    return None


def explain(
    received: np.ndarray,
    expected: np.ndarray,
    name: str,
    rtol: float,
    atol: float,
    mistakes: dict | None = None,
    inputs: dict | None = None,
) -> str:
    """The full failure message for same-shaped float arrays that are not close."""
    lines = [f"{name} is not right."]
    for label, value in (inputs or {}).items():
        lines.append(f"  input {label}: {fmt(value)}")
    lines.append(f"  expected: {fmt(expected)}")
    lines.append(f"  received: {fmt(received)}")
    bad = ~close(received, expected, rtol, atol)
    nonfinite = ~np.isfinite(received) & np.isfinite(expected)
    if nonfinite.any():
        idx = tuple(int(i) for i in np.argwhere(nonfinite)[0])
        lines.append(
            f"  your result contains NaN or inf ({int(nonfinite.sum())} entries, first at index "
            f"{idx if len(idx) != 1 else idx[0]}) where the expected values are finite: "
            "look for exp of a large number, 0/0 or inf/inf"
        )
    lines.append(f"  {worst(received, expected)} ({int(bad.sum())} of {bad.size} entries wrong)")
    hint = match_mistake(received, mistakes, rtol, atol) or generic_mistake(
        received, expected, rtol, atol
    )
    if hint:
        lines.append(f"  Likely mistake: {hint}")
    return "\n".join(lines)


def match_mistake(received: np.ndarray, mistakes: dict | None, rtol, atol) -> str | None:
    """The description of the first known-wrong candidate that ``received`` matches."""
    for description, candidate in (mistakes or {}).items():
        if candidate is not None and allclose(received, candidate, rtol, atol):
            return description
    return None
