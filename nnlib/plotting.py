"""Plots for the course: decision boundaries, learning curves, image grids, confusion matrices.

Every plotting function draws into ``ax`` when given (else a new figure), returns what it drew
into and never calls ``plt.show()``, so it works inline in notebooks, in live-updating loops
and headless under the Agg backend.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _pyplot():
    import matplotlib.pyplot as plt  # imported lazily: `import nnlib` stays light

    return plt


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize)
    return ax


def _labels(y, name: str) -> np.ndarray:
    """Integer labels (n,) from labels (n,) or scores/one-hot rows (n, k) (argmax)."""
    y = np.asarray(y)
    if y.ndim == 2:
        return np.argmax(y, axis=1)
    if y.ndim != 1:
        raise ValueError(f"{name} must have shape (n,) or (n, k), got shape {y.shape}")
    if y.dtype.kind not in "biu":
        if y.dtype.kind != "f" or np.any(y != np.round(y)):
            raise ValueError(f"{name} must hold integer class labels, got dtype {y.dtype}")
        y = y.astype(np.int64)
    return y.astype(np.int64, copy=False)


# ---------------------------------------------------------------- confusion matrix


def confusion_matrix(y_true, y_pred, k=None) -> np.ndarray:
    """Count ``cm[i, j]`` = number of samples of true class i predicted as class j.

    y_true, y_pred: (n,) integer labels in [0, k), or (n, k) scores / one-hot rows (argmax
    is taken). k: number of classes (default: largest label + 1).

    Returns cm (k, k) int64; rows are true classes, columns predicted classes.
    """
    t = _labels(y_true, "y_true")
    p = _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(
            f"y_true and y_pred must have the same number of samples: "
            f"got {t.shape[0]} and {p.shape[0]}"
        )
    if k is None:
        k = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if k < 1:
        raise ValueError(f"k must be >= 1 (pass k for empty inputs), got {k}")
    for name, lab in (("y_true", t), ("y_pred", p)):
        if lab.size and (lab.min() < 0 or lab.max() >= k):
            raise ValueError(f"{name} labels must lie in [0, {k}), got {lab.min()}..{lab.max()}")
    # Each (true, pred) pair becomes one index k * true + pred: one bincount counts them all.
    return np.bincount(k * t + p, minlength=k * k).reshape(k, k)


def most_confused(cm, top=5) -> list[tuple]:
    """The ``top`` largest off-diagonal cells of a confusion matrix, largest first.

    cm: (k, k) counts or fractions. Returns a list of ``(true, predicted, value)``;
    cells equal to zero are left out, ties go to the smaller (true, predicted) pair.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must have shape (k, k), got shape {cm.shape}")
    values = cm.astype(np.float64).ravel()
    off_diagonal = ~np.eye(cm.shape[0], dtype=bool).ravel()
    candidates = np.flatnonzero(off_diagonal & (values > 0))
    order = candidates[np.argsort(-values[candidates], kind="stable")][:top]
    i, j = np.unravel_index(order, cm.shape)
    return [(int(a), int(b), cm[a, b].item()) for a, b in zip(i, j, strict=True)]


