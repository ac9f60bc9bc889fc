"""Messages that teach: how a received array differs from the expected one.

The comparison helpers call :func:`explain` when a check fails. It reports the expected and
received shape, a few values, the largest error and where it is, and, when it can tell, the
likely mistake: a known-wrong candidate that the received value matches (supplied by the
test as ``mistakes={"description": array}``), or a generic one (transposed, off by a
constant factor or offset, NaN/inf produced). When no mistake matches, it says where the
values differ (:func:`where_wrong`): which entries, whether whole rows (samples) or whole
columns are wrong, and a factor or offset per row, per column or for the wrong entries when
there is one. Factors that are simple fractions are named as such, and the reciprocal of a
dimension of the result or of an input is named with it (0.1667 = 1/6, the number of rows).
"""

from __future__ import annotations

import warnings

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


def generic_mistake(
    received: np.ndarray, expected: np.ndarray, rtol, atol, inputs: dict | None = None
) -> str | None:
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
            if np.all(received == 0):
                return "your result is all zeros"
            if np.isfinite(c) and abs(c - 1) > 1e-3 and allclose(received, scaled, rtol, atol):
                if abs(c + 1) < 1e-3:
                    return "the sign is flipped everywhere (off by a factor of -1)"
                named = name_factor(c, dimensions(received.shape, inputs))
                return f"off by a constant factor of {named} (received = {c:.4g} x expected)"
        if expected.size >= 2:
            d = float(np.median(received - expected))
            if np.isfinite(d) and allclose(received, expected + d, rtol, atol):
                return f"off by a constant offset of {d:.4g} everywhere"
    return None


def _index(idx) -> str:
    idx = tuple(int(i) for i in idx)
    return str(idx[0]) if len(idx) == 1 else str(idx)


def _listed(values, most: int = 4, total: int | None = None) -> str:
    """'0, 2, 5' or '0, 2, 5, 7, ... (12 in all)'; ``total`` when ``values`` is cut short."""
    total = len(values) if total is None else total
    values = [str(v) for v in values[:most]]
    if total <= most:
        return ", ".join(values)
    return f"{', '.join(values)}, ... ({total} in all)"


def dimensions(shape: tuple, inputs: dict | None = None) -> list[tuple[int, str]]:
    """(size, what it is) for each axis of the result and of the inputs, sizes >= 2 only."""
    found = []

    def add(shape, rows, cols, entries, axis):
        if len(shape) == 1:
            found.append((shape[0], entries))
        for ax, size in enumerate(shape if len(shape) > 1 else ()):
            found.append((size, rows if ax == 0 else cols if ax == 1 else axis(ax)))

    add(
        tuple(shape),
        "the number of rows, the samples",
        "the number of columns",
        "the number of entries",
        lambda ax: f"the size of axis {ax}",
    )
    for label, value in (inputs or {}).items():
        add(
            np.shape(value),
            f"the number of rows of {label}",
            f"the number of columns of {label}",
            f"the length of {label}",
            lambda ax, label=label: f"the size of axis {ax} of {label}",
        )
    return [(int(k), what) for k, what in found if k >= 2]


def name_factor(c: float, dims: list[tuple[int, str]] = ()) -> str:
    """The factor ``c`` as text, named as a simple fraction where it is one.

    0.1667 with 6 rows gives '0.1667 = 1/6, one over the number of rows, the samples';
    without such a dimension '0.1667 = 1/6'; 1.5 gives '1.5 = 3/2'; 0.3183 just '0.3183'.
    """
    text = f"{c:.4g}"
    if not np.isfinite(c) or c == 0:
        return text
    sign = "-" if c < 0 else ""
    a = abs(c)

    def near(x, target):
        return abs(x - target) <= 1e-4 * abs(target)

    for k, what in dims:
        if near(a, 1.0 / k):
            return f"{text} = {sign}1/{k}, one over {what}"
        if near(a, float(k)) and k > 2:  # 2 is too common a factor to blame a dimension
            return f"{text}, {'minus ' if sign else ''}{what}"
    for q in range(2, 13):
        p = round(a * q)
        if 1 <= p <= 12 and near(a * q, p) and np.gcd(p, q) == 1:
            return f"{text} = {sign}{p}/{q}"
    return text


