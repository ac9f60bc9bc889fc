"""Max and average pooling over (kh, kw) windows, each channel separately.

Shapes: x (n, c, H, W) -> out (n, c, H_out, W_out), H_out = floor((H - kh) / s) + 1 (no
padding, see ``conv_output_size``). The stride defaults to the window size
(non-overlapping windows). When s does not divide H - kh, the last rows (or columns) that no
complete window reaches are not used: they do not affect the output and get a zero gradient.

Vectorised as a loop over the kh kw window offsets (u, v): the slice
x[:, :, u::s, v::s] holds element (u, v) of every window at once, so max pooling is the
element-wise maximum of kh kw such slices, never a loop over pixels. (Max pooling first
copies the slices into one contiguous array of shape (kh kw, n, c, H_out, W_out), which
makes both passes faster.)

Backward: max pooling passes each output gradient to the input that was the maximum of its
window (to the first one, in row-major window order, when several inputs tie, so that the
gradient is exact); average pooling spreads it evenly, dout / (kh kw), over the window.
Inputs in no window get 0.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nnlib._checks import as_float_array
from nnlib.layers import memory
from nnlib.layers.base import Layer
from nnlib.layers.conv import _pair, conv_output_size


class PoolGeometry(NamedTuple):
    """Window (kh, kw), stride (sh, sw) and output size (ho, wo) of a pooling layer."""

    kh: int
    kw: int
    sh: int
    sw: int
    ho: int
    wo: int


class MaxPoolCache(NamedTuple):
    """What max pooling's backward pass needs (a named tuple: fields by name or position)."""

    #: (n, c, H, W), the dtype of x and the order of its axes in memory
    x_shape: tuple
    x_dtype: np.dtype
    x_axes: tuple
    #: (kh kw, n, c, ho, wo): the window elements, offset first (see ``_windows``)
    xw: np.ndarray
    #: (n, c, ho, wo): the output, the maximum of each window
    out: np.ndarray
    geom: PoolGeometry


class AvgPoolCache(NamedTuple):
    """What average pooling's backward pass needs (a named tuple: fields by name or position)."""

    #: (n, c, H, W) and the dtype of x
    x_shape: tuple
    x_dtype: np.dtype
    geom: PoolGeometry


def _geometry(x, size, stride) -> PoolGeometry:
    if x.ndim != 4:
        raise ValueError(
            f"pooling input x must have shape (batch, channels, height, width), "
            f"got shape {x.shape}"
        )
    kh, kw = _pair(size, "size")
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride")
    ho = conv_output_size(x.shape[2], kh, sh, 0)
    wo = conv_output_size(x.shape[3], kw, sw, 0)
    return PoolGeometry(kh, kw, sh, sw, ho, wo)


def _window_slice(a, u, v, sh, sw, ho, wo):
    """Element (u, v) of every window: a view of shape (n, c, ho, wo)."""
    return a[:, :, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw]


