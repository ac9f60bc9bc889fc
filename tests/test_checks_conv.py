"""nnlib.grading.checks.conv: each checker passes a right answer and fails a planted wrong one
with the message that names the mistake."""

import numpy as np
import pytest
from checking import fails
from numpy.lib.stride_tricks import sliding_window_view

from nnlib.grading import fresh

C = fresh().checks.conv


# --- right answers, written here without nnlib ------------------------------------------


def output_size(n, k, stride=1, padding=0):
    return (n + 2 * padding - k) // stride + 1


def pad(x, p):
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def windows(x, kh, kw, stride):
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def conv(x, W, b, stride=1, padding=0):
    win = windows(pad(x, padding), *W.shape[2:], stride)
    return np.einsum("idrcuv,fduv->ifrc", win, W) + b[:, None, None]


def conv_backward(dout, x, W, stride=1, padding=0, flip=False, db_axes=(0, 2, 3)):
    """The gradients (dx, dW, db); flip and db_axes plant mistakes."""
    K = W[:, :, ::-1, ::-1] if flip else W
    n, c_out, h_out, w_out = dout.shape
    kh, kw = W.shape[2:]
    win = windows(pad(x, padding), kh, kw, stride)[:, :, :h_out, :w_out]
    dW = np.einsum("ifrc,idrcuv->fduv", dout, win)
    dxp = np.zeros(pad(x, padding).shape)
    for u in range(kh):
        for v in range(kw):
            rows = slice(u, u + stride * (h_out - 1) + 1, stride)
            cols = slice(v, v + stride * (w_out - 1) + 1, stride)
            dxp[:, :, rows, cols] += np.einsum("ifrc,fd->idrc", dout, K[:, :, u, v])
    dx = dxp[:, :, padding : padding + x.shape[2], padding : padding + x.shape[3]]
    return dx, (dW[:, :, ::-1, ::-1] if flip else dW), dout.sum(axis=db_axes)


def maxpool(x, size=2, stride=None):
    stride = size if stride is None else stride
    return windows(x, size, size, stride).max(axis=(4, 5))


def maxpool_backward(dout, x, size=2, stride=None, to="first"):
    """dx of max pooling; to="every" or "ties" plants mistakes."""
    stride = size if stride is None else stride
    dx = np.zeros(x.shape)
    for i, d, r, c in np.ndindex(*dout.shape):
        top, left = stride * r, stride * c
        window = x[i, d, top : top + size, left : left + size]
        if to == "every":
            mask = np.ones(window.shape)
        elif to == "ties":
            mask = window == window.max()
        else:
            mask = np.zeros(window.size)
            mask[window.argmax()] = 1
            mask = mask.reshape(window.shape)
        dx[i, d, top : top + size, left : left + size] += mask * dout[i, d, r, c]
    return dx


# --- conv_output_size ---------------------------------------------------------------------

CASES = [(6, 3, 1, 0), (6, 3, 1, 1), (28, 5, 1, 0), (7, 3, 2, 0)]


def test_output_size_right_answer_passes():
    C.check_output_size(output_size, CASES, expected=[4, 6, 24, 3])
    C.check_output_size(output_size, [(5, 5, 2, 0)], seed=701)


