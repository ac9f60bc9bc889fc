"""2-D convolution layer (cross-correlation, as in the lectures and most libraries).

Shapes: x (n, c_in, H, W), W (c_out, c_in, kh, kw), b (c_out,),
out (n, c_out, H_out, W_out) with H_out = floor((H + 2 p - kh) / s) + 1 (see
``conv_output_size``). When the stride s does not divide H + 2 p - kh, the last rows (or
columns) of the padded input that no complete window reaches are not used: they do not
affect the output and their input gradient is 0, as in the output-size formula of the
lectures and in other libraries.

    out[i, f, r, c] = b[f] + sum_{ch, u, v} W[f, ch, u, v] xpad[i, ch, s r + u, s c + v]

Vectorised with im2col: the windows of the zero-padded input are copied, one kernel offset
(u, v) at a time, into a matrix ``cols`` of shape (c_in kh kw, n H_out W_out) (one column per
output pixel, the patch axis first). Then the whole layer is one matrix product,

    out_2d = W_2d @ cols + b,   W_2d = W.reshape(c_out, c_in kh kw),

(computed as [W_2d | b] @ [cols; 1], so the bias costs no extra pass) and the backward
pass is two more products: dW_2d = dout_2d @ cols^T (with db from the row of ones) and
dcols = W_2d^T @ dout_2d, whose columns are added back onto the image windows (col2im).
Internally the arrays are channel-first (c, n, H, W), so the output is returned as a
transposed view of the (c_out, n, H_out, W_out) product: no copy, and a following layer of
the same kind reads it back without a copy either.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nnlib import init as _init
from nnlib._checks import as_float_array
from nnlib.layers import memory
from nnlib.layers.base import Layer


def _pair(v, name: str) -> tuple[int, int]:
    """An int or a pair of ints -> (vertical, horizontal)."""
    pair = (v, v) if np.ndim(v) == 0 else tuple(v)
    if len(pair) != 2 or any(int(p) != p for p in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
    return int(pair[0]), int(pair[1])


def conv_output_size(n: int, k: int, stride: int = 1, padding: int = 0) -> int:
    """Output length floor((n + 2 padding - k) / stride) + 1 along one axis.

    The windows start at 0, stride, 2 stride, ... as long as a whole window fits in the
    padded input; the last rows or columns that no complete window reaches are dropped.
    Examples: n=5, k=2, stride=2 -> 2 (the fifth row is not used); n=7, k=3, stride=2,
    padding=1 -> 4.

    Raises ``ValueError`` for n < 1, k < 1, stride < 1, padding < 0, or a kernel larger
    than the padded input n + 2 padding.
    """
    n, k, stride, padding = int(n), int(k), int(stride), int(padding)
    if k < 1 or stride < 1 or padding < 0 or n < 1:
        raise ValueError(
            f"need input size n >= 1, kernel k >= 1, stride >= 1 and padding >= 0; "
            f"got n={n}, k={k}, stride={stride}, padding={padding}"
        )
    span = n + 2 * padding - k
    if span < 0:
        raise ValueError(
            f"kernel size {k} is larger than the padded input {n} + 2*{padding} = "
            f"{n + 2 * padding}"
        )
    return span // stride + 1


class ConvCache(NamedTuple):
    """What the convolution's backward pass needs from its forward pass.

    A named tuple: its fields can also be read by position, in this order (k = c_in kh kw).
    """

    #: (n, c_in, H, W) and the dtype of the input x
    x_shape: tuple
    x_dtype: np.dtype
    #: (c_in, n, H + 2 ph, W + 2 pw): the channel-first padded input
    xp_shape: tuple
    #: (k + 1, n H_out W_out): the im2col matrix with its last row of ones (the bias trick)
    cols: np.ndarray
    #: (c_out, c_in, kh, kw): the filters
    W: np.ndarray
    #: (sh, sw) and (ph, pw)
    stride: tuple
    padding: tuple
    #: (H_out, W_out)
    out_hw: tuple


def _channel_first_padded(x, ph, pw, pool: memory.BufferPool | None):
    """x (n, c, H, W) -> channel-first zero-padded (c, n, H + 2 ph, W + 2 pw)."""
    xt = x.transpose(1, 0, 2, 3)  # a view: no copy
    if ph == 0 and pw == 0:
        return xt
    c, n, h, w = xt.shape
    shape = (c, n, h + 2 * ph, w + 2 * pw)
    xp = np.zeros(shape, x.dtype) if pool is None else pool.get("xpad", shape, x.dtype)
    if pool is not None:  # a reused buffer: zero its border strips only
        xp[:, :, :ph] = 0
        xp[:, :, h + ph :] = 0
        xp[:, :, ph : h + ph, :pw] = 0
        xp[:, :, ph : h + ph, w + pw :] = 0
    xp[:, :, ph : h + ph, pw : w + pw] = xt
    return xp


def im2col(xp, kh, kw, sh, sw, ho, wo, out=None):
    """Windows of a channel-first padded input as columns.

    xp: (c, n, Hp, Wp) -> cols (c, kh, kw, n, ho, wo); reshape to (c kh kw, n ho wo) for
    the matrix product. One copy per kernel offset (u, v), never a loop over pixels.
    """
    c, n = xp.shape[:2]
    if out is None:
        out = np.empty((c, kh, kw, n, ho, wo), dtype=xp.dtype)
    for u in range(kh):
        for v in range(kw):
            out[:, u, v] = xp[:, :, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw]
    return out


def col2im(dcols, shape, sh, sw):
    """Adjoint of ``im2col``: add every column back onto its window.

    dcols: (c, kh, kw, n, ho, wo); shape: (c, n, Hp, Wp) of the padded input -> dxp.
    Rows and columns that no window reaches (when the stride does not divide
    Hp - kh or Wp - kw) get 0.
    """
    c, kh, kw, n, ho, wo = dcols.shape
    dxp = np.zeros(shape, dtype=dcols.dtype)
    for u in range(kh):
        for v in range(kw):
            dxp[:, :, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw] += dcols[
                :, u, v
            ]
    return dxp


def _check_conv_input(x, W, stride, padding):
    if x.ndim != 4:
        raise ValueError(
            f"conv input x must have shape (batch, channels, height, width), got shape {x.shape}"
        )
    c_out, c_in, kh, kw = W.shape
    if x.shape[1] != c_in:
        raise ValueError(
            f"conv input x must have shape (batch, {c_in}, height, width) for {c_in} input "
            f"channels, got shape {x.shape}"
        )
    (sh, sw), (ph, pw) = stride, padding
    ho = conv_output_size(x.shape[2], kh, sh, ph)
    wo = conv_output_size(x.shape[3], kw, sw, pw)
    return ho, wo


def _conv_forward(x, W, b, stride, padding, pool=None, recycler=None):
    """Shared forward: returns out (n, c_out, ho, wo) and its ``ConvCache``.

    pool, recycler: the layer's memory (``nnlib.layers.memory``), or None to allocate afresh.
    """
    ho, wo = _check_conv_input(x, W, stride, padding)
    c_out, c_in, kh, kw = W.shape
    (sh, sw), (ph, pw) = stride, padding
    n = x.shape[0]
    k = c_in * kh * kw
    xp = _channel_first_padded(x, ph, pw, pool)
    # cols gets one extra row of ones so that the bias rides along in the matrix products
    # (the "bias trick"): [W_2d | b] @ [cols; 1] = W_2d @ cols + b.
    shape = (k + 1, n * ho * wo)
    cols = memory.scratch(pool, "cols", shape, x.dtype)
    im2col(xp, kh, kw, sh, sw, ho, wo, out=cols[:k].reshape(c_in, kh, kw, n, ho, wo))
    cols[k] = 1.0
    Wb = np.concatenate([W.reshape(c_out, k), b[:, None]], axis=1)
    # (c_out, n ho wo): the whole layer in one product
    if recycler is None:
        z = Wb @ cols
    else:
        z = recycler.empty((c_out, n * ho * wo), np.result_type(Wb, cols))
        np.matmul(Wb, cols, out=z)
    out = z.reshape(c_out, n, ho, wo).transpose(1, 0, 2, 3)
    return out, ConvCache(x.shape, x.dtype, xp.shape, cols, W, stride, padding, (ho, wo))


def _conv_backward(dout, cache, needs_input_grad=True, pool=None):
    """Shared backward: (dx (n, c_in, H, W) or None, dW (c_out, c_in, kh, kw), db (c_out,))."""
    x_shape, x_dtype, xp_shape, cols, W, (sh, sw), (ph, pw), (ho, wo) = cache
    n, c_in, h, w = x_shape
    c_out, _, kh, kw = W.shape
    k = c_in * kh * kw
    # (c_out, n ho wo); free when dout is channel-first as our own outputs are
    dout_2d = dout.transpose(1, 0, 2, 3).reshape(c_out, n * ho * wo)
    # (BP4) for shared weights: dW sums x * delta over all windows; the row of ones in cols
    # gives (BP3) db = the sum of delta over all windows and samples, in the same product.
    # (cols @ dout_2d^T)^T equals dout_2d @ cols^T and is faster with most BLAS libraries.
    dWb = (cols @ dout_2d.T).T
    dW = dWb[:, :k].reshape(W.shape)
    db = dWb[:, k]
    if not needs_input_grad:
        return None, dW, db
    W_2d = W.reshape(c_out, k)
    if pool is None or np.result_type(W, dout) != W.dtype:
        dcols = W_2d.T @ dout_2d
    else:
        dcols = np.matmul(W_2d.T, dout_2d, out=pool.get("dcols", (k, n * ho * wo), W.dtype))
    dxp = col2im(dcols.reshape(c_in, kh, kw, n, ho, wo), xp_shape, sh, sw)  # (BP2)
    dx = dxp[:, :, ph : ph + h, pw : pw + w].transpose(1, 0, 2, 3)
    return (dx if dx.dtype == x_dtype else dx.astype(x_dtype)), dW, db


def conv2d_forward(x, W, b, stride=1, padding=0):
    """Convolution forward. x (n, c_in, H, W), W (c_out, c_in, kh, kw), b (c_out,).

    Returns ``(out, cache)`` with out of shape (n, c_out, H_out, W_out) and cache a
    ``ConvCache``.
    """
    x = as_float_array(x, "x")
    W = as_float_array(W, "W")
    b = as_float_array(b, "b")
    if W.ndim != 4 or b.shape != (W.shape[0],):
        raise ValueError(
            "conv2d_forward: expected W of shape (c_out, c_in, kh, kw) and b of shape "
            f"(c_out,); got W {W.shape}, b {b.shape}"
        )
    return _conv_forward(x, W, b, _pair(stride, "stride"), _pair(padding, "padding"))


def conv2d_backward(dout, cache):
    """Convolution backward: dout (n, c_out, H_out, W_out) -> (dx, dW, db).

    Shapes: dx (n, c_in, H, W), dW (c_out, c_in, kh, kw), db (c_out,).
    """
    dout = as_float_array(dout, "dout")
    expected = (cache.x_shape[0], cache.W.shape[0]) + tuple(cache.out_hw)
    if dout.shape != expected:
        raise ValueError(
            f"conv2d_backward: dout must have shape {expected}, got shape {dout.shape}"
        )
    return _conv_backward(dout, cache)


class Conv2D(Layer):
    """Convolution layer with c_out filters of shape (c_in, kh, kw), stride and zero padding.

    kernel_size, stride, padding: an int or a pair (vertical, horizontal). init: a name
    from ``nnlib.init.SHAPE_INITIALISERS`` (fan_in = c_in kh kw). dtype: of the parameters.
    """

    decay_keys = ("W",)

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size,
        stride=1,
        padding=0,
        rng: np.random.Generator = None,
        init: str = "he",
        dtype=np.float64,
    ):
        super().__init__()
        kh, kw = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        if min(kh, kw, c_in, c_out) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(
                "need c_in, c_out, kernel sizes and strides >= 1 and padding >= 0; got "
                f"c_in={c_in}, c_out={c_out}, kernel_size={kernel_size}, stride={stride}, "
                f"padding={padding}"
            )
        try:
            make = _init.SHAPE_INITIALISERS[init]
        except KeyError:
            raise ValueError(
                f"unknown initialiser {init!r}; choose one of {sorted(_init.SHAPE_INITIALISERS)}"
            ) from None
        W = make((int(c_out), int(c_in), kh, kw), rng)
        self.params = {"W": W.astype(dtype), "b": np.zeros(int(c_out), dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def _forward(self, x, train):
        W, b = self.params["W"], self.params["b"]
        out, self.cache = _conv_forward(
            x, W, b, self.stride, self.padding, self.pool, self.recycler
        )
        return out

    def _backward(self, dout):
        dx, dW, db = _conv_backward(dout, self.cache, self.needs_input_grad, self.pool)
        self.grads["W"][...] = dW
        self.grads["b"][...] = db
        return dx

    def __repr__(self):
        c_out, c_in, kh, kw = self.params["W"].shape
        return (
            f"Conv2D({c_in}, {c_out}, kernel_size={(kh, kw)}, stride={self.stride}, "
            f"padding={self.padding})"
        )
