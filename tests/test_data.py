"""Tests for nnlib.data: synthetic sets, one-hot, mini-batches, IDX and the MNIST loader."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from nnlib.data import (
    IDXFormatError,
    MNISTCorruptError,
    MNISTUnavailableError,
    encode_idx,
    load_mnist,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    minibatches,
    one_hot,
    parse_idx,
)
from nnlib.data import mnist as mnist_mod

REPO = Path(__file__).resolve().parents[1]
MAKERS = [make_blobs, make_xor, make_moons, make_circles, make_spirals]


# ---------------------------------------------------------------- synthetic sets


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_shapes_dtypes_and_determinism(make):
    X, y = make(101, np.random.default_rng(3))
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    X2, y2 = make(101, np.random.default_rng(3))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(101, np.random.default_rng(4))
    assert not np.array_equal(X, X3)


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_labels_balanced_and_shuffled(make):
    _, y = make(103, np.random.default_rng(0))
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1
    assert len(counts) == (3 if make is make_blobs else 2)
    # Samples come in random order, not sorted by class.
    assert np.any(np.diff(y) < 0) and np.any(np.diff(y) > 0)


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_rejects_bad_arguments(make):
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        make(10, 0)
    with pytest.raises(TypeError, match="Generator"):
        make(10, np.random.RandomState(0))
    with pytest.raises(ValueError, match="n must be an integer"):
        make(0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="noise"):
        make(10, np.random.default_rng(0), noise=-1.0)


def test_blobs_are_separable_by_nearest_centre():
    centers = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]])
    X, y = make_blobs(400, np.random.default_rng(1), centers=centers, noise=0.3)
    assert np.bincount(y).tolist() == [100] * 4
    nearest = np.argmin(((X[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(nearest, y)
    X, y = make_blobs(50, np.random.default_rng(1), k=5, noise=0.0)
    assert len(np.unique(X, axis=0)) == 5  # without noise every point is its centre


def _linear_fit_accuracy(X, y):
    """Training accuracy of the least-squares linear classifier (the best a line does, roughly)."""
    A = np.hstack([X, np.ones((len(X), 1))])
    w, *_ = np.linalg.lstsq(A, 2.0 * y - 1.0, rcond=None)
    return np.mean((A @ w > 0) == (y == 1))


def test_xor_labels_follow_the_quadrants_and_no_line_separates_them():
    X, y = make_xor(400, np.random.default_rng(2), noise=0.2)
    np.testing.assert_array_equal(y, ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(int))
    assert _linear_fit_accuracy(X, y) < 0.7


def test_moons_and_circles_lie_on_their_curves_without_noise():
    X, y = make_moons(200, np.random.default_rng(5), noise=0.0)
    centre = np.where((y == 0)[:, None], [0.0, 0.0], [1.0, 0.5])
    np.testing.assert_allclose(np.linalg.norm(X - centre, axis=1), 1.0)
    assert np.all(X[y == 0, 1] >= 0) and np.all(X[y == 1, 1] <= 0.5)
    X, y = make_circles(200, np.random.default_rng(5), noise=0.0, factor=0.3)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), np.where(y == 0, 1.0, 0.3))
    with pytest.raises(ValueError, match="factor"):
        make_circles(10, np.random.default_rng(0), factor=1.5)


def test_spirals_are_not_linear_but_neighbours_share_labels():
    X, y = make_spirals(600, np.random.default_rng(6), k=3, noise=0.01)
    assert np.bincount(y).tolist() == [200, 200, 200]
    assert np.all(np.linalg.norm(X, axis=1) <= 1.1)
    d = ((X[:, None, :] - X[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert np.mean(y[np.argmin(d, axis=1)] == y) > 0.95  # 1-nearest-neighbour accuracy
    X2, y2 = make_spirals(600, np.random.default_rng(6), k=2)
    assert _linear_fit_accuracy(X2, y2) < 0.75


# ---------------------------------------------------------------- one_hot, minibatches


def test_one_hot_worked_case():
    Y = one_hot(np.array([2, 0, 1, 2]), 4)
    expected = np.array([[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], float)
    np.testing.assert_array_equal(Y, expected)
    assert Y.dtype == np.float64
    assert one_hot([1, 0]).shape == (2, 2)  # k inferred as max + 1
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0]), 2), [[0, 1], [1, 0]])
    assert one_hot(np.array([], dtype=int), 3).shape == (0, 3)


@pytest.mark.parametrize(
    ("y", "k", "message"),
    [
        ([0, 3], 3, r"\[0, 3\)"),
        ([-1, 0], 3, ">= 0"),
        ([0.5, 1.0], 2, "integer"),
        (["a", "b"], 2, "integer"),
        ([[0, 1]], 2, r"shape \(n,\)"),
        ([], None, "empty"),
        ([0, 1], 0, "k must be"),
    ],
)
def test_one_hot_rejects_bad_labels(y, k, message):
    with pytest.raises(ValueError, match=message):
        one_hot(np.asarray(y), k)


def test_minibatches_cover_every_sample_once_in_a_seeded_order():
    X = np.arange(23 * 3 * 2).reshape(23, 3, 2)  # trailing shape (3, 2) is kept
    Y = np.arange(23)
    batches = list(minibatches(X, Y, 5, rng=np.random.default_rng(0)))
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]  # last partial batch included
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(23)) and not np.array_equal(seen, Y)
    for Xb, Yb in batches:
        assert Xb.shape[1:] == (3, 2)
        np.testing.assert_array_equal(Xb, X[Yb])  # pairs stay aligned
    again = np.concatenate([b[1] for b in minibatches(X, Y, 5, rng=np.random.default_rng(0))])
    np.testing.assert_array_equal(seen, again)


def test_minibatches_without_shuffle_keeps_order_and_needs_no_rng():
    X = np.arange(10.0)[:, None]
    Y = one_hot(np.arange(10) % 3, 3)
    batches = list(minibatches(X, Y, 4, shuffle=False))
    assert [b[0][:, 0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[2][1].shape == (2, 3)


def test_minibatches_validates_eagerly():
    X, Y = np.zeros((5, 2)), np.zeros(4)
    with pytest.raises(ValueError, match=r"X has shape \(5, 2\), Y has shape \(4,\)"):
        minibatches(X, Y, 2, rng=np.random.default_rng(0))  # no next() needed
    with pytest.raises(ValueError, match="needs rng"):
        minibatches(X, np.zeros(5), 2)
    with pytest.raises(TypeError, match="Generator"):
        minibatches(X, np.zeros(5), 2, rng=42)
    with pytest.raises(ValueError, match="batch_size"):
        minibatches(X, np.zeros(5), 0, rng=np.random.default_rng(0))


def _trainers():
    """(module, train(rng, X, y)) for every trainer of nnlib that draws mini-batches."""
    import nnlib.model
    import nnlib.network
    import nnlib.neuron
    from nnlib.layers import Dense
    from nnlib.optim import SGD

    def sequential(rng, X, y):
        model = nnlib.model.Sequential([Dense(3, 2, rng=np.random.default_rng(1))])
        model.fit(X, y, epochs=2, batch_size=4, optimizer=SGD(0.1), rng=rng, progress=False)

    def network(rng, X, y):
        net = nnlib.network.Network([3, 2], rng=np.random.default_rng(1))
        net.sgd((X, y), 2, 4, 0.1, rng=rng, progress=False)

    def neuron(rng, X, y):
        nnlib.neuron.SigmoidNeuron(3).fit(X, y % 2, epochs=2, eta=0.1, batch_size=4, rng=rng)

    return {
        "Sequential.fit": (nnlib.model, sequential),
        "Network.sgd": (nnlib.network, network),
        "SigmoidNeuron.fit": (nnlib.neuron, neuron),
    }


@pytest.mark.parametrize("name", ["Sequential.fit", "Network.sgd", "SigmoidNeuron.fit"])
def test_every_trainer_takes_its_mini_batches_from_minibatches(name, monkeypatch):
    """One iterator, one permutation per epoch drawn from the caller's rng."""
    module, train = _trainers()[name]
    calls = []

    def recording(X, Y, batch_size, rng=None, shuffle=True):
        calls.append((batch_size, rng, shuffle))
        return minibatches(X, Y, batch_size, rng, shuffle)

    monkeypatch.setattr(module, "minibatches", recording)
    rng = np.random.default_rng(2)
    X = np.random.default_rng(3).standard_normal((10, 3))
    train(rng, X, np.arange(10) % 2)
    assert calls == [(4, rng, True)] * 2, f"{name} should call minibatches once per epoch"


