"""Figures for reports, drawn with matplotlib's Agg backend and returned as PNG bytes.

Every function takes plain data (no MLflow objects) and returns the PNG, so the report can embed
it as a data URI, write it beside the Markdown twin and log it to MLflow. matplotlib is imported
inside the functions: `harness --help` never loads it.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Mapping, Sequence

import numpy as np

__all__ = [
    "BASELINE",
    "LABEL_GID",
    "LINESTYLES",
    "MARKERS",
    "OTHER",
    "PALETTE",
    "TIE",
    "WORSE",
    "anytime",
    "bars",
    "confusion",
    "critical_difference",
    "cv_vs_holdout",
    "fold_strips",
    "images",
    "importance",
    "png",
    "pyplot",
    "residuals",
    "roc",
    "spread_labels",
    "styles",
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


# Lines and points of many models: ten colours, and markers cycling with a different period, so
# that model i gets (PALETTE[i % 10], MARKERS[i % 7]): no two of the first 70 share both.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
LINESTYLES = ("-", "--", ":", "-.")
BASELINE = "#555555"
LABEL_GID = "harness-point-label"


def styles(n: int) -> list[tuple[str, str, str]]:
    """(colour, marker, line style) of the first `n` models: no two of the first 70 share their
    (colour, marker) pair, no two of the first 280 their triple."""
    period = len(PALETTE) * len(MARKERS)
    return [
        (PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)], LINESTYLES[i // period % 4])
        for i in range(n)
    ]


def _styled(names: Sequence[str], order: Sequence[str] | None) -> list[tuple[str, str, str]]:
    """The style of each name by its place in `order` (names not in it follow, in their order),
    so that plots given the same order draw a model alike even when they show different models."""
    ranking = list(dict.fromkeys(order or ()))
    known = set(ranking)
    ranking += [n for n in names if n not in known]
    table = dict(zip(ranking, styles(len(ranking)), strict=True))
    return [table[n] for n in names]


def _layout(fig) -> None:
    """Lay the figure out as `png` will (tight layout) so that extents can be measured."""
    fig.tight_layout()
    fig.canvas.draw()


def _span(values, share: float = 0.1) -> tuple[float, float]:
    """An axis range holding every finite value with `share` of the spread as padding."""
    finite = [float(v) for v in values if v is not None and np.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    pad = (high - low) * share or (abs(high) * 0.02 or 0.05)
    return low - pad, high + pad


def _split(models: Sequence[str], baselines) -> tuple[list[int], list[int]]:
    """Indices of the models that set the axis range, and of the baselines drawn as lines.

    When every model is a baseline there is nothing to zoom to: they are all drawn as models.
    """
    marked = set(baselines)
    base = [i for i, m in enumerate(models) if m in marked]
    real = [i for i in range(len(models)) if i not in base]
    return (real, base) if real else (list(range(len(models))), [])


def _ticks():
    """At most about six ticks: zoomed axes have long tick labels (0.9875) that must not touch."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10])


def _fmt(value: float) -> str:
    return f"{value:.4g}" if abs(value) >= 1e4 or abs(value) < 1e-3 else f"{value:.3f}"


def _off_axis(name: str, value: float, low: float, high: float, axis: str) -> str:
    sides = {"x": ("left", "right"), "y": ("below", "above")}[axis]
    return f"{name} (baseline) {_fmt(value)}: off the axis, {sides[int(value > high)]}"


def _vertical_refs(
    ax, refs: Sequence[tuple[str, float]], low: float, high: float
) -> tuple[int, list[str]]:
    """Baselines inside [low, high] as dashed vertical lines labelled above the axes: how many,
    and the notes for those outside."""
    from matplotlib.transforms import blended_transform_factory

    drawn, notes = 0, []
    on_top = blended_transform_factory(ax.transData, ax.transAxes)
    for name, value in refs:
        if value is None or not np.isfinite(value):
            continue
        if low <= value <= high:
            drawn += 1
            ax.axvline(value, color=BASELINE, ls="--", lw=1, zorder=1)
            ax.text(
                value,
                1.01,
                f"{name} {_fmt(value)}",
                transform=on_top,
                ha="center",
                va="bottom",
                fontsize=7,
                color=BASELINE,
            )
        else:
            notes.append(_off_axis(name, value, low, high, "x"))
    return drawn, notes


def _title(ax, title: str, notes: Sequence[str], *, pad: float = 6.0) -> None:
    ax.set_title("\n".join([title, *notes]), pad=pad)


