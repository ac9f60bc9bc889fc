"""Autograde 07_cnn: solved, untouched, planted mistakes and delegation to nnlib.

One nbgrader run grades five submissions (module-scoped fixture). Each planted mistake
sits in a different exercise, so the per-cell scores show exactly which cells it costs:

- conv_output_size without the + 1 (off-by-one output size);
- conv2d_naive with a flipped kernel (true convolution instead of cross-correlation);
- maxpool_backward sending the gradient to every element of the window;
- conv2d_backward summing db over the wrong axes;
- in a second submission, conv2d_fast ignoring the stride, maxpool_forward not turning
  stride=None into stride = size, and zero_pad returning x itself for p = 0 (the text asks
  for a new array; the sandbox hands the test its own x back, so the test sees it).

More planted mistakes (of the forward passes, an output size given as a float, a dx that
keeps the padding border) run in-process (answers and test cells of the solution in one
namespace, no kernel): each must fail exactly its cells with a message that names it.
"""

import pytest
from nbgrader_harness import (
    REPO_ROOT,
    assert_earns_nothing,
    assert_full_marks,
    assert_loses_exactly,
    assert_scores_zero,
    changed,
    failing_in_process,
    solution_cells,
)

A = "07_cnn"
SOLUTION = REPO_ROOT / "solutions" / A / f"{A}.ipynb"

# --- planted mistakes (one submission, one mistake per exercise) ------------------------

OFF_BY_ONE = """def conv_output_size(n, k, stride=1, padding=0):
    return (n + 2 * padding - k) // stride
"""

FLIPPED_KERNEL = """def conv2d_naive(x, W, b, stride=1, padding=0):
    xp = zero_pad(x, padding)
    n = x.shape[0]
    c_out, c_in, kh, kw = W.shape
    h_out = (xp.shape[2] - kh) // stride + 1
    w_out = (xp.shape[3] - kw) // stride + 1
    K = W[:, :, ::-1, ::-1]  # the convolution of mathematics
    z = np.zeros((n, c_out, h_out, w_out))
    for i in range(n):
        for f in range(c_out):
            for r in range(h_out):
                for c in range(w_out):
                    window = xp[i, :, stride * r : stride * r + kh, stride * c : stride * c + kw]
                    z[i, f, r, c] = np.sum(window * K[f]) + b[f]
    return z
"""

# the solution's answers and tests (planted mistakes differ from an answer in one place)
SOLVED = solution_cells(SOLUTION)

DB_WRONG_AXES = changed(  # forgot the batch axis
    SOLVED.answers["conv2d_backward"],
    "db = dout.sum(axis=(0, 2, 3))",
    "db = dout.sum(axis=(2, 3))",
)

EVERY_ELEMENT = """def maxpool_backward(dout, x, size=2, stride=None):
    stride = size if stride is None else stride
    dx = np.zeros(x.shape)
    for r in range(dout.shape[2]):
        for c in range(dout.shape[3]):
            rows = slice(stride * r, stride * r + size)
            cols = slice(stride * c, stride * c + size)
            dx[:, :, rows, cols] += dout[:, :, r : r + 1, c : c + 1]
    return dx
"""

# --- answers that call the nnlib reference of the very thing asked -----------------------

DELEGATE = {
    "conv_output_size": """from nnlib.layers import conv_output_size as _size


def conv_output_size(n, k, stride=1, padding=0):
    return _size(n, k, stride, padding)
""",
    "conv2d_naive": """import nnlib.layers


def conv2d_naive(x, W, b, stride=1, padding=0):
    return nnlib.layers.conv2d_forward(x, W, b, stride, padding)[0]
""",
    "maxpool_backward": """from nnlib.layers.pool import maxpool_backward as _back
from nnlib.layers.pool import maxpool_forward as _fwd


def maxpool_backward(dout, x, size=2, stride=None):
    return _back(dout, _fwd(x, size, stride)[1])
""",
}

STRIDE_IGNORED = """def conv2d_fast(x, W, b, stride=1, padding=0):
    xp = zero_pad(x, padding)
    kh, kw = W.shape[2:]
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # every window: no ::stride
    z = np.tensordot(windows, W, axes=([1, 4, 5], [1, 2, 3]))
    return z.transpose(0, 3, 1, 2) + b[:, None, None]
"""

MAPS_TRANSPOSED = """def conv2d_fast(x, W, b, stride=1, padding=0):
    xp = zero_pad(x, padding)
    kh, kw = W.shape[2:]
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    z = np.tensordot(windows, W, axes=([1, 4, 5], [1, 2, 3]))
    return z.transpose(0, 3, 2, 1) + b[:, None, None]  # (n, c_out, w_out, h_out)
"""

