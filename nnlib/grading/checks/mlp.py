"""Checkers of notebook 04_mlp: initialisation, a dense layer, the forward pass and its cache,
output layers, parameter counts and a hand-set XOR network.

Each ``check_*`` calls the student's function with the nnlib references of its exercise
disabled (the ``*_FORBID`` tuples, by default), compares what comes back with the reference
and raises ``AssertionError`` with a message that names the mistake where it is a known one
(the tables ``*_MISTAKES``). While a class is graded, the sandbox leaves out every
reference named here as well (``nncourse.autograde.program.hidden_names`` reads this module).

Layout as in the notebook: rows are samples, ``W[l]`` is ``(n_out, n_in)``, ``b[l]`` is
``(n_out,)``; activations are named ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"identity"``,
``"softmax"``.
"""

from __future__ import annotations

import numpy as np

from nnlib import activations, network
from nnlib.grading.compare import assert_close, assert_shape, check_output, mistake_values
from nnlib.grading.forbid import forbidden
from nnlib.grading.quiet import call, quiet

#: activation name -> the reference function (Z (n, k) -> A (n, k))
ACTIVATIONS = {
    "sigmoid": activations.sigmoid,
    "tanh": activations.tanh,
    "relu": activations.relu,
    "identity": activations.identity,
    "softmax": activations.softmax,
}