def _drawers():
    """name -> draw(rng) for every nnlib function that takes an rng."""
    from nnlib.init import he
    from nnlib.layers import Dropout, dropout_forward
    from nnlib.neuron import SigmoidNeuron
    from nnlib.perceptron import Perceptron

    X, y = np.random.default_rng(4).standard_normal((10, 3)), np.arange(10) % 2
    trainers = {name: train for name, (_, train) in _trainers().items()}
    return {
        **{name: functools.partial(train, X=X, y=y) for name, train in trainers.items()},
        "SigmoidNeuron": lambda rng: SigmoidNeuron(3, rng=rng),
        "Perceptron.fit": lambda rng: Perceptron(3).fit(X, y, rng),
        "he": lambda rng: he(3, 2, rng),
        "dropout_forward": lambda rng: dropout_forward(X, 0.5, rng, True),
        "Dropout": lambda rng: Dropout(0.5, rng),
        "make_blobs": lambda rng: make_blobs(10, rng),
        "minibatches": lambda rng: minibatches(X, y, 2, rng=rng),
    }


DRAWERS = [
    "Sequential.fit",
    "Network.sgd",
    "SigmoidNeuron.fit",
    "SigmoidNeuron",
    "Perceptron.fit",
    "he",
    "dropout_forward",
    "Dropout",
    "make_blobs",
    "minibatches",
]


