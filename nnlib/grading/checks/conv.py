"""Checkers of notebook 07: output size, zero padding, convolution (naive and fast, forward
and backward) and max pooling (forward and backward).

Every checker takes the student's function first, then the inputs of its test cell (arrays,
or a list of shapes and a seed from which it draws them), calls the function quietly,
compares with nnlib and raises ``AssertionError`` whose message names the likely mistake
from the tables below, or says where the values differ. Shapes follow the notebook:
images ``x`` are ``(n, c_in, h, w)``, filters ``W`` are ``(c_out, c_in, kh, kw)``, biases
``b`` are ``(c_out,)`` and outputs ``(n, c_out, h_out, w_out)``.

While the student's function runs, nnlib's own convolution (``CONV_REFS``) or pooling
(``POOL_REFS``) is disabled, so an answer that calls it earns nothing.
"""

from __future__ import annotations

import numpy as np

from nnlib import layers
from nnlib.grading.compare import ATOL, RTOL, assert_new, check_output
from nnlib.grading.gradients import check_backward
from nnlib.grading.quiet import call, quiet

# nnlib's own convolution code, disabled while the student's functions run. While a class
# is graded, the sandbox leaves these out too (hidden_names reads this module;
# tests/test_notebook_07_cnn.py checks that grading hides every name here).
CONV_REFS = (
    "nnlib.layers.conv.conv2d_forward",
    "nnlib.layers.conv._conv_forward",
    "nnlib.layers.conv.conv2d_backward",
    "nnlib.layers.conv._conv_backward",
    "nnlib.layers.conv.im2col",
    "nnlib.layers.conv.col2im",
)
POOL_REFS = ("nnlib.layers.pool.maxpool_forward", "nnlib.layers.pool.maxpool_backward")

# The shapes of the hidden tests, shared by several test cells (each cell draws its own
# values from its seed): (x shape (n, c_in, h, w), filters (c_out, kh, kw), stride, padding)
CONV_CASES = [
    # one input channel, stride 1: non-square images and kernels, a 1 x 1 kernel, a kernel
    # as large as the image
    ((2, 1, 6, 5), (2, 3, 2), 1, 0),
    ((1, 1, 5, 7), (1, 3, 3), 1, 1),
    ((3, 1, 4, 4), (2, 1, 1), 1, 0),
    ((1, 1, 3, 4), (1, 3, 4), 1, 0),
    # 1-3 channels, strides 1 and 2, padding 0-2, windows that do not tile the input
    ((2, 3, 7, 6), (2, 3, 3), 2, 0),
    ((1, 2, 8, 5), (3, 2, 3), 2, 1),
    ((2, 3, 5, 5), (1, 3, 3), 1, 2),
    ((1, 2, 6, 9), (2, 4, 2), 2, 2),
    ((2, 1, 9, 8), (3, 5, 5), 2, 1),
    # the backward pass: every stride and padding, 1-3 channels
    ((2, 1, 5, 6), (2, 3, 2), 1, 0),
    ((2, 3, 7, 6), (2, 3, 3), 2, 1),
    ((1, 2, 4, 5), (3, 3, 3), 1, 2),
    ((2, 2, 8, 7), (2, 2, 3), 2, 0),
    ((1, 3, 6, 5), (2, 4, 4), 2, 2),
]
ONE_CHANNEL, CHANNELS, BACKWARD_CASES = CONV_CASES[:4], CONV_CASES[4:9], CONV_CASES[9:]
# (x shape (n, c, h, w), size, stride): non-square, 1-3 channels, windows that do not tile x
POOL_CASES = [
    ((2, 3, 6, 8), 2, 2),
    ((1, 1, 7, 5), 3, 2),
    ((3, 2, 5, 6), 2, 1),
    ((2, 1, 9, 9), 3, 3),
    ((1, 3, 4, 7), 2, 3),
    ((1, 2, 6, 7), 3, 1),  # overlapping windows, for the backward pass
]
MAXPOOL_CASES, MAXPOOL_BACKWARD_CASES = POOL_CASES[:5], POOL_CASES[:4] + POOL_CASES[5:]


def _name(fn, default: str) -> str:
    return getattr(fn, "__name__", default)


# --- exercise 1: conv_output_size ---------------------------------------------------------

OFF_BY_ONE = (
    "off by one: the formula ends with + 1, floor((n + 2p - k) / s) + 1 (the + 1 counts "
    "the first window, at position 0)"
)