def test_output_size_names_its_mistakes():
    with fails(C.OFF_BY_ONE):
        C.check_output_size(lambda n, k, s=1, p=0: (n + 2 * p - k) // s, CASES)
    with fails("the padding is counted on one side only"):
        C.check_output_size(lambda n, k, s=1, p=0: (n + p - k) // s + 1, CASES)
    with fails("rounded up"):
        C.check_output_size(lambda n, k, s=1, p=0: -(-(n + 2 * p - k) // s) + 1, [], seed=701)


def test_output_size_must_be_an_int():
    def conv_output_size(n, k, stride=1, padding=0):
        return (n + 2 * padding - k) / stride + 1

    with fails("conv_output_size(28, 5, 1, 2) returned 28.0 of type float; return an int"):
        C.check_output_size(conv_output_size, [(28, 5, 1, 2)])


def test_output_size_calling_nnlib_earns_nothing():
    import nnlib.layers

    with fails("calling nnlib.layers.conv.conv_output_size earns no points"):
        C.check_output_size(nnlib.layers.conv_output_size, CASES)


# --- zero_pad -----------------------------------------------------------------------------


def test_zero_pad_right_answer_passes():
    C.check_zero_pad(pad, np.ones((1, 1, 2, 3)), 1)
    C.check_zero_pad_random(pad, [((2, 3, 4, 5), 2), ((1, 1, 3, 3), 0)], seed=702)


def test_zero_pad_names_its_mistakes():
    x = np.arange(6.0).reshape(1, 1, 2, 3) + 1
    with fails("all 2p zeros went before the image"):
        C.check_zero_pad(lambda x, p: np.pad(x, ((0, 0), (0, 0), (2 * p, 0), (2 * p, 0))), x, 1)
    with fails("the batch and channel axes were padded too"):
        C.check_zero_pad(lambda x, p: np.pad(x, p), x, 1)


def test_zero_pad_must_not_change_its_input():
    def in_place(x, p):
        out = pad(x, p)
        x *= 0
        return out

    with fails("changed its input x in place"):
        C.check_zero_pad(in_place, np.ones((1, 1, 2, 2)), 1)


def test_zero_pad_returns_a_new_array_even_for_p_0():
    def shortcut(x, p):
        return x if p == 0 else pad(x, p)

    C.check_zero_pad(shortcut, np.ones((1, 1, 2, 2)), 1)
    with fails("returned x itself: return a new array, also for p = 0"):
        C.check_zero_pad(shortcut, np.ones((1, 1, 2, 2)), 0)


# --- conv2d_naive, conv2d_fast ------------------------------------------------------------


def test_conv_right_answer_passes():
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 3)), np.arange(4.0)
    C.check_conv(conv, x, W, b, stride=2, padding=1)
    C.check_conv_random(conv, C.ONE_CHANNEL + C.CHANNELS, seed=703)


def test_conv_float32_input_is_compared_at_float32_precision():
    rng = np.random.default_rng(706)
    x = rng.random((2, 1, 12, 12)).astype(np.float32)
    W, b = rng.standard_normal((3, 1, 5, 5)), rng.standard_normal(3)
    C.check_conv(lambda *a: conv(*a).astype(np.float32), x, W, b, stride=1, padding=2)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, W, b, s, p: conv(x, W[:, :, ::-1, ::-1], b, s, p), C.FLIPPED),
        (lambda x, W, b, s, p: conv(x, W, 0 * b, s, p), "the bias is missing"),
        (lambda x, W, b, s, p: conv(x, W, b, 1, p), "the stride is ignored"),
        (lambda x, W, b, s, p: conv(x, W, b, s, 0), "the padding is missing"),
        (
            lambda x, W, b, s, p: conv(x, W, b, s, p).transpose(0, 1, 3, 2),
            "each output map is transposed",
        ),
        (lambda x, W, b, s, p: conv(x, W, 0 * b, s, p) + b, "the bias went along the last axis"),
    ],
)
def test_conv_names_its_mistakes(wrong, message):
    rng = np.random.default_rng(1)
    x, W, b = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((3, 3, 3, 3)), np.arange(3.0)
    with fails(message):
        C.check_conv(wrong, x, W, b, stride=2, padding=1)


def test_conv_calling_nnlib_earns_nothing():
    import nnlib.layers

    def delegating(x, W, b, stride=1, padding=0):
        return nnlib.layers.conv2d_forward(x, W, b, stride, padding)[0]

    with fails("calling nnlib.layers.conv.conv2d_forward earns no points"):
        C.check_conv_random(delegating, C.ONE_CHANNEL, seed=703)


def test_conv_forbids_what_it_is_given():
    import nnlib.layers

    def delegating(x, W, b, stride=1, padding=0):
        return nnlib.layers.conv2d_forward(x, W, b, stride, padding)[0]

    C.check_conv_random(delegating, C.ONE_CHANNEL, seed=703, forbid=())
    with fails("calling nnlib.layers.conv.conv2d_forward earns no points"):
        C.check_conv_random(delegating, C.ONE_CHANNEL, seed=703, forbid=C.CONV_REFS[:1])


def test_conv_refs_name_nnlibs_public_convolution():
    assert {"nnlib.layers.conv.conv2d_forward", "nnlib.layers.conv.conv2d_backward"} <= set(
        C.CONV_REFS
    )


# --- conv2d_backward ----------------------------------------------------------------------

X = np.arange(16.0).reshape(1, 1, 4, 4) % 5
W1 = np.array([[1.0, 0.0], [0.0, -1.0]])[None, None]


def test_conv_backward_right_answer_passes():
    C.check_conv_backward(conv_backward, X, W1, np.array([0.5]), stride=1, padding=1)
    C.check_conv_backward_random(conv_backward, C.BACKWARD_CASES, seed=710)
    C.check_conv_backward_random(conv_backward, C.BACKWARD_CASES[1:4], seed=720, forward=conv)


@pytest.mark.parametrize("forward", [None, conv])
@pytest.mark.parametrize(
    ("planted", "message"),
    [
        ({"db_axes": (2, 3)}, "db is summed over the wrong axes"),
        ({"db_axes": (1, 2, 3)}, "(you summed over axes (1, 2, 3))"),
        ({"flip": True}, "the kernel is flipped: the forward pass of the course"),
    ],
)
def test_conv_backward_names_its_mistakes(planted, message, forward):
    def wrong(dout, x, W, stride=1, padding=0):
        return conv_backward(dout, x, W, stride, padding, **planted)

    with fails(message):
        C.check_conv_backward_random(wrong, C.BACKWARD_CASES[1:2], seed=711, forward=forward)


