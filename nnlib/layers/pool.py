"""Max and average pooling over (kh, kw) windows, each channel separately.

Shapes: x (n, c, H, W) -> out (n, c, H_out, W_out), H_out = (H - kh) / s + 1 (no padding;
the windows must tile the input exactly, see ``conv_output_size``). The stride defaults to
the window size (non-overlapping windows).

Vectorised as a loop over the kh kw window offsets (u, v): the slice
x[:, :, u::s, v::s] holds element (u, v) of every window at once, so max pooling is the
element-wise maximum of kh kw strided slices, never a loop over pixels.

Backward: max pooling passes each output gradient to the input that was the maximum of its
window (to the first one, in row-major window order, when several inputs tie, so that the
gradient is exact); average pooling spreads it evenly, dout / (kh kw), over the window.
"""

from __future__ import annotations

import numpy as np

from nnlib._checks import as_float_array
from nnlib.layers.base import Layer
from nnlib.layers.conv import _pair, conv_output_size


def _geometry(x, size, stride):
    if x.ndim != 4:
        raise ValueError(
            f"pooling input x must have shape (batch, channels, height, width), "
            f"got shape {x.shape}"
        )
    kh, kw = _pair(size, "size")
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride")
    ho = conv_output_size(x.shape[2], kh, sh, 0)
    wo = conv_output_size(x.shape[3], kw, sw, 0)
    return kh, kw, sh, sw, ho, wo


def _window_slice(a, u, v, sh, sw, ho, wo):
    """Element (u, v) of every window: a view of shape (n, c, ho, wo)."""
    return a[:, :, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw]


def maxpool_forward(x, size, stride=None):
    """Max pooling. x (n, c, H, W) -> (out (n, c, H_out, W_out), cache)."""
    x = as_float_array(x, "x")
    kh, kw, sh, sw, ho, wo = geom = _geometry(x, size, stride)
    # copy(order="K") keeps the memory layout of x (channel-first stays channel-first)
    out = _window_slice(x, 0, 0, sh, sw, ho, wo).copy(order="K")
    for u in range(kh):
        for v in range(kw):
            if u or v:
                np.maximum(out, _window_slice(x, u, v, sh, sw, ho, wo), out=out)
    return out, (x, out, geom)


def maxpool_backward(dout, cache):
    """Max pooling backward: dout (n, c, H_out, W_out) -> dx (n, c, H, W)."""
    x, out, (kh, kw, sh, sw, ho, wo) = cache
    dout = as_float_array(dout, "dout")
    if dout.shape != out.shape:
        raise ValueError(
            f"maxpool_backward: dout must have shape {out.shape}, got shape {dout.shape}"
        )
    overlap = sh < kh or sw < kw
    tiled = sh == kh and sw == kw  # every input lies in exactly one window
    dx = np.empty_like(x) if tiled else np.zeros_like(x)  # empty_like keeps the layout
    rest = dout  # gradient not yet routed; becomes 0 once a window's maximum is found
    last = (kh - 1, kw - 1)
    for u in range(kh):
        for v in range(kw):
            is_max = _window_slice(x, u, v, sh, sw, ho, wo) == out
            dx_uv = _window_slice(dx, u, v, sh, sw, ho, wo)
            if overlap:
                g = np.multiply(rest, is_max, dtype=dx.dtype)
                dx_uv += g
            else:
                g = np.multiply(rest, is_max, out=dx_uv, dtype=dx.dtype)
            if (u, v) != last:
                # ties: later equal inputs of a window get nothing (rest - rest = 0)
                rest = rest - g if rest is dout else np.subtract(rest, g, out=rest)
    return dx


def avgpool_forward(x, size, stride=None):
    """Average pooling. x (n, c, H, W) -> (out (n, c, H_out, W_out), cache)."""
    x = as_float_array(x, "x")
    kh, kw, sh, sw, ho, wo = geom = _geometry(x, size, stride)
    out = _window_slice(x, 0, 0, sh, sw, ho, wo).copy(order="K")
    for u in range(kh):
        for v in range(kw):
            if u or v:
                out += _window_slice(x, u, v, sh, sw, ho, wo)
    out *= 1.0 / (kh * kw)
    return out, (x.shape, x.dtype, geom)


def avgpool_backward(dout, cache):
    """Average pooling backward: dout (n, c, H_out, W_out) -> dx (n, c, H, W)."""
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
        out, self.cache = maxpool_forward(x, self.size, self.stride)
        return out

    def _backward(self, dout):
        if not self.needs_input_grad:
            return None
        return maxpool_backward(dout, self.cache)

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