def _pair(out, label: str, what: str):
    """``out`` as a 2-tuple, or an AssertionError saying that ``label`` returns ``what``."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise AssertionError(f"{label} should return {what}, got {type(out).__name__}")
    return out


# ----- Exercise 1: init_params(sizes, rng) -------------------------------------------------

INIT_FORBID = (
    "nnlib.init.lecun",
    "nnlib.init.lecun_shape",
    "nnlib.init.small_gaussian",
    "nnlib.init.small_gaussian_shape",
    "nnlib.network.Network.__init__",
)

#: description -> the standard deviation of W[0] that mistake gives, from (n_in, n_out)
INIT_SPREAD_MISTAKES = {
    "no scaling: multiply the N(0, 1) draws by 1/sqrt(n_in)": lambda n_in, n_out: 1.0,
    "divided by n_in instead of sqrt(n_in) (the variance 1/n_in used as the standard "
    "deviation)": lambda n_in, n_out: 1 / n_in,
    "scaled by 1/sqrt(n_out) instead of 1/sqrt(n_in)": lambda n_in, n_out: 1 / np.sqrt(n_out),
}


def init_pair(init_params, sizes, rng, forbid=INIT_FORBID):
    """``init_params(sizes, rng)`` with nnlib's initialisers disabled, checked and returned.

    sizes: list of layer widths [n_0, ..., n_L]; rng: numpy.random.Generator.
    Fails unless it returns a pair (W, b) of two lists of length L with W[l] of shape
    (sizes[l+1], sizes[l]) and b[l] of shape (sizes[l+1],), all finite floats.
    forbid: dotted names of the references disabled during the call.
    """
    __tracebackhide__ = True
    with forbidden(init_params, forbid):
        out = call(init_params, sizes, rng, name=f"init_params({sizes}, rng)")
    W, b = _pair(out, "init_params", "a pair (W, b) of lists")
    L = len(sizes) - 1
    assert len(W) == L and len(b) == L, (
        f"sizes {sizes} describe {L} weight layers: W and b should be lists of length {L}, "
        f"got lengths {len(W)} and {len(b)}"
    )
    for l in range(L):
        shape = np.shape(W[l])
        if shape == (sizes[l], sizes[l + 1]) and sizes[l] != sizes[l + 1]:
            raise AssertionError(
                f"W[{l}] has shape {shape}, the transpose of the expected "
                f"({sizes[l + 1]}, {sizes[l]}): W is (n_out, n_in), one row per unit of the "
                "receiving layer"
            )
        assert_shape(W[l], (sizes[l + 1], sizes[l]), f"W[{l}]")
        assert_shape(b[l], (sizes[l + 1],), f"b[{l}]")
        assert np.all(np.isfinite(W[l])) and np.all(np.isfinite(b[l])), "NaN or inf in W or b"
    return W, b


def _draws_from(init_params, sizes, rng) -> None:
    """Fail unless ``init_params(sizes, rng)`` advances ``rng``."""
    __tracebackhide__ = True
    before = rng.bit_generator.state
    init_pair(init_params, sizes, rng)
    assert rng.bit_generator.state != before, (
        "init_params did not draw any number from the rng it was given: draw the weights "
        "with rng.standard_normal(shape), not with a generator made inside or numpy's "
        "global random state (np.random.randn, np.random.normal, ...)"
    )


def check_init_params(init_params, sizes, seed: int) -> None:
    """The worked case: shapes, weights not all equal, zero biases, seeded, rng used.

    sizes: list of layer widths [n_0, ..., n_L]; seed: for np.random.default_rng.
    """
    __tracebackhide__ = True
    W, b = init_pair(init_params, sizes, np.random.default_rng(seed))
    assert not np.allclose(W[0], W[0][0, 0]), "the weights of a layer must not all be equal"
    for l, b_l in enumerate(b):
        assert not np.any(np.asarray(b_l)), (
            f"b[{l}] should be all zeros (only the weights are random), got "
            f"{np.round(np.asarray(b_l, dtype=float), 4)}"
        )
    W_again, _ = init_pair(init_params, sizes, np.random.default_rng(seed))
    assert all(np.array_equal(x, y) for x, y in zip(W, W_again, strict=True)), (
        f"two calls with np.random.default_rng({seed}) gave different weights: draw every "
        "random number from rng"
    )
    _draws_from(init_params, sizes, np.random.default_rng(seed))


def check_init_spread(init_params, sizes, seed: int, forbid=INIT_FORBID) -> None:
    """W[0] has std 1/sqrt(n_in), mean 0 and Gaussian tails; later layers (of 1000 weights or
    more) have about the right std too.

    sizes: widths with a large first layer (e.g. [1000, 400, 3]), so that the statistics
    of W[0] (sizes[1] x sizes[0] entries) are sharp; seed: for np.random.default_rng;
    forbid: as for :func:`init_pair`.
    """
    __tracebackhide__ = True
    W, _ = init_pair(init_params, sizes, np.random.default_rng(seed), forbid)
    n_in, n_out = sizes[0], sizes[1]
    W0 = np.asarray(W[0], dtype=float)
    std, target = float(W0.std()), 1 / np.sqrt(n_in)
    if abs(std / target - 1) > 0.03:
        hint = next(
            (d for d, s in INIT_SPREAD_MISTAKES.items() if abs(std / s(n_in, n_out) - 1) < 0.05),
            None,
        )
        raise AssertionError(
            f"W[0] of a layer with n_in = {n_in} should have standard deviation "
            f"1/sqrt({n_in}) = {target:.5f}, but its entries have std {std:.5g}"
            + (f"\n  Likely mistake: {hint}" if hint else "")
        )
    assert abs(float(W0.mean())) < 5e-3, f"the weights should have mean 0, got {W0.mean():.4g}"
    kurtosis = float(np.mean((W0 - W0.mean()) ** 4) / W0.var() ** 2)
    assert abs(kurtosis - 3) < 0.3, (
        f"the weights do not look Gaussian (kurtosis {kurtosis:.2f}, a Gaussian has 3): "
        "draw them with rng.standard_normal"
    )
    for l in range(1, len(W)):
        if np.size(W[l]) >= 1000:  # enough entries for a 15% bound on the spread
            std_l, target_l = float(np.std(W[l])), 1 / np.sqrt(sizes[l])
            assert abs(std_l / target_l - 1) < 0.15, (
                f"W[{l}] (n_in = {sizes[l]}) should have std {target_l:.4f}, got {std_l:.4g}"
            )


def check_init_random_sizes(init_params, count: int, seed: int) -> None:
    """Shapes for ``count`` random networks of 1 to 4 layers, widths 1 to 8."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for _ in range(count):
        sizes = [int(s) for s in rng.integers(1, 9, size=int(rng.integers(2, 6)))]
        init_pair(init_params, sizes, rng)


