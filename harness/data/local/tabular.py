"""The tabular layouts of the user's data: a Kaggle-layout folder or one CSV/Parquet file.

`harness run path/to/folder` reads `train.csv`, `test.csv` and `sample_submission.csv` (the first
column of the sample is the id, the other is the target); `harness run data.csv --target y` reads
one file. An optional `task.toml` (or `task.yaml`) beside the data sets anything that would
otherwise be inferred; command-line flags win over it. See docs/OWN_DATA.md.

`load_tables` goes step by step: the files and the columns' roles (target, id, the sample's
prediction columns; `harness.data.local.kaggle`), the labels, the column settings, the features,
groups and times, and the test part with its submission format (`kaggle` again).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.contracts.task import Dataset
from harness.data.health import Finding, infinite_mask
from harness.data.infer import apply_columns, infer_columns, parse_dates
from harness.data.local.builder import Builder, LocalTask, local_task
from harness.data.local.kaggle import Roles, find_files, read_roles, test_part
from harness.data.local.tables import similar
from harness.data.local.target import (
    check_target,
    positive_class_of,
    problem_type_of,
    unique_ids,
)
from harness.errors import DataError, UsageError

if TYPE_CHECKING:
    import pandas as pd

    from harness.data.infer import Columns

__all__ = ["KIND_KEYS", "load_tables"]

KIND_KEYS = ("categorical", "text", "numeric")


def load_tables(argument: str, path: Path, b: Builder, name: str) -> LocalTask:
    """Build a task from a Kaggle-layout folder or a single CSV/Parquet file.

    Args:
        argument: The path given to `harness run`.
        path: That path, its `~` expanded.
        b: The builder, with the settings of `path`.
        name: The task's name.

    Raises:
        DataError: Missing or unreadable files, a missing or unusable target, duplicate ids,
            test columns that differ from train's.
        UsageError: Bad settings: a metric that does not fit, columns that are not in the data.
    """
    files = find_files(path, b.settings)
    train = b.read(files.train)
    roles = read_roles(b, path, train, files)
    train, y, problem, positive = _labels(b, train, roles.target, files.train)
    group, time_column, drop = _column_settings(b, train, files.train)
    source, kinds, X = _features(b, train, files.train, roles, group, time_column, drop)
    ids = unique_ids(train, roles.id_column, files.train) if roles.id_column else None
    groups, times = _groups_and_times(b, train, group, time_column)
    test_X = submission = None
    if files.test is not None:
        test_X, submission = test_part(b, files, roles, train, source, kinds, problem)
    elif path.is_dir():
        b.notes.append(f"no test part in '{path}': no submission is written")

    dataset = Dataset(
        X=X.reset_index(drop=True),
        y=y,
        feature_kinds=kinds.kinds,
        test_X=test_X,
        ids=ids,
        groups=groups,
        times=times,
    )
    # Only free text (one or more text columns): a text task, which text models such as NB-SVM
    # take; text beside other columns stays tabular (its TF-IDF joins the other features).
    text_only = bool(kinds.kinds) and all(k == "text" for k in kinds.kinds.values())
    if text_only:
        b.notes.append("every feature is free text: a text task")
    return local_task(
        b,
        path,
        dataset,
        submission,
        name=name,
        description=f"Your data from {argument}",
        modality="text" if text_only else "tabular",
        problem_type=problem,
        positive_class=positive,
        target=roles.target,
    )


def _labels(
    b: Builder, train: pd.DataFrame, target: str, train_path: Path
) -> tuple[pd.DataFrame, pd.Series, str, Any]:
    """(training rows that have a target, the target, the problem type, the positive class).

    Rows whose target is missing or infinite (inf, -inf) are dropped with a notice: no model can
    learn from them, and imputing a target would invent labels.
    """
    import numpy as np

    absent = train[target].isna().to_numpy()
    infinite = infinite_mask(train[target])
    infinite = np.zeros(len(train), dtype=bool) if infinite is None else infinite
    if (absent | infinite).all():
        what = "all missing or infinite" if infinite.any() else "all missing"
        raise DataError(f"The target {target!r} of '{train_path}' has no values ({what}).")
    if absent.any() or infinite.any():
        train = train[~(absent | infinite)].reset_index(drop=True)
    if absent.any():
        b.notes.append(f"dropped {int(absent.sum())} rows whose target {target!r} is missing")
    if infinite.any():
        b.notes.append(
            f"dropped {int(infinite.sum())} rows whose target {target!r} is infinite (inf or "
            "-inf), as rows whose target is missing"
        )
    y = train[target].reset_index(drop=True)
    if y.dtype == object:
        y = y.infer_objects()
    problem = problem_type_of(b, y)
    check_target(b, y, problem, train_path)
    positive = positive_class_of(b, y) if problem == "binary" else None
    if problem == "regression":
        y = y.astype(float)
    return train, y, problem, positive


def _column_settings(
    b: Builder, train: pd.DataFrame, train_path: Path
) -> tuple[str | None, str | None, list[str]]:
    """(group column, time column, dropped columns), checked against the training file."""
    group, time_column = b.get("group"), b.get("time")
    if group and time_column:
        raise UsageError("Give a group column or a time column, not both.")
    for key, value in (("group", group), ("time", time_column)):
        if value is not None:
            b.column(train, value, key, train_path)
    drop = list(dict.fromkeys(b.get("drop", [])))
    unknown = [c for c in drop if c not in train.columns]
    if unknown:
        raise UsageError(
            f"drop names columns not in '{train_path}': {unknown}"
            f"{similar(unknown[0], train.columns)}."
        )
    for key in KIND_KEYS:
        absent = [c for c in b.get(key, []) if c not in train.columns]
        if absent:
            raise UsageError(f"{key} names columns not in '{train_path}': {absent}.")
    return group, time_column, drop


def _features(
    b: Builder,
    train: pd.DataFrame,
    train_path: Path,
    roles: Roles,
    group: str | None,
    time_column: str | None,
    drop: list[str],
) -> tuple[pd.DataFrame, Columns, pd.DataFrame]:
    """(the feature columns as read, their inferred kinds, the features): every column that is
    not the target, a prediction column of the sample, the id, the group or dropped."""
    target, id_column = roles.target, roles.id_column
    others = [c for c in roles.columns if c != target and c in train.columns]
    excluded = {target, *others, *drop, *(c for c in (id_column, group) if c)}
    source = train[[c for c in train.columns if c not in excluded]]
    forced = tuple(c for key in KIND_KEYS for c in b.get(key, []))
    kinds = infer_columns(
        source,
        categorical=tuple(b.get("categorical", [])),
        text=tuple(b.get("text", [])),
        numeric=tuple(b.get("numeric", [])),
        keep=(*forced, *((time_column,) if time_column else ())),
    )
    b.notes.extend(kinds.notes)
    for column, why in kinds.dropped.items():
        check = (
            "id_like"
            if why.startswith("id-like")
            else ("all_missing" if why.startswith("all values") else "constant")
        )
        b.findings.append(Finding(check, f"column {column!r} dropped: {why}.", (column,)))
    X = apply_columns(source, kinds)
    for column, kind in kinds.kinds.items():
        if kind != "text" or column not in X.columns:
            continue
        blank = int((X[column].isna() | (X[column].astype(str).str.strip() == "")).sum())
        if blank:
            b.notes.append(
                f"column {column!r}: {blank} missing or empty texts, treated as empty strings"
            )
    if X.shape[1] == 0:
        raise DataError(
            f"'{train_path}' has no usable feature columns after removing the target, id, "
            f"dropped and empty columns ({sorted(map(str, train.columns))})."
        )
    return source, kinds, X


def _groups_and_times(
    b: Builder, train: pd.DataFrame, group: str | None, time_column: str | None
) -> tuple[pd.Series | None, pd.Series | None]:
    """(groups, times) of the training rows for grouped or time-ordered splits (None: none)."""
    import pandas as pd

    groups = times = None
    if group:
        groups = train[group].reset_index(drop=True)
        if groups.isna().any():
            raise DataError(
                f"The group column {group!r} has {int(groups.isna().sum())} missing values; "
                "every row needs a group."
            )
        groups = groups.astype(str)
        b.notes.append(f"grouped holdout and folds by {group!r} ({groups.nunique()} groups)")
    if time_column:
        raw = train[time_column].reset_index(drop=True)
        parsed = parse_dates(raw)
        times = parsed if parsed is not None else pd.to_numeric(raw, errors="coerce")
        if times.isna().any():
            raise DataError(
                f"The time column {time_column!r} has {int(times.isna().sum())} missing or "
                "unparseable values; every row needs a time."
            )
        b.notes.append(
            f"time-ordered holdout (latest rows) and forward-chaining folds by {time_column!r}"
        )
    return groups, times
