"""The evaluation protocol's splits: the private holdout first, then K folds of the training part.

Both are seeded, so every model of a task sees identical rows. Their fingerprints (short SHA-256
digests of the row assignments and of the data itself) are logged with every run, which lets a
leaderboard refuse to compare runs made on different folds or different data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from harness.contracts.task import Dataset, Task
from harness.data.health import without_infinite
from harness.errors import DataError, UsageError, plain

__all__ = [
    "SCHEMES",
    "SEEDS",
    "TIME_FIRST_TRAIN",
    "Prepared",
    "check_seed",
    "fewer_folds",
    "fingerprint_frame",
    "forward_chaining",
    "prepare",
]

SEEDS = 2**32  # seeds are 0 to 2**32 - 1, as NumPy and scikit-learn take them


def check_seed(seed: int) -> int:
    """`seed`, once checked to be one NumPy and scikit-learn take (0 to 2**32 - 1).

    Seeds derived from it (the repeats' folds, the sampler's) wrap around below 2**32.

    Raises:
        UsageError: A negative seed, or one of 2**32 or more.
    """
    if not 0 <= seed < SEEDS:
        raise UsageError(f"--seed must be between 0 and 2**32 - 1 ({SEEDS - 1}), got {seed}.")
    return seed


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
        scheme: The CV scheme: stratified, kfold, group, stratified_group or time.
        repeats: How many times the K-fold was repeated (the folds hold K * repeats pairs).
        infinite: Infinite values of the labeled rows' numeric columns, per column: `prepare`
            made them missing (NaN), so models impute them as missing values (the fingerprints
            are those of the data as loaded).
        folds_of: The K of the split when only some of its folds are scored (`fewer_folds`:
            a budget too short for all K), else 0.
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
    scheme: str = "stratified"
    repeats: int = 1
    infinite: dict[str, int] = field(default_factory=dict)
    folds_of: int = 0

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.classes)

    @property
    def ordered(self) -> bool:
        """Whether rows are in time order (models must not shuffle them)."""
        return self.scheme == "time"

    @property
    def test_train_ratio(self) -> float:
        """Validation rows / training rows of a fold, averaged over the folds: the overlap
        correction of the Nadeau-Bengio test and of the confidence interval of a CV mean."""
        return float(np.mean([len(valid) / len(train) for train, valid in self.folds]))


def fewer_folds(data: Prepared, count: int) -> Prepared:
    """`data` with `count` of its K folds scored: the first ones, or for time-ordered folds the
    last ones (they train on the most rows and validate on the latest). Every model of a run
    scores the same folds; the folds fingerprint names the choice, so a study tuned on all K
    folds is never resumed on fewer. Repeated folds are kept whole.

    Raises:
        UsageError: `count` below 2 (a fold's score needs another to be compared with).
    """
    if count < 2:
        raise UsageError(f"At least 2 folds must be scored, got {count}.")
    total = len(data.folds)
    if count >= total or data.repeats > 1:
        return data
    which = "last" if data.ordered else "first"
    chosen = data.folds[-count:] if data.ordered else data.folds[:count]
    fingerprint = _digest(data.folds_fingerprint.encode(), f"{which} {count} of {total}".encode())
    return replace(data, folds=tuple(chosen), folds_fingerprint=fingerprint, folds_of=total)


def _digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part)
    return sha.hexdigest()[:16]


def fingerprint_frame(X: pd.DataFrame, y: pd.Series) -> str:
    """A digest of the values (and column names) of features and target, order-sensitive.

    Image cells (NumPy arrays, which pandas cannot hash) count by their shape and bytes.
    """
    from harness.data.images import hashable

    rows = pd.util.hash_pandas_object(hashable(X), index=False).to_numpy()
    target = pd.util.hash_pandas_object(y.reset_index(drop=True), index=False).to_numpy()
    return _digest("\x1f".join(map(str, X.columns)).encode(), rows.tobytes(), target.tobytes())


def _encode(task: Task, y: pd.Series, classes: tuple) -> np.ndarray:
    if not task.is_classification:
        try:
            return y.to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise DataError(
                f"Task {task.name!r}: a regression target must be numeric; got values such as "
                f"{plain(y.iloc[0])!r}."
            ) from None
    codes = {label: code for code, label in enumerate(classes)}
    return y.map(codes).to_numpy(dtype=np.int64)


def _classes(task: Task, y: pd.Series) -> tuple:
    if not task.is_classification:
        return ()
    labels = sorted(pd.unique(y), key=str)
    if len(labels) < 2:
        raise DataError(f"Task {task.name!r}: the target has a single class {plain(labels)!r}.")
    if task.problem_type == "binary":
        if len(labels) != 2:
            raise DataError(
                f"Task {task.name!r}: a binary task needs 2 classes, found {len(labels)}."
            )
        if task.positive_class not in labels:
            raise DataError(
                f"Task {task.name!r}: positive_class {plain(task.positive_class)!r} is not a "
                f"label; labels are {plain(labels)!r}."
            )
        labels = [label for label in labels if label != task.positive_class]
        labels.append(task.positive_class)  # code 1 is always the positive class
    return tuple(labels)


SCHEMES = ("stratified", "kfold", "group", "stratified_group", "time")


def _holdout_split(
    task: Task, data: Dataset, encoded: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training and holdout row indices of the labeled rows, by the task's protocol."""
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, train_test_split

    n = len(encoded)
    if data.times is not None:
        order = np.argsort(data.times.to_numpy(), kind="stable")
        cut = n - max(1, int(round(task.holdout * n)))
        return np.sort(order[:cut]), np.sort(order[cut:])
    if data.groups is not None:
        # One fold of a (stratified) group K-fold with K = 1 / share: whole groups held out.
        k = max(2, int(round(1.0 / task.holdout)))
        groups = data.groups.to_numpy()
        if len(pd.unique(groups)) < k:
            raise DataError(
                f"Task {task.name!r}: {len(pd.unique(groups))} groups are too few to hold out "
                f"{task.holdout:.0%} of them; the grouped protocol needs at least {k}."
            )
        splitter = (StratifiedGroupKFold if task.is_classification else GroupKFold)(
            k, shuffle=True, random_state=seed
        )
        train, hold = next(splitter.split(np.zeros(n), encoded, groups))
        return np.sort(train), np.sort(hold)
    stratify = encoded if task.is_classification else None
    try:
        train, hold = train_test_split(
            np.arange(n), test_size=task.holdout, random_state=seed, stratify=stratify
        )
    except ValueError as exc:
        raise DataError(f"Task {task.name!r}: cannot split off the holdout: {exc}") from None
    return np.sort(train), np.sort(hold)


# Time-ordered folds validate the latest (1 - TIME_FIRST_TRAIN) of the training part, in K equal
# blocks; the first fold trains on the earliest TIME_FIRST_TRAIN. scikit-learn's default cut
# (K + 1 equal blocks, the first fold training on 1 / (K + 1) of the rows) ranked models worse
# against the holdout: Spearman 0.43 against 0.69 on hotel_rates (docs/BENCHMARKS.md).
TIME_FIRST_TRAIN = 0.5


def forward_chaining(n: int, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Forward-chaining (train, validation) pairs over `n` time-ordered rows: fold i trains on
    every row before its validation block, and the K blocks share the latest half of the rows."""
    from sklearn.model_selection import TimeSeriesSplit

    block = int(n * (1 - TIME_FIRST_TRAIN)) // folds
    return list(TimeSeriesSplit(n_splits=folds, test_size=block).split(np.zeros(n)))


def _cv_folds(
    task: Task,
    y: np.ndarray,
    groups: np.ndarray | None,
    ordered: bool,
    *,
    folds: int,
    repeats: int,
    seed: int,
) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    """The CV scheme's name and its (train, validation) index pairs over the training part."""
    from sklearn.model_selection import (
        GroupKFold,
        KFold,
        StratifiedGroupKFold,
        StratifiedKFold,
    )

    if ordered:
        if repeats > 1:
            raise UsageError(
                f"Task {task.name!r} is time-ordered: its folds are forward-chaining and cannot "
                f"be repeated; drop --repeats {repeats}."
            )
        if len(y) < 4 * folds:  # each validation block of the latest half needs 2 rows
            raise DataError(
                f"Task {task.name!r}: {len(y)} training rows are too few for {folds} "
                "time-ordered folds."
            )
        return "time", forward_chaining(len(y), folds)
    if groups is not None:
        n_groups = len(pd.unique(groups))
        if n_groups < folds:
            raise DataError(
                f"Task {task.name!r}: {n_groups} groups in the training part are too few for "
                f"{folds} grouped folds; use fewer folds."
            )
        scheme = "stratified_group" if task.is_classification else "group"
        splitter_class = StratifiedGroupKFold if task.is_classification else GroupKFold
    elif task.is_classification:
        smallest = int(np.bincount(y).min())
        if smallest < folds:
            raise DataError(
                f"Task {task.name!r}: the rarest class has {smallest} training rows, fewer than "
                f"--folds {folds}; use fewer folds."
            )
        scheme, splitter_class = "stratified", StratifiedKFold
    else:
        if len(y) < 2 * folds:
            raise DataError(
                f"Task {task.name!r}: {len(y)} training rows are too few for {folds} folds."
            )
        scheme, splitter_class = "kfold", KFold
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    for repeat in range(repeats):  # repeated CV: the same scheme reshuffled with seed + repeat
        splitter = splitter_class(folds, shuffle=True, random_state=(seed + repeat) % SEEDS)
        pairs.extend(splitter.split(np.zeros(len(y)), y, groups))
    return scheme, pairs


def prepare(task: Task, data: Dataset, *, folds: int, seed: int, repeats: int = 1) -> Prepared:
    """Split `data` by the task's protocol: the holdout first, then K folds of the training part.

    The holdout is a seeded stratified share of the rows by default, whole groups when the data
    has groups, and the latest rows when it has times (or the dataset's official test part). The
    folds are stratified K-fold for classification and K-fold for regression, grouped when the
    data has groups, and forward-chaining when it has times. `repeats` > 1 repeats the (grouped)
    K-fold with reshuffled seeds: `folds * repeats` fold pairs in all. Infinite values of
    numeric features become missing values, which every model's preprocessing imputes
    (`Prepared.infinite` counts them for the health check).

    Args:
        task: The task (problem type, holdout share).
        data: What the task loaded.
        folds: Number of CV folds of the training part (at least 2).
        seed: Seed for the holdout split and the folds.
        repeats: Repetitions of the K-fold (at least 1).

    Raises:
        UsageError: A seed outside 0 to 2**32 - 1, `folds` below 2, `repeats` below 1, or
            repeats of time-ordered folds.
        DataError: Too few rows, groups or members of a class for the requested folds.
    """
    check_seed(seed)
    if folds < 2:
        raise UsageError(f"--folds must be at least 2, got {folds}.")
    if repeats < 1:
        raise UsageError(f"--repeats must be at least 1, got {repeats}.")
    X, y = data.X.reset_index(drop=True), data.y.reset_index(drop=True)
    ids = (data.ids if data.ids is not None else pd.Series(np.arange(len(X)))).to_numpy()
    classes = _classes(task, y if data.holdout_y is None else pd.concat([y, data.holdout_y]))
    encoded = _encode(task, y, classes)
    data_fp = fingerprint_frame(X, y)
    X, infinite = without_infinite(X, data.feature_kinds)  # models see them as missing
    ordered = data.times is not None

    if data.holdout_X is not None:
        train_idx = np.arange(len(X))
        if ordered:  # the folds need the training part in time order
            train_idx = np.argsort(data.times.to_numpy(), kind="stable")
        hold_X = data.holdout_X.reset_index(drop=True)
        hold_y = _encode(task, data.holdout_y.reset_index(drop=True), classes)
        hold_ids = np.arange(len(X), len(X) + len(hold_X))
        data_fp = _digest(data_fp.encode(), fingerprint_frame(hold_X, data.holdout_y).encode())
        hold_X, more = without_infinite(hold_X, data.feature_kinds)
        infinite = {c: infinite.get(c, 0) + more.get(c, 0) for c in {**infinite, **more}}
        holdout_marker = b"official"
    else:
        train_idx, hold_idx = _holdout_split(task, data, encoded, seed)
        if ordered:
            train_idx = train_idx[np.argsort(data.times.to_numpy()[train_idx], kind="stable")]
        hold_X, hold_y, hold_ids = X.iloc[hold_idx], encoded[hold_idx], ids[hold_idx]
        holdout_marker = hold_idx.tobytes()

    train_X = X.iloc[train_idx].reset_index(drop=True)
    train_y = encoded[train_idx]
    groups = None if data.groups is None else data.groups.to_numpy()[train_idx]
    scheme, fold_pairs = _cv_folds(
        task, train_y, groups, ordered, folds=folds, repeats=repeats, seed=seed
    )
    # Row -> fold number for each repeat (-1: never validated, as the first block of time folds).
    assignment = np.full((repeats, len(train_y)), -1, dtype=np.int16)
    for number, (_, valid) in enumerate(fold_pairs):
        assignment[number // folds, valid] = number % folds
    folds_fp = _digest(
        data_fp.encode(), holdout_marker, train_idx.tobytes(), scheme.encode(), assignment.tobytes()
    )

    return Prepared(
        X=train_X,
        y=train_y,
        holdout_X=hold_X.reset_index(drop=True),
        holdout_y=hold_y,
        holdout_ids=np.asarray(hold_ids),
        folds=tuple(fold_pairs),
        classes=classes,
        feature_kinds=dict(data.feature_kinds),
        data_fingerprint=data_fp,
        folds_fingerprint=folds_fp,
        scheme=scheme,
        repeats=repeats,
        infinite=infinite,
    )
