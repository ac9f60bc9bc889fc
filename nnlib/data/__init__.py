"""Data for the course: synthetic 2-D sets, MNIST, one-hot targets and mini-batches."""

from .batches import minibatches, one_hot
from .idx import IDXFormatError, encode_idx, parse_idx
from .mnist import (
    MNISTCorruptError,
    MNISTError,
    MNISTUnavailableError,
    load_mnist,
    load_mnist_uint8,
)
from .synthetic import make_blobs, make_circles, make_moons, make_spirals, make_xor

__all__ = [
    "IDXFormatError",
    "MNISTCorruptError",
    "MNISTError",
    "MNISTUnavailableError",
    "encode_idx",
    "load_mnist",
    "load_mnist_uint8",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "minibatches",
    "one_hot",
    "parse_idx",
]