def test_conv_backward_padding_border_and_averaged_db_are_named():
    def with_border(dout, x, W, stride=1, padding=0):
        return conv_backward(dout, pad(x, padding), W, stride, 0)

    def averaged_db(dout, x, W, stride=1, padding=0):
        dx, dW, _ = conv_backward(dout, x, W, stride, padding)
        return dx, dW, dout.mean(axis=(0, 2, 3))

    with fails("dx still has the padding border"):
        C.check_conv_backward(with_border, X, W1, np.array([0.5]), stride=1, padding=1)
    with fails("db is averaged instead of summed"):
        C.check_conv_backward(averaged_db, X, W1, np.array([0.5]), stride=1, padding=1)


def test_conv_backward_numerical_uses_the_students_own_forward():
    # a right backward fails against a forward that computes something else
    def conv2d_fast(x, W, b, stride=1, padding=0):
        return conv(x, W[:, :, ::-1, ::-1], b, stride, padding)

    with fails("central differences of your own conv2d_fast(x, W, b, stride=2, padding=1)"):
        C.check_conv_backward_random(
            conv_backward, C.BACKWARD_CASES[1:2], seed=720, forward=conv2d_fast
        )


# --- max pooling --------------------------------------------------------------------------

XP = np.array([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [6, 2, 3, 1]], float)[None, None]


def test_maxpool_right_answer_passes():
    C.check_maxpool(maxpool, XP, 2, 2, expected=[[[[4.0, 5.0], [6.0, 7.0]]]])
    C.check_maxpool(maxpool, XP, 2, 1)
    C.check_maxpool(maxpool, XP, 2)
    C.check_maxpool_random(maxpool, C.MAXPOOL_CASES, seed=730)


def test_maxpool_names_its_mistakes():
    def stride_none_kept(x, size=2, stride=None):
        return (
            windows(x, size, size, 1).max(axis=(4, 5))
            if stride is None
            else maxpool(x, size, stride)
        )

    with fails(C.STRIDE_NONE):
        C.check_maxpool(stride_none_kept, XP, 2)
    with fails(C.AVERAGED):
        C.check_maxpool(lambda x, k, s: windows(x, k, k, s).mean(axis=(4, 5)), XP, 2, 2)
    with fails("you took the largest absolute value"):
        C.check_maxpool_random(lambda x, k, s: maxpool(np.abs(x), k, s), C.MAXPOOL_CASES, 730)
    with fails("the stride is ignored"):
        C.check_maxpool(lambda x, k, s: maxpool(x, k, 1), XP, 2, 2)
    with fails("each output map is transposed"):
        C.check_maxpool(
            lambda x, k, s: maxpool(x, k, s).transpose(0, 1, 3, 2), XP[:, :, :, :3], 2, 1
        )


def test_maxpool_backward_right_answer_passes():
    C.check_maxpool_backward(maxpool_backward, np.ones((1, 1, 2, 2)), XP, 2, 2)
    C.check_maxpool_backward_random(maxpool_backward, C.MAXPOOL_BACKWARD_CASES, seed=740)
    C.check_maxpool_backward_numerical(maxpool_backward, maxpool, [((1, 3, 5, 5), 3, 1)], 750)


def test_maxpool_backward_names_its_mistakes():
    ties = np.array([[0, 0, 1, 2], [0, 0, 2, 2], [5, 1, 3, 3], [1, 5, 3, 3]], float)[None, None]
    dout = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    with fails(C.EVERY):
        C.check_maxpool_backward(
            lambda d, x, k, s: maxpool_backward(d, x, k, s, to="every"), dout, XP, 2, 2
        )
    with fails("with tied maxima every tied input received dout"):
        C.check_maxpool_backward(
            lambda d, x, k, s: maxpool_backward(d, x, k, s, to="ties"), dout, ties, 2, 2
        )
    with fails("the gradient was averaged over the window"):
        C.check_maxpool_backward(
            lambda d, x, k, s: maxpool_backward(d, x, k, s, to="every") / k**2, dout, XP, 2, 2
        )


def test_maxpool_backward_numerical_names_its_mistake():
    def every(dout, x, size=2, stride=None):
        return maxpool_backward(dout, x, size, stride, to="every")

    with fails(C.EVERY):
        C.check_maxpool_backward_numerical(every, maxpool, [((2, 2, 6, 4), 2, 2)], seed=750)


def test_maxpool_calling_nnlib_earns_nothing():
    import nnlib.layers

    def delegating(dout, x, size=2, stride=None):
        return nnlib.layers.maxpool_backward(
            dout, nnlib.layers.maxpool_forward(x, size, stride)[1]
        )

    with fails("calling nnlib.layers.pool.maxpool_forward earns no points"):
        C.check_maxpool_backward_random(delegating, C.MAXPOOL_BACKWARD_CASES, seed=740)


def test_a_failing_check_writes_nothing_to_stderr(capsys):
    def noisy(x, W, b, stride=1, padding=0):
        np.log(-np.ones(1))  # a numpy warning
        return conv(x, W, 0 * b, stride, padding)

    with fails("the bias is missing"):
        C.check_conv_random(noisy, C.CHANNELS, seed=704)
    assert capsys.readouterr().err == ""