def _legend_right(ax, handles=None, labels=None, **kwargs):
    """A legend to the right of the axes, outside the data."""
    args = (handles, labels) if handles is not None else ()
    return ax.legend(
        *args,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        fontsize=8,
        **kwargs,
    )


def _legend_below(ax, handles, labels, ncol: int):
    """A legend centred below the axes (and their x label), outside the data."""
    from matplotlib.transforms import offset_copy

    below = offset_copy(ax.transAxes, fig=ax.figure, y=-30, units="points")
    return ax.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=below,
        borderaxespad=0.0,
        fontsize=8,
        ncol=ncol,
        frameon=False,
    )


def _bars_figure(
    models: Sequence[str],
    cv_mean: Sequence[float],
    cv_std: Sequence[float],
    holdout: Sequence[float | None],
    tied: Sequence[bool],
    metric: str,
    baselines=(),
):
    plt = pyplot()
    from matplotlib.lines import Line2D

    real, base = _split(models, baselines)
    fig, ax = plt.subplots(figsize=(6.4, _height(len(real)) + 0.4))
    y = np.arange(len(real))[::-1]
    for yi, i in zip(y, real, strict=True):
        color = TIE if tied[i] else WORSE
        ax.errorbar(
            cv_mean[i], yi, xerr=cv_std[i], fmt="o", color=color, ms=6, capsize=3, lw=1.5, zorder=3
        )
        if holdout[i] is not None:
            ax.scatter(
                holdout[i],
                yi,
                marker="D",
                s=42,
                facecolor="none",
                edgecolor=OTHER,
                lw=1.5,
                zorder=4,
            )
    ax.set_yticks(y, [models[i] for i in real])
    ax.set_ylim(-0.6, len(real) - 0.4)
    ax.set_xlabel(metric)
    low, high = _span(
        [
            *(cv_mean[i] - cv_std[i] for i in real),
            *(cv_mean[i] + cv_std[i] for i in real),
            *(holdout[i] for i in real),
        ],
        0.08,
    )
    ax.set_xlim(low, high)
    ax.xaxis.set_major_locator(_ticks())
    ax.grid(axis="y", visible=False)
    drawn, notes = _vertical_refs(ax, [(models[i], cv_mean[i]) for i in base], low, high)
    handles = []
    if any(tied[i] for i in real):
        handles.append(Line2D([], [], color=TIE, marker="o", label="CV mean ± 1 std, ≈ leader"))
    if not all(tied[i] for i in real):
        handles.append(
            Line2D([], [], color=WORSE, marker="o", label="CV mean ± 1 std, worse than leader")
        )
    if any(holdout[i] is not None for i in real):
        handles.append(Line2D([], [], color=OTHER, marker="D", mfc="none", lw=0, label="holdout"))
    if drawn:
        handles.append(Line2D([], [], color=BASELINE, ls="--", lw=1, label="baseline (CV mean)"))
    _legend_below(ax, handles, [h.get_label() for h in handles], ncol=2)
    _title(ax, "CV score: mean ± 1 std over folds, holdout as diamonds", notes, pad=14)
    return fig


def bars(
    models: Sequence[str],
    cv_mean: Sequence[float],
    cv_std: Sequence[float],
    holdout: Sequence[float | None],
    tied: Sequence[bool],
    metric: str,
    *,
    baselines: Collection[str] = (),
) -> bytes:
    """Dots of the mean CV score with ± one standard deviation over folds as error bars, the
    holdout as open diamonds.

    Dots of models not significantly worse than the leader are blue, the others grey. Models named
    in `baselines` (e.g. dummy) are no rows: the x axis spans the other models, and a baseline's
    mean CV score is a labelled dashed line, or a note in the title when it is off that axis.
    """
    return png(_bars_figure(models, cv_mean, cv_std, holdout, tied, metric, baselines))


