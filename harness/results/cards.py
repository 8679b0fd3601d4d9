"""Dataset cards: what a task is, where its data comes from, what it looks like, how it is split.

`task_card(task)` loads the task's data and returns a plain dict (JSON-ready) that `harness show`
renders. The static parts (description, source, citation, licence, references, notes) come from the
`Task`; the measured parts (size, feature kinds, missing values, class balance or target summary,
the split actually made, the image shape) come from the loaded `Dataset` and `splits.prepare`
with seed 0.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from harness.contracts.task import Dataset, Task

__all__ = ["MISSING_COLUMNS_SHOWN", "task_card"]

MISSING_COLUMNS_SHOWN = 10


def _number(value: Any) -> float | int:
    """A JSON-friendly number: ints stay ints, floats are rounded to 6 significant digits."""
    if isinstance(value, int | bool):
        return int(value)
    return float(f"{float(value):.6g}")


def _label(value: Any) -> Any:
    """A class label as JSON can hold it (numpy scalars become Python ones)."""
    return value.item() if hasattr(value, "item") else value


def _all_rows(data: Dataset) -> tuple[pd.DataFrame, pd.Series]:
    import pandas as pd

    if data.holdout_X is None:
        return data.X, data.y
    return (
        pd.concat([data.X, data.holdout_X], ignore_index=True),
        pd.concat([data.y, data.holdout_y], ignore_index=True),
    )


def _missing(X: pd.DataFrame) -> dict[str, Any]:
    counts = X.isna().sum()
    counts = counts[counts > 0].sort_values(ascending=False, kind="stable")
    cells = int(counts.sum())
    return {
        "cells": cells,
        "share": _number(cells / max(1, X.size)),
        "rows_with_any": int(X.isna().any(axis=1).sum()),
        "columns": {str(c): int(n) for c, n in counts.items()},
    }


def _images(data: Dataset) -> str | None:
    """`1,797 images, 8x8, 1 channel (grayscale)` for an image task, else None."""
    from harness.data.images import describe

    columns = [c for c, kind in data.feature_kinds.items() if kind == "image"]
    if not columns:
        return None
    X, _ = _all_rows(data)
    return describe(X, columns[0])


def _augmentation(task: Task) -> str | None:
    """The task's augmentation policy in words (image tasks), else None."""
    if task.modality != "image":
        return None
    policy = task.augmentation
    if not policy.any:
        return "none"
    parts = ["left-right flips" if policy.flip else "no flips"]
    if policy.shift:
        parts.append(f"shifts up to {policy.shift:.1%}")
    if policy.rotation:
        parts.append(f"rotations up to {policy.rotation:g} degrees")
    if policy.zoom:
        parts.append(f"zoom up to {policy.zoom:.0%}")
    return ", ".join(parts)


def _target(task: Task, y: pd.Series) -> dict[str, Any]:
    if task.is_classification:
        counts = y.value_counts(sort=True)
        return {
            "kind": "classes",
            "classes": [
                {
                    "label": _label(label),
                    "count": int(n),
                    "share": _number(n / len(y)),
                    "positive": task.problem_type == "binary" and label == task.positive_class,
                }
                for label, n in counts.items()
            ],
            "imbalance_ratio": _number(counts.iloc[0] / counts.iloc[-1]),
        }
    stats = y.astype(float).describe(percentiles=[0.25, 0.5, 0.75])
    return {
        "kind": "values",
        **{
            key: _number(stats[name])
            for key, name in (
                ("mean", "mean"),
                ("std", "std"),
                ("min", "min"),
                ("q25", "25%"),
                ("median", "50%"),
                ("q75", "75%"),
                ("max", "max"),
            )
        },
    }


def _split(task: Task, data: Dataset) -> dict[str, Any]:
    from harness.errors import HarnessError
    from harness.protocol.splits import prepare

    try:
        prepared = prepare(task, data, folds=task.folds, seed=0)
    except HarnessError as exc:  # the card still shows the data; the split problem is reported
        return {"error": str(exc), "folds": task.folds}
    share = f"{task.holdout:.0%}"
    if data.holdout_X is not None:
        holdout = "the dataset's official labeled test part"
    elif data.times is not None:
        holdout = f"the latest {share} of rows in time order"
    elif data.groups is not None:
        holdout = f"about {share} of the groups, each group whole (seeded)"
    elif task.is_classification:
        holdout = f"a seeded stratified {share} of rows"
    else:
        holdout = f"a seeded random {share} of rows"
    folds = {
        "time": "forward-chaining folds (each trains on the past, validates on the next block)",
        "group": "grouped folds (a group never straddles a fold)",
        "stratified_group": "stratified grouped folds (a group never straddles a fold)",
        "stratified": "stratified folds (seeded)",
        "kfold": "shuffled folds (seeded)",
    }[prepared.scheme]
    return {
        "holdout": holdout,
        "holdout_rows": len(prepared.holdout_y),
        "training_rows": len(prepared.y),
        "folds": task.folds,
        "scheme": prepared.scheme,
        "cv": f"{task.folds} {folds}",
        "ordered": prepared.ordered,
    }


def task_card(task: Task, data: Dataset | None = None) -> dict[str, Any]:
    """The dataset card of `task` as a JSON-ready dict (loads the data unless `data` is given).

    Args:
        task: The task.
        data: Its loaded data, when the caller already has it.

    Returns:
        A dict with the task's description, source, citation, licence, notes, size, feature
        kinds, missing values, class balance or target summary, split protocol and references.
    """
    data = task.load() if data is None else data
    X, y = _all_rows(data)
    kinds = Counter(data.feature_kinds.values())
    columns: dict[str, list[str]] = {}
    for column, kind in data.feature_kinds.items():
        columns.setdefault(kind, []).append(str(column))
    return {
        "name": task.name,
        "description": task.description,
        "modality": task.modality,
        "problem_type": task.problem_type,
        "target": task.target,
        "positive_class": _label(task.positive_class),
        "metric": task.metric,
        "extra_metrics": list(task.extra_metrics),
        "source": task.source,
        "citation": task.citation,
        "licence": task.licence,
        "notes": task.notes,
        "size": {
            "rows": len(X),
            "features": X.shape[1],
            "official_test_rows": None if data.holdout_X is None else len(data.holdout_X),
            "unlabeled_test_rows": None if data.test_X is None else len(data.test_X),
            "declared_rows": task.rows,
            "declared_features": task.features,
        },
        "feature_kinds": dict(sorted(kinds.items())),
        "images": _images(data),
        "augmentation": _augmentation(task),
        "columns": columns,
        "missing": _missing(X),
        "target_summary": _target(task, y),
        "split": _split(task, data),
        "references": [
            {
                "metric": r.metric,
                "value": _number(r.value),
                "model": r.model,
                "protocol": r.protocol,
                "source": r.source,
            }
            for r in task.references
        ],
    }