def size_mistakes(cases) -> dict:
    """Known wrong output-size formulas -> the sizes they give for ``cases``.

    cases: list of (n, k, stride, padding) int tuples; each value is an array (len(cases),).
    """
    n, k, s, p = (np.array([case[j] for case in cases]) for j in range(4))
    return {
        OFF_BY_ONE: (n + 2 * p - k) // s,
        "off by one (one too many): the formula is floor((n + 2p - k) / s) + 1": (
            (n + 2 * p - k) // s + 2
        ),
        "the padding is counted on one side only: p zeros go on BOTH sides, n + 2p in all": (
            (n + p - k) // s + 1
        ),
        "rounded up: when the stride does not divide n + 2p - k, the last incomplete window "
        "is dropped (floor, //)": -(-(n + 2 * p - k) // s) + 1,
        "the + 1 is inside the division: it is floor((n + 2p - k) / s) + 1": (
            (n + 2 * p - k + 1) // s
        ),
    }


def random_size_cases(seed: int, count: int = 30) -> list:
    """``count`` random (n, k, stride, padding): k 1-5, strides 1-3, paddings 0-2, n < 40."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        k, s, p = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
        cases.append((int(rng.integers(max(1, k - 2 * p), 40)), k, s, p))
    return cases


def check_output_size(conv_output_size, cases, expected=None, seed=None) -> None:
    """conv_output_size(n, k, stride, padding) must give floor((n + 2p - k) / s) + 1, an int.

    cases: list of (n, k, stride, padding) int tuples. expected: the sizes, one per case
    (default: the formula). seed: when given, 30 random cases drawn from it follow ``cases``
    (see ``random_size_cases``).
    """
    __tracebackhide__ = True
    cases = [tuple(int(v) for v in case) for case in cases]
    if seed is not None:
        cases += random_size_cases(seed)
    if expected is None:
        expected = [(n + 2 * p - k) // s + 1 for n, k, s, p in cases]
    fn = _name(conv_output_size, "conv_output_size")

    def sizes(cases):
        """The student's size for each case, as floats."""
        return np.array([conv_output_size(*case) for case in cases], float)

    shown = (
        "random (n, k, stride, padding)"
        if seed is not None
        else f"(n, k, stride, padding) = {cases}"
    )
    check_output(
        sizes,
        cases,
        expected=np.asarray(expected, dtype=float),
        name=f"{fn} on {shown}",
        mistakes=size_mistakes(cases),
        forbid="nnlib.layers.conv.conv_output_size",
    )
    for case in cases:
        size = call(conv_output_size, *case, name=fn)
        if not isinstance(size, (int, np.integer)):
            raise AssertionError(
                f"{fn}{case} returned {size!r} of type {type(size).__name__}; "
                "return an int (use // for the floor division)"
            )


# --- exercise 2: zero_pad -----------------------------------------------------------------

ZERO_PAD_MISTAKES = {
    "all 2p zeros went before the image (top and left): put p on each side": (
        lambda x, p: np.pad(x, ((0, 0), (0, 0), (2 * p, 0), (2 * p, 0)))
    ),
    "the batch and channel axes were padded too: pad only height and width (axes 2, 3)": (
        lambda x, p: np.pad(x, p)
    ),
    "only p zeros in all per axis: p go on EACH side, the result is (h + 2p, w + 2p)": (
        lambda x, p: np.pad(x, ((0, 0), (0, 0), (p, 0), (p, 0)))
    ),
}


def check_zero_pad(zero_pad, x, p, expected=None) -> None:
    """zero_pad(x, p) must return x (n, c, h, w) inside p zeros on each side of h and w,
    shape (n, c, h + 2p, w + 2p) (``expected``, default np.pad), a new array, x unchanged."""
    __tracebackhide__ = True
    x = np.asarray(x, dtype=float)
    if expected is None:
        expected = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    name = f"{_name(zero_pad, 'zero_pad')}(x of shape {x.shape}, p={p})"
    out = check_output(
        zero_pad,
        x,
        p,
        expected=np.asarray(expected, dtype=float),
        arg_names=("x", "p"),
        name=name,
        mistakes=ZERO_PAD_MISTAKES,
    )
    assert_new(name, out, "x", x, hint=", also for p = 0 (x.copy())")


def check_zero_pad_random(zero_pad, cases, seed: int) -> None:
    """check_zero_pad on standard normal x for each (shape (n, c, h, w), p) of ``cases``,
    drawn in turn from one generator seeded by ``seed``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for shape, p in cases:
        check_zero_pad(zero_pad, rng.standard_normal(shape), p)


# --- exercises 3 and 4: conv2d_naive, conv2d_fast -----------------------------------------


def nnlib_conv(x, W, b, stride, padding):
    """nnlib's convolution (n, c_out, h_out, w_out); like the formula, it leaves out the
    rows and columns of the padded input that no window reaches."""
    return layers.conv2d_forward(x, W, b, int(stride), int(padding))[0]


FLIPPED = (
    "the kernel is flipped (W[f, :, ::-1, ::-1]): you computed the convolution of "
    "mathematics, but the course, like every deep-learning library, computes the "
    "cross-correlation: W[f, d, u, v] multiplies xpad[i, d, s*r + u, s*c + v], no flip"
)
# description -> what that mistake returns for the arguments (x, W, b, stride, padding)
CONV_MISTAKES = {
    FLIPPED: lambda x, W, b, s, p: nnlib_conv(x, W[:, :, ::-1, ::-1], b, s, p),
    "the bias is missing: add b[f] to every pixel of output channel f": (
        lambda x, W, b, s, p: nnlib_conv(x, W, 0 * b, s, p)
    ),
    "the stride is ignored: you kept every window, as for stride 1; the windows start s "
    "apart, at rows s*r and columns s*c (windows[:, :, ::stride, ::stride])": (
        lambda x, W, b, s, p: nnlib_conv(x, W, b, 1, p) if s != 1 else None
    ),
    "the padding is missing: pad x with zero_pad(x, padding) before taking the windows": (
        lambda x, W, b, s, p: nnlib_conv(x, W, b, s, 0) if p else None
    ),
    "each output map is transposed (rows and columns swapped): after the contraction the "
    "axes are (n, h_out, w_out, c_out), and transpose(0, 3, 1, 2) puts them in order": (
        lambda x, W, b, s, p: nnlib_conv(x, W, b, s, p).transpose(0, 1, 3, 2)
    ),
    "the bias went along the last axis (the columns): b[f] belongs to output channel f, "
    "add b[:, None, None] to the (n, c_out, h_out, w_out) result": (
        lambda x, W, b, s, p: nnlib_conv(x, W, 0 * b, s, p) + b
    ),
}


def check_conv(
    conv, x, W, b, stride=1, padding=0, expected=None, name=None, forbid=CONV_REFS
) -> None:
    """conv(x, W, b, stride, padding) must equal nnlib's convolution (or ``expected``).

    x: (n, c_in, h, w), W: (c_out, c_in, kh, kw), b: (c_out,); inputs must stay unchanged.
    A float32 x (as load_mnist gives) is compared at float32 precision (1e-5), with the
    float64 result as expected. name: how the message refers to the call (default: the
    function with the shapes, stride and padding). forbid: the references disabled.
    """
    __tracebackhide__ = True
    tol = 1e-5 if np.asarray(x).dtype == np.float32 else None
    if expected is None:
        expected = nnlib_conv(np.asarray(x, dtype=np.float64), W, b, stride, padding)
    fn = _name(conv, "conv")
    check_output(
        conv,
        x,
        W,
        b,
        stride,
        padding,
        expected=np.asarray(expected, dtype=float),
        arg_names=("x", "W", "b", "stride", "padding"),
        name=name or f"{fn}(x {x.shape}, W {W.shape}, b, stride={stride}, padding={padding})",
        rtol=tol or RTOL,
        atol=tol or ATOL,
        mistakes=CONV_MISTAKES,
        forbid=forbid,
    )


def _draw_conv(rng, case):
    """x, W, b (standard normal) for a case ((n, c_in, h, w), (c_out, kh, kw), stride, padding)."""
    (n, c_in, h, w), (c_out, kh, kw), _, _ = case
    x = rng.standard_normal((n, c_in, h, w))
    W = rng.standard_normal((c_out, c_in, kh, kw))
    return x, W, rng.standard_normal(c_out)


def check_conv_random(conv, cases, seed: int, forbid=CONV_REFS) -> None:
    """check_conv for each ((n, c_in, h, w), (c_out, kh, kw), stride, padding) of ``cases``,
    x, W and b drawn in turn from one generator seeded by ``seed``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for case in cases:
        check_conv(conv, *_draw_conv(rng, case), case[2], case[3], forbid=forbid)


# --- exercise 5: conv2d_backward ----------------------------------------------------------


def nnlib_conv_grads(dout, x, W, b, stride, padding):
    """nnlib's (dx, dW, db) of the convolution, shapes of x, W and b."""
    _, cache = layers.conv2d_forward(x, W, b, int(stride), int(padding))
    return layers.conv2d_backward(dout, cache)


DB_HINT = (
    "db is summed over the wrong axes: b[f] is added to every output pixel of channel f of "
    "every sample, so db[f] sums dout[:, f] over the batch, rows and columns (axes (0, 2, 3))"
)


def conv_backward_mistakes(stride: int, padding: int) -> dict:
    """description -> callable(dout, x, W, b) giving the (dx, dW, db) of that mistake."""

    def grads(dout, x, W, b):
        return nnlib_conv_grads(dout, x, W, b, stride, padding)

    def db_over(axes):
        return lambda dout, x, W, b: (*grads(dout, x, W, b)[:2], dout.sum(axis=axes))

    def flipped(dout, x, W, b):
        dx, dW, db = nnlib_conv_grads(dout, x, W[:, :, ::-1, ::-1], b, stride, padding)
        return dx, dW[:, :, ::-1, ::-1], db

    def padded(dout, x, W, b):  # the padded zeros as inputs of a convolution without padding
        p = padding
        return nnlib_conv_grads(dout, np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))), W, b, stride, 0)

    mistakes = {
        f"{DB_HINT} (you summed over axes {axes})": db_over(axes)
        for axes in [(1, 2, 3), (2, 3), (0,), (0, 2), (0, 3), (0, 1, 2, 3)]
    }
    mistakes[
        "the kernel is flipped: the forward pass of the course uses W[f, d, u, v] on "
        "xpad[i, d, s*r + u, s*c + v] without flipping, and so must the backward pass"
    ] = flipped
    mistakes[
        "dx still has the padding border: cut padding rows and columns off every side "
        "(the padded zeros are not inputs)"
    ] = padded
    mistakes[
        "db is averaged instead of summed: the gradient of a shared bias adds up the "
        "contributions of every position where it is used"
    ] = lambda dout, x, W, b: (*grads(dout, x, W, b)[:2], dout.mean(axis=(0, 2, 3)))
    return mistakes