@pytest.mark.parametrize("name", DRAWERS)
@pytest.mark.parametrize("bad", [42, np.random.RandomState(0)], ids=["int", "RandomState"])
def test_every_function_that_draws_checks_rng_alike(name, bad):
    """One check, one message: randomness only from a Generator the caller passes in."""
    message = rf"^{name}.* needs rng to be a numpy\.random\.Generator, e\.g\. "
    message += rf"rng=np\.random\.default_rng\(0\); got {type(bad).__name__}$"
    with pytest.raises(TypeError, match=message):
        _drawers()[name](bad)


# ---------------------------------------------------------------- IDX format


def test_idx_round_trip_and_magic_checks():
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    data = encode_idx(a)
    assert data[:4] == b"\x00\x00\x08\x03" and len(data) == 4 + 12 + 24
    np.testing.assert_array_equal(parse_idx(data), a)
    with pytest.raises(IDXFormatError, match="magic"):
        parse_idx(b"\x1f\x8b" + data[2:])  # gzip bytes passed by mistake
    with pytest.raises(IDXFormatError, match="type code"):
        parse_idx(b"\x00\x00\x0d\x03" + data[4:])
    with pytest.raises(IDXFormatError, match="truncated"):
        parse_idx(data[:-1])
    with pytest.raises(IDXFormatError, match="too short"):
        parse_idx(b"\x00\x00")


# ---------------------------------------------------------------- MNIST, real files


@pytest.fixture(scope="module")
def mnist_data_dir():
    """The folder that contains mnist/: $NNLIB_DATA, else ../shared/data beside the checkout."""
    candidates = [os.environ.get("NNLIB_DATA"), REPO.parent / "shared" / "data"]
    for root in filter(None, candidates):
        if (Path(root) / "mnist" / "train-images-idx3-ubyte.gz").is_file():
            return Path(root)
    pytest.fail(
        "MNIST test data not found: set NNLIB_DATA to the folder that contains mnist/ "
        f"(looked in $NNLIB_DATA={os.environ.get('NNLIB_DATA')!r} and {candidates[1]})"
    )


