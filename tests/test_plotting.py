"""Tests for nnlib.plotting, rendered headless with the Agg backend."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nnlib.plotting import (  # noqa: E402
    confusion_matrix,
    most_confused,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_learning_curves,
    show_images,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- confusion matrix

Y_TRUE = np.array([0, 0, 1, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 2, 0, 2])
CM = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_confusion_matrix_worked_case():
    cm = confusion_matrix(Y_TRUE, Y_PRED, 3)
    np.testing.assert_array_equal(cm, CM)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(confusion_matrix(Y_TRUE, Y_PRED), CM)  # k inferred
    scores = np.eye(3)[Y_PRED] * 0.8 + 0.1  # (n, k) scores: argmax is taken
    np.testing.assert_array_equal(confusion_matrix(Y_TRUE, scores, 3), CM)
    np.testing.assert_array_equal(confusion_matrix(Y_TRUE, Y_PRED, 5)[:3, :3], CM)
    assert confusion_matrix(Y_TRUE, Y_PRED, 5).sum() == 6


def test_confusion_matrix_rejects_bad_input():
    with pytest.raises(ValueError, match="same number of samples"):
        confusion_matrix([0, 1], [0, 1, 1], 2)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        confusion_matrix([0, 2], [0, 1], 2)
    with pytest.raises(ValueError, match="integer"):
        confusion_matrix([0.5, 1.0], [0, 1], 2)


def test_most_confused_orders_off_diagonal_pairs():
    cm = np.array([[5, 3, 0], [1, 4, 3], [0, 7, 9]])
    assert most_confused(cm) == [(2, 1, 7), (0, 1, 3), (1, 2, 3), (1, 0, 1)]
    assert most_confused(cm, top=2) == [(2, 1, 7), (0, 1, 3)]
    assert most_confused(np.eye(3)) == []
    with pytest.raises(ValueError, match=r"\(k, k\)"):
        most_confused(np.zeros((2, 3)))


def test_plot_confusion_matrix_draws_counts_and_labels():
    fig, ax = plt.subplots()
    out = plot_confusion_matrix(Y_TRUE, Y_PRED, k=3, ax=ax, class_names=["a", "b", "c"])
    assert out is ax
    np.testing.assert_array_equal(ax.images[0].get_array(), CM)
    assert [t.get_text() for t in ax.texts] == [str(v) for v in CM.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"


def test_plot_confusion_matrix_normalizes_rows_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot_confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], k=3, normalize=True)
    values = np.asarray(ax.images[0].get_array())
    np.testing.assert_allclose(values, [[0.5, 0.5, 0], [0, 1, 0], [0, 0, 0]])  # empty row: 0
    assert ax.texts[0].get_text() == "0.50"
    assert len(ax.texts) == 9


# ---------------------------------------------------------------- decision boundary


def _region_grid(ax):
    """Class index per grid cell and the grid coordinates of the region image."""
    image = ax.images[0]
    index = np.asarray(image.get_array())
    x0_min, x0_max, x1_min, x1_max = image.get_extent()
    g0 = np.linspace(x0_min, x0_max, index.shape[1])
    g1 = np.linspace(x1_min, x1_max, index.shape[0])
    return index, g0, g1


def test_decision_boundary_colours_a_linear_rule():
    X = np.random.default_rng(0).uniform(-1, 1, size=(40, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    ax = plot_decision_boundary(lambda P: (P[:, 0] + P[:, 1] > 0).astype(int), X, y, resolution=50)
    index, g0, g1 = _region_grid(ax)
    assert index.shape == (50, 50)
    expected = (g0[None, :] + g1[:, None] > 0).astype(int)  # rows follow x2
    np.testing.assert_array_equal(index, expected)
    assert len(ax.collections) == 2  # one scatter per class
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1"]


def test_decision_boundary_accepts_probabilities_scores_and_signed_labels():
    X = np.array([[-2.0, 0.0], [2.0, 1.0], [0.5, -1.0]])
    fig, ax = plt.subplots()

    def proba(P):
        return 1 / (1 + np.exp(-4 * P[:, :1]))  # (m, 1) probability of class 1

    assert plot_decision_boundary(proba, X, [0, 1, 1], ax=ax, resolution=40) is ax
    index, g0, _ = _region_grid(ax)
    np.testing.assert_array_equal(index, np.broadcast_to(g0 >= 0, index.shape).astype(int))
    assert len(ax.collections) == 3  # the 0.5 contour and two scatters
    # Three-class scores: argmax; the band x1 in (-0.5, 0.5) is class 1.

    def scores(P):
        return np.stack([-P[:, 0] - 0.5, 0.5 - np.abs(P[:, 0]), P[:, 0] - 0.5], axis=1)

    index, g0, _ = _region_grid(plot_decision_boundary(scores, X, resolution=30))
    np.testing.assert_array_equal(index[0], np.argmax(scores(np.c_[g0, g0]), axis=1))
    # Labels -1 / +1 (a perceptron): colours index the sorted classes.
    ax = plot_decision_boundary(lambda P: np.where(P[:, 1] > 0, 1, -1), X, [-1, 1, -1])
    index, _, g1 = _region_grid(ax)
    np.testing.assert_array_equal(index[:, 0], (g1 > 0).astype(int))
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        plot_decision_boundary(lambda P: np.zeros(3), X)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot_decision_boundary(proba, np.zeros((3, 3)))


# ---------------------------------------------------------------- learning curves

HISTORY = {
    "loss": [1.0, 0.6, 0.4],
    "val_loss": [1.1, 0.8, 0.7],
    "accuracy": [0.5, 0.7, 0.8],
    "val_accuracy": [0.45, 0.6, 0.7],
}


def test_learning_curves_one_panel_per_metric():
    axes = plot_learning_curves(HISTORY)
    assert len(axes) == 2
    loss_ax, acc_ax = axes
    assert [line.get_label() for line in loss_ax.lines] == ["loss", "val_loss"]
    assert [line.get_label() for line in acc_ax.lines] == ["accuracy", "val_accuracy"]
    np.testing.assert_array_equal(loss_ax.lines[1].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), HISTORY["val_loss"])
    assert loss_ax.lines[0].get_linestyle() == "-" and loss_ax.lines[1].get_linestyle() == "--"
    assert loss_ax.get_xlabel() == "epoch" and acc_ax.get_ylabel() == "accuracy"


def test_learning_curves_on_given_axes_and_bad_input():
    fig, ax = plt.subplots()
    assert plot_learning_curves(HISTORY, ax=ax) == [ax]
    assert len(ax.lines) == 4
    fig, (a, b) = plt.subplots(1, 2)
    assert plot_learning_curves({"loss": [1, 2], "accuracy": [0.1, 0.2]}, ax=[a, b]) == [a, b]
    assert len(a.lines) == 1 and len(b.lines) == 1
    axes = plot_learning_curves({"loss": [3.0, 2.0], "val_loss": []})  # empty lists skipped
    assert len(axes) == 1 and len(axes[0].lines) == 1
    with pytest.raises(ValueError, match="one Axes per metric"):
        plot_learning_curves(HISTORY, ax=[a])
    with pytest.raises(ValueError, match="no key"):
        plot_learning_curves(HISTORY, keys=["lr"])
    with pytest.raises(ValueError, match="no values"):
        plot_learning_curves({"loss": []})


# ---------------------------------------------------------------- show_images


def test_show_images_tiles_flat_digits_with_labels():
    images = np.random.default_rng(0).uniform(0, 1, size=(12, 784))
    ax = show_images(images, labels=range(12), ncols=5)
    assert len(ax.images) == 1
    mosaic = np.asarray(ax.images[0].get_array())
    gap_y = 1 + 28 // 3
    assert mosaic.shape == (3 * (28 + gap_y), 5 * 29 - 1)
    # Image 7 is row 1, column 2; values in [0, 1] are shown unchanged.
    tile = mosaic[(28 + gap_y) + gap_y : 2 * (28 + gap_y), 2 * 29 : 2 * 29 + 28]
    np.testing.assert_array_equal(tile, images[7].reshape(28, 28))
    assert [t.get_text() for t in ax.texts] == [str(i) for i in range(12)]
    assert np.isnan(mosaic[-1, -1])  # the two unused slots stay blank


def test_show_images_accepts_channel_images_and_normalises_filters():
    digits = np.random.default_rng(1).uniform(0, 1, size=(3, 1, 28, 28))
    mosaic = np.asarray(show_images(digits).images[0].get_array())
    assert mosaic.shape == (28, 3 * 29 - 1) and len(plt.gca().texts) == 0
    W = np.random.default_rng(2).normal(size=(4, 3, 5, 5))  # (c_out, c_in, kh, kw)
    fig, ax = plt.subplots()
    assert show_images(W, ax=ax, cmap="RdBu") is ax
    mosaic = np.asarray(ax.images[0].get_array())
    assert mosaic.shape == (4 * 6 - 1, 3 * 6 - 1)  # one row per output channel
    tile = mosaic[6:11, 12:17]  # filter 1, input channel 2
    expected = (W[1, 2] - W[1, 2].min()) / (W[1, 2].max() - W[1, 2].min())
    np.testing.assert_allclose(tile, expected)
    maps = np.zeros((2, 4, 4))  # constant feature maps: no division warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mosaic = np.asarray(show_images(maps - 1).images[0].get_array())
    assert np.nanmax(mosaic) == 0


def test_show_images_rejects_bad_shapes():
    with pytest.raises(ValueError, match="square"):
        show_images(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="got shape"):
        show_images(np.zeros(5))
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        show_images(np.zeros((3, 4, 4)), labels=[1, 2])
    with pytest.raises(ValueError, match="normalize"):
        show_images(np.zeros((3, 4, 4)), normalize="max")