def check_conv_backward(
    backward, x, W, b, stride=1, padding=0, forward=None, seed=0, forbid=CONV_REFS
):
    """backward(dout, x, W, stride, padding) must return (dx, dW, db) of the convolution.

    x: (n, c_in, h, w), W: (c_out, c_in, kh, kw), b: (c_out,); dout (n, c_out, h_out, w_out)
    is standard normal from ``seed``. Without ``forward`` the gradients are compared with
    nnlib's; with ``forward`` (the student's conv2d_fast(x, W, b, stride, padding)) with
    central differences of that forward. forbid: the references disabled. Returns the
    student's [dx, dW, db].
    """
    __tracebackhide__ = True
    s, p = int(stride), int(padding)

    def student_backward(dout, x, W, b):
        return backward(dout, x, W, s, p)

    student_backward.__name__ = (
        f"{_name(backward, 'backward')}(dout, x, W, stride={s}, padding={p})"
    )
    if forward is None:  # only the output's shape is needed, to draw dout

        def shape_only(x, W, b):
            h_out = (x.shape[2] + 2 * p - W.shape[2]) // s + 1
            w_out = (x.shape[3] + 2 * p - W.shape[3]) // s + 1
            return np.zeros((x.shape[0], W.shape[0], h_out, w_out))

        shape_only.__name__ = "the output shape"
        student_forward = shape_only
    else:

        def student_forward(x, W, b):
            return forward(x, W, b, s, p)

        student_forward.__name__ = f"{_name(forward, 'forward')}(x, W, b, stride={s}, padding={p})"
    return check_backward(
        student_forward,
        student_backward,
        x,
        W,
        b,
        names=("x", "W", "b"),
        reference=(lambda dout, x, W, b: nnlib_conv_grads(dout, x, W, b, s, p))
        if forward is None
        else None,
        numerical=forward is not None,
        mistakes=conv_backward_mistakes(s, p),
        forbid=forbid,
        seed=seed,
    )


