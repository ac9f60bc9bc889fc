"""Failure messages diagnose: where values differ, which rows or columns, which factor.

Each test asserts exact fragments of the message a student reads when a comparison fails
and no named mistake matches (nnlib.grading.feedback.explain and where_wrong).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from nnlib.grading import assert_close, check_derivative, check_output
from nnlib.grading.feedback import dimensions, name_factor

E = np.arange(1.0, 13.0).reshape(6, 2)  # 6 samples (rows), 2 columns


def message(fn, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_factor_reciprocal_of_the_number_of_rows_is_named():
    msg = message(assert_close, E / 6, E, "grad")
    assert msg.startswith("grad is not right.")
    assert (
        "off by a constant factor of 0.1667 = 1/6, one over the number of rows, the samples "
        "(received = 0.1667 x expected)"
    ) in msg


def test_factor_equal_to_a_dimension_is_named():
    msg = message(assert_close, E * 6, E, "grad")
    assert "off by a constant factor of 6, the number of rows, the samples" in msg


def test_factor_reciprocal_of_an_input_dimension_is_named():
    """dW has shape (2, 3) but the batch of X has 6 samples: the 1/6 comes from X."""
    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((6, 3)), rng.standard_normal((2, 3))
    dW = rng.standard_normal((2, 3))
    msg = message(
        check_output,
        lambda X, W: dW / 6,
        X,
        W,
        expected=dW,
        arg_names=("X", "W"),
        name="dW",
    )
    assert "off by a constant factor of 0.1667 = 1/6, one over the number of rows of X" in msg


def test_simple_fractions_are_named():
    assert name_factor(0.25) == "0.25 = 1/4"
    assert name_factor(1.5) == "1.5 = 3/2"
    assert name_factor(-0.5) == "-0.5 = -1/2"
    assert name_factor(1 / np.pi) == "0.3183"
    assert name_factor(1 / 60, dimensions((60, 10))) == (
        "0.01667 = 1/60, one over the number of rows, the samples"
    )
    assert name_factor(10.0, dimensions((60, 10))) == "10, the number of columns"
    assert name_factor(2.0, dimensions((2, 2))) == "2"  # 2 is too common to blame a dimension
    msg = message(assert_close, np.array([1.0, 2.0, 4.0]) / 4, np.array([1.0, 2.0, 4.0]))
    assert "off by a constant factor of 0.25 = 1/4 (received = 0.25 x expected)" in msg


def test_whole_rows_wrong_are_named_with_their_factor():
    R = E.copy()
    R[[1, 4]] *= 2
    msg = message(assert_close, R, E, "out")
    assert "Where the values differ:" in msg
    assert "4 of 12 entries differ, at index (1, 0), (1, 1), (4, 0), (4, 1)" in msg
    assert "whole rows are wrong: row(s) 1, 4 (rows are samples); every other row is right" in msg
    assert "every wrong row is the expected row times one factor, 2" in msg


def test_whole_column_wrong_is_named_with_its_offset():
    R = E.copy()
    R[:, 1] += 0.5
    msg = message(assert_close, R, E, "out")
    assert "whole columns are wrong: column(s) 1, in every row (sample)" in msg
    assert "column 1 is the expected column plus 0.5" in msg


def test_column_factor_reciprocal_of_the_rows():
    R = E.copy()
    R[:, 0] /= 6
    msg = message(assert_close, R, E, "out")
    assert "whole columns are wrong: column(s) 0" in msg
    assert "column 0 is the expected column times 0.1667 = 1/6, one over the number of rows" in msg


def test_a_factor_per_row():
    """Like a softmax divided by the wrong sum: each row has its own factor."""
    R = E * np.array([[2.0], [3.0], [1.0], [1.0], [1.0], [1.0]])
    msg = message(assert_close, R, E, "P")
    assert "whole rows are wrong: row(s) 0, 1 (rows are samples)" in msg
    assert (
        "each wrong row is the expected row times its own factor: row 0 times 2, row 1 times 3"
        in msg
    )


def test_many_wrong_rows_are_listed_briefly():
    R = E * np.arange(1.0, 7.0)[:, None]
    msg = message(assert_close, R, E, "P")
    assert (
        "10 of 12 entries differ, at index (1, 0), (1, 1), (2, 0), (2, 1), ... (10 in all)" in msg
    )
    assert "whole rows are wrong: row(s) 1, 2, 3, 4, ... (5 in all)" in msg


def test_samples_of_a_batch_of_images_are_named():
    """(n, c, h, w) arrays: the first axis holds the samples."""
    want = np.arange(1.0, 1.0 + 4 * 2 * 3 * 3).reshape(4, 2, 3, 3)
    got = want.copy()
    got[2] *= 0.5
    msg = message(assert_close, got, want, "out")
    assert "18 of 72 entries differ, at index (2, 0, 0, 0), (2, 0, 0, 1)" in msg
    assert "whole samples are wrong: sample(s) 2 (the first axis); every other sample" in msg
    assert "sample 2 is the expected sample times 0.5 = 1/2" in msg
    got = want.copy()
    got[1, 0, 2, 2], got[3, 1, 0, 0] = 0.0, 7.0
    msg = message(assert_close, got, want, "out")
    assert "only sample(s) 1, 3 (the first axis) contain wrong entries" in msg


def test_scattered_entries_and_rows_are_named():
    R = E.copy()
    R[2, 1], R[3, 0] = 7.0, -1.0
    msg = message(assert_close, R, E, "out")
    assert "2 of 12 entries differ, at index (2, 1), (3, 0); the others are right" in msg
    assert "only row(s) 2, 3 contain wrong entries (rows are samples)" in msg
    assert "only column(s) 0, 1" not in msg  # every column has an error: nothing to say
    assert "no common factor or offset (overall, per row or per column) explains it" in msg


def test_zeros_and_constants_are_named():
    msg = message(assert_close, np.array([1.0, 2.0, 3.0, 0.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    assert "1 of 4 entries differ, at index 3; the others are right" in msg
    assert "your result is 0 at every wrong entry" in msg
    msg = message(assert_close, np.ones(3), np.array([1.0, 2.0, 3.0]))
    assert "every entry of your result is the same value, 1" in msg
    msg = message(assert_close, np.zeros(3), np.array([1.0, 2.0, 3.0]))
    assert "your result is all zeros" in msg


def test_a_number_gets_its_difference_and_ratio():
    msg = message(assert_close, 0.75, 1.5, "cost")
    assert "received - expected = -0.75; received / expected = 0.5 = 1/2" in msg


def test_no_pattern_still_says_where():
    msg = message(assert_close, np.array([0.3, 0.1, 0.5]), np.array([1.0, 2.0, 3.0]), "y")
    assert "every entry differs (3 of 3)" in msg
    assert "no common factor or offset (overall, per row or per column) explains it" in msg


def test_a_named_mistake_replaces_the_location():
    R = E.copy()
    R[[1, 4]] *= 2
    msg = message(assert_close, R, E, "out", mistakes={"rows 1 and 4 doubled": R})
    assert "Likely mistake: rows 1 and 4 doubled" in msg
    assert "Where the values differ" not in msg


def test_derivatives_are_diagnosed_too():
    z = np.array([-1.0, 0.0, 0.5, 1.0])

    def half_wrong(z):  # right for z <= 0, 1 - tanh(z) for z > 0
        t = np.tanh(z)
        return np.where(z > 0, 1 - t, 1 - t * t)

    msg = message(
        check_derivative,
        half_wrong,
        np.tanh,
        z,
        reference_prime=lambda z: 1 - np.tanh(z) ** 2,
        numerical=False,
    )
    assert "2 of 4 entries differ, at index 2, 3; the others are right" in msg


def test_diagnosis_is_silent_on_nan_inf_and_zeros(capfd):
    got = np.array([[np.nan, np.inf, 0.0], [0.0, 0.0, -np.inf]])
    want = np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0]])
    msg = message(assert_close, got, want, "out")
    assert "NaN or inf (3 entries, first at index (0, 0))" in msg
    assert "Where the values differ:" in msg
    assert capfd.readouterr().err == ""


def test_diagnosis_of_a_large_array_is_quick():
    rng = np.random.default_rng(1)
    want = rng.standard_normal((2000, 784))
    got = want.copy()
    got[::7] *= 3.0
    start = time.perf_counter()
    msg = message(assert_close, got, want, "out")
    assert time.perf_counter() - start < 2.0
    assert "every wrong row is the expected row times one factor, 3" in msg