def _windows(x, kh, kw, sh, sw, ho, wo, out=None):
    """Window elements, offset first: xw[u kw + v] = x[:, :, u::s, v::s].

    x (n, c, H, W) -> xw (kh kw, n, c, ho, wo). One strided copy per offset; afterwards
    every operation of the forward and backward passes runs on contiguous memory.
    """
    if out is None:
        out = np.empty((kh * kw, *x.shape[:2], ho, wo), dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            np.copyto(out[u * kw + v], _window_slice(x, u, v, sh, sw, ho, wo))
    return out


def _maxpool_forward(x, geom, pool=None):
    kh, kw, sh, sw, ho, wo = geom
    shape = (kh * kw, *x.shape[:2], ho, wo)
    xw = _windows(x, *geom, out=memory.scratch(pool, "windows", shape, x.dtype))
    out = xw[0].copy()
    for k in range(1, kh * kw):
        np.maximum(out, xw[k], out=out)
    return out, MaxPoolCache(x.shape, x.dtype, memory.memory_axis_order(x), xw, out, geom)


def maxpool_forward(x, size, stride=None):
    """Max pooling. x (n, c, H, W) -> (out (n, c, H_out, W_out), cache: a MaxPoolCache)."""
    x = as_float_array(x, "x")
    return _maxpool_forward(x, _geometry(x, size, stride))


def maxpool_backward(dout, cache, recycler=None):
    """Max pooling backward: dout (n, c, H_out, W_out) -> dx (n, c, H, W).

    Each window's gradient goes to the first of its inputs (row-major order) that equals
    the window's maximum, so ties do not count the gradient twice. Inputs that no window
    reaches get 0. recycler: where dx comes from (``nnlib.layers.memory``; None: a new array).
    """
    x_shape, x_dtype, x_axes, xw, out, (kh, kw, sh, sw, ho, wo) = cache
    dout = as_float_array(dout, "dout")
    if dout.shape != out.shape:
        raise ValueError(
            f"maxpool_backward: dout must have shape {out.shape}, got shape {dout.shape}"
        )
    overlap = sh < kh or sw < kw
    # dx is laid out in memory like x (channel-first stays channel-first)
    dx = memory.empty(recycler, x_shape, x_dtype, x_axes)
    if (sh, sw) != (kh, kw):
        dx.fill(0)  # inputs in several windows (sum) or in none (gaps between windows)
    else:
        # stride == size: every input lies in at most one window, so the loop below writes
        # each covered input once; only the rows and columns that no window reaches (when
        # the stride does not divide H - kh) need zeros.
        hc, wc = sh * (ho - 1) + kh, sw * (wo - 1) + kw
        dx[:, :, hc:] = 0
        dx[:, :, :hc, wc:] = 0
    is_max = np.empty(out.shape, dtype=bool)
    taken = np.zeros(out.shape, dtype=bool)  # windows whose maximum was already found
    for u in range(kh):
        for v in range(kw):
            k = u * kw + v
            np.equal(xw[k], out, out=is_max)
            if k:
                np.greater(is_max, taken, out=is_max)  # is_max and not taken
            if k < kh * kw - 1:
                np.logical_or(taken, is_max, out=taken)
            dx_uv = _window_slice(dx, u, v, sh, sw, ho, wo)
            if overlap:
                dx_uv += np.multiply(dout, is_max, dtype=x_dtype)
            else:
                np.multiply(dout, is_max, out=dx_uv, dtype=x_dtype)
    return dx


def avgpool_forward(x, size, stride=None):
    """Average pooling. x (n, c, H, W) -> (out (n, c, H_out, W_out), cache: an AvgPoolCache)."""
    x = as_float_array(x, "x")
    kh, kw, sh, sw, ho, wo = geom = _geometry(x, size, stride)
    out = _window_slice(x, 0, 0, sh, sw, ho, wo).copy(order="K")
    for u in range(kh):
        for v in range(kw):
            if u or v:
                out += _window_slice(x, u, v, sh, sw, ho, wo)
    out *= 1.0 / (kh * kw)
    return out, AvgPoolCache(x.shape, x.dtype, geom)


def avgpool_backward(dout, cache):
    """Average pooling backward: dout (n, c, H_out, W_out) -> dx (n, c, H, W).

    Inputs that no window reaches get 0.
    """
    x_shape, x_dtype, (kh, kw, sh, sw, ho, wo) = cache
    dout = as_float_array(dout, "dout")
    expected = (*x_shape[:2], ho, wo)
    if dout.shape != expected:
        raise ValueError(
            f"avgpool_backward: dout must have shape {expected}, got shape {dout.shape}"
        )
    g = dout * (1.0 / (kh * kw))  # each input of a window gets an equal share
    g = g.astype(x_dtype, copy=False)
    dx = np.zeros(x_shape, dtype=x_dtype)
    for u in range(kh):
        for v in range(kw):
            _window_slice(dx, u, v, sh, sw, ho, wo)[...] += g
    return dx


class MaxPool2D(Layer):
    """Max pooling over size x size windows (size: int or pair); stride defaults to size."""

    def __init__(self, size=2, stride=None):
        super().__init__()
        self.size = _pair(size, "size")
        self.stride = self.size if stride is None else _pair(stride, "stride")
        if min(self.size) < 1 or min(self.stride) < 1:
            raise ValueError(f"size and stride must be >= 1, got {size} and {stride}")

    def _forward(self, x, train):
        geom = _geometry(x, self.size, self.stride)
        out, self.cache = _maxpool_forward(x, geom, self.pool)
        return out

    def _backward(self, dout):
        if not self.needs_input_grad:
            return None
        return maxpool_backward(dout, self.cache, self.recycler)

    def __repr__(self):
        return f"MaxPool2D(size={self.size}, stride={self.stride})"


class AvgPool2D(Layer):
    """Average pooling over size x size windows (size: int or pair); stride defaults to size."""

    def __init__(self, size=2, stride=None):
        super().__init__()
        self.size = _pair(size, "size")
        self.stride = self.size if stride is None else _pair(stride, "stride")
        if min(self.size) < 1 or min(self.stride) < 1:
            raise ValueError(f"size and stride must be >= 1, got {size} and {stride}")

    def _forward(self, x, train):
        out, self.cache = avgpool_forward(x, self.size, self.stride)
        return out

    def _backward(self, dout):
        if not self.needs_input_grad:
            return None
        return avgpool_backward(dout, self.cache)

    def __repr__(self):
        return f"AvgPool2D(size={self.size}, stride={self.stride})"