def check_conv_backward_random(backward, cases, seed: int, forward=None) -> None:
    """check_conv_backward for each ((n, c_in, h, w), (c_out, kh, kw), stride, padding) of
    ``cases``; case i draws x, W, b from a generator seeded by seed + i, and dout from
    seed + 1000 + i."""
    __tracebackhide__ = True
    for i, case in enumerate(cases):
        x, W, b = _draw_conv(np.random.default_rng(seed + i), case)
        check_conv_backward(backward, x, W, b, *case[2:], forward=forward, seed=seed + 1000 + i)


# --- exercise 6: maxpool_forward, maxpool_backward ----------------------------------------


def nnlib_maxpool(x, size, stride):
    """nnlib's max pooling (n, c, h_out, w_out); like the formula, it leaves out the rows
    and columns no window reaches."""
    return layers.maxpool_forward(x, size, stride)[0]


AVERAGED = "you averaged each window: max pooling keeps the window's maximum"
STRIDE_NONE = (
    "stride=None should mean stride = size (windows side by side); yours used stride 1 "
    "(slicing with ::None keeps every window): set stride = size when it is None"
)


def maxpool_mistakes(x, size, stride) -> dict:
    """Known mistakes of maxpool_forward(x, size, stride) -> the outputs they give."""
    k, s = size, stride
    with quiet():
        return {
            AVERAGED: layers.avgpool_forward(x, k, s)[0],
            "the stride is ignored: you kept every window, as for stride 1; the windows start "
            "s apart, at rows s*r and columns s*c (windows[:, :, ::stride, ::stride])": (
                nnlib_maxpool(x, k, 1) if s != 1 else None
            ),
            "you took the largest absolute value: max pooling keeps the largest value, "
            "negative or not (no np.abs)": nnlib_maxpool(np.abs(x), k, s)
            if np.any(x < 0)
            else None,
            "each output map is transposed (rows and columns swapped): keep the "
            "window-position axes 2 and 3 in order and take the maximum over the window "
            "axes 4 and 5": nnlib_maxpool(x, k, s).transpose(0, 1, 3, 2),
        }


