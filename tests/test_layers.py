"""Tests of nnlib.layers: gradient checks, naive references, exact small cases, errors."""

import numpy as np
import pytest

from nnlib.gradcheck import check_layer, numerical_gradient, relative_error
from nnlib.layers import (
    ELU,
    AvgPool2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Tanh,
    avgpool_backward,
    avgpool_forward,
    conv2d_backward,
    conv2d_forward,
    conv_output_size,
    dense_backward,
    dense_forward,
    dropout_backward,
    dropout_forward,
    maxpool_backward,
    maxpool_forward,
)
from nnlib.layers.memory import ArrayRecycler, BufferPool

TOL = 1e-7  # float64 central differences agree with a correct gradient to ~1e-9


def assert_gradients_ok(layer, x, seed=0):
    errors = check_layer(layer, x, np.random.default_rng(seed))
    assert set(errors) == {"x", *layer.params}
    for name, err in errors.items():
        assert err < TOL, f"{layer!r}: gradient of {name} has relative error {err:.2e}"


def input_size(rng, k, stride, padding, tiles=True, low=4, high=10):
    """A random input length n with n + 2 padding >= k.

    tiles=True: the windows cover the padded input exactly (stride divides n + 2p - k);
    tiles=False: the last rows no window reaches are dropped by the floor rule (needs
    stride > 1, since with stride 1 every size tiles).
    """
    if not tiles and stride == 1:
        raise ValueError("with stride 1 the windows always reach the last row")
    while True:
        n = int(rng.integers(low, high))
        span = n + 2 * padding - k
        if span >= 0 and (span % stride == 0) == tiles:
            return n


def naive_conv(x, W, b, stride, padding):
    """Reference convolution with explicit loops over samples, filters and pixels."""
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (w + 2 * padding - kw) // stride + 1
    out = np.zeros((n, f, ho, wo))
    for i in range(n):
        for j in range(f):
            for r in range(ho):
                for q in range(wo):
                    window = xp[i, :, r * stride : r * stride + kh, q * stride : q * stride + kw]
                    out[i, j, r, q] = np.sum(window * W[j]) + b[j]
    return out


# ----- dense and activations -------------------------------------------------------------


def test_dense_forward_matches_formula():
    rng = np.random.default_rng(1)
    layer = Dense(4, 3, rng=rng)
    layer.params["b"][:] = rng.standard_normal(3)
    x = rng.standard_normal((5, 4))
    expected = x @ layer.params["W"].T + layer.params["b"]
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12)
    assert layer.params["W"].shape == (3, 4) and layer.params["b"].shape == (3,)


@pytest.mark.parametrize("init", ["he", "glorot", "lecun", "small_gaussian"])
def test_dense_gradients(init):
    rng = np.random.default_rng(2)
    layer = Dense(5, 4, rng=rng, init=init)
    layer.params["b"][:] = rng.standard_normal(4)
    assert_gradients_ok(layer, rng.standard_normal((3, 5)))


def test_dense_functional_matches_layer():
    rng = np.random.default_rng(3)
    layer = Dense(6, 2, rng=rng)
    x = rng.standard_normal((4, 6))
    dout = rng.standard_normal((4, 2))
    out, cache = dense_forward(x, layer.params["W"], layer.params["b"])
    dx, dW, db = dense_backward(dout, cache)
    np.testing.assert_allclose(out, layer.forward(x))
    np.testing.assert_allclose(dx, layer.backward(dout))
    np.testing.assert_allclose(dW, layer.grads["W"])
    np.testing.assert_allclose(db, layer.grads["b"])
    np.testing.assert_allclose(dW, dout.T @ x)  # (BP4)
    np.testing.assert_allclose(db, dout.sum(axis=0))  # (BP3)


@pytest.mark.parametrize(
    "layer", [ReLU(), Sigmoid(), Tanh(), LeakyReLU(0.1), ELU(0.7), Identity()], ids=repr
)
def test_activation_gradients(layer):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 3, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink of ReLU-like functions
    assert_gradients_ok(layer, x)