def check_init_rng(init_params, sizes, seed: int) -> None:
    """The rng argument decides everything: numpy's global state is neither used nor read.

    sizes: list of layer widths; seed and seed + 1 seed two generators that must give the
    same weights as themselves and different ones from each other.
    """
    __tracebackhide__ = True
    saved_global = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(12345)  # noqa: NPY002
        global_before = np.random.get_state()  # noqa: NPY002
        rng = np.random.default_rng(seed)
        rng_before = rng.bit_generator.state
        W1, _ = init_pair(init_params, sizes, rng)
        global_after = np.random.get_state()  # noqa: NPY002
        assert np.array_equal(global_before[1], global_after[1]) and (
            global_before[2] == global_after[2]
        ), (
            "init_params drew from numpy's global random state (np.random.randn, "
            "np.random.normal, ...): draw from the rng argument instead, e.g. "
            "rng.standard_normal(shape)"
        )
        assert rng.bit_generator.state != rng_before, (
            "init_params did not draw any number from the rng it was given: draw from the "
            "rng argument (rng.standard_normal(shape)), not from numpy's global random state "
            "(np.random.randn, np.random.normal, ...) or a generator made inside"
        )
        np.random.seed(999)  # a different global seed must change nothing  # noqa: NPY002
        W2, _ = init_pair(init_params, sizes, np.random.default_rng(seed))
        assert all(np.array_equal(x, y) for x, y in zip(W1, W2, strict=True)), (
            "the same seed gave different weights"
        )
        W3, _ = init_pair(init_params, sizes, np.random.default_rng(seed + 1))
        assert not np.allclose(W1[0], W3[0]), (
            "different seeds gave the same weights: is the rng argument ignored "
            "(e.g. a new np.random.default_rng(0) inside)?"
        )
    finally:
        np.random.set_state(saved_global)  # noqa: NPY002


# ----- Exercise 2: dense_forward(A_prev, W, b, g) -> (Z, A) --------------------------------

DENSE_FORBID = (
    "nnlib.layers.dense.dense_forward",
    "nnlib.layers.dense.Dense._forward",
    "nnlib.network.Network.forward",
)
DENSE_HINT = (
    "A_prev is (n, n_in) and W is (n_out, n_in), so the layer is Z = A_prev @ W.T + b. "
    "A_prev @ W only fits when n_in == n_out, and even then it uses w_kj instead of w_jk."
)

#: description -> what that mistake makes of Z, from (A_prev, W, b); A_prev @ W cannot be
#: computed (and so matches nothing) unless W is square
DENSE_MISTAKES = {
    f"A_prev @ W: {DENSE_HINT}": lambda A_prev, W, b: A_prev @ W + b,
    "the bias b is missing": lambda A_prev, W, b: A_prev @ W.T,
    "the bias is subtracted": lambda A_prev, W, b: A_prev @ W.T - b,
}


def call_dense(dense_forward, A_prev, W, b, g, label: str, forbid=DENSE_FORBID):
    """``dense_forward(A_prev, W, b, g)`` with the references disabled: the pair (Z, A).

    A_prev (n, n_in), W (n_out, n_in), b (n_out,), g an activation function.
    A ValueError from numpy (the matrices do not fit) is explained with DENSE_HINT.
    forbid: dotted names of the references disabled during the call.
    """
    __tracebackhide__ = True
    try:
        with forbidden(dense_forward, forbid):
            out = call(dense_forward, A_prev, W, b, g, name=label)
    except AssertionError as err:
        if "raised ValueError" in str(err):  # numpy: the matrix shapes do not fit
            raise AssertionError(f"{err}\n  Likely mistake: {DENSE_HINT}") from None
        raise
    return _pair(out, label, "the pair (Z, A)")


def check_dense_forward(dense_forward, A_prev, W, b, g: str, forbid=DENSE_FORBID) -> None:
    """Z = A_prev W^T + b and A = g(Z) for one layer, the known mistakes named.

    A_prev (n, n_in), W (n_out, n_in), b (n_out,); g: the activation's name;
    forbid: as for :func:`call_dense`.
    """
    __tracebackhide__ = True
    label = f"dense_forward(A_prev {A_prev.shape}, W {W.shape}, b, {g})"
    Z_expected = A_prev @ W.T + b
    Z, A_out = call_dense(dense_forward, A_prev, W, b, ACTIVATIONS[g], label, forbid)
    assert_close(
        Z, Z_expected, f"Z of {label}", mistakes=mistake_values(DENSE_MISTAKES, A_prev, W, b)
    )
    assert_close(
        A_out,
        ACTIVATIONS[g](Z_expected),
        f"A of {label}",
        mistakes={"the activation is not applied: A = g(Z)": Z_expected},
    )