def plot_confusion_matrix(
    y_true, y_pred, k=10, ax=None, normalize=False, annotate=True, cmap="Blues", class_names=None
):
    """Draw the confusion matrix of ``y_true`` vs ``y_pred`` (see ``confusion_matrix``).

    normalize: True shows each row as fractions of that true class (rows sum to 1).
    annotate: write each cell's value. class_names: k tick labels (default 0..k-1).

    Returns the Axes.
    """
    cm = confusion_matrix(y_true, y_pred, k)
    k = cm.shape[0]
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        values = np.divide(cm, totals, out=np.zeros(cm.shape), where=totals > 0)
    else:
        values = cm
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    if len(names) != k:
        raise ValueError(f"class_names must have {k} entries, got {len(names)}")
    ax = _new_axes(ax, (0.45 * k + 2, 0.45 * k + 1.5))
    image = ax.imshow(values, cmap=cmap, vmin=0, interpolation="nearest")
    ax.set_xticks(np.arange(k), labels=names)
    ax.set_yticks(np.arange(k), labels=names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if annotate:
        threshold = values.max() / 2 if values.size else 0
        for i, j in np.ndindex(k, k):
            v = values[i, j]
            ax.text(
                j,
                i,
                f"{v:.2f}" if normalize else str(v),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if v > threshold else "black",
            )
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


# ---------------------------------------------------------------- decision boundary


def _predicted_labels(out, m: int):
    """Labels (m,) from a classifier output, plus the class-1 probability when it is one."""
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim not in (1, 2) or out.shape[0] != m:
        raise ValueError(
            f"predict must return labels (m,), probabilities (m,) / (m, 1) or scores (m, k) "
            f"for the (m, 2) grid with m={m}; got shape {out.shape}"
        )
    if out.ndim == 2:
        return np.argmax(out, axis=1), None
    if out.dtype.kind in "biu":
        return out.astype(np.int64), None
    if out.dtype.kind == "f":
        return (out >= 0.5).astype(np.int64), out  # probability of class 1
    raise ValueError(f"predict returned dtype {out.dtype}; expected numbers")


def plot_decision_boundary(
    predict, X, y=None, ax=None, resolution=200, margin=0.5, alpha=0.35, colors=None
):
    """Colour the plane by the class ``predict`` assigns, and scatter the data on top.

    predict: function mapping points (m, 2) to labels (m,) (integers), class-1
    probabilities (m,) or (m, 1) (thresholded at 0.5; the 0.5 contour is drawn), or scores
    (m, k) (argmax). X: (n, 2) data points. y: (n,) their labels (optional).
    resolution: grid points per axis. margin: space around the data.

    Returns the Axes. The region image is ``ax.images[0]``: its array holds, per grid
    cell, the index of the predicted class in the sorted list of classes seen.
    """
    from matplotlib.colors import ListedColormap

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got shape {X.shape}")
    y = None if y is None else _labels(y, "y")
    if y is not None and y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},), got shape {y.shape}")
    x0_min, x1_min = X.min(axis=0) - margin
    x0_max, x1_max = X.max(axis=0) + margin
    g0 = np.linspace(x0_min, x0_max, resolution)
    g1 = np.linspace(x1_min, x1_max, resolution)
    xx, yy = np.meshgrid(g0, g1)  # (resolution, resolution): rows follow x1
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    pred, proba = _predicted_labels(predict(grid), grid.shape[0])
    classes = np.unique(pred if y is None else np.concatenate([pred, y]))
    index = np.searchsorted(classes, pred).reshape(xx.shape)
    if colors is None:
        from matplotlib import colormaps

        base = colormaps["tab10"] if len(classes) <= 10 else colormaps["viridis"]
        colors = [
            base(i if len(classes) <= 10 else i / (len(classes) - 1)) for i in range(len(classes))
        ]
    cmap = ListedColormap(list(colors)[: len(classes)])
    ax = _new_axes(ax, (5, 4.5))
    ax.imshow(
        index,
        origin="lower",
        extent=(x0_min, x0_max, x1_min, x1_max),
        cmap=cmap,
        vmin=-0.5,
        vmax=len(classes) - 0.5,
        alpha=alpha,
        interpolation="nearest",
        aspect="auto",
    )
    if proba is not None and proba.min() < 0.5 < proba.max():
        ax.contour(xx, yy, proba.reshape(xx.shape), levels=[0.5], colors="k", linewidths=1)
    if y is None:
        ax.scatter(X[:, 0], X[:, 1], s=15, c="k")
    else:
        for i, c in enumerate(classes):  # one scatter per class, for the legend
            pts = X[y == c]
            if len(pts):
                ax.scatter(pts[:, 0], pts[:, 1], s=18, color=cmap(i), edgecolors="k", label=str(c))
        ax.legend(title="class", loc="best", fontsize=8)
    ax.set_xlim(x0_min, x0_max)
    ax.set_ylim(x1_min, x1_max)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


# ---------------------------------------------------------------- learning curves


def _metric(key: str) -> str:
    for prefix in ("val_", "train_", "test_"):
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def plot_learning_curves(history, ax=None, keys=None):
    """Plot per-epoch metrics, one panel per metric (loss, accuracy, ...).

    history: mapping from a name to a list of per-epoch values, e.g. ``{"loss": [...],
    "val_loss": [...], "accuracy": [...], "val_accuracy": [...]}``. Names with the prefix
    ``val_`` / ``train_`` / ``test_`` share the panel of their metric (dashed for
    validation and test). keys: which names to plot (default all non-empty ones).
    ax: None (a new figure with one panel per metric), one Axes (every curve on it) or a
    sequence with one Axes per metric.

    Returns the list of Axes drawn into.
    """
    if not isinstance(history, Mapping):
        raise ValueError(
            f"history must be a dict of per-epoch lists, got {type(history).__name__}"
        )
    keys = [k for k in history if len(history[k])] if keys is None else list(keys)
    missing = [k for k in keys if k not in history]
    if missing:
        raise ValueError(f"history has no key(s) {missing}; it has {list(history)}")
    if not keys:
        raise ValueError("history has no values to plot yet")
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(_metric(key), []).append(key)
    if ax is None:
        fig, axes = _pyplot().subplots(1, len(groups), figsize=(4.5 * len(groups), 3.3))
        axes = list(np.atleast_1d(axes))
    elif hasattr(ax, "plot"):
        axes = [ax] * len(groups)
    else:
        axes = list(ax)
        if len(axes) != len(groups):
            raise ValueError(
                f"got {len(axes)} Axes for {len(groups)} metrics {list(groups)}; pass one "
                "Axes per metric, a single Axes, or ax=None"
            )
    for (metric, names), panel in zip(groups.items(), axes, strict=True):
        for name in names:
            values = np.asarray(history[name], dtype=np.float64)
            epochs = np.arange(1, len(values) + 1)
            dashed = name.startswith(("val_", "test_"))
            panel.plot(
                epochs,
                values,
                linestyle="--" if dashed else "-",
                marker="o" if len(values) <= 30 else None,
                markersize=3,
                label=name,
            )
        panel.set_xlabel("epoch")
        panel.set_ylabel(metric if len(set(axes)) > 1 else "value")
        panel.grid(True, alpha=0.3)
        panel.legend(fontsize=8)
    unique = []
    for panel in axes:
        if panel not in unique:
            unique.append(panel)
    return unique


