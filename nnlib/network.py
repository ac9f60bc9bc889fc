"""A fully connected network trained by mini-batch SGD with backpropagation.

The classic multilayer perceptron of the lectures, vectorised over mini-batches: rows of
``X`` are samples, ``weights[l]`` has shape (n_out, n_in), and a layer computes
``z = a_prev @ W.T + b``, ``a = g(z)``. The gradient is computed with the four equations of
``nnlib.backprop``.

Each cost is a small class, in the style of Nielsen's ``network2.py``, that carries both its
value ``fn`` and its output error ``delta`` (BP1) for the output activations it supports, so
that the network itself never asks which cost it has.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from nnlib import activations, backprop, losses
from nnlib import init as initialisers
from nnlib._checks import as_float_array, check_dim, check_ndim, check_rng
from nnlib.data.batches import minibatches

#: name -> output activation g of the last layer, a^L = g(z^L)
OUTPUT_ACTIVATIONS = {
    "sigmoid": activations.sigmoid,
    "softmax": activations.softmax,
    "identity": activations.identity,
}
OUTPUTS = tuple(OUTPUT_ACTIVATIONS)


class QuadraticCost:
    """C_x = 1/2 ||a^L - y||^2, averaged over the batch; for every output activation.

    Both methods take z_L, a_L (n, K), the output's weighted inputs and activations, Y (n, K)
    the targets, and ``output``, the name of the output activation g.
    """

    outputs = OUTPUTS

    # (BP1) delta^L = (a^L - y) * g'(z^L) for an element-wise g; softmax is not element-wise
    # and its delta carries the softmax Jacobian.
    _bp1 = {
        "sigmoid": lambda z_L, a_L, Y: backprop.bp1_quadratic_sigmoid(a_L, Y, z_L),
        "softmax": lambda z_L, a_L, Y: backprop.bp1_quadratic_softmax(a_L, Y),
        "identity": lambda z_L, a_L, Y: backprop.bp1_quadratic(
            a_L, Y, z_L, activations.identity_prime
        ),
    }

    @staticmethod
    def fn(z_L, a_L, Y, output: str) -> float:
        """The mean cost (1/n) sum_x 1/2 ||a^L(x) - y(x)||^2."""
        return losses.quadratic(a_L, Y)

    @classmethod
    def delta(cls, z_L, a_L, Y, output: str) -> np.ndarray:
        """(BP1) the output error delta^L = dC_x/dz^L of each sample, shape (n, K)."""
        return cls._bp1[output](z_L, a_L, Y)  # (BP1)


class CrossEntropyCost:
    """Cross-entropy of probabilities: binary (each unit) for sigmoid outputs, categorical
    for softmax outputs; not defined for identity outputs. Arguments as in QuadraticCost.
    """

    outputs = ("sigmoid", "softmax")

    # computed from z^L, never log(0): the same value as from a^L, without its round-off
    _fn = {
        "sigmoid": losses.binary_cross_entropy_from_logits,
        "softmax": losses.categorical_cross_entropy,
    }

    @classmethod
    def fn(cls, z_L, a_L, Y, output: str) -> float:
        """The mean cost -(1/n) sum_x sum_j y_j ln a_j (+ (1 - y_j) ln(1 - a_j) for sigmoid)."""
        return cls._fn[output](z_L, Y)

    @staticmethod
    def delta(z_L, a_L, Y, output: str) -> np.ndarray:
        """(BP1) delta^L = a^L - y for both outputs: g'(z) (sigmoid) or the softmax Jacobian
        cancels the 1/a of the log. Shape (n, K)."""
        return backprop.bp1_softmax_cross_entropy(a_L, Y)  # (BP1)


#: name -> cost class (``fn`` and ``delta``)
COST_FUNCTIONS = {"quadratic": QuadraticCost, "cross_entropy": CrossEntropyCost}
COSTS = tuple(COST_FUNCTIONS)


class TrainingDivergedError(FloatingPointError):
    """Raised when the cost or a gradient becomes NaN or infinite during training."""


class Network:
    """A multilayer perceptron ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    sizes: units per layer, input layer first, e.g. [784, 30, 10].
    hidden: element-wise activation of the hidden layers (a name in
        ``nnlib.activations.ELEMENTWISE``: sigmoid, tanh, relu, leaky_relu, elu, identity).
    output: "sigmoid", "softmax" or "identity".
    cost: "quadratic" (C_x = 1/2 ||a - y||^2) or "cross_entropy" (binary cross-entropy of
        each unit for sigmoid outputs, categorical cross-entropy for softmax outputs; not
        defined for identity outputs). The five other pairs of output and cost are
        supported, including softmax with the quadratic cost (its BP1 carries the softmax
        Jacobian).
    init: weight initialiser name in ``nnlib.init.INITIALISERS`` ("lecun" by default: std
        1/sqrt(n_in)); biases start at zero.
    rng: numpy Generator drawing the weights; None uses ``np.random.default_rng(0)``.

    Attributes: ``weights[l]`` (sizes[l+1], sizes[l]) and ``biases[l]`` (sizes[l+1],),
    indexed from 0 for the first weight layer; ``cost_function``, the cost's class in
    ``COST_FUNCTIONS`` (its value ``fn`` and its output error ``delta``, BP1).
    """

    def __init__(
        self,
        sizes,
        hidden: str = "sigmoid",
        output: str = "sigmoid",
        cost: str = "quadratic",
        init: str = "lecun",
        rng: np.random.Generator | None = None,
    ):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s <= 0 for s in sizes):
            raise ValueError(f"sizes must list at least 2 positive layer sizes, got {sizes}")
        if output not in OUTPUTS:
            raise ValueError(f"unknown output {output!r}; choose one of {OUTPUTS}")
        if cost not in COSTS:
            raise ValueError(f"unknown cost {cost!r}; choose one of {COSTS}")
        if output not in COST_FUNCTIONS[cost].outputs:  # cross_entropy with identity
            raise ValueError(
                "cross_entropy needs probabilities: use output='sigmoid' or 'softmax' with it, "
                "or cost='quadratic' with output='identity'"
            )
        if output == "softmax" and sizes[-1] < 2:
            raise ValueError(f"a softmax output needs at least 2 units, got sizes {sizes}")
        self.sizes = sizes
        self.num_layers = len(sizes)
        self.hidden, self.output, self.cost_name = hidden, output, cost
        self.cost_function = COST_FUNCTIONS[cost]  # its value fn and its delta (BP1)
        self.g, self.g_prime = activations.get(hidden)
        draw = initialisers.get(init)
        if rng is None:
            rng = np.random.default_rng(0)
        self.weights = [
            draw(n_in, n_out, rng) for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        ]
        self.biases = [np.zeros(n_out) for n_out in sizes[1:]]

    def __repr__(self) -> str:
        return (
            f"Network({self.sizes}, hidden={self.hidden!r}, output={self.output!r}, "
            f"cost={self.cost_name!r})"
        )

    def num_params(self) -> int:
        """Number of weights and biases, e.g. 7,850 for sizes [784, 10]."""
        return sum(W.size + b.size for W, b in zip(self.weights, self.biases, strict=True))

    # ----- forward ------------------------------------------------------------------------

    def _check_X(self, X) -> np.ndarray:
        X = as_float_array(X, "X")
        check_ndim(X, 2, "X", f"(batch, {self.sizes[0]})")
        check_dim(X, 1, self.sizes[0], "X", "input features")
        return X

    def _targets(self, Y, a_L: np.ndarray) -> np.ndarray:
        """Targets shaped like a_L (n, K): one-hot rows from labels, a column for K = 1."""
        Y = np.asarray(Y)
        if Y.ndim == 1 and a_L.shape[1] == 1:
            Y = Y[:, None]
        return losses.targets_like(a_L, Y, "Y")

    def forward(self, X):
        """Forward pass keeping the cache backprop needs.

        X: (n, sizes[0]). Returns ``(zs, activations)`` where ``zs[l]`` (n, sizes[l+1]) is
        the weighted input of weight layer l and ``activations[0] = X``,
        ``activations[l+1] = g(zs[l])``; ``activations[-1]`` is the output a^L (n, sizes[-1]).
        """
        a = self._check_X(X)
        zs, acts = [], [a]
        last = self.num_layers - 2
        g_L = OUTPUT_ACTIVATIONS[self.output]
        for l, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = a @ W.T + b
            a = g_L(z) if l == last else self.g(z)
            zs.append(z)
            acts.append(a)
        return zs, acts

    def feedforward(self, X) -> np.ndarray:
        """Output a^L of shape (n, sizes[-1]) for inputs X of shape (n, sizes[0])."""
        return self.forward(X)[1][-1]

    # ----- cost and gradient --------------------------------------------------------------

    def _cost_from_cache(self, zs, acts, Y) -> float:
        return self.cost_function.fn(zs[-1], acts[-1], Y, self.output)

    def cost(self, X, Y) -> float:
        """Mean cost over the batch. X: (n, sizes[0]); Y: (n, K) targets, (n,) labels
        (one-hot encoded when K > 1) or (n,) targets when K = 1."""
        zs, acts = self.forward(X)
        return self._cost_from_cache(zs, acts, self._targets(Y, acts[-1]))

    def _forward_backward(self, X, Y):
        zs, acts = self.forward(X)
        Y = self._targets(Y, acts[-1])
        cost = self._cost_from_cache(zs, acts, Y)
        nabla_W = [None] * len(self.weights)
        nabla_b = [None] * len(self.biases)
        delta = self.cost_function.delta(zs[-1], acts[-1], Y, self.output)  # (BP1)
        nabla_b[-1] = backprop.bp3(delta)  # (BP3)
        nabla_W[-1] = backprop.bp4(delta, acts[-2])  # (BP4)
        for l in range(2, self.num_layers):
            delta = backprop.bp2(delta, self.weights[-l + 1], zs[-l], self.g_prime)  # (BP2)
            nabla_b[-l] = backprop.bp3(delta)  # (BP3)
            nabla_W[-l] = backprop.bp4(delta, acts[-l - 1])  # (BP4)
        return cost, nabla_W, nabla_b

    def backprop(self, X, Y):
        """Gradient of the mean cost ``cost(X, Y)`` by backpropagation.

        X: (n, sizes[0]). Y: as in ``cost``. Returns ``(nabla_W, nabla_b)``, lists shaped
        like ``weights`` and ``biases``.
        """
        _, nabla_W, nabla_b = self._forward_backward(X, Y)
        return nabla_W, nabla_b

    # ----- training -----------------------------------------------------------------------

    def update_mini_batch(self, X, Y, eta: float, lmbda: float = 0.0, n: int | None = None):
        """One gradient step on the mini-batch (X, Y); returns the batch cost before it.

        With L2 (lmbda > 0) the step is W <- W - eta (nabla_W + (lmbda / n) W), n being the
        training-set size (default: the batch size); biases are not decayed.
        Raises ``TrainingDivergedError`` if the cost or a gradient is not finite.
        """
        # overflow is detected below and reported with advice, not warned about
        with np.errstate(over="ignore", invalid="ignore"):
            cost, nabla_W, nabla_b = self._forward_backward(X, Y)
        if not (np.isfinite(cost) and _all_finite(nabla_W + nabla_b)):
            raise TrainingDivergedError(
                f"the cost became {cost} or a gradient is NaN/infinite: training diverged; "
                f"try a smaller learning rate than eta={eta}"
            )
        decay = lmbda / (n if n is not None else len(X))
        with np.errstate(over="ignore", invalid="ignore"):
            for l, (dW, db) in enumerate(zip(nabla_W, nabla_b, strict=True)):
                self.weights[l] -= eta * (dW + decay * self.weights[l])
                self.biases[l] -= eta * db
        if not _all_finite(self.weights + self.biases):
            raise TrainingDivergedError(
                f"the weights overflowed to NaN/infinity: training diverged; "
                f"try a smaller learning rate than eta={eta}"
            )
        return cost

    def sgd(
        self,
        training_data,
        epochs: int,
        batch_size: int,
        eta: float,
        rng: np.random.Generator,
        test_data=None,
        lmbda: float = 0.0,
        progress: bool = True,
    ) -> dict:
        """Train by mini-batch stochastic gradient descent.

        training_data: (X, Y) with X (n, sizes[0]) and Y as in ``cost``.
        epochs, batch_size, eta: number of passes, mini-batch size, learning rate.
        rng: numpy Generator that shuffles the data each epoch.
        test_data: optional (X_test, y_test) evaluated after each epoch.
        lmbda: L2 regularisation strength (see ``update_mini_batch``).
        progress: show a tqdm progress bar over epochs (use False in graded cells).

        Returns a history dict of per-epoch lists: "cost" and "accuracy" on the training
        data (cost without the L2 term, accuracy as a fraction) and, with test_data,
        "test_cost" and "test_accuracy". Raises ``TrainingDivergedError`` (a
        FloatingPointError) naming the epoch and step if the cost becomes NaN or infinite.
        """
        check_rng(rng, "Network.sgd")  # it shuffles the samples each epoch
        X, Y = training_data
        X = self._check_X(X)
        Y = np.asarray(Y)
        if len(Y) != len(X):
            raise ValueError(f"X has {len(X)} rows but Y has shape {Y.shape}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        n = len(X)
        history = {"cost": [], "accuracy": []}
        if test_data is not None:
            history.update(test_cost=[], test_accuracy=[])
        bar = tqdm(range(epochs), desc="epochs", disable=not progress)
        for epoch in bar:
            for step, (X_batch, Y_batch) in enumerate(minibatches(X, Y, batch_size, rng)):
                try:
                    self.update_mini_batch(X_batch, Y_batch, eta, lmbda=lmbda, n=n)
                except TrainingDivergedError as err:
                    raise TrainingDivergedError(
                        f"epoch {epoch + 1}, step {step + 1}: {err}"
                    ) from None
            with np.errstate(over="ignore", invalid="ignore"):
                cost = self.cost(X, Y)
            if not np.isfinite(cost):
                raise TrainingDivergedError(
                    f"epoch {epoch + 1}, after its last step: the cost became {cost}; "
                    f"try a smaller learning rate than eta={eta}"
                )
            history["cost"].append(cost)
            history["accuracy"].append(self.evaluate(X, Y))
            if test_data is not None:
                history["test_cost"].append(self.cost(*test_data))
                history["test_accuracy"].append(self.evaluate(*test_data))
            bar.set_postfix(cost=f"{history['cost'][-1]:.4f}", acc=history["accuracy"][-1])
        return history

    # ----- predictions --------------------------------------------------------------------

    def predict(self, X) -> np.ndarray:
        """Class labels, int array of shape (n,): argmax of the outputs when K > 1,
        otherwise 1 where the single output exceeds 0.5."""
        a_L = self.feedforward(X)
        if a_L.shape[1] == 1:
            return (a_L[:, 0] > 0.5).astype(np.int64)
        return np.argmax(a_L, axis=1)

    def evaluate(self, X, y) -> float:
        """Accuracy as a fraction in [0, 1] (multiply by len(X) for Nielsen's count).

        y: (n,) integer labels, (n, K) one-hot rows, or (n,) / (n, 1) 0-1 targets for a
        single output unit (thresholded at 0.5).
        """
        y = np.asarray(y)
        if y.ndim == 2:
            y = np.argmax(y, axis=1) if y.shape[1] > 1 else (y[:, 0] > 0.5)
        elif self.sizes[-1] == 1:
            y = y > 0.5
        labels = self.predict(X)
        if y.shape != labels.shape:
            raise ValueError(f"y must hold {labels.shape[0]} labels, got shape {y.shape}")
        return float(np.mean(labels == y))


def _all_finite(arrays) -> bool:
    return all(np.all(np.isfinite(arr)) for arr in arrays)
