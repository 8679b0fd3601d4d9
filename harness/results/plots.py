"""Figures for reports, drawn with matplotlib's Agg backend and returned as PNG bytes.

Every function takes plain data (no MLflow objects) and returns the PNG, so the report can embed
it as a data URI, write it beside the Markdown twin and log it to MLflow. matplotlib is imported
inside the functions: `harness --help` never loads it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "OTHER",
    "TIE",
    "WORSE",
    "anytime",
    "bars",
    "confusion",
    "critical_difference",
    "cv_vs_holdout",
    "fold_strips",
    "images",
    "png",
    "pyplot",
    "residuals",
    "roc",
]

TIE, WORSE, OTHER = "#2b7bba", "#b0b0b0", "#e07b39"


def pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
        }
    )
    return plt


def png(fig) -> bytes:
    plt = pyplot()
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def _height(n: int) -> float:
    return max(2.2, 0.45 * n + 1.2)


def bars(
    models: Sequence[str],
    cv_mean: Sequence[float],
    cv_std: Sequence[float],
    holdout: Sequence[float | None],
    tied: Sequence[bool],
    metric: str,
) -> bytes:
    """Horizontal bars of the mean CV score with ± one standard deviation, holdout as diamonds.

    Bars of models not significantly worse than the leader are blue, the others grey.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, _height(len(models))))
    y = np.arange(len(models))[::-1]
    colors = [TIE if t else WORSE for t in tied]
    ax.barh(y, cv_mean, xerr=cv_std, color=colors, capsize=3, label="CV mean ± std")
    hy = [yi for yi, h in zip(y, holdout, strict=True) if h is not None]
    hx = [h for h in holdout if h is not None]
    ax.scatter(hx, hy, marker="D", color=OTHER, zorder=3, label="holdout")
    ax.set_yticks(y, models)
    ax.set_xlabel(metric)
    low = min([*(m - s for m, s in zip(cv_mean, cv_std, strict=True)), *hx])
    high = max([*(m + s for m, s in zip(cv_mean, cv_std, strict=True)), *hx])
    pad = (high - low) * 0.15 or 0.05
    ax.set_xlim(max(low - pad, 0) if low >= 0 else low - pad, high + pad)
    ax.legend(loc="best", fontsize=8)
    ax.set_title("CV score (bars: not significantly worse than the leader in blue)")
    return png(fig)


def fold_strips(folds: Mapping[str, Sequence[float]], metric: str) -> bytes:
    """One row of dots per model: its score on every fold, the same fold in the same color."""
    plt = pyplot()
    models = list(folds)
    fig, ax = plt.subplots(figsize=(6.4, _height(len(models))))
    cmap = plt.get_cmap("tab10")
    for i, model in enumerate(models):
        y = len(models) - 1 - i
        scores = folds[model]
        for j, value in enumerate(scores):
            ax.scatter(value, y, color=cmap(j % 10), s=22, zorder=3, label=None)
        if len(scores):
            ax.plot([min(scores), max(scores)], [y, y], color="#cccccc", zorder=1)
    ax.set_yticks(range(len(models))[::-1], models)
    ax.set_xlabel(f"{metric} per fold (color = fold)")
    ax.set_title("Per-fold CV scores")
    return png(fig)


