"""`harness explore TASK`: look at the data before modelling, as an HTML page like the report.

Only the training part is shown: the holdout is split off first by the task's protocol (the same
seed as `harness run`) and stays unseen, so looking at the data cannot leak it into choices.
The page has an overview, the target distribution, missing values per column, each feature
against the target, the correlations of numeric features, sample images for image tasks and the
most distinctive tokens per class for text tasks.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from harness.results.report import Figure, Section

__all__ = [
    "MAX_FEATURES",
    "PER_GRID",
    "TOKEN",
    "TOP_CATEGORIES",
    "correlation_figure",
    "features_figure",
    "image_samples",
    "missing_figure",
    "sections",
    "target_figure",
    "top_tokens",
]

MAX_FEATURES = 36
PER_GRID = 12
TOP_CATEGORIES = 10
TOKEN = re.compile(r"[a-z][a-z0-9']+")


def _target(task: Any, data: Any) -> Any:
    """The training target as original labels (classification) or values (regression)."""
    import pandas as pd

    if data.n_classes:
        return pd.Series(np.asarray(data.classes, dtype=object)[data.y], name=task.target)
    return pd.Series(data.y, name=task.target)


def _grid(plt: Any, n: int, cols: int = 4) -> tuple[Any, np.ndarray]:
    rows = max((n + cols - 1) // cols, 1)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.2 * rows + 0.4))
    flat = np.atleast_1d(axes).ravel()
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat


def target_figure(y: Any, classification: bool, name: str) -> bytes:
    """Class counts, or a histogram of the target."""
    from harness.results.plots import TIE, png, pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 3.2))
    if classification:
        counts = y.astype(str).value_counts().sort_index()
        ax.bar(counts.index, counts.to_numpy(), color=TIE)
        for i, value in enumerate(counts.to_numpy()):
            ax.text(
                i,
                value,
                f"{value} ({value / counts.sum():.0%})",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_ylabel("rows")
        ax.tick_params(axis="x", rotation=30)
    else:
        ax.hist(y.to_numpy(dtype=float), bins=40, color=TIE)
        ax.set_ylabel("rows")
        ax.set_xlabel(name)
    ax.set_title(f"Target: {name}")
    return png(fig)


def missing_figure(X: Any) -> bytes | None:
    """Share of missing values per column (only columns with any), or None when none miss."""
    from harness.results.plots import OTHER, png, pyplot

    share = X.isna().mean()
    share = share[share > 0].sort_values()
    if share.empty:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.6, max(2.0, 0.3 * len(share) + 1)))
    ax.barh(share.index.astype(str), share.to_numpy(), color=OTHER)
    ax.set_xlabel("share of rows missing")
    ax.set_xlim(0, max(share.max() * 1.15, 0.05))
    ax.set_title("Missing values")
    return png(fig)


def features_figure(
    X: Any, y: Any, columns: list[str], kinds: dict[str, str], classification: bool
) -> bytes:
    """Each feature against the target: per-class histograms or category shares (classification),
    scatter or per-category box plots (regression)."""
    import pandas as pd

    from harness.results.plots import TIE, png, pyplot

    plt = pyplot()
    fig, flat = _grid(plt, len(columns))
    labels = sorted(y.astype(str).unique()) if classification else []
    for ax, column in zip(flat, columns, strict=False):
        values = X[column]
        ax.set_title(f"{column} ({kinds.get(column, '?')})", fontsize=8)
        ax.tick_params(labelsize=7)
        if kinds.get(column) == "numeric":
            numbers = pd.to_numeric(values, errors="coerce")
            if classification:
                present = numbers.dropna()
                bins = np.histogram_bin_edges(present, bins=20) if len(present) else 10
                for label in labels:
                    part = numbers[(y.astype(str) == label).to_numpy()].dropna()
                    ax.hist(part, bins=bins, alpha=0.5, label=label, density=True)
                ax.legend(fontsize=6)
            else:
                ax.scatter(numbers, y, s=4, alpha=0.3, color=TIE)
        else:
            text = values.astype("string").fillna("(missing)")
            top = text.value_counts().index[:TOP_CATEGORIES]
            text = text.where(text.isin(top), "(other)")
            if classification:
                table = pd.crosstab(text, y.astype(str), normalize="index")
                bottom = np.zeros(len(table))
                for label in table.columns:
                    ax.barh(
                        table.index.astype(str),
                        table[label].to_numpy(),
                        left=bottom,
                        label=str(label),
                    )
                    bottom += table[label].to_numpy()
                ax.set_xlim(0, 1)
                ax.legend(fontsize=6)
            else:
                groups = [np.asarray(y[(text == c).to_numpy()], dtype=float) for c in top]
                ax.boxplot(groups, vert=False, tick_labels=[str(c)[:14] for c in top])
    fig.suptitle("Features against the target (training part)")
    return png(fig)


def correlation_figure(X: Any, y: Any, classification: bool) -> bytes | None:
    """Spearman correlations of the numeric features (and a regression target)."""
    import pandas as pd

    from harness.results.plots import png, pyplot

    numeric = X.select_dtypes("number").iloc[:, :30].copy()
    if not classification:
        numeric["(target)"] = pd.to_numeric(y, errors="coerce").to_numpy()
    numeric = numeric.loc[:, numeric.nunique() > 1]
    if numeric.shape[1] < 2:
        return None
    corr = numeric.corr(method="spearman").to_numpy()
    plt = pyplot()
    size = max(4.0, 0.32 * len(numeric.columns) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    ax.grid(False)
    image = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    names = [str(c)[:18] for c in numeric.columns]
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_title("Spearman correlations of numeric features")
    return png(fig)


def image_samples(X: Any, y: Any, kinds: dict[str, str], modality: str) -> list[tuple]:
    """Up to 16 (image array, label) pairs from an image column or square pixel columns."""
    image_columns = [c for c, k in kinds.items() if k == "image"]
    picks = list(range(min(len(X), 16)))
    samples = []
    if image_columns:
        column = image_columns[0]
        for i in picks:
            value = X[column].iloc[i]
            try:
                if isinstance(value, (str, Path)):
                    import matplotlib.image as mpimg

                    array = mpimg.imread(str(value))
                else:
                    array = np.asarray(value, dtype=float)
                    if array.ndim == 3 and array.shape[2] == 1:  # (H, W, 1): a grayscale image
                        array = array[:, :, 0]
                    side = int(round(np.sqrt(array.size)))
                    if array.ndim == 1 and side * side == array.size:
                        array = array.reshape(side, side)
                samples.append((array, y.iloc[i]))
            except Exception:  # an unreadable image is skipped, the page still renders
                continue
    elif modality == "image":
        pixels = X.select_dtypes("number")
        side = int(round(np.sqrt(pixels.shape[1])))
        if side * side == pixels.shape[1] and side > 1:
            for i in picks:
                samples.append(
                    (pixels.iloc[i].to_numpy(dtype=float).reshape(side, side), y.iloc[i])
                )
    return samples


def top_tokens(texts: Any, y: Any, classification: bool, top: int = 10) -> list[list[str]]:
    """Rows (class, token, count in class, lift) of the most distinctive tokens per class.

    Lift = share of the class's documents containing the token / share of all documents
    containing it; tokens in fewer than 3 documents are ignored. For regression, the most
    frequent tokens overall.
    """
    docs = [set(TOKEN.findall(str(t).lower())) for t in texts.fillna("")]
    overall = Counter(token for doc in docs for token in doc)
    n = max(len(docs), 1)
    rows = []
    if not classification:
        for token, count in overall.most_common(top):
            rows.append(["(all)", token, str(count), "1.00"])
        return rows
    labels = y.astype(str).to_numpy()
    for label in sorted(set(labels)):
        members = [doc for doc, lab in zip(docs, labels, strict=True) if lab == label]
        counts = Counter(token for doc in members for token in doc)
        size = max(len(members), 1)
        scored = [(counts[t] / size / (overall[t] / n), t) for t in counts if overall[t] >= 3]
        for lift, token in sorted(scored, key=lambda x: (-x[0], x[1]))[:top]:
            rows.append([label, token, str(counts[token]), f"{lift:.2f}"])
    return rows


def sections(task_name: str, *, seed: int = 0) -> tuple[list[Section], dict[str, str]]:
    """Load the task, split off its holdout, and make the sections of the explore page."""
    from harness import registry
    from harness.protocol.splits import prepare
    from harness.results.tables import html_table, markdown_table

    task = registry.get_task(task_name)
    data = prepare(task, task.load(), folds=task.folds, seed=seed)
    X, y = data.X, _target(task, data)
    kinds = data.feature_kinds
    classification = bool(data.n_classes)
    overview = Section("overview", "Overview")
    counts = Counter(kinds.values())
    rows = [
        ["task", task.name],
        ["description", task.description],
        ["problem", f"{task.modality} {task.problem_type}; metric {task.metric}"],
        ["training rows shown", str(len(X))],
        ["holdout rows (not shown)", str(len(data.holdout_y))],
        ["features", ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))],
        ["missing cells", f"{int(X.isna().sum().sum())} ({X.isna().to_numpy().mean():.1%})"],
        ["source", task.source],
    ]
    overview.html_tables.append(html_table(["fact", "value"], rows, css="facts"))
    overview.md_tables.append(markdown_table(["fact", "value"], rows))
    overview.figures.append(
        Figure(
            "target",
            "Distribution of the target in the training part.",
            target_figure(y, classification, task.target),
        )
    )
    missing = missing_figure(X)
    if missing is None:
        overview.notes.append("No missing values in the training part.")
    else:
        overview.figures.append(Figure("missing", "Share of missing values per column.", missing))
    found = [overview]
    shown = [c for c in X.columns if kinds[c] in ("numeric", "categorical")]
    if shown:
        features = Section("features", "Features against the target")
        if len(shown) > MAX_FEATURES:
            features.notes.append(f"The first {MAX_FEATURES} of {len(shown)} features are shown.")
            shown = shown[:MAX_FEATURES]
        for start in range(0, len(shown), PER_GRID):
            part = shown[start : start + PER_GRID]
            features.figures.append(
                Figure(
                    f"features_{start // PER_GRID + 1}",
                    "Per class: normalized histograms (numeric) or category shares (categorical). "
                    if classification
                    else "Scatter against the target (numeric) or box plots of "
                    "the target per category (categorical). ",
                    features_figure(X, y, part, kinds, classification),
                )
            )
        corr = correlation_figure(X, y, classification)
        if corr is not None:
            features.figures.append(Figure("correlations", "Spearman rank correlations.", corr))
        found.append(features)
    samples = image_samples(X, y, kinds, task.modality)
    if samples:
        from harness.results.plots import images

        section = Section("images", "Sample images")
        section.figures.append(
            Figure(
                "samples",
                "The first training images with their labels.",
                images(samples, "Sample images"),
            )
        )
        found.append(section)
    for column in (c for c, k in kinds.items() if k == "text"):
        section = Section(f"tokens_{column}", f"Top tokens: {column}")
        header = ["class", "token", "documents", "lift"]
        rows = top_tokens(X[column], y, classification)
        section.html_tables.append(html_table(header, rows))
        section.md_tables.append(markdown_table(header, rows))
        section.notes.append(
            "Lift: share of the class's documents with the token over the share of all documents "
            "with it (tokens in at least 3 documents)."
        )
        found.append(section)
    meta = {"task": task.name, "seed": str(seed), "rows": f"{len(X)} training rows"}
    return found, meta