def _fold_strips_figure(folds: Mapping[str, Sequence[float]], metric: str, baselines=()):
    plt = pyplot()
    names = list(folds)
    real, base = _split(names, baselines)
    fig, ax = plt.subplots(figsize=(6.4, _height(len(real)) + 0.3))
    for row, i in enumerate(real):
        y = len(real) - 1 - row
        scores = folds[names[i]]
        for j, value in enumerate(scores):
            ax.scatter(value, y, color=PALETTE[j % len(PALETTE)], s=22, zorder=3)
        if len(scores):
            ax.plot([min(scores), max(scores)], [y, y], color="#cccccc", zorder=1)
    ax.set_yticks(range(len(real))[::-1], [names[i] for i in real])
    ax.set_ylim(-0.6, len(real) - 0.4)
    ax.grid(axis="y", visible=False)
    low, high = _span([v for i in real for v in folds[names[i]]], 0.06)
    ax.set_xlim(low, high)
    ax.xaxis.set_major_locator(_ticks())
    refs = [(names[i], float(np.mean(folds[names[i]]))) for i in base if len(folds[names[i]])]
    _, notes = _vertical_refs(ax, refs, low, high)
    ax.set_xlabel(f"{metric} per fold (color = fold)")
    count = max((len(folds[names[i]]) for i in real), default=0)
    if 0 < count <= len(PALETTE):
        from matplotlib.lines import Line2D

        handles = [
            Line2D([], [], color=PALETTE[j], marker="o", lw=0, label=f"fold {j + 1}")
            for j in range(count)
        ]
        _legend_below(ax, handles, [h.get_label() for h in handles], ncol=min(count, 5))
    _title(
        ax,
        "Per-fold CV scores",
        [n.replace("(baseline)", "(baseline, mean)") for n in notes],
        pad=14,
    )
    return fig


def fold_strips(
    folds: Mapping[str, Sequence[float]], metric: str, *, baselines: Collection[str] = ()
) -> bytes:
    """One row of dots per model: its score on every fold, the same fold in the same color.

    Models named in `baselines` are no rows: their mean fold score is a labelled dashed line, or a
    note in the title when it is off the axis the other models span.
    """
    return png(_fold_strips_figure(folds, metric, baselines))


