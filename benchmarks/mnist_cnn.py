"""A small CNN on MNIST: conv 5x5 (32 filters) -> ReLU -> 2x2 max-pool -> dense -> softmax.

The dense part is a hidden ReLU layer of 100 units and the 10 outputs; ``--hidden 0`` reads
the pooled features out directly (that simpler net ends near 1.3% test error).

Target: test error <= 1.2%, in well under 15 minutes on one core. The learning rate
shrinks by --lr-decay after each epoch.

    python benchmarks/mnist_cnn.py [--filters 32] [--hidden 100] [--epochs 10] [--lr 0.05]
"""

import _common  # noqa: I001  (first: pins BLAS to one thread before numpy loads)
import numpy as np

from nnlib.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from nnlib.model import Sequential
from nnlib.optim import SGD


def main():
    args = _common.parse_args(
        __doc__.splitlines()[0],
        epochs=10,
        batch_size=64,
        lr=0.05,
        lr_decay=0.8,
        filters=32,
        hidden=100,
    )
    filters = args.filters
    rng = np.random.default_rng(args.seed)
    features = filters * 12 * 12
    layers = [
        Conv2D(1, filters, 5, rng=rng),  # 28x28 -> 24x24
        ReLU(),
        MaxPool2D(2),  # -> 12x12
        Flatten(),
    ]
    if args.hidden:
        layers += [Dense(features, args.hidden, rng=rng), ReLU()]
    layers.append(Dense(args.hidden or features, 10, rng=rng))
    model = Sequential(layers).astype(np.float32)
    optimizer = SGD(args.lr, momentum=0.9, weight_decay=1e-4)
    _common.train("mnist_cnn", model, _common.mnist(flat=False), args, optimizer, 0.012)


if __name__ == "__main__":
    main()
