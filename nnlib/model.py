"""A network as a sequence of layers, with a cost, mini-batch training and evaluation.

    model = Sequential([Dense(784, 100, rng=rng), ReLU(), Dense(100, 10, rng=rng)])
    history = model.fit(X, y, epochs=15, batch_size=100, optimizer=SGD(0.1), rng=rng)
    model.evaluate(X_test, y_test)  # accuracy in [0, 1]

The last layer outputs z^L (logits); the cost turns them into the loss and gives
delta^L = dC/dz^L (BP1), which ``backward`` passes down through the layers (BP2), each
layer storing dC/dW and dC/db (BP3, BP4) in its ``grads``.

Costs (``loss=``), all means over the batch, from ``nnlib.losses``:

- "softmax_cross_entropy" (alias "categorical_cross_entropy"): softmax of the logits with
  cross-entropy; targets are integer labels (n,) or one-hot rows (n, K);
- "binary_cross_entropy_from_logits" (alias "sigmoid_cross_entropy"): sigmoid outputs;
- "quadratic": (1/2) ||a - y||^2 on the raw output (add a Sigmoid layer for Nielsen's
  sigmoid output layer);
- "binary_cross_entropy": on outputs that are already probabilities.
"""

from __future__ import annotations

import math

import numpy as np
from tqdm.auto import tqdm

from nnlib import activations, losses
from nnlib._checks import as_float_array, check_rng
from nnlib.data.batches import minibatches
from nnlib.layers.memory import ArrayRecycler, BufferPool

_ALIASES = {
    "softmax_cross_entropy": "categorical_cross_entropy",
    "sigmoid_cross_entropy": "binary_cross_entropy_from_logits",
}


def _batches(n: int, batch_size: int):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


