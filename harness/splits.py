"""The evaluation protocol's splits: the private holdout first, then K folds of the training part.

Both are seeded, so every model of a task sees identical rows. Their fingerprints (short SHA-256
digests of the row assignments and of the data itself) are logged with every run, which lets a
leaderboard refuse to compare runs made on different folds or different data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.errors import DataError, UsageError
from harness.task import Dataset, Task


@dataclass(frozen=True)
class Prepared:
    """A task's data split by the protocol, with the target encoded.

    Attributes:
        X: Training part features (what tuning sees).
        y: Training part target: class codes 0..k-1 for classification, floats for regression.
        holdout_X: The private holdout's features.
        holdout_y: The private holdout's target, encoded like `y`.
        holdout_ids: Identifiers of holdout rows (for the predictions file).
        folds: (train indices, validation indices) into `X` for each CV fold.
        classes: Original class labels by code (empty for regression).
        feature_kinds: Column -> kind.
        data_fingerprint: Digest of all labeled data (features and target).
        folds_fingerprint: Digest of the holdout rows and the fold assignment.
    """

    X: pd.DataFrame
    y: np.ndarray
    holdout_X: pd.DataFrame
    holdout_y: np.ndarray
    holdout_ids: np.ndarray
    folds: tuple[tuple[np.ndarray, np.ndarray], ...]
    classes: tuple
    feature_kinds: dict[str, str]
    data_fingerprint: str
    folds_fingerprint: str

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.classes)


def _digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part)
    return sha.hexdigest()[:16]


def fingerprint_frame(X: pd.DataFrame, y: pd.Series) -> str:
    """A digest of the values (and column names) of features and target, order-sensitive."""
    rows = pd.util.hash_pandas_object(X, index=False).to_numpy()
    target = pd.util.hash_pandas_object(y.reset_index(drop=True), index=False).to_numpy()
    return _digest("\x1f".join(map(str, X.columns)).encode(), rows.tobytes(), target.tobytes())


def _encode(task: Task, y: pd.Series, classes: tuple) -> np.ndarray:
    if not task.is_classification:
        try:
            return y.to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise DataError(
                f"Task {task.name!r}: a regression target must be numeric; got values such as "
                f"{y.iloc[0]!r}."
            ) from None
    codes = {label: code for code, label in enumerate(classes)}
    return y.map(codes).to_numpy(dtype=np.int64)


def _classes(task: Task, y: pd.Series) -> tuple:
    if not task.is_classification:
        return ()
    labels = sorted(pd.unique(y), key=str)
    if len(labels) < 2:
        raise DataError(f"Task {task.name!r}: the target has a single class {labels!r}.")
    if task.problem_type == "binary":
        if len(labels) != 2:
            raise DataError(
                f"Task {task.name!r}: a binary task needs 2 classes, found {len(labels)}."
            )
        if task.positive_class not in labels:
            raise DataError(
                f"Task {task.name!r}: positive_class {task.positive_class!r} is not a label; "
                f"labels are {labels!r}."
            )
        labels = [label for label in labels if label != task.positive_class]
        labels.append(task.positive_class)  # code 1 is always the positive class
    return tuple(labels)


def prepare(task: Task, data: Dataset, *, folds: int, seed: int) -> Prepared:
    """Split `data` by the task's protocol: holdout first (seeded, stratified), then K folds.

    Args:
        task: The task (problem type, holdout share).
        data: What the task loaded.
        folds: Number of CV folds of the training part (at least 2).
        seed: Seed for the holdout split and the folds.

    Raises:
        UsageError: `folds` below 2.
        DataError: Too few rows or too few members of a class for the requested folds.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    if folds < 2:
        raise UsageError(f"--folds must be at least 2, got {folds}.")
    X, y = data.X.reset_index(drop=True), data.y.reset_index(drop=True)
    ids = (data.ids if data.ids is not None else pd.Series(np.arange(len(X)))).to_numpy()
    classes = _classes(task, y if data.holdout_y is None else pd.concat([y, data.holdout_y]))
    encoded = _encode(task, y, classes)
    data_fp = fingerprint_frame(X, y)

    if data.holdout_X is not None:
        train_idx = np.arange(len(X))
        hold_X = data.holdout_X.reset_index(drop=True)
        hold_y = _encode(task, data.holdout_y.reset_index(drop=True), classes)
        hold_ids = np.arange(len(X), len(X) + len(hold_X))
        data_fp = _digest(data_fp.encode(), fingerprint_frame(hold_X, data.holdout_y).encode())
        holdout_marker = b"official"
    else:
        stratify = encoded if task.is_classification else None
        try:
            train_idx, hold_idx = train_test_split(
                np.arange(len(X)), test_size=task.holdout, random_state=seed, stratify=stratify
            )
        except ValueError as exc:
            raise DataError(f"Task {task.name!r}: cannot split off the holdout: {exc}") from None
        train_idx, hold_idx = np.sort(train_idx), np.sort(hold_idx)
        hold_X, hold_y, hold_ids = X.iloc[hold_idx], encoded[hold_idx], ids[hold_idx]
        holdout_marker = hold_idx.tobytes()

    train_X = X.iloc[train_idx].reset_index(drop=True)
    train_y = encoded[train_idx]
    if task.is_classification:
        smallest = int(np.bincount(train_y, minlength=len(classes)).min())
        if smallest < folds:
            raise DataError(
                f"Task {task.name!r}: the rarest class has {smallest} training rows, fewer than "
                f"--folds {folds}; use fewer folds."
            )
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        if len(train_y) < 2 * folds:
            raise DataError(
                f"Task {task.name!r}: {len(train_y)} training rows are too few for {folds} folds."
            )
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    fold_pairs = tuple(splitter.split(np.zeros(len(train_y)), train_y))
    assignment = np.empty(len(train_y), dtype=np.int16)
    for number, (_, valid) in enumerate(fold_pairs):
        assignment[valid] = number
    folds_fp = _digest(data_fp.encode(), holdout_marker, assignment.tobytes())

    return Prepared(
        X=train_X,
        y=train_y,
        holdout_X=hold_X.reset_index(drop=True),
        holdout_y=hold_y,
        holdout_ids=np.asarray(hold_ids),
        folds=fold_pairs,
        classes=classes,
        feature_kinds=dict(data.feature_kinds),
        data_fingerprint=data_fp,
        folds_fingerprint=folds_fp,
    )