def check_dense_forward_random(dense_forward, cases, seed: int, forbid=DENSE_FORBID) -> None:
    """:func:`check_dense_forward` on random layers.

    cases: list of (n, n_in, n_out, g): batch size, layer widths, activation name; A_prev,
    W and b are drawn from N(0, 1) with np.random.default_rng(seed); forbid: as for
    :func:`call_dense`.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for n, n_in, n_out, g in cases:
        A_prev = rng.standard_normal((n, n_in))
        W, b = rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
        check_dense_forward(dense_forward, A_prev, W, b, g, forbid)


# ----- Exercise 3: forward(X, W, b, g_hidden, g_output) -> (zs, activations) ---------------

FORWARD_FORBID = (
    "nnlib.layers.dense.dense_forward",
    "nnlib.network.Network.forward",
    "nnlib.network.Network.feedforward",
    "nnlib.layers.dense.Dense._forward",
)


def reference_cache(X, W, b, hidden: str, output: str):
    """(zs, activations) of nnlib's reference Network with these weights.

    X (n, n_0); W[l] (n_{l+1}, n_l), b[l] (n_{l+1},); hidden, output: activation names.
    """
    sizes = [W[0].shape[1]] + [W_l.shape[0] for W_l in W]
    net = network.Network(sizes, hidden=hidden, output=output)
    net.weights, net.biases = [W_l.copy() for W_l in W], [b_l.copy() for b_l in b]
    with quiet():
        return net.forward(X)


def random_params(sizes, rng):
    """W[l] ~ N(0, 1/n_l) of shape (n_{l+1}, n_l) and b[l] ~ N(0, 1/4) of shape (n_{l+1},)."""
    W = [
        rng.standard_normal((m, k)) / np.sqrt(k)
        for k, m in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    return W, [0.5 * rng.standard_normal(m) for m in sizes[1:]]


def run_forward(forward, X, W, b, hidden: str, output: str, forbid=FORWARD_FORBID):
    """``forward(X, W, b, g_hidden, g_output)`` with the references disabled.

    Returns (label, (zs, activations)); hidden, output: activation names; forbid: dotted
    names of the references disabled during the call.
    """
    __tracebackhide__ = True
    label = f"forward(X {X.shape}, W, b, {hidden}, {output})"
    with forbidden(forward, forbid):
        out = call(forward, X, W, b, ACTIVATIONS[hidden], ACTIVATIONS[output], name=label)
    return label, _pair(out, label, "the pair (zs, activations)")


def _layer_mistakes(z_ref, last: bool, hidden: str, output: str) -> dict:
    """description -> A^l that mistake gives, from the reference Z^l."""
    mistakes = {"the activation is not applied": z_ref}
    if hidden != output:
        if last:
            mistakes["the output layer uses g_hidden: only the last layer uses g_output"] = (
                ACTIVATIONS[hidden](z_ref)
            )
        else:
            mistakes["a hidden layer uses g_output: it belongs to the last layer only"] = (
                ACTIVATIONS[output](z_ref)
            )
    return mistakes


def check_forward(forward, X, W, b, hidden: str, output: str, forbid=FORWARD_FORBID):
    """The whole cache against the reference, layer by layer; returns (zs, activations).

    X (n, n_0); W[l] (n_{l+1}, n_l), b[l] (n_{l+1},); hidden, output: activation names.
    zs must hold Z^1..Z^L, activations X, A^1..A^L, each (n, n_l). forbid: as for
    :func:`run_forward`.
    """
    __tracebackhide__ = True
    label, (zs, acts) = run_forward(forward, X, W, b, hidden, output, forbid)
    zs_ref, acts_ref = reference_cache(X, W, b, hidden, output)
    L = len(W)
    assert len(acts) == L + 1, (
        f"{label}: activations should hold L + 1 = {L + 1} arrays (X first, then A^1..A^L), "
        f"got {len(acts)}" + (": is X missing at index 0?" if len(acts) == L else "")
    )
    assert len(zs) == L, f"{label}: zs should hold L = {L} arrays (Z^1..Z^L), got {len(zs)}"
    assert_close(acts[0], X, f"activations[0] of {label} (should be X)")
    with quiet():
        layer_mistakes = [_layer_mistakes(zs_ref[l], l == L - 1, hidden, output) for l in range(L)]
    for l in range(L):
        assert_close(
            zs[l],
            zs_ref[l],
            f"zs[{l}] (Z^{l + 1}) of {label}",
            mistakes=mistake_values(DENSE_MISTAKES, acts_ref[l], W[l], b[l]),
        )
        assert_close(
            acts[l + 1],
            acts_ref[l + 1],
            f"activations[{l + 1}] (A^{l + 1}) of {label}",
            mistakes=layer_mistakes[l],
        )
    return zs, acts


def check_forward_random(forward, cases, seed: int, forbid=FORWARD_FORBID) -> None:
    """:func:`check_forward` on random networks.

    cases: list of (sizes, hidden, output); the weights come from :func:`random_params`
    and X (2 to 11 samples) from N(0, 1), all from np.random.default_rng(seed); forbid: as
    for :func:`run_forward`.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for sizes, hidden, output in cases:
        W, b = random_params(sizes, rng)
        X = rng.standard_normal((int(rng.integers(2, 12)), sizes[0]))
        check_forward(forward, X, W, b, hidden, output, forbid)