class Sequential:
    """Layers applied in order, plus a cost on the last output.

    layers: list of ``nnlib.layers`` layers. loss: name of the cost (see module docstring).
    input_grad: when False (the default) the first layer does not compute dC/dx, which
    nobody needs when x is the data; ``backward`` then returns None.
    """

    def __init__(self, layers, loss: str = "softmax_cross_entropy", input_grad: bool = False):
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("Sequential needs at least one layer")
        self.loss_name = _ALIASES.get(loss, loss)
        self.cost, self.cost_grad = losses.get(self.loss_name)
        self.layers[0].needs_input_grad = bool(input_grad)
        self.last_output = None  # z^L of the last batch of loss_and_grads
        # The model passes its memory in (nnlib.layers.memory): one recycler for all layers,
        # so that arrays that die early in a step are reused later in it, and a scratch pool
        # for each layer. Only speed depends on it, never a number.
        recycler = ArrayRecycler()
        for layer in self.layers:
            layer.recycler = recycler
            layer.pool = BufferPool()

    # ----- passes -----------------------------------------------------------------------

    def forward(self, x, train: bool = False) -> np.ndarray:
        """Output z^L of the last layer for the batch x (n, ...), in one pass."""
        a = x
        for layer in self.layers:
            a = layer.forward(a, train)
        return a

    __call__ = forward

    def backward(self, dout) -> np.ndarray | None:
        """Backpropagate dout = dC/dz^L through all layers (after ``forward``).

        Fills every layer's ``grads`` and returns dC/dx (None unless ``input_grad``).
        """
        delta = dout
        for layer in reversed(self.layers):
            delta = layer.backward(delta)  # (BP2) through each layer
        return delta

    def loss_and_grads(self, x, y, train: bool = True):
        """Forward, cost and backward on one batch.

        x: (n, ...) inputs; y: (n,) labels or (n, K) targets. Returns ``(loss, grads)``: the
        mean cost (float) and a dict "<layer index>.<key>" -> dC/dparam (the arrays in the
        layers' ``grads``, valid until the next backward). The output z^L (n, K) of the batch
        is kept in ``last_output`` (``fit`` reads its accuracy there). ``fit`` takes each of
        its steps with this method.
        """
        z = self.forward(x, train)
        y = losses.targets_like(z, y)  # one-hot labels once for both cost and gradient
        loss = self.cost(z, y)
        self.backward(self.cost_grad(z, y))  # (BP1) then (BP2)-(BP4)
        self.last_output = z
        grads = {f"{i}.{key}": layer.grads[key] for i, layer, key in self._indexed_params()}
        return loss, grads

    # ----- parameters -------------------------------------------------------------------

    def params(self):
        """Yield ``(layer, key)`` for every parameter array ``layer.params[key]``."""
        for layer in self.layers:
            for key in layer.params:
                yield layer, key

    def _indexed_params(self):
        for i, layer in enumerate(self.layers):
            for key in layer.params:
                yield i, layer, key

    def named_params(self) -> dict:
        """Dict "<layer index>.<key>" -> parameter array (the arrays themselves)."""
        return {f"{i}.{key}": layer.params[key] for i, layer, key in self._indexed_params()}

    def num_params(self) -> int:
        """Number of trainable numbers in the model."""
        return sum(layer.num_params() for layer in self.layers)

    def astype(self, dtype) -> Sequential:
        """Convert every parameter to ``dtype`` (float32 trains about twice as fast)."""
        for layer in self.layers:
            layer.astype(dtype)
        return self

    # ----- evaluation, in batches so memory stays bounded -------------------------------

    def _outputs(self, x, batch_size: int):
        x = as_float_array(x, "x")
        return np.concatenate(
            [self.forward(x[s], train=False) for s in _batches(len(x), batch_size)]
        )

    def loss(self, x, y, batch_size: int = 256) -> float:
        """Mean cost over all samples of (x, y), at test time (train=False)."""
        x = as_float_array(x, "x")
        y = np.asarray(y)
        if len(y) != len(x):
            raise ValueError(f"x has {len(x)} samples but y has {len(y)} (y shape {y.shape})")
        total = 0.0
        for s in _batches(len(x), batch_size):
            total += self.cost(self.forward(x[s], train=False), y[s]) * (s.stop - s.start)
        return total / len(x)

    def predict_proba(self, x, batch_size: int = 256) -> np.ndarray:
        """Output probabilities: softmax rows (n, K), sigmoid (n, ...) or the raw output."""
        z = self._outputs(x, batch_size)
        if self.loss_name == "categorical_cross_entropy":
            return activations.softmax(z)
        if self.loss_name == "binary_cross_entropy_from_logits":
            return activations.sigmoid(z)
        return z

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """Class labels (n,): argmax over K > 1 outputs, output > 1/2 for a single output."""
        return self._labels(self._outputs(x, batch_size))

    def _labels(self, z: np.ndarray) -> np.ndarray:
        if z.ndim == 2 and z.shape[1] > 1:
            return np.argmax(z, axis=1)  # softmax and sigmoid are monotone: use z directly
        z = z.reshape(len(z))
        threshold = 0.0 if self.loss_name == "binary_cross_entropy_from_logits" else 0.5
        return (z > threshold).astype(np.int64)

    @staticmethod
    def _true_labels(y) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            return np.argmax(y, axis=1)
        return y.reshape(len(y)).astype(np.int64)

    def _accuracy_of(self, z, y) -> float:
        return float(np.mean(self._labels(z) == self._true_labels(y)))

    def evaluate(self, x, y, batch_size: int = 256) -> float:
        """Fraction of samples whose predicted class equals the label (y labels or one-hot)."""
        return float(np.mean(self.predict(x, batch_size) == self._true_labels(y)))

    # ----- training ---------------------------------------------------------------------

    def fit(
        self,
        X,
        y,
        epochs: int = 1,
        batch_size: int = 32,
        optimizer=None,
        rng=None,
        validation_data=None,
        progress: bool = True,
    ) -> dict:
        """Train with mini-batch gradient descent; returns the history of every epoch.

        X: (n, ...) inputs. y: (n,) labels or (n, K) targets. optimizer: e.g.
        ``nnlib.optim.SGD(0.1)``. rng: ``numpy.random.Generator`` shuffling the samples each
        epoch (and nothing else). validation_data: optional (X_val, y_val).

        history: dict of lists, one entry per epoch: "loss" and "accuracy" (means over the
        epoch's mini-batches, in training mode), "val_loss" and "val_accuracy" (on the
        validation data after the epoch; empty lists without validation data).
        A NaN or infinite loss stops training with ``FloatingPointError``.
        """
        if optimizer is None or not hasattr(optimizer, "step"):
            raise TypeError("fit needs an optimizer, e.g. optimizer=nnlib.optim.SGD(lr=0.1)")
        check_rng(rng, "Sequential.fit")  # it shuffles the samples each epoch
        X = as_float_array(X, "X")
        y = np.asarray(y)
        n = len(X)
        if len(y) != n:
            raise ValueError(f"X has {n} samples but y has {len(y)} (y shape {y.shape})")
        if int(epochs) < 1 or int(batch_size) < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
        epochs, batch_size = int(epochs), int(batch_size)
        steps = math.ceil(n / batch_size)
        history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
        bar = tqdm(total=epochs * steps, disable=not progress, unit="batch", leave=True)
        try:
            for epoch in range(1, epochs + 1):
                bar.set_description(f"epoch {epoch}/{epochs}")
                loss_sum = correct = 0.0
                batches = minibatches(X, y, batch_size, rng)  # one permutation per epoch
                for step, (xb, yb) in enumerate(batches, start=1):
                    with np.errstate(all="ignore"):  # a diverging run is reported below
                        loss, _ = self.loss_and_grads(xb, yb)
                        if not math.isfinite(loss):
                            raise FloatingPointError(
                                f"the loss became {loss} at epoch {epoch}, step {step} "
                                f"(batch {step} of {steps}): training diverged; try a smaller "
                                f"learning rate (lr={getattr(optimizer, 'lr', '?')})"
                            )
                        optimizer.step(self)
                    m = len(xb)
                    loss_sum += loss * m
                    correct += self._accuracy_of(self.last_output, yb) * m
                    bar.update(1)
                history["loss"].append(loss_sum / n)
                history["accuracy"].append(correct / n)
                postfix = {"loss": f"{loss_sum / n:.4f}", "acc": f"{correct / n:.4f}"}
                if validation_data is not None:
                    Xv, yv = validation_data
                    history["val_loss"].append(self.loss(Xv, yv))
                    history["val_accuracy"].append(self.evaluate(Xv, yv))
                    postfix["val_acc"] = f"{history['val_accuracy'][-1]:.4f}"
                bar.set_postfix(postfix)
        finally:
            bar.close()
        return history

    def __repr__(self):
        inner = ",\n    ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n    {inner},\n], loss={self.loss_name!r})"