@pytest.fixture
def real_mnist(mnist_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("NNLIB_DATA", str(mnist_data_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # never touch ~/.cache
    monkeypatch.setattr(mnist_mod, "MIRRORS", ())  # a test must never go online


def test_mnist_train_shapes_range_and_sanity_figures(real_mnist):
    X, y = load_mnist("train")
    assert X.shape == (60000, 784) and X.dtype == np.float32
    assert y.shape == (60000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert abs(X.mean(dtype=np.float64) - 0.1307) < 5e-5
    assert abs(X.std(dtype=np.float64) - 0.3081) < 5e-5
    assert y.min() == 0 and y.max() == 9


def test_mnist_test_images_and_label_counts(real_mnist):
    X, y = load_mnist("test", flat=False, dtype=np.float64)
    assert X.shape == (10000, 1, 28, 28) and X.dtype == np.float64
    counts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(y).tolist() == counts
    np.testing.assert_array_equal(X.reshape(10000, 784), load_mnist("test", dtype=np.float64)[0])


def test_mnist_second_call_is_memoised_and_returns_fresh_arrays(real_mnist):
    X, y = load_mnist("test")
    hits = mnist_mod._decode.cache_info().hits
    X[:] = -1.0
    y[:] = -1
    X2, y2 = load_mnist("test")
    assert mnist_mod._decode.cache_info().hits == hits + 2  # nothing re-read or re-hashed
    assert X2.min() == 0.0 and y2.min() == 0


def test_mnist_rejects_bad_arguments(real_mnist):
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_mnist("validation")
    with pytest.raises(ValueError, match="floating"):
        load_mnist("test", dtype=np.uint8)


# ---------------------------------------------------------------- MNIST, fake files


def _fake_split(seed, n=7):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    return images, labels


@pytest.fixture
def fake_test_split(monkeypatch, tmp_path):
    """Small fake test-split files registered as the expected checksums.

    Returns (images, labels, {name: gz bytes}); the cache lives in tmp_path, NNLIB_DATA is unset.
    """
    monkeypatch.delenv("NNLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    images, labels = _fake_split(0)
    files = {}
    for name, array in zip(mnist_mod.SPLITS["test"], (images, labels), strict=True):
        data = encode_idx(array)
        files[name] = gzip.compress(data, mtime=0)
        monkeypatch.setitem(mnist_mod.SHA256, name, hashlib.sha256(data).hexdigest())
        monkeypatch.setitem(mnist_mod.MD5_GZ, name, hashlib.md5(files[name]).hexdigest())
    return images, labels, files


def _write(folder: Path, files: dict, compressed=True):
    folder.mkdir(parents=True, exist_ok=True)
    for name, gz in files.items():
        if compressed:
            (folder / f"{name}.gz").write_bytes(gz)
        else:
            (folder / name).write_bytes(gzip.decompress(gz))


def test_lookup_order_data_dir_then_env_then_cache(fake_test_split, monkeypatch, tmp_path):
    images, labels, files = fake_test_split
    monkeypatch.setattr(mnist_mod, "MIRRORS", ())
    _write(tmp_path / "cache" / "nnlib" / "mnist", files)  # cache: found last
    X, y = load_mnist("test", flat=False)
    np.testing.assert_array_equal(X[:, 0], images / np.float32(255))
    np.testing.assert_array_equal(y, labels)
    # Files directly in the NNLIB_DATA folder, decompressed, win over the cache.
    other, _ = _fake_split(1)
    env = tmp_path / "env"
    _write(env, files, compressed=False)
    (env / "t10k-images-idx3-ubyte").write_bytes(encode_idx(other))
    monkeypatch.setenv("NNLIB_DATA", str(env))
    with pytest.raises(MNISTCorruptError, match="checksum mismatch"):
        load_mnist("test")  # proves the env folder is read before the cache
    # data_dir/mnist/ wins over NNLIB_DATA.
    _write(tmp_path / "arg" / "mnist", files)
    X, _ = load_mnist("test", data_dir=tmp_path / "arg")
    assert X.shape == (7, 784)
    assert mnist_mod.search_dirs(tmp_path / "arg")[:2] == [
        tmp_path / "arg" / "mnist",
        tmp_path / "arg",
    ]


def test_real_checksums_reject_other_data(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    images, labels = _fake_split(2)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(encode_idx(images)))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(encode_idx(labels)))
    with pytest.raises(MNISTCorruptError, match=r"SHA-256 [0-9a-f]{64}, expected 0fa7898d"):
        load_mnist("test", data_dir=tmp_path, download=False)


def test_corrupt_files_raise_clearly(fake_test_split, tmp_path):
    _, _, files = fake_test_split
    name = "t10k-images-idx3-ubyte"
    folder = tmp_path / "bad"
    _write(folder, files)
    (folder / f"{name}.gz").write_bytes(files[name][: len(files[name]) // 2])  # truncated gzip
    with pytest.raises(MNISTCorruptError, match="not a valid gzip file"):
        load_mnist("test", data_dir=folder, download=False)
    (folder / f"{name}.gz").write_bytes(b"this is not gzip at all")
    with pytest.raises(MNISTCorruptError, match="not a valid gzip file"):
        load_mnist("test", data_dir=folder, download=False)


def test_bad_idx_content_with_matching_checksum_raises(fake_test_split, monkeypatch, tmp_path):
    name = "t10k-images-idx3-ubyte"
    data = encode_idx(np.zeros((3, 28, 27), np.uint8))  # well-formed IDX, wrong image size
    monkeypatch.setitem(mnist_mod.SHA256, name, hashlib.sha256(data).hexdigest())
    _write(tmp_path / "odd", fake_test_split[2])
    (tmp_path / "odd" / f"{name}.gz").write_bytes(gzip.compress(data))
    with pytest.raises(MNISTCorruptError, match=r"expected images \(n, 28, 28\)"):
        load_mnist("test", data_dir=tmp_path / "odd", download=False)
    broken = data[:-5]
    monkeypatch.setitem(mnist_mod.SHA256, name, hashlib.sha256(broken).hexdigest())
    (tmp_path / "odd" / f"{name}.gz").write_bytes(gzip.compress(broken))
    with pytest.raises(MNISTCorruptError, match="truncated or corrupt"):
        load_mnist("test", data_dir=tmp_path / "odd", download=False)


# ---------------------------------------------------------------- MNIST, download path


class _Mirror(http.server.BaseHTTPRequestHandler):
    """Serves ``routes[path] = (body, mode)``; mode "ok" or "truncate" (short body)."""

    routes: dict = {}
    requests: list = []

    def do_GET(self):  # noqa: N802 (name fixed by http.server)
        self.requests.append(self.path)
        if self.path not in self.routes:
            self.send_error(404)
            return
        body, mode = self.routes[self.path]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if mode == "truncate" else body)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def mirror():
    """A local HTTP server; returns (base_url, routes, requests)."""
    handler = type("Handler", (_Mirror,), {"routes": {}, "requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.routes, handler.requests
    server.shutdown()
    server.server_close()


def _closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"  # nothing listens: connection refused


def _cache_listing(tmp_path):
    folder = tmp_path / "cache" / "nnlib" / "mnist"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_falls_back_verifies_shows_progress_and_caches(
    fake_test_split, mirror, monkeypatch, tmp_path, capsys
):
    images, labels, files = fake_test_split
    base, routes, requests = mirror
    for name, gz in files.items():
        routes[f"/good/{name}.gz"] = (gz, "ok")
        routes[f"/bad/{name}.gz"] = (gzip.compress(b"not mnist"), "ok")  # wrong checksum
    dead = _closed_port_url()
    monkeypatch.setattr(
        mnist_mod, "MIRRORS", (dead, f"{base}/missing/", f"{base}/bad/", f"{base}/good/")
    )
    X, y = load_mnist("test", progress=True)
    np.testing.assert_array_equal(X.reshape(-1, 28, 28), images / np.float32(255))
    np.testing.assert_array_equal(y, labels)
    assert "t10k-images-idx3-ubyte.gz" in capsys.readouterr().err  # the tqdm bar
    assert _cache_listing(tmp_path) == sorted(f"{n}.gz" for n in files)  # no *.part left
    # Second load reads the cache and makes no request.
    before = len(requests)
    load_mnist("test", progress=False)
    assert len(requests) == before
    assert capsys.readouterr().err == ""


def test_download_accepts_a_recompressed_file_by_content_checksum(
    fake_test_split, mirror, monkeypatch, tmp_path
):
    _, labels, files = fake_test_split
    base, routes, _ = mirror
    for name, gz in files.items():
        # Different gzip wrapper: the MD5 of the .gz differs, the content SHA-256 matches.
        routes[f"/{name}.gz"] = (
            gzip.compress(gzip.decompress(gz), compresslevel=1, mtime=9),
            "ok",
        )
    monkeypatch.setattr(mnist_mod, "MIRRORS", (f"{base}/",))
    _, y = load_mnist("test", progress=False)
    np.testing.assert_array_equal(y, labels)


def test_failed_downloads_leave_no_file_and_explain_what_to_do(
    fake_test_split, mirror, monkeypatch, tmp_path
):
    _, _, files = fake_test_split
    base, routes, _ = mirror
    for name, gz in files.items():
        routes[f"/cut/{name}.gz"] = (gz, "truncate")
        routes[f"/wrong/{name}.gz"] = (gzip.compress(b"\x00" * 100), "ok")
    dead = _closed_port_url()
    mirrors = (dead, f"{base}/cut/", f"{base}/wrong/")
    monkeypatch.setattr(mnist_mod, "MIRRORS", mirrors)
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path / "shared"))
    with pytest.raises(MNISTUnavailableError) as info:
        load_mnist("test", progress=False)
    message = str(info.value)
    assert _cache_listing(tmp_path) == []  # no partial or unverified file
    assert "t10k-images-idx3-ubyte.gz" in message
    for folder in (tmp_path / "shared" / "mnist", tmp_path / "shared", mnist_mod.cache_dir()):
        assert f"  - {folder}\n" in message
    for url in mirrors:
        assert f"{url}t10k-images-idx3-ubyte.gz: " in message
    assert "checksum mismatch" in message and "incomplete" in message.lower()
    assert "set the environment variable NNLIB_DATA" in message
    assert f"put them in {mnist_mod.cache_dir()}" in message
    assert isinstance(info.value, RuntimeError)


def test_download_false_never_goes_online(fake_test_split, mirror, monkeypatch):
    base, routes, requests = mirror
    monkeypatch.setattr(mnist_mod, "MIRRORS", (f"{base}/",))
    with pytest.raises(MNISTUnavailableError, match=r"download=False"):
        load_mnist("test", download=False)
    assert requests == []