NO_PADDING = """def conv2d_fast(x, W, b, stride=1, padding=0):
    kh, kw = W.shape[2:]
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    z = np.tensordot(windows, W, axes=([1, 4, 5], [1, 2, 3]))
    return z.transpose(0, 3, 1, 2) + b[:, None, None]
"""

POOL_STRIDE_NONE = """def maxpool_forward(x, size=2, stride=None):
    # stride=None is not turned into size: x[::None] keeps every window
    windows = sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.max(axis=(4, 5))
"""

POOL_STRIDE_IGNORED = """def maxpool_forward(x, size=2, stride=None):
    windows = sliding_window_view(x, (size, size), axis=(2, 3))
    return windows.max(axis=(4, 5))
"""

POOL_ABS = """def maxpool_forward(x, size=2, stride=None):
    stride = size if stride is None else stride
    windows = sliding_window_view(np.abs(x), (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.max(axis=(4, 5))
"""

SIZE_AS_FLOAT = """def conv_output_size(n, k, stride=1, padding=0):
    return (n + 2 * padding - k) / stride + 1  # right values, but floats
"""

DX_WITH_BORDER = changed(  # the padding border is still there
    SOLVED.answers["conv2d_backward"],
    "    dx = dxp[:, :, padding : padding + x.shape[2], padding : padding + x.shape[3]]\n"
    "    return dx, dW, db",
    "    return dxp, dW, db",
)

# --- in-process runs: answers and test cells of the solution in one namespace -----------


def failing_cells(replacements: dict[str, str], only: str) -> dict[str, str]:
    """Run every answer (with replacements) and the test cells of the exercise `only` and of
    the ones after it (later tests use earlier answers); grade_id -> error of each failure."""
    order = list(SOLVED.answers)
    wanted = set(order[order.index(only) :])
    answers = {gid: replacements.get(gid, src) for gid, src in SOLVED.answers.items()}
    tests = {gid: src for gid, src in SOLVED.tests.items() if SOLVED.exercise[gid] in wanted}
    return failing_in_process(SETUP, answers, tests)


SETUP = "import numpy as np\nfrom numpy.lib.stride_tricks import sliding_window_view\n"
FAST = {"test_conv2d_fast_visible", "test_conv2d_fast_hidden"}
# conv2d_backward's numerical test differentiates the student's own conv2d_fast, and
# maxpool_backward's their own maxpool_forward: a wrong forward fails those too.
CONV_NUMERICAL = {"test_conv2d_backward_numerical"}
POOL_NUMERICAL = {"test_maxpool_backward_numerical"}


def test_grading_leaves_every_forbidden_reference_out_of_the_sandbox():
    # the sandbox stubs out what hidden_names lists: the names in the test cells, in the
    # checkers they call, and those named like an answer
    import nbformat

    from nncourse.autograde.program import hidden_names
    from nnlib.grading import fresh

    conv = fresh().checks.conv
    release = REPO_ROOT / "course" / A / f"{A}.ipynb"
    hidden = hidden_names(nbformat.read(SOLUTION, 4), nbformat.read(release, 4))
    wanted = {*conv.CONV_REFS, *conv.POOL_REFS, "nnlib.layers.conv.conv_output_size"}
    assert wanted <= hidden, sorted(wanted - hidden)


def test_solution_passes_every_test_cell_in_process():
    assert failing_cells({}, only="conv_output_size") == {}


@pytest.mark.parametrize(
    ("exercise", "source", "lost", "message"),
    [
        ("conv2d_fast", STRIDE_IGNORED, FAST | CONV_NUMERICAL, "the stride is ignored"),
        (
            "conv2d_fast",
            MAPS_TRANSPOSED,
            FAST | {"test_conv2d_fast_digits"} | CONV_NUMERICAL,
            "each output map is transposed",
        ),
        (
            "conv2d_fast",
            NO_PADDING,
            FAST | {"test_conv2d_fast_digits"} | CONV_NUMERICAL,
            "the padding is missing",
        ),
        (
            "conv_output_size",
            SIZE_AS_FLOAT,
            {"test_conv_output_size_visible", "test_conv_output_size_hidden"},
            "return an int (use // for the floor division)",
        ),
        (
            "conv2d_backward",
            DX_WITH_BORDER,
            {
                "test_conv2d_backward_visible",
                "test_conv2d_backward_reference",
                "test_conv2d_backward_numerical",
            },
            "dx still has the padding border",
        ),
        ("maxpool_forward", POOL_STRIDE_NONE, {"test_maxpool_forward_visible"}, "stride=None"),
        (
            "maxpool_forward",
            POOL_STRIDE_IGNORED,
            {"test_maxpool_forward_visible", "test_maxpool_forward_hidden"} | POOL_NUMERICAL,
            "the stride is ignored",
        ),
        (
            "maxpool_forward",
            POOL_ABS,
            {"test_maxpool_forward_hidden"} | POOL_NUMERICAL,
            "largest absolute value",
        ),
    ],
)
def test_planted_answer_fails_exactly_its_cells(exercise, source, lost, message):
    failures = failing_cells({exercise: source}, only=exercise)
    assert set(failures) == lost, failures
    assert any(message in text for text in failures.values()), failures


