"""Softmax regression on MNIST: 784 -> 10 (7,850 parameters), mini-batch SGD, 15 epochs.

Target: test error <= 8% (the lectures report about 8%).

    python benchmarks/mnist_softmax.py [--epochs 15] [--batch-size 100] [--lr 0.2]
"""

import _common  # noqa: I001  (first: pins BLAS to one thread before numpy loads)
import numpy as np

from nnlib.layers import Dense
from nnlib.model import Sequential
from nnlib.optim import SGD


def main():
    args = _common.parse_args(
        __doc__.splitlines()[0], epochs=15, batch_size=100, lr=0.2, lr_decay=1.0
    )
    rng = np.random.default_rng(args.seed)
    model = Sequential([Dense(784, 10, rng=rng, init="small_gaussian")]).astype(np.float32)
    _common.train("mnist_softmax", model, _common.mnist(flat=True), args, SGD(args.lr), 0.08)


if __name__ == "__main__":
    main()
