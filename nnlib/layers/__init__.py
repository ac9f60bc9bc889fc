"""Layers for building networks as a sequence (see ``nnlib.model.Sequential``).

Every layer has ``forward(x, train=False) -> out``, ``backward(dout) -> dx`` and the dicts
``params`` / ``grads``. The functional forms (``dense_forward`` ... ``dropout_backward``)
return and take an explicit cache, CS231n style (the convolution's and the pooling
layers' caches are named tuples: ``ConvCache``, ``MaxPoolCache``, ``AvgPoolCache``).

The reusable memory that makes training steps fast (``nnlib.layers.memory``) is not part of
a layer: a model passes it in, and a layer on its own allocates its arrays afresh.
"""

from nnlib.layers.activation import ELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from nnlib.layers.base import Layer
from nnlib.layers.conv import (
    Conv2D,
    col2im,
    conv2d_backward,
    conv2d_forward,
    conv_output_size,
    im2col,
)
from nnlib.layers.dense import Dense, dense_backward, dense_forward
from nnlib.layers.dropout import Dropout, dropout_backward, dropout_forward
from nnlib.layers.flatten import Flatten
from nnlib.layers.pool import (
    AvgPool2D,
    MaxPool2D,
    avgpool_backward,
    avgpool_forward,
    maxpool_backward,
    maxpool_forward,
)

__all__ = [
    "ELU",
    "Activation",
    "AvgPool2D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "Identity",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "avgpool_backward",
    "avgpool_forward",
    "col2im",
    "conv2d_backward",
    "conv2d_forward",
    "conv_output_size",
    "dense_backward",
    "dense_forward",
    "dropout_backward",
    "dropout_forward",
    "im2col",
    "maxpool_backward",
    "maxpool_forward",
]