# --- one nbgrader run ---------------------------------------------------------------------

# grade_id -> substring of the feedback the student must see
EXPECTED_LOSSES = {
    "test_conv_output_size_visible": "off by one: the formula ends with + 1",
    "test_conv_output_size_hidden": "off by one: the formula ends with + 1",
    "test_conv2d_naive_visible": "the kernel is flipped",
    "test_conv2d_naive_single_channel": "the kernel is flipped",
    "test_conv2d_naive_channels_stride": "the kernel is flipped",
    "test_conv2d_backward_visible": "db is summed over the wrong axes",
    "test_conv2d_backward_reference": "db is summed over the wrong axes",
    "test_conv2d_backward_numerical": "db is summed over the wrong axes",
    "test_maxpool_backward_visible": "the gradient went to every element of the window",
    "test_maxpool_backward_reference": "the gradient went to every element of the window",
    "test_maxpool_backward_numerical": "the gradient went to every element of the window",
    "test_maxpool_backward_ties": "the gradient went to every element of the window",
}

# a second submission: mistakes in the two forward passes, graded in the sandbox
EXPECTED_LOSSES_FORWARD = {
    "test_conv2d_fast_visible": "the stride is ignored",
    "test_conv2d_fast_hidden": "the stride is ignored",
    "test_conv2d_backward_numerical": "conv2d_backward(dout, x, W, stride=2, padding=1)",
    "test_maxpool_forward_visible": "stride=None should mean stride = size",
    "test_zero_pad_visible": "returned x itself: return a new array, also for p = 0",
    "test_zero_pad_hidden": "returned x itself: return a new array, also for p = 0",
}

PAD_0_IS_X = """def zero_pad(x, p):
    if p == 0:
        return x  # the caller's own array
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=x.dtype)
    out[:, :, p : p + h, p : p + w] = x
    return out
"""

DELEGATED_CELLS = {
    "conv_output_size": ["test_conv_output_size_visible", "test_conv_output_size_hidden"],
    "conv2d_naive": [
        "test_conv2d_naive_visible",
        "test_conv2d_naive_single_channel",
        "test_conv2d_naive_channels_stride",
    ],
    "maxpool_backward": [
        "test_maxpool_backward_visible",
        "test_maxpool_backward_reference",
        "test_maxpool_backward_numerical",
        "test_maxpool_backward_ties",
    ],
}


@pytest.fixture(scope="module")
def grades(course):
    return course.autograde_planted(
        A,
        {
            "wrong": {
                "conv_output_size": OFF_BY_ONE,
                "conv2d_naive": FLIPPED_KERNEL,
                "conv2d_backward": DB_WRONG_AXES,
                "maxpool_backward": EVERY_ELEMENT,
            },
            "wrong_forward": {
                "conv2d_fast": STRIDE_IGNORED,
                "maxpool_forward": POOL_STRIDE_NONE,
                "zero_pad": PAD_0_IS_X,
            },
            "delegating": DELEGATE,
        },
    )


@pytest.mark.slow
def test_solved_gets_full_marks(grades):
    assert_full_marks(grades["solved"], 27)


@pytest.mark.slow
def test_untouched_scores_zero(grades):
    assert_scores_zero(grades["untouched"], "test_conv2d_fast_visible")


@pytest.mark.slow
def test_planted_mistakes_lose_exactly_their_cells(grades):
    assert_loses_exactly(grades["wrong"], EXPECTED_LOSSES)
    assert_loses_exactly(grades["wrong_forward"], EXPECTED_LOSSES_FORWARD)


@pytest.mark.slow
def test_delegating_to_nnlib_earns_nothing(grades):
    every_cell = [gid for cells in DELEGATED_CELLS.values() for gid in cells]
    assert_earns_nothing(grades["delegating"], DELEGATED_CELLS, every_cell)