def _common_factor(received, expected, rtol, atol, axis=None):
    """Per-slice factor c with received ~ c * expected (NaN where none), along ``axis``.

    axis None: one factor for all entries. axis 1: one per row. axis 0: one per column.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nz = np.abs(expected) > 1e-12
        if axis is None:
            ratio = np.where(nz, received / np.where(nz, expected, 1.0), np.nan)
            c = np.nanmedian(ratio)
        else:  # the ratio at the largest expected entry of each slice (then checked)
            at = np.expand_dims(np.argmax(np.abs(expected), axis=axis), axis)
            c = np.take_along_axis(received, at, axis) / np.take_along_axis(expected, at, axis)
        fits = close(received, c * expected, rtol, atol)
        ok = np.all(fits, axis=axis, keepdims=axis is not None) & np.isfinite(c)
        ok &= np.sum(nz, axis=axis, keepdims=axis is not None) >= 1
    return np.where(ok, c, np.nan)


def _common_offset(received, expected, rtol, atol, axis):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        at = np.expand_dims(np.argmax(np.abs(received - expected), axis=axis), axis)
        d = np.take_along_axis(received - expected, at, axis)
        ok = np.all(close(received, expected + d, rtol, atol), axis=axis, keepdims=True)
        ok &= np.isfinite(d)
    return np.where(ok, d, np.nan)


def _slice_pattern(received, expected, bad, rtol, atol, axis, what, dims) -> str | None:
    """Factors or offsets, one per wrong row (axis 1) or column (axis 0), when they exist."""
    wrong = np.any(bad, axis=axis)
    if not wrong.any():
        return None
    for kind, verb, values in (
        ("factor", "times", _common_factor(received, expected, rtol, atol, axis)),
        ("offset", "plus", _common_offset(received, expected, rtol, atol, axis)),
    ):
        v = values.ravel()[wrong]
        if not np.all(np.isfinite(v)) or (kind == "factor" and np.any(np.abs(v - 1) <= 1e-3)):
            continue
        text = [name_factor(float(c), dims) if kind == "factor" else f"{float(c):.4g}" for c in v]
        if len(v) > 1 and np.allclose(v, v[0], rtol=1e-4, atol=0):
            return f"every wrong {what} is the expected {what} {verb} one {kind}, {text[0]}"
        where = np.flatnonzero(wrong)
        if len(v) == 1:
            return f"{what} {where[0]} is the expected {what} {verb} {text[0]}"
        shown = [f"{what} {i} {verb} {t}" for i, t in zip(where, text, strict=True)]
        return (
            f"each wrong {what} is the expected {what} {verb} its own {kind}: {_listed(shown, 3)}"
        )
    return None


def where_wrong(
    received: np.ndarray,
    expected: np.ndarray,
    rtol: float,
    atol: float,
    inputs: dict | None = None,
) -> list[str]:
    """Where two same-shaped float arrays differ: entries, rows, columns, factors.

    Rows are samples; in arrays of three or more axes the first axis holds the samples.
    """
    dims = dimensions(received.shape, inputs)
    bad = ~close(received, expected, rtol, atol)
    if received.ndim == 0:
        r, e = float(received), float(expected)
        with np.errstate(all="ignore"):
            parts = [f"received - expected = {r - e:.4g}"]
            if e != 0 and np.isfinite(r / e):
                parts.append(f"received / expected = {name_factor(r / e, dims)}")
        return ["; ".join(parts)]
    lines = []
    n_bad, size = int(bad.sum()), bad.size
    positions = [_index(i) for i in np.argwhere(bad)[:4]]
    if n_bad == size:
        lines.append(f"every entry differs ({size} of {size})")
    else:
        lines.append(
            f"{n_bad} of {size} entries differ, at index {_listed(positions, total=n_bad)}; "
            "the others are right"
        )
    found_pattern = False
    if received.ndim == 2 and n_bad < size:
        n, m = received.shape
        rows_all, cols_all = bad.all(axis=1), bad.all(axis=0)
        rows_any, cols_any = bad.any(axis=1), bad.any(axis=0)
        if m > 1 and np.array_equal(bad, np.broadcast_to(rows_all[:, None], bad.shape)):
            rows = np.flatnonzero(rows_all)
            lines.append(
                f"whole rows are wrong: row(s) {_listed(rows)} (rows are samples); "
                "every other row is right"
            )
        elif n > 1 and np.array_equal(bad, np.broadcast_to(cols_all[None, :], bad.shape)):
            lines.append(
                f"whole columns are wrong: column(s) {_listed(np.flatnonzero(cols_all))}, "
                "in every row (sample); every other column is right"
            )
        else:
            if not rows_any.all():
                lines.append(
                    f"only row(s) {_listed(np.flatnonzero(rows_any))} contain wrong entries "
                    "(rows are samples)"
                )
            if not cols_any.all():
                lines.append(
                    f"only column(s) {_listed(np.flatnonzero(cols_any))} contain wrong entries"
                )
    if received.ndim == 2 and received.size > 1:
        for axis, what in ((1, "row"), (0, "column")):
            if received.shape[1 - axis] < 2:
                continue  # a single row or column: nothing to compare along
            pattern = _slice_pattern(received, expected, bad, rtol, atol, axis, what, dims)
            if pattern:
                lines.append(pattern)
                found_pattern = True
                break
    if received.ndim >= 3 and received.shape[0] > 1:  # samples along the first axis
        n = received.shape[0]
        r2, e2, b2 = (x.reshape(n, -1) for x in (received, expected, bad))
        samples_all, samples_any = b2.all(axis=1), b2.any(axis=1)
        if n_bad < size and np.array_equal(b2, np.broadcast_to(samples_all[:, None], b2.shape)):
            lines.append(
                f"whole samples are wrong: sample(s) {_listed(np.flatnonzero(samples_all))} "
                "(the first axis); every other sample is right"
            )
        elif n_bad < size and not samples_any.all():
            lines.append(
                f"only sample(s) {_listed(np.flatnonzero(samples_any))} (the first axis) "
                "contain wrong entries"
            )
        pattern = _slice_pattern(r2, e2, b2, rtol, atol, 1, "sample", dims)
        if pattern:
            lines.append(pattern)
            found_pattern = True
    if not found_pattern and n_bad < size:
        c = _common_factor(received[bad], expected[bad], rtol, atol)
        if np.all(received[bad] == 0):
            lines.append("your result is 0 at every wrong entry")
            found_pattern = True
        elif np.isfinite(c) and abs(float(c) - 1) > 1e-3:
            lines.append(
                "the wrong entries are all the expected values times "
                f"{name_factor(float(c), dims)}"
            )
            found_pattern = True
    if not found_pattern:
        flat = received.ravel()
        if size > 1 and np.all(flat == flat[0]):
            lines.append(f"every entry of your result is the same value, {fmt(flat[0])}")
        elif np.all(received[bad] == 0):
            lines.append("your result is all zeros")
        else:
            lines.append("no common factor or offset (overall, per row or per column) explains it")
    return lines


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
        received, expected, rtol, atol, inputs
    )
    if hint:
        lines.append(f"  Likely mistake: {hint}")
    else:
        lines.append("  Where the values differ:")
        lines.extend(
            f"    - {line}" for line in where_wrong(received, expected, rtol, atol, inputs)
        )
    return "\n".join(lines)


def match_mistake(received: np.ndarray, mistakes: dict | None, rtol, atol) -> str | None:
    """The description of the first known-wrong candidate that ``received`` matches."""
    for description, candidate in (mistakes or {}).items():
        if candidate is not None and allclose(received, candidate, rtol, atol):
            return description
    return None