def cv_vs_holdout(
    models: Sequence[str], cv: Sequence[float], holdout: Sequence[float], metric: str
) -> bytes:
    """CV mean against holdout score, with the diagonal: points off it are the shake-up."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.scatter(cv, holdout, color=TIE, zorder=3)
    for name, x, y in zip(models, cv, holdout, strict=True):
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    values = [*cv, *holdout]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or 0.05
    ax.plot([low - pad, high + pad], [low - pad, high + pad], "--", color="#888888", lw=1)
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(low - pad, high + pad)
    ax.set_xlabel(f"CV {metric} (mean)")
    ax.set_ylabel(f"holdout {metric}")
    ax.set_title("CV vs holdout")
    return png(fig)


def anytime(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], metric: str, maximize: bool
) -> bytes:
    """Best-so-far CV score against trials and against elapsed seconds, one line per model.

    Args:
        curves: Model -> (elapsed seconds at the end of each finished trial, its CV score), in
            the order the trials finished.
        metric: Metric name.
        maximize: Whether higher is better.
    """
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.6), sharey=True)
    pick = np.maximum.accumulate if maximize else np.minimum.accumulate
    for model, (seconds, scores) in curves.items():
        if not len(scores):
            continue
        best = pick(np.asarray(scores, dtype=float))
        trials = np.arange(1, len(best) + 1)
        (line,) = left.step(trials, best, where="post", label=model, marker="o", ms=3)
        right.step(seconds, best, where="post", color=line.get_color(), marker="o", ms=3)
    from matplotlib.ticker import MaxNLocator

    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("trials finished")
    right.set_xlabel("seconds spent in trials (log scale above 1 s)")
    right.set_xscale("symlog", linthresh=1.0)
    left.set_ylabel(f"best CV {metric} so far")
    left.set_title("Anytime performance: trials")
    right.set_title("Anytime performance: time")
    left.legend(fontsize=8, loc="best")
    return png(fig)


def confusion(y_true: Sequence, y_pred: Sequence, labels: Sequence, title: str) -> bytes:
    """Confusion matrix with counts (rows: true class, columns: predicted class)."""
    plt = pyplot()
    labels = list(labels)
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        if t in index and p in index:
            matrix[index[t], index[p]] += 1
    size = max(3.2, 0.6 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 0.8, size))
    ax.grid(False)
    image = ax.imshow(matrix, cmap="Blues")
    for i in range(len(labels)):
        for j in range(len(labels)):
            dark = matrix[i, j] > matrix.max() / 2
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                color="white" if dark else "black",
            )
    ax.set_xticks(range(len(labels)), [str(x) for x in labels], rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), [str(x) for x in labels])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046)
    return png(fig)


def roc(y_true: Sequence, proba: Mapping[str, Sequence[float]], title: str) -> bytes:
    """ROC curves: one per class against the rest (one curve for the positive class if binary).

    Args:
        y_true: True labels.
        proba: Class label -> predicted probability of that class, per row.
        title: Plot title.
    """
    from sklearn.metrics import auc, roc_curve

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    truth = np.asarray([str(t) for t in y_true])
    classes = list(proba)
    shown = classes[-1:] if len(classes) == 2 else classes
    for label in shown:
        positive = truth == str(label)
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, np.asarray(proba[label], dtype=float))
        ax.plot(fpr, tpr, label=f"{label} (AUC {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], "--", color="#888888", lw=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    return png(fig)


def residuals(y_true: Sequence[float], y_pred: Sequence[float], title: str) -> bytes:
    """Residuals (true - predicted) against predictions, with a histogram of the residuals."""
    plt = pyplot()
    truth, pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    resid = truth - pred
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(7.2, 3.4), gridspec_kw={"width_ratios": [3, 1]}, sharey=True
    )
    left.scatter(pred, resid, s=8, alpha=0.5, color=TIE)
    left.axhline(0, color="#888888", lw=1, ls="--")
    left.set_xlabel("predicted")
    left.set_ylabel("true - predicted")
    left.set_title(title)
    right.hist(resid, bins=30, orientation="horizontal", color=TIE, alpha=0.7)
    right.set_xlabel("rows")
    return png(fig)


def critical_difference(mean_ranks: Mapping[str, float], cd: float, n_tasks: int) -> bytes:
    """Critical-difference diagram (Demšar 2006): mean ranks on an axis (1 = best, at the left),
    the critical difference as a bar, and thick lines joining models whose mean ranks differ by
    less than it (not significantly different by the Nemenyi test)."""
    plt = pyplot()
    items = sorted(mean_ranks.items(), key=lambda kv: kv[1])
    k = len(items)
    half = (k + 1) // 2
    fig, ax = plt.subplots(figsize=(7.2, 1.4 + 0.3 * half))
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_yticks([])
    ax.set_xticks([])
    low, high = 1, max(k, 2)
    ax.set_xlim(low - 0.3, high + 0.3)
    ax.set_ylim(-(half + 1) * 0.5, 1.6)
    ax.hlines(0, low, high, color="black", lw=1)
    for tick in range(low, high + 1):
        ax.vlines(tick, 0, 0.12, color="black", lw=1)
        ax.text(tick, 0.22, str(tick), ha="center", va="bottom", fontsize=8)
    ax.plot([low, low + cd], [1.2, 1.2], color="black", lw=2)
    ax.text(
        low + cd / 2, 1.3, f"CD = {cd:.2f} ({n_tasks} tasks)", ha="center", va="bottom", fontsize=8
    )
    for i, (model, rank) in enumerate(items):
        left_side = i < half
        depth = -(i + 1) * 0.5 if left_side else -(k - i) * 0.5
        end = low - 0.25 if left_side else high + 0.25
        ax.plot([rank, rank, end], [0, depth, depth], color="#444444", lw=1)
        ax.text(
            end + (-0.05 if left_side else 0.05),
            depth,
            f"{model} ({rank:.2f})",
            ha="right" if left_side else "left",
            va="center",
            fontsize=8,
        )
    # cliques: maximal runs of models whose mean ranks are within the critical difference
    cliques = []
    for i in range(k):
        j = i
        while j + 1 < k and items[j + 1][1] - items[i][1] < cd:
            j += 1
        if j > i and not any(a <= i and j <= b for a, b in cliques):
            cliques.append((i, j))
    for n, (i, j) in enumerate(cliques):
        y = -0.15 - 0.12 * n
        ax.plot(
            [items[i][1] - 0.03, items[j][1] + 0.03],
            [y, y],
            color=TIE,
            lw=4,
            solid_capstyle="round",
        )
    ax.set_title("Critical difference (Friedman-Nemenyi, alpha 0.05): lower rank is better")
    return png(fig)


def images(samples: Sequence[tuple[np.ndarray, str]], title: str) -> bytes:
    """A grid of sample images with their labels."""
    plt = pyplot()
    n = len(samples)
    cols = min(n, 8) or 1
    rows = max((n + cols - 1) // cols, 1)
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols + 0.4, 1.3 * rows + 0.5))
    flat = np.atleast_1d(axes).ravel()
    for ax in flat:
        ax.axis("off")
    for ax, (image, label) in zip(flat, samples, strict=False):
        ax.imshow(image, cmap="gray" if np.ndim(image) == 2 else None)
        ax.set_title(str(label), fontsize=8)
    fig.suptitle(title)
    return png(fig)