# ---------------------------------------------------------------- image grids


def _tiles(images, ncols):
    """Return tiles (n, h, w) float64 and the number of grid columns."""
    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim == 2:  # (n, h*w) flat images, square
        side = int(round(np.sqrt(arr.shape[1])))
        if side * side != arr.shape[1]:
            raise ValueError(
                f"flat images (n, d) need a square d such as 784 = 28*28, got shape {arr.shape}"
            )
        arr = arr.reshape(arr.shape[0], side, side)
    elif arr.ndim == 4:
        n, c, h, w = arr.shape
        if c > 1 and ncols is None:
            ncols = c  # filters (c_out, c_in, kh, kw): one row per output channel
        arr = arr.reshape(n * c, h, w)
    elif arr.ndim != 3:
        raise ValueError(
            "images must have shape (n, h*w), (n, h, w), (n, 1, h, w) or filters "
            f"(c_out, c_in, kh, kw); got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError("no images to show (got an empty array)")
    return arr, (min(arr.shape[0], 10) if ncols is None else int(ncols))


def _normalised(tiles, normalize):
    finite = tiles[np.isfinite(tiles)]
    if normalize == "auto":
        in_unit = finite.size == 0 or (finite.min() >= 0 and finite.max() <= 1)
        normalize = "none" if in_unit else "tile"
    if normalize == "none":
        return tiles
    if normalize == "tile":
        lo = tiles.min(axis=(1, 2), keepdims=True)
        hi = tiles.max(axis=(1, 2), keepdims=True)
    elif normalize == "global":
        lo, hi = tiles.min(), tiles.max()
    else:
        raise ValueError(
            f"normalize must be 'auto', 'tile', 'global' or 'none', got {normalize!r}"
        )
    span = hi - lo
    return (tiles - lo) / np.where(span > 0, span, 1.0)  # a constant tile shows as 0


def show_images(
    images, labels=None, ncols=None, cmap="gray", normalize="auto", ax=None, pad=1, fontsize=8
):
    """Show images as one mosaic: digits, filters or feature maps.

    images: (n, 784) or any (n, h*w) with a square h*w, (n, h, w) (e.g. the feature maps of
    one sample), (n, 1, h, w), or conv filters (c_out, c_in, kh, kw) shown as c_out rows of
    c_in tiles. labels: optional n_tiles labels written above the tiles.
    ncols: tiles per row (default 10, or c_in for filters).
    normalize: "auto" (values in [0, 1] as they are, else "tile"), "tile" (each tile
    rescaled to [0, 1], for filters and feature maps), "global" or "none".
    pad: gap between tiles in pixels.

    Returns the Axes; the mosaic is its only image.
    """
    from matplotlib import colormaps

    tiles, ncols = _tiles(images, ncols)
    tiles = _normalised(tiles, normalize)
    n, h, w = tiles.shape
    if labels is not None:
        labels = list(labels)
        if len(labels) != n:
            raise ValueError(f"got {len(labels)} labels for {n} images")
    rows = -(-n // ncols)
    gap_y = pad + (max(4, h // 3) if labels is not None else 0)  # room for the labels
    # Blank (NaN) canvas in (row, y, col, x) order; tiles drop into their slots, then the
    # axes merge into one 2-D picture.
    canvas = np.full((rows * ncols, h + gap_y, w + pad), np.nan)
    canvas[:n, gap_y:, :w] = tiles
    mosaic = canvas.reshape(rows, ncols, h + gap_y, w + pad).transpose(0, 2, 1, 3)
    mosaic = mosaic.reshape(rows * (h + gap_y), ncols * (w + pad))[:, : ncols * (w + pad) - pad]
    if labels is None:
        mosaic = mosaic[pad:]  # no label row: drop the gap above the first row
    colormap = (colormaps[cmap] if isinstance(cmap, str) else cmap).with_extremes(bad="white")
    width = min(12.0, max(2.0, 0.8 * ncols))  # inches; the height keeps the mosaic's aspect
    ax = _new_axes(ax, (width, max(1.0, width * mosaic.shape[0] / mosaic.shape[1])))
    ax.imshow(mosaic, cmap=colormap, vmin=0, vmax=1, interpolation="nearest")
    if labels is not None:
        for i, label in enumerate(labels):
            r, c = divmod(i, ncols)
            ax.text(
                c * (w + pad) + (w - 1) / 2,
                r * (h + gap_y) + gap_y - 1,
                str(label),
                ha="center",
                va="bottom",
                fontsize=fontsize,
            )
    ax.set_axis_off()
    return ax