def check_maxpool(maxpool_forward, x, size, stride=None, expected=None) -> None:
    """maxpool_forward(x, size, stride) must give each window's maximum.

    x: (n, c, h, w) -> (n, c, h_out, w_out), ``expected`` (default nnlib's). With stride
    None the call is maxpool_forward(x, size), whose default stride must mean stride = size.
    """
    __tracebackhide__ = True
    x = np.asarray(x, dtype=float)
    fn = _name(maxpool_forward, "maxpool_forward")
    if stride is None:
        args, names = (x, size), ("x", "size")
        label = f"{fn}(x {x.shape}, size={size}) (stride=None means stride = size)"
        mistakes = {STRIDE_NONE: nnlib_maxpool(x, size, 1), **maxpool_mistakes(x, size, size)}
    else:
        args, names = (x, size, stride), ("x", "size", "stride")
        label = f"{fn}(x {x.shape}, size={size}, stride={stride})"
        label += " (overlapping windows)" if stride < size else ""
        mistakes = maxpool_mistakes(x, size, stride)
    if expected is None:
        expected = nnlib_maxpool(x, size, stride or size)
    check_output(
        maxpool_forward,
        *args,
        expected=np.asarray(expected, dtype=float),
        arg_names=names,
        name=label,
        mistakes=mistakes,
        forbid=POOL_REFS,
    )


def check_maxpool_random(maxpool_forward, cases, seed: int) -> None:
    """check_maxpool for each (shape (n, c, h, w), size, stride) of ``cases``, standard
    normal x drawn in turn from one generator seeded by ``seed``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for shape, size, stride in cases:
        check_maxpool(maxpool_forward, rng.standard_normal(shape), size, stride)


def nnlib_maxpool_dx(dout, x, size, stride):
    """nnlib's gradient of max pooling: dout (n, c, h_out, w_out) -> dx (n, c, h, w)."""
    return layers.maxpool_backward(dout, layers.maxpool_forward(x, size, stride)[1])


def _every_element(dout, x, k, s):
    dx = np.zeros(x.shape)
    for r in range(dout.shape[2]):
        for c in range(dout.shape[3]):
            dx[:, :, s * r : s * r + k, s * c : s * c + k] += dout[:, :, r : r + 1, c : c + 1]
    return dx