def test_relu_backward_is_zero_where_input_not_positive():
    layer = ReLU()
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(layer.forward(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(layer.backward(np.array([[5.0, 6.0, 7.0]])), [[0, 0, 7.0]])


def test_sigmoid_layer_is_stable_on_extreme_inputs():
    layer = Sigmoid()
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out = layer.forward(np.array([[-1000.0, 0.0, 1000.0]]))
        dx = layer.backward(np.ones((1, 3)))
    np.testing.assert_allclose(out, [[0.0, 0.5, 1.0]])
    np.testing.assert_allclose(dx, [[0.0, 0.25, 0.0]])


# ----- convolution -----------------------------------------------------------------------


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("c_in", [1, 2, 3])
def test_conv_gradients_and_naive_reference(stride, padding, c_in):
    """With stride > 1 the width never tiles (floor rule); the height tiles for c_in = 1."""
    rng = np.random.default_rng(100 * stride + 10 * padding + c_in)
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    h = input_size(rng, kh, stride, padding, tiles=stride == 1 or c_in == 1)
    w = input_size(rng, kw, stride, padding, tiles=stride == 1)
    layer = Conv2D(c_in, 2, (kh, kw), stride=stride, padding=padding, rng=rng)
    layer.params["b"][:] = rng.standard_normal(2)
    x = rng.standard_normal((2, c_in, h, w))
    expected = naive_conv(x, layer.params["W"], layer.params["b"], stride, padding)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-10, atol=1e-12)
    assert_gradients_ok(layer, x)


def test_conv_non_square_input_and_kernel():
    rng = np.random.default_rng(5)
    layer = Conv2D(2, 3, (2, 3), stride=1, padding=1, rng=rng)
    x = rng.standard_normal((2, 2, 4, 7))
    out = layer.forward(x)
    assert out.shape == (2, 3, 5, 7)
    np.testing.assert_allclose(out, naive_conv(x, layer.params["W"], layer.params["b"], 1, 1))
    assert_gradients_ok(layer, x)


def test_conv_is_cross_correlation_on_a_worked_case():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    W = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # x[r, c] - x[r + 1, c + 1] = -5 everywhere
    out, _ = conv2d_forward(x, W, np.array([2.0]))
    np.testing.assert_array_equal(out, np.full((1, 1, 3, 3), -3.0))


def test_conv_functional_matches_layer():
    rng = np.random.default_rng(6)
    layer = Conv2D(2, 3, 3, stride=2, padding=1, rng=rng)
    x = rng.standard_normal((3, 2, 5, 7))
    out, cache = conv2d_forward(x, layer.params["W"], layer.params["b"], stride=2, padding=1)
    np.testing.assert_allclose(out, layer.forward(x))
    dout = rng.standard_normal(out.shape)
    dx, dW, db = conv2d_backward(dout, cache)
    np.testing.assert_allclose(dx, layer.backward(dout))
    np.testing.assert_allclose(dW, layer.grads["W"])
    np.testing.assert_allclose(db, layer.grads["b"])


def test_conv_stacked_layers_gradients():
    """A conv fed by a conv receives the channel-first views the first one returns."""
    rng = np.random.default_rng(7)
    first = Conv2D(2, 3, 3, padding=1, rng=rng)
    second = Conv2D(3, 2, 2, stride=2, rng=rng)
    x = rng.standard_normal((2, 2, 6, 4))
    a = first.forward(x)
    assert_gradients_ok(second, a)
    np.testing.assert_allclose(
        second.forward(a),
        naive_conv(np.ascontiguousarray(a), second.params["W"], second.params["b"], 2, 0),
    )


def test_conv_without_input_grad_still_computes_parameter_grads():
    rng = np.random.default_rng(8)
    layer = Conv2D(1, 2, 3, rng=rng)
    x = rng.standard_normal((2, 1, 5, 5))
    dout = rng.standard_normal((2, 2, 3, 3))
    layer.forward(x)
    layer.backward(dout)
    dW = layer.grads["W"].copy()
    layer.needs_input_grad = False
    layer.forward(x)
    assert layer.backward(dout) is None
    np.testing.assert_allclose(layer.grads["W"], dW)


@pytest.mark.parametrize(
    "n, k, s, p, expected",
    [
        (28, 5, 1, 0, 24),
        (7, 3, 2, 1, 4),
        (5, 5, 1, 2, 5),
        (6, 2, 2, 0, 3),
        # the stride does not divide n + 2p - k: floor, the last rows are dropped
        (5, 2, 2, 0, 2),
        (6, 3, 2, 0, 2),
        (7, 3, 2, 0, 3),
        (28, 5, 3, 0, 8),
        (4, 3, 2, 0, 1),
        (8, 3, 3, 1, 3),
    ],
)
def test_conv_output_size(n, k, s, p, expected):
    size = conv_output_size(n, k, s, p)
    assert size == expected and isinstance(size, int)


@pytest.mark.parametrize(
    "n, k, s, p, message",
    [
        (3, 5, 1, 0, "larger than the padded input"),
        (1, 4, 2, 1, "larger than the padded input"),
        (5, 2, 0, 0, "stride >= 1"),
        (5, 3, 1, -1, "padding >= 0"),
        (5, 0, 1, 0, "kernel k >= 1"),
        (0, 1, 1, 0, "n >= 1"),
    ],
)
def test_conv_output_size_rejects_bad_arguments(n, k, s, p, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(n, k, s, p)


def test_conv_drops_the_last_column_no_window_reaches():
    """Worked case: 2x5 input, 2x2 kernel, stride 2: windows at columns 0-1 and 2-3 only."""
    x = np.array([[1.0, 2.0, 0.0, 3.0, 7.0], [4.0, 1.0, 2.0, 5.0, 9.0]]).reshape(1, 1, 2, 5)
    W = np.array([[1.0, 0.0], [0.0, 1.0]]).reshape(1, 1, 2, 2)  # x[r, c] + x[r + 1, c + 1]
    out, cache = conv2d_forward(x, W, np.array([0.5]), stride=2)
    np.testing.assert_array_equal(out, [[[[1 + 1 + 0.5, 0 + 5 + 0.5]]]])
    dx, dW, db = conv2d_backward(np.array([[[[10.0, 20.0]]]]), cache)
    # dx: each window's dout times W; column 4 is in no window
    np.testing.assert_array_equal(dx[0, 0], [[10, 0, 20, 0, 0], [0, 10, 0, 20, 0]])
    # dW[u, v] = 10 x[u, v] + 20 x[u, 2 + v]; the 7 and 9 of column 4 never enter
    np.testing.assert_array_equal(dW[0, 0], [[10 + 0, 20 + 60], [40 + 40, 10 + 100]])
    np.testing.assert_array_equal(db, [30.0])


def test_conv_rejects_input_smaller_than_the_kernel():
    layer = Conv2D(1, 1, 3, stride=2, padding=0, rng=np.random.default_rng(0))
    assert layer.forward(np.zeros((1, 1, 6, 6))).shape == (1, 1, 2, 2)  # floor(3/2) + 1
    with pytest.raises(ValueError, match="kernel size 3 is larger than the padded input"):
        layer.forward(np.zeros((1, 1, 2, 6)))


# ----- pooling ---------------------------------------------------------------------------


def test_maxpool_exact_small_case():
    x = np.array([[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 1.0], [0.0, -1.0, 2.0, 2.0],
                  [-2.0, -3.0, 7.0, 1.0]]).reshape(1, 1, 4, 4)  # fmt: skip
    out, cache = maxpool_forward(x, 2)
    np.testing.assert_array_equal(out, [[[[4.0, 5.0], [0.0, 7.0]]]])
    dx = maxpool_backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]), cache)
    expected = np.zeros((4, 4))
    expected[1, 1], expected[0, 2], expected[2, 0], expected[3, 2] = 10, 20, 30, 40
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_maxpool_ties_route_gradient_to_first_maximum_only():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, :, 2:] = 3.0  # the second window: all four inputs tie
    layer = MaxPool2D(2)
    layer.forward(x)
    dx = layer.backward(np.array([[[[1.0, 2.0]]]]))
    np.testing.assert_array_equal(dx[0, 0], [[1.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


def test_maxpool_overlapping_windows_exact_case():
    x = np.array([[1.0, 5.0, 2.0], [0.0, 3.0, 4.0], [6.0, 1.0, 0.0]]).reshape(1, 1, 3, 3)
    out, cache = maxpool_forward(x, 2, stride=1)
    np.testing.assert_array_equal(out[0, 0], [[5.0, 5.0], [6.0, 4.0]])
    dx = maxpool_backward(np.ones((1, 1, 2, 2)), cache)
    # 5 is the maximum of two windows: it receives both gradients
    np.testing.assert_array_equal(dx[0, 0], [[0, 2.0, 0], [0, 0, 1.0], [1.0, 0, 0]])


def test_pooling_drops_the_last_row_and_column_no_window_reaches():
    """Worked case: 3x5 input, 2x2 windows, stride 2: row 2 and column 4 are not used."""
    x = np.array([[1.0, 3.0, 2.0, 5.0, 9.0], [4.0, 2.0, 1.0, 5.0, 9.0],
                  [9.0, 9.0, 9.0, 9.0, 9.0]]).reshape(1, 1, 3, 5)  # fmt: skip
    dout = np.array([[[[10.0, 20.0]]]])
    out, cache = maxpool_forward(x, 2)
    np.testing.assert_array_equal(out, [[[[4.0, 5.0]]]])  # the 9s are in no window
    dx = maxpool_backward(dout, cache)
    # the second window's maximum 5 ties: the first one, row-major, gets all of dout
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 0, 20, 0], [10, 0, 0, 0, 0], [0] * 5])
    out, cache = avgpool_forward(x, 2)
    np.testing.assert_array_equal(out, [[[[10 / 4, 13 / 4]]]])
    dx = avgpool_backward(dout, cache)
    np.testing.assert_array_equal(dx[0, 0], [[2.5, 2.5, 5, 5, 0], [2.5, 2.5, 5, 5, 0], [0] * 5])