def check_forward_batch(forward, sizes, n: int, n_big: int, seed: int) -> None:
    """Rows are samples: a batch of n (tanh, softmax) gives, row by row, what each sample
    gives alone as a batch of one; then a batch of n_big (relu, softmax) whose output rows
    each sum to one.

    sizes: list of layer widths; weights from :func:`random_params` with
    np.random.default_rng(seed).
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    W, b = random_params(sizes, rng)
    X = rng.standard_normal((n, sizes[0]))
    zs, acts = check_forward(forward, X, W, b, "tanh", "softmax")
    for i in range(n):
        label, (zs_i, acts_i) = run_forward(forward, X[i : i + 1], W, b, "tanh", "softmax")
        assert_shape(acts_i[-1], (1, sizes[-1]), f"the output of {label} (a batch of one sample)")
        assert_close(
            acts_i[-1], acts[-1][i : i + 1], f"the output for sample {i} alone vs in the batch"
        )
        for l in range(len(W)):
            assert_close(
                zs_i[l], zs[l][i : i + 1], f"zs[{l}] for sample {i} alone vs in the batch"
            )
    X_big = rng.standard_normal((n_big, sizes[0]))
    _, acts_big = check_forward(forward, X_big, W, b, "relu", "softmax")
    assert_close(np.sum(acts_big[-1], axis=1), np.ones(n_big), "row sums of the softmax output")


# ----- output_activation(task) -> g --------------------------------------------------------

OUTPUT_FOR_TASK = {
    "regression": activations.identity,
    "binary": activations.sigmoid,
    "multiclass": activations.softmax,
}

#: description -> what that mistake makes of Z (n, K)
OUTPUT_MISTAKES = {
    "this is the identity (regression output)": lambda Z: Z,
    "this is the sigmoid (binary output)": activations.sigmoid,
    "this is the softmax (multi-class output)": activations.softmax,
    "softmax over the columns instead of each row": lambda Z: np.exp(Z) / np.exp(Z).sum(axis=0),
}


def check_output_activation(output_activation, task: str, Z) -> None:
    """``output_activation(task)`` is a function giving the right A for Z (n, K)."""
    __tracebackhide__ = True
    label = f"output_activation({task!r})"
    g = call(output_activation, task, name=label)
    assert callable(g), f"{label} should return a function, got {type(g).__name__}"
    with quiet():
        expected = OUTPUT_FOR_TASK[task](Z)
    check_output(
        g,
        Z,
        expected=expected,
        name=f"{label}(Z)",
        arg_names=("Z",),
        mistakes=OUTPUT_MISTAKES,
    )


def check_unknown_task(output_activation, task: str) -> None:
    """``output_activation(task)`` raises ValueError for a task it does not know."""
    __tracebackhide__ = True
    outcome = "returned normally"
    with quiet():
        try:
            output_activation(task)
        except ValueError:
            outcome = None
        except Exception as err:  # noqa: BLE001 (any other outcome is reported)
            outcome = f"raised {type(err).__name__}"
    assert outcome is None, (
        f"output_activation({task!r}) should raise ValueError (an unknown task), but it {outcome}"
    )


# ----- Exercise 4: count_params(sizes) -> int -----------------------------------------------


def _weights(sizes) -> int:
    return sum(m * k for k, m in zip(sizes[:-1], sizes[1:], strict=True))


COUNT_FORBID = ("nnlib.network.Network.__init__", "nnlib.network.Network.num_params")

#: description -> the count that mistake gives, from sizes
COUNT_MISTAKES = {
    "the biases are missing: each layer also has n_out biases": _weights,
    "biases belong to the receiving layer: n_out per layer, not n_in": lambda sizes: (
        _weights(sizes) + sum(sizes[:-1])
    ),
    "the input layer has no biases": lambda sizes: _weights(sizes) + sum(sizes),
}


def check_count_params(count_params, sizes, forbid=COUNT_FORBID) -> None:
    """``count_params(sizes)`` is the int sum of n_out * (n_in + 1) over the layers.

    sizes: list of layer widths; forbid: dotted names of the references disabled.
    """
    __tracebackhide__ = True
    sizes = list(sizes)
    expected = _weights(sizes) + sum(sizes[1:])
    with forbidden(count_params, forbid):
        got = call(count_params, list(sizes), name=f"count_params({sizes})")
    assert isinstance(got, (int, np.integer)) and not isinstance(got, bool), (
        f"count_params({sizes}) should return an int, got {type(got).__name__} {got!r}"
    )
    if got != expected:
        hint = next((d for d, m in COUNT_MISTAKES.items() if m(sizes) == int(got)), None)
        raise AssertionError(
            f"count_params({sizes}) should be {expected:,}, got {got:,}"
            + (f"\n  Likely mistake: {hint}" if hint else "")
        )


# ----- Exercise 5: xor_network() -> (W, b) --------------------------------------------------

XOR_SHAPES = [("W[0]", (2, 2)), ("b[0]", (2,)), ("W[1]", (1, 2)), ("b[1]", (1,))]


def check_xor_shapes(xor_network):
    """``xor_network()`` returns (W, b) of a 2-2-1 network; returns them as float arrays."""
    __tracebackhide__ = True
    out = call(xor_network, name="xor_network()")
    W, b = _pair(out, "xor_network()", "a pair (W, b) of lists")
    assert len(W) == 2 and len(b) == 2, (
        f"a 2-2-1 network has two layers: W and b should have length 2, got {len(W)}, {len(b)}"
    )
    for (name, shape), value in zip(XOR_SHAPES, [W[0], b[0], W[1], b[1]], strict=True):
        assert_shape(value, shape, name)
        assert np.all(np.isfinite(np.asarray(value, dtype=float))), f"{name} is not finite"
    return [np.asarray(w, dtype=float) for w in W], [np.asarray(v, dtype=float) for v in b]


def check_xor_truth_table(xor_network) -> None:
    """Through the reference forward pass (sigmoid everywhere) the four inputs give
    < 0.1 for (0, 0) and (1, 1) and > 0.9 for (0, 1) and (1, 0)."""
    __tracebackhide__ = True
    W, b = check_xor_shapes(xor_network)
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    _, acts = reference_cache(X, W, b, "sigmoid", "sigmoid")
    out = acts[-1][:, 0]
    table = ", ".join(
        f"{tuple(int(v) for v in x)} -> {o:.3f}" for x, o in zip(X, out, strict=True)
    )
    ok = (out[0] < 0.1) and (out[1] > 0.9) and (out[2] > 0.9) and (out[3] < 0.1)
    assert ok, (
        f"XOR needs outputs < 0.1 for (0, 0) and (1, 1) and > 0.9 for (0, 1) and (1, 0); "
        f"your network gives {table}. Hint: hidden unit 1 = OR, hidden unit 2 = NAND, "
        "output = AND, with weights of size 10 to 20"
    )