def _every_tie(dout, x, k, s):
    dx = np.zeros(x.shape)
    z = nnlib_maxpool(x, k, s)
    for r in range(dout.shape[2]):
        for c in range(dout.shape[3]):
            window = x[:, :, s * r : s * r + k, s * c : s * c + k]
            is_max = window == z[:, :, r : r + 1, c : c + 1]
            dx[:, :, s * r : s * r + k, s * c : s * c + k] += (
                is_max * dout[:, :, r : r + 1, c : c + 1]
            )
    return dx


EVERY = (
    "the gradient went to every element of the window: only the window's maximum "
    "influences the pooled output, so only it receives dout; the other inputs get 0"
)
# description -> what that mistake returns for the arguments (dout, x, size, stride)
MAXPOOL_BACKWARD_MISTAKES = {
    EVERY: _every_element,
    "the gradient was averaged over the window (dout / k^2 to every input): that is average "
    "pooling's gradient; max pooling sends all of dout to the maximum": (
        lambda dout, x, k, s: layers.avgpool_backward(dout, layers.avgpool_forward(x, k, s)[1])
    ),
    "with tied maxima every tied input received dout: give it to the first maximum of the "
    "window only (row-major order, as np.argmax picks), so the total stays dout": _every_tie,
}


def check_maxpool_backward(maxpool_backward, dout, x, size, stride, expected=None, name=None):
    """maxpool_backward(dout, x, size, stride) must send each window's dout to the window's
    first maximum (row-major order).

    dout: (n, c, h_out, w_out), x: (n, c, h, w) -> dx (n, c, h, w), ``expected`` (default
    nnlib's); dout and x must stay unchanged. name: how the message refers to the call.
    """
    __tracebackhide__ = True
    x, dout = np.asarray(x, dtype=float), np.asarray(dout, dtype=float)
    if expected is None:
        expected = nnlib_maxpool_dx(dout, x, size, stride)
    fn = _name(maxpool_backward, "maxpool_backward")
    check_output(
        maxpool_backward,
        dout,
        x,
        size,
        stride,
        expected=np.asarray(expected, dtype=float),
        arg_names=("dout", "x", "size", "stride"),
        name=name or f"{fn}(dout, x {x.shape}, size={size}, stride={stride})",
        mistakes=MAXPOOL_BACKWARD_MISTAKES,
        forbid=POOL_REFS,
    )


def distinct_values(rng, shape):
    """An array of ``shape`` whose entries are all different (no tied maxima), in [-2, 2)."""
    size = int(np.prod(shape))
    return rng.permutation(size).reshape(shape) * (4.0 / size) - 2.0


def check_maxpool_backward_random(maxpool_backward, cases, seed: int) -> None:
    """check_maxpool_backward for each (shape (n, c, h, w), size, stride) of ``cases``:
    x with distinct values, then a standard normal dout, drawn in turn from one generator
    seeded by ``seed``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for shape, size, stride in cases:
        x = distinct_values(rng, shape)
        dout = rng.standard_normal(nnlib_maxpool(x, size, stride).shape)
        check_maxpool_backward(maxpool_backward, dout, x, size, stride)


def check_maxpool_backward_numerical(maxpool_backward, maxpool_forward, cases, seed: int):
    """maxpool_backward(dout, x, size, stride) against central differences of the student's
    own maxpool_forward(x, size, stride), for each (shape (n, c, h, w), size, stride) of
    ``cases``: x with distinct values drawn in turn from a generator seeded by ``seed``,
    dout standard normal from seed + 1."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for shape, k, s in cases:
        x = distinct_values(rng, shape)

        def forward(x, k=k, s=s):
            return maxpool_forward(x, k, s)

        def backward(dout, x, k=k, s=s):
            return maxpool_backward(dout, x, k, s)

        forward.__name__ = f"{_name(maxpool_forward, 'maxpool_forward')}(x, size={k}, stride={s})"
        backward.__name__ = (
            f"{_name(maxpool_backward, 'maxpool_backward')}(dout, x, size={k}, stride={s})"
        )
        mistakes = {
            d: (lambda dout, x, m=m, k=k, s=s: m(dout, x, k, s))
            for d, m in MAXPOOL_BACKWARD_MISTAKES.items()
        }
        check_backward(
            forward, backward, x, names=("x",), mistakes=mistakes, forbid=POOL_REFS, seed=seed + 1
        )