def _boxes_overlap(a, b, pad: float = 0.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _overlap_area(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


# Where a label may go, tried in this order: rings of growing distance around its point (pixels),
# each in 16 directions starting at the upper right.
_RADII = (2, 6, 11, 17, 24, 32, 42, 54, 68, 84, 102, 124, 150)
_ANGLES = tuple(
    np.deg2rad([45, 135, 315, 225, 90, 270, 0, 180, *(a + 22.5 for a in range(0, 360, 45))])
)


def _darker(color: str, share: float = 0.35) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return tuple(c * (1 - share) for c in to_rgb(color))


def spread_labels(
    ax,
    xs: Sequence[float],
    ys: Sequence[float],
    labels: Sequence[str],
    *,
    colors: Sequence[str] | None = None,
    marker_px: float = 5.0,
    fontsize: float = 8,
) -> list:
    """Label points so that no two labels overlap, nor a label a point.

    Each label, in order, takes the nearest spot on rings around its point (`_RADII` pixels, 16
    directions) that overlaps nothing, preferring spots nearer its own point than any other
    point; a leader line joins a label to its point when it is set apart or another point is
    nearer. Labels take their point's colour, darkened (`colors`). Deterministic: no randomness,
    ties go to the earlier ring and direction. Call after the axes' limits and the figure's
    layout are final.

    Returns the Text objects (gid LABEL_GID).
    """
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    bounds = (frame.x0 + 1, frame.y0 + 1, frame.x1 - 1, frame.y1 - 1)
    points = ax.transData.transform(np.column_stack([xs, ys]).astype(float))
    obstacles = [
        (px - marker_px, py - marker_px, px + marker_px, py + marker_px) for px, py in points
    ]
    to_data = ax.transData.inverted()
    texts, placed = [], []
    for k, ((px, py), label) in enumerate(zip(points, labels, strict=True)):
        ink = _darker(colors[k]) if colors else "#111111"
        text = ax.text(
            0, 0, label, fontsize=fontsize, ha="center", va="center", zorder=5, gid=LABEL_GID
        )
        text.set_color(ink)
        extent = text.get_window_extent(renderer)
        w, h = extent.width + 2, extent.height
        best, best_key = None, None
        for radius in _RADII:
            for angle in _ANGLES:
                cx = px + np.cos(angle) * (radius + w / 2)
                cy = py + np.sin(angle) * (radius + h / 2)
                box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                inside = (
                    bounds[0] <= box[0]
                    and bounds[1] <= box[1]
                    and box[2] <= bounds[2]
                    and box[3] <= bounds[3]
                )
                clash = sum(_overlap_area(box, o) for o in obstacles) + sum(
                    _overlap_area(box, o) + _boxes_overlap(box, o, 1.0) for o in placed
                )
                own = np.hypot(cx - px, cy - py)
                ambiguous = bool(np.any(np.hypot(points[:, 0] - cx, points[:, 1] - cy) < own - 1))
                key = (not inside, clash, radius + (40 if ambiguous else 0))
                if best_key is None or key < best_key:
                    best, best_key = (cx, cy, box, radius, ambiguous), key
            if best_key[:2] == (False, 0) and best_key[2] <= radius:
                break  # nothing farther out can beat a free, unambiguous spot
        cx, cy, box, radius, ambiguous = best
        placed.append(box)
        text.set_position(to_data.transform((cx, cy)))
        if radius > 6 or ambiguous:
            ex, ey = min(max(px, box[0]), box[2]), min(max(py, box[1]), box[3])
            (x0, y0), (x1, y1) = to_data.transform([(px, py), (ex, ey)])
            ax.plot([x0, x1], [y0, y1], color=ink, lw=0.7, zorder=2)
        texts.append(text)
    return texts


def _cv_vs_holdout_figure(
    models: Sequence[str],
    cv: Sequence[float],
    holdout: Sequence[float],
    metric: str,
    baselines=(),
    order: Sequence[str] | None = None,
):
    plt = pyplot()
    from matplotlib.lines import Line2D

    real, base = _split(models, baselines)
    # wider than 700 px: the page gives it a row of its own, at its natural size
    fig, ax = plt.subplots(figsize=(8.4, 6.0))
    low, high = _span([*(cv[i] for i in real), *(holdout[i] for i in real)], 0.1)
    ax.plot([low, high], [low, high], "--", color="#888888", lw=1, zorder=1)
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_aspect("equal", adjustable="box")
    handles = []
    looks = _styled([models[i] for i in real], order)
    for n, (i, (color, marker, _)) in enumerate(zip(real, looks, strict=True)):
        ax.scatter(
            cv[i],
            holdout[i],
            color=color,
            marker=marker,
            s=36,
            zorder=3,
            edgecolor="white",
            linewidth=0.5,
        )
        handles.append(
            Line2D([], [], color=color, marker=marker, lw=0, ms=6, label=f"{n + 1}  {models[i]}")
        )
    notes = []
    for i in base:
        x, y = cv[i], holdout[i]
        inside = low <= x <= high and low <= y <= high
        if inside:
            ax.axvline(x, color=BASELINE, ls=":", lw=1, zorder=1)
            ax.axhline(y, color=BASELINE, ls=":", lw=1, zorder=1)
            handles.append(
                Line2D([], [], color=BASELINE, ls=":", lw=1, label=f"{models[i]} (baseline)")
            )
        else:
            notes.append(f"{models[i]} (baseline) CV {_fmt(x)}, holdout {_fmt(y)}: off the axes")
    ax.xaxis.set_major_locator(_ticks())
    ax.yaxis.set_major_locator(_ticks())
    ax.set_xlabel(f"CV {metric} (mean over folds)")
    ax.set_ylabel(f"holdout {metric}")
    _title(ax, "CV vs holdout (dashed: equal)", notes)
    _legend_right(
        ax,
        handles,
        [h.get_label() for h in handles],
        handlelength=1.2,
        title="model",
        title_fontsize=8,
    )
    _layout(fig)
    spread_labels(
        ax,
        [cv[i] for i in real],
        [holdout[i] for i in real],
        [str(n + 1) for n in range(len(real))],
        colors=[color for color, _, _ in looks],
    )
    return fig


def cv_vs_holdout(
    models: Sequence[str],
    cv: Sequence[float],
    holdout: Sequence[float],
    metric: str,
    *,
    baselines: Collection[str] = (),
    order: Sequence[str] | None = None,
) -> bytes:
    """CV mean against holdout score, with the diagonal: points off it are the shake-up.

    Each model is a numbered point with its own colour and marker, the numbers spread so that no
    two labels overlap, and the key to the right of the axes. The axes span the models not named
    in `baselines`; a baseline is a pair of dotted lines, or a note in the title when off the axes.
    A model's colour and marker come from its place in `order` (default: `models`), as in
    `anytime` given the same order.
    """
    return png(_cv_vs_holdout_figure(models, cv, holdout, metric, baselines, order))


def _anytime_figure(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    metric: str,
    maximize: bool,
    baselines=(),
    order: Sequence[str] | None = None,
):
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    pick = np.maximum.accumulate if maximize else np.minimum.accumulate
    names = [m for m, (_, scores) in curves.items() if len(scores)]
    real, base = _split(names, baselines)
    rows = len(real) + len(base)
    ncol = 1 if rows <= 18 else 2
    legend_width = 2.0 * ncol
    height = max(3.6, 0.2 * -(-rows // ncol) + 1.2)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6 + legend_width, height), sharey=True)
    looks = _styled([names[i] for i in real], order)
    for i, (color, marker, ls) in zip(real, looks, strict=True):
        seconds, scores = curves[names[i]]
        best = pick(np.asarray(scores, dtype=float))
        trials = np.arange(1, len(best) + 1)
        style = dict(where="post", color=color, marker=marker, ls=ls, ms=4, lw=1.3)
        left.step(trials, best, label=names[i], **style)
        right.step(seconds, best, label=names[i], **style)
    low, high = left.get_ylim()
    left.set_ylim(low, high)
    notes = []
    for i in base:
        value = float(pick(np.asarray(curves[names[i]][1], dtype=float))[-1])
        if low <= value <= high:
            for ax in (left, right):
                ax.axhline(
                    value,
                    color=BASELINE,
                    ls="--",
                    lw=1,
                    zorder=1,
                    label=f"{names[i]} (baseline) {_fmt(value)}",
                )
        else:
            notes.append(_off_axis(names[i], value, low, high, "y"))
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("trials finished")
    right.set_xlabel("seconds spent in trials (log scale above 1 s)")
    right.set_xscale("symlog", linthresh=1.0)
    longest = max((max(curves[names[i]][0], default=0.0) for i in real), default=1.0)
    right.set_xlim(0, max(longest, 1.0) * 1.25)
    left.set_ylabel(f"best CV {metric} so far")
    left.set_title("Anytime performance: trials")
    right.set_title("Anytime performance: time")
    if notes:
        fig.suptitle("; ".join(notes), fontsize=9)
    _legend_right(right, ncol=ncol)
    return fig


def anytime(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    metric: str,
    maximize: bool,
    *,
    baselines: Collection[str] = (),
    order: Sequence[str] | None = None,
) -> bytes:
    """Best-so-far CV score against trials and against elapsed seconds, one line per model.

    Every line has its own (colour, marker) pair (`styles`); the legend is to the right of the
    plots. Models named in `baselines` are a labelled dashed line at their best score (a note above
    the plots when off the axis), so they do not stretch it.

    Args:
        curves: Model -> (elapsed seconds at the end of each finished trial, its CV score), in
            the order the trials finished.
        metric: Metric name.
        maximize: Whether higher is better.
        baselines: Models drawn as reference lines.
        order: Models in the order their styles are handed out (default: `curves`' order).
    """
    return png(_anytime_figure(curves, metric, maximize, baselines, order))


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


def _roc_figure(y_true: Sequence, proba: Mapping[str, Sequence[float]], title: str):
    from sklearn.metrics import auc, roc_curve

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.6, 4.2))
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
    _legend_right(ax)
    return fig


def roc(y_true: Sequence, proba: Mapping[str, Sequence[float]], title: str) -> bytes:
    """ROC curves: one per class against the rest (one curve for the positive class if binary),
    the legend to the right of the axes.

    Args:
        y_true: True labels.
        proba: Class label -> predicted probability of that class, per row.
        title: Plot title.
    """
    return png(_roc_figure(y_true, proba, title))


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


def importance(
    features: Sequence[str],
    mean: Sequence[float],
    std: Sequence[float],
    metric: str,
    title: str,
    *,
    shown: int = 20,
) -> bytes:
    """Horizontal bars of the `shown` most important features (most important on top), the
    worsening of `metric` when a feature is shuffled, ± one standard deviation over repeats.
    A note under the axis says how many features are left out."""
    plt = pyplot()
    order = np.argsort(-np.asarray(mean, dtype=float), kind="stable")[:shown]
    names = [_short(str(features[i])) for i in order]
    values = np.asarray(mean, dtype=float)[order]
    errors = np.asarray(std, dtype=float)[order]
    fig, ax = plt.subplots(figsize=(6.4, max(2.2, 0.3 * len(order) + 1.4)))
    y = np.arange(len(order))[::-1]
    colors = [TIE if v > 0 else WORSE for v in values]
    ax.barh(y, values, xerr=errors, color=colors, capsize=3, error_kw={"lw": 1, "alpha": 0.8})
    ax.axvline(0, color="#888888", lw=1)
    ax.set_yticks(y, names)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"worsening of {metric} when the feature is shuffled (± 1 std)")
    left_out = len(features) - len(order)
    ax.set_title(
        title + (f"\n(the top {len(order)} of {len(features)} features)" if left_out else "")
    )
    return png(fig)


def _short(name: str, width: int = 28) -> str:
    """A feature name cut to `width` characters (an ellipsis marks the cut)."""
    return name if len(name) <= width else name[: width - 1] + "…"


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