def test_avgpool_exact_small_case():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, cache = avgpool_forward(x, 2)
    np.testing.assert_array_equal(out[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    dx = avgpool_backward(np.array([[[[4.0, 8.0], [-4.0, 0.0]]]]), cache)
    np.testing.assert_array_equal(
        dx[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2], [-1, -1, 0, 0], [-1, -1, 0, 0]]
    )


POOL_GEOMETRIES = [(2, None), (2, 1), (3, 2), ((2, 3), None), (2, 3), (3, None)]


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize(
    "size, stride, tiles",
    [(*g, True) for g in POOL_GEOMETRIES] + [(*g, False) for g in POOL_GEOMETRIES if g[1] != 1],
)
@pytest.mark.parametrize("channels", [1, 3])
def test_pool_gradients(cls, size, stride, tiles, channels):
    """tiles=False: neither axis tiles (floor rule) when its stride is above 1."""
    rng = np.random.default_rng(9 + channels + 10 * tiles)
    kh, kw = (size, size) if np.ndim(size) == 0 else size
    sh, sw = (kh, kw) if stride is None else (stride, stride)
    h = input_size(rng, kh, sh, 0, tiles=tiles or sh == 1)
    w = input_size(rng, kw, sw, 0, tiles=tiles or sw == 1)
    layer = cls(size, stride)
    x = rng.standard_normal((2, channels, h, w))  # distinct values: no ties
    out = layer.forward(x)
    assert out.shape == (2, channels, (h - kh) // sh + 1, (w - kw) // sw + 1)
    assert_gradients_ok(layer, x)


class NaNRecycler(ArrayRecycler):
    """Hands out arrays full of NaN: a layer must write every element it returns."""

    def empty(self, shape, dtype, axis_order=None):
        arr = super().empty(shape, dtype, axis_order)
        arr.fill(np.nan)
        return arr


@pytest.mark.parametrize("size, stride, h, w", [(2, None, 7, 9), (3, 2, 8, 10), (2, 3, 7, 9)])
def test_maxpool_dx_is_zero_where_no_window_reaches_even_in_recycled_memory(size, stride, h, w):
    layer = MaxPool2D(size, stride)
    layer.recycler = NaNRecycler()
    x = np.random.default_rng(21).standard_normal((2, 3, h, w))
    out = layer.forward(x)
    dx = layer.backward(np.ones(out.shape))
    s = size if stride is None else stride
    hc, wc = s * (out.shape[2] - 1) + size, s * (out.shape[3] - 1) + size
    assert hc < h and wc < w  # the geometry leaves rows and columns out
    assert np.all(dx[:, :, hc:] == 0) and np.all(dx[:, :, :, wc:] == 0)
    # every window sends its 1 to exactly one input (no ties in random data)
    np.testing.assert_array_equal(dx.sum(axis=(2, 3)), out.shape[2] * out.shape[3])


def test_pool_stride_defaults_to_size():
    assert MaxPool2D(3).stride == (3, 3)
    assert MaxPool2D(2).forward(np.zeros((1, 1, 5, 4))).shape == (1, 1, 2, 2)


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_pool_rejects_window_larger_than_input(cls):
    with pytest.raises(ValueError, match="kernel size 3 is larger than the padded input 2"):
        cls(3).forward(np.zeros((1, 1, 2, 5)))
    with pytest.raises(ValueError, match="size and stride must be >= 1"):
        cls(2, stride=0)


# ----- flatten ---------------------------------------------------------------------------


def test_flatten_round_trip():
    rng = np.random.default_rng(10)
    layer = Flatten()
    x = rng.standard_normal((3, 2, 4, 5))
    out = layer.forward(x)
    np.testing.assert_array_equal(out, x.reshape(3, 40))
    dout = rng.standard_normal((3, 40))
    np.testing.assert_array_equal(layer.backward(dout), dout.reshape(3, 2, 4, 5))


# ----- dropout ---------------------------------------------------------------------------


def test_dropout_mask_statistics_and_scaling():
    p = 0.3
    x = np.ones((400, 250))
    out, mask = dropout_forward(x, p, np.random.default_rng(11), train=True)
    kept = mask != 0
    assert abs(kept.mean() - (1 - p)) < 0.01  # 100,000 draws: std of the mean ~0.0015
    np.testing.assert_allclose(mask[kept], 1.0 / (1.0 - p))
    np.testing.assert_allclose(out, x * mask)
    assert abs(out.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_dropout_is_identity_at_test_time_and_for_p_zero():
    x = np.random.default_rng(12).standard_normal((4, 5))
    layer = Dropout(0.5, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(layer.forward(x, train=False), x)
    np.testing.assert_array_equal(layer.backward(np.ones((4, 5))), np.ones((4, 5)))
    out, mask = dropout_forward(x, 0.0, np.random.default_rng(0), train=True)
    assert mask is None
    np.testing.assert_array_equal(out, x)


def test_dropout_same_seed_same_mask():
    x = np.ones((6, 7))
    _, m1 = dropout_forward(x, 0.5, np.random.default_rng(13), train=True)
    _, m2 = dropout_forward(x, 0.5, np.random.default_rng(13), train=True)
    _, m3 = dropout_forward(x, 0.5, np.random.default_rng(14), train=True)
    np.testing.assert_array_equal(m1, m2)
    assert not np.array_equal(m1, m3)


def test_dropout_backward_uses_the_mask():
    rng = np.random.default_rng(15)
    layer = Dropout(0.4, rng=rng)
    x = rng.standard_normal((5, 8))
    out = layer.forward(x, train=True)
    mask = layer.cache
    dout = rng.standard_normal((5, 8))
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, dout * mask)
    np.testing.assert_array_equal(dx == 0, out == 0)
    np.testing.assert_allclose(dropout_backward(dout, mask), dx)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_probability(p):
    with pytest.raises(ValueError, match="0 <= p < 1"):
        Dropout(p, rng=np.random.default_rng(0))


# ----- properties shared by all layers ---------------------------------------------------


def make_layers():
    rng = np.random.default_rng(16)
    return [
        (Dense(6, 4, rng=rng), (3, 6)),
        (ReLU(), (3, 6)),
        (Sigmoid(), (3, 6)),
        (Conv2D(2, 3, 3, padding=1, rng=rng), (2, 2, 5, 4)),
        (MaxPool2D(2), (2, 3, 4, 6)),
        (AvgPool2D(2), (2, 3, 4, 6)),
        (Flatten(), (2, 3, 4, 5)),
        (Dropout(0.5, rng=rng), (3, 6)),
    ]


@pytest.mark.parametrize("layer, shape", make_layers(), ids=lambda v: repr(v))
def test_backward_does_not_mutate_dout(layer, shape):
    rng = np.random.default_rng(17)
    out = layer.forward(rng.standard_normal(shape), train=True)
    dout = rng.standard_normal(out.shape)
    before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(dout, before)


@pytest.mark.parametrize("layer, shape", make_layers(), ids=lambda v: repr(v))
def test_backward_rejects_wrong_dout_shape_naming_both(layer, shape):
    out = layer.forward(np.ones(shape))
    wrong = (out.shape[0] + 1, *out.shape[1:])
    with pytest.raises(ValueError) as info:
        layer.backward(np.ones(wrong))
    assert str(out.shape) in str(info.value) and str(wrong) in str(info.value)


@pytest.mark.parametrize("layer, shape", make_layers(), ids=lambda v: repr(v))
def test_layers_preserve_float32(layer, shape):
    layer.astype(np.float32)
    out = layer.forward(np.ones(shape, dtype=np.float32), train=True)
    assert out.dtype == np.float32
    dx = layer.backward(np.ones(out.shape, dtype=np.float32))
    assert dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


@pytest.mark.parametrize(
    "layer, x_shape, expected",
    [
        (Dense(4, 2, rng=np.random.default_rng(0)), (3, 5), "(batch, 4)"),
        (Dense(4, 2, rng=np.random.default_rng(0)), (3, 1, 2, 2), "Flatten"),
        (Conv2D(3, 2, 3, rng=np.random.default_rng(0)), (2, 1, 5, 5), "(batch, 3, height"),
        (Conv2D(3, 2, 3, rng=np.random.default_rng(0)), (3, 5, 5), "(batch, channels"),
        (MaxPool2D(2), (2, 4, 4), "(batch, channels"),
    ],
)
def test_forward_rejects_wrong_input_shape_naming_both(layer, x_shape, expected):
    with pytest.raises(ValueError) as info:
        layer.forward(np.ones(x_shape))
    assert expected in str(info.value) and str(x_shape) in str(info.value)


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="before forward"):
        ReLU().backward(np.ones((2, 2)))


def test_layer_gradient_matches_numerical_gradient_of_a_cost():
    """The numerical gradient of sum(out * dout) w.r.t. W, via nnlib.gradcheck directly."""
    rng = np.random.default_rng(18)
    layer = Dense(3, 2, rng=rng)
    x = rng.standard_normal((4, 3))
    dout = rng.standard_normal((4, 2))
    layer.forward(x)
    layer.backward(dout)
    W0 = layer.params["W"]

    def cost(W):
        layer.params["W"] = W
        return float(np.sum(layer.forward(x) * dout))

    numeric = numerical_gradient(cost, W0)
    layer.params["W"] = W0
    assert relative_error(layer.grads["W"], numeric) < TOL


@pytest.mark.parametrize(
    "layer, shape",
    [
        (ReLU(), (2, 3, 4, 4)),
        (Conv2D(3, 2, 3, padding=1, rng=np.random.default_rng(19)), (2, 3, 4, 4)),
        (Conv2D(2, 2, 3, stride=2, rng=np.random.default_rng(19)), (2, 2, 6, 7)),
        (MaxPool2D(2), (2, 3, 4, 4)),
        (MaxPool2D(2), (2, 3, 5, 7)),
        (AvgPool2D(3, 2), (2, 3, 6, 6)),
    ],
    ids=repr,
)
def test_reused_buffers_never_overwrite_arrays_the_caller_kept(layer, shape):
    """Layers recycle their output and dx arrays only once nobody else holds them."""
    layer.recycler, layer.pool = ArrayRecycler(), BufferPool()  # as a model passes them in
    rng = np.random.default_rng(20)
    x1, x2 = rng.standard_normal(shape), rng.standard_normal(shape)
    out1 = layer.forward(x1)
    kept_out = out1.copy()
    dx1 = layer.backward(np.ones(out1.shape))
    kept_dx = dx1.copy()
    out2 = layer.forward(x2)
    dx2 = layer.backward(2.0 * np.ones(out2.shape))
    np.testing.assert_array_equal(out1, kept_out)
    np.testing.assert_array_equal(dx1, kept_dx)
    assert not np.shares_memory(out1, out2) and not np.shares_memory(dx1, dx2)
    # once let go, the memory is recycled and the results are still right
    del out1, dx1, out2, dx2
    out3 = layer.forward(x1)
    np.testing.assert_array_equal(out3, kept_out)
    np.testing.assert_array_equal(layer.backward(np.ones(out3.shape)), kept_dx)


# ----- memory: passed in by the model, never changing a number ----------------------------


def _memory_layers(rng):
    return [
        Conv2D(2, 3, 3, padding=1, rng=rng),
        ReLU(),
        MaxPool2D(2),
        Conv2D(3, 2, 2, stride=2, rng=rng),
        ReLU(),
        AvgPool2D(2, 1),
        Flatten(),
        Dense(2, 4, rng=rng),
    ]


def test_a_layer_on_its_own_has_no_memory_and_a_model_passes_it_in():
    from nnlib.model import Sequential

    layers = _memory_layers(np.random.default_rng(22))
    assert all(layer.recycler is None and layer.pool is None for layer in layers)
    model = Sequential(layers, input_grad=True)
    recyclers = {id(layer.recycler) for layer in model.layers}
    pools = {id(layer.pool) for layer in model.layers}
    assert len(recyclers) == 1 and isinstance(model.layers[0].recycler, ArrayRecycler)
    assert len(pools) == len(layers)  # scratch buffers are per layer (two ReLUs, two masks)
    assert all(isinstance(layer.pool, BufferPool) for layer in model.layers)


def test_memory_changes_no_number():
    """The same layers with and without a model's memory give bit-identical results."""
    from nnlib.model import Sequential

    rng = np.random.default_rng(23)
    x = rng.standard_normal((3, 2, 8, 8))
    dout = rng.standard_normal((3, 4))
    plain = _memory_layers(np.random.default_rng(24))
    model = Sequential(_memory_layers(np.random.default_rng(24)), input_grad=True)
    for _ in range(3):  # later steps run on recycled arrays
        a = x
        for layer in plain:
            a = layer.forward(a, train=True)
        delta = dout
        for layer in reversed(plain):
            delta = layer.backward(delta)
        np.testing.assert_array_equal(model.forward(x, train=True), a)
        np.testing.assert_array_equal(model.backward(dout), delta)
        for mine, theirs in zip(model.layers, plain, strict=True):
            for key in theirs.grads:
                np.testing.assert_array_equal(mine.grads[key], theirs.grads[key])


@pytest.mark.parametrize("axis_order", [None, (1, 0, 2, 3), (0, 2, 3, 1)])
def test_memory_empty_lays_out_arrays_alike_with_and_without_a_recycler(axis_order):
    from nnlib.layers import memory

    shape = (2, 3, 4, 5)
    fresh = memory.empty(None, shape, np.float32, axis_order)
    recycled = memory.empty(ArrayRecycler(), shape, np.float32, axis_order)
    assert fresh.shape == recycled.shape == shape
    assert fresh.dtype == recycled.dtype == np.float32
    assert fresh.strides == recycled.strides
    expected = tuple(range(4)) if axis_order is None else axis_order
    assert memory.memory_axis_order(fresh) == expected
    like = memory.empty_like(None, fresh)
    assert like.strides == fresh.strides and not np.shares_memory(like, fresh)


def test_buffer_pool_reuses_one_buffer_per_name():
    pool = BufferPool()
    a = pool.get("cols", (3, 4), np.float64)
    b = pool.get("cols", (2, 5), np.float64)  # smaller: a view of the same memory
    assert np.shares_memory(a, b) and b.shape == (2, 5) and b.flags.c_contiguous
    assert not np.shares_memory(a, pool.get("mask", (3, 4), np.float64))
    assert pool.get("cols", (3, 4), np.float32).dtype == np.float32  # another dtype: new


def test_conv_and_pool_caches_are_named_tuples_read_by_name_or_position():
    from nnlib.layers.conv import ConvCache
    from nnlib.layers.pool import AvgPoolCache, MaxPoolCache, PoolGeometry

    rng = np.random.default_rng(25)
    x = rng.standard_normal((2, 3, 7, 6))
    W, b = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    out, cache = conv2d_forward(x, W, b, stride=(2, 1), padding=(1, 0))
    assert isinstance(cache, ConvCache) and isinstance(cache, tuple)
    assert cache.x_shape == cache[0] == x.shape and cache.x_dtype == cache[1] == x.dtype
    assert cache.xp_shape == cache[2] == (3, 2, 9, 6)
    assert cache.cols is cache[3] and cache.cols.shape == (3 * 3 * 2 + 1, 2 * 4 * 5)
    np.testing.assert_array_equal(cache.cols[-1], 1.0)  # the bias row
    assert cache.W is cache[4] is W
    assert (cache.stride, cache.padding, cache.out_hw) == cache[5:] == ((2, 1), (1, 0), (4, 5))
    assert out.shape == (2, 4, 4, 5)

    out, cache = maxpool_forward(x, 3, 2)
    assert isinstance(cache, MaxPoolCache) and cache.out is cache[4] is out
    assert cache.x_shape == cache[0] == x.shape and cache.x_axes == cache[2] == (0, 1, 2, 3)
    assert cache.xw is cache[3] and cache.xw.shape == (9, 2, 3, 3, 2)
    assert isinstance(cache.geom, PoolGeometry) and cache.geom == cache[5] == (3, 3, 2, 2, 3, 2)
    assert (cache.geom.kh, cache.geom.sw, cache.geom.ho, cache.geom.wo) == (3, 2, 3, 2)

    out, cache = avgpool_forward(x, (2, 3))
    assert isinstance(cache, AvgPoolCache) and cache.geom == cache[2] == (2, 3, 2, 3, 3, 2)
    assert cache.x_shape == cache[0] == x.shape and cache.x_dtype == cache[1] == x.dtype


def test_dense_layer_computes_its_forward_pass_with_dense_forward(monkeypatch):
    import nnlib.layers.dense as dense_module

    calls = []
    real = dense_module.dense_forward

    def spy(x, W, b):
        calls.append((x, W, b))
        return real(x, W, b)

    monkeypatch.setattr(dense_module, "dense_forward", spy)
    layer = Dense(3, 2, rng=np.random.default_rng(26))
    x = np.random.default_rng(27).standard_normal((4, 3))
    z = layer.forward(x)
    assert len(calls) == 1
    assert calls[0][1] is layer.params["W"] and calls[0][2] is layer.params["b"]
    np.testing.assert_array_equal(z, x @ layer.params["W"].T + layer.params["b"])
    assert layer.cache[0] is calls[0][0] and layer.cache[1] is layer.params["W"]
