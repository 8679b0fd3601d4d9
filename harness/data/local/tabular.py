"""The tabular layouts of the user's data: a Kaggle-layout folder or one CSV/Parquet file.

`harness run path/to/folder` reads `train.csv`, `test.csv` and `sample_submission.csv` (the first
column of the sample is the id, the other is the target); `harness run data.csv --target y` reads
one file. An optional `task.toml` (or `task.yaml`) beside the data sets anything that would
otherwise be inferred; command-line flags win over it. See docs/OWN_DATA.md.

Everything here runs before any store is touched, so a refused command writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data.health import Finding
from harness.data.local.builder import (
    Builder,
    LocalTask,
    SubmissionFormat,
    local_task,
    probability_sample,
)
from harness.data.local.tables import similar
from harness.data.local.target import (
    check_target,
    positive_class_of,
    problem_type_of,
    unique_ids,
)
from harness.errors import DataError, UsageError
from harness.task import Dataset

if TYPE_CHECKING:
    import pandas as pd


def _files(path: Path, settings: dict[str, Any]) -> tuple[Path, Path | None, Path | None]:
    """(training file, test file, sample submission file) of a folder or a single file."""
    if path.is_file():
        return path, None, None
    folder = path

    def pick(key: str, stems: tuple[str, ...]) -> Path | None:
        if key in settings:
            chosen = folder / settings[key]
            if not chosen.is_file():
                raise DataError(
                    f"task.toml names {key} = {settings[key]!r}, but '{chosen}' does not exist."
                )
            return chosen
        for stem in stems:
            for suffix in (".csv", ".parquet", ".csv.gz"):
                if (folder / f"{stem}{suffix}").is_file():
                    return folder / f"{stem}{suffix}"
        return None

    train = pick("data", ()) if "data" in settings else pick("train", ("train",))
    if train is None:
        present = sorted(p.name for p in folder.iterdir())[:10]
        raise DataError(
            f"The folder '{folder}' has no train.csv (or train.parquet); it holds "
            f"{present or 'nothing'}. Use Kaggle's layout (train.csv, test.csv, "
            'sample_submission.csv), or name the file with data = "..." in task.toml.'
        )
    return train, pick("test", ("test",)), pick("sample_submission", ("sample_submission",))


def _submission_columns(
    b: Builder, sample: pd.DataFrame, sample_path: Path, train: pd.DataFrame
) -> tuple[str, str, tuple[str, ...], bool]:
    """(id column, target column, prediction columns, per-class) from the sample submission."""
    if sample.shape[1] < 2:
        raise DataError(
            f"'{sample_path}' has {sample.shape[1]} column; a sample submission has the id "
            "column first and then the target column."
        )
    id_column, columns = str(sample.columns[0]), tuple(str(c) for c in sample.columns[1:])
    if len(columns) == 1:
        target = b.get("target", columns[0])
        return id_column, target, columns, False
    target = b.get("target")
    if target and target in train.columns:
        labels = {str(v) for v in train[target].dropna().unique()}
        if set(columns) == labels:
            return id_column, target, columns, True
    raise DataError(
        f"'{sample_path}' has {len(columns)} target columns {list(columns)[:5]}; harness "
        "supports one target column, or one probability column per class of a target named "
        "with --target (the column names must be the class labels)."
    )


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
    import numpy as np
    import pandas as pd

    from harness.data.infer import apply_columns, infer_columns, parse_dates
    from harness.metrics import DEFAULT_METRICS

    train_path, test_path, sample_path = _files(path, b.settings)
    train = b.read(train_path)

    sample = None
    per_class = False
    columns: tuple[str, ...] = ()
    id_column = b.get("id")
    if sample_path is not None:
        sample = b.read(sample_path)
        sample_id, target, columns, per_class = _submission_columns(b, sample, sample_path, train)
        id_column = id_column or sample_id
        b.notes.append(f"id column {id_column!r} and target {target!r} from '{sample_path.name}'")
    else:
        target = b.get("target")
        if target is None:
            raise UsageError(
                f"'{train_path}' needs a target: pass --target COLUMN, or set target = \"...\" "
                f"in task.toml{' (or add sample_submission.csv)' if path.is_dir() else ''}. "
                f"Columns: {', '.join(map(str, list(train.columns)[:12]))}"
                f"{', ...' if train.shape[1] > 12 else ''}."
            )
    if target not in train.columns and sample_path is not None and not b.get("target"):
        raise DataError(
            f"The target column {target!r} of '{sample_path.name}' is not in '{train_path}'"
            f"{similar(target, train.columns)}; name the target with --target COLUMN (the "
            "submission keeps the sample's column name)."
        )
    b.column(train, target, "target", train_path)
    if id_column is not None:
        b.column(train, id_column, "id", train_path)

    missing = int(train[target].isna().sum())
    if missing == len(train):
        raise DataError(f"The target {target!r} of '{train_path}' has no values (all missing).")
    if missing:
        train = train[train[target].notna()].reset_index(drop=True)
        b.notes.append(f"dropped {missing} rows whose target {target!r} is missing")
    y = train[target].reset_index(drop=True)
    if y.dtype == object:
        y = y.infer_objects()
    problem = problem_type_of(b, y)
    check_target(b, y, problem, train_path)
    positive = positive_class_of(b, y) if problem == "binary" else None
    if problem == "regression":
        y = y.astype(float)

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
    for key in ("categorical", "text", "numeric"):
        absent = [c for c in b.get(key, []) if c not in train.columns]
        if absent:
            raise UsageError(f"{key} names columns not in '{train_path}': {absent}.")
    others = [c for c in columns if c != target and c in train.columns]
    excluded = {target, *others, *drop, *(c for c in (id_column, group) if c)}
    source = train[[c for c in train.columns if c not in excluded]]
    forced = tuple(c for key in ("categorical", "text", "numeric") for c in b.get(key, []))
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

    ids = unique_ids(train, id_column, train_path) if id_column else None
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

    test_X = None
    submission = None
    if test_path is not None:
        test = b.read(test_path)
        needed = [c for c in source.columns if c in kinds.kinds or c in kinds.dates]
        lacking = [c for c in needed if c not in test.columns]
        if id_column and id_column not in test.columns:
            lacking.insert(0, id_column)
        if lacking:
            raise DataError(
                f"'{test_path.name}' lacks columns that '{train_path.name}' has: {lacking}. The "
                "test part needs every feature column (and the id column)."
            )
        extra = [c for c in test.columns if c not in train.columns]
        if extra:
            b.findings.append(
                Finding(
                    "test_columns",
                    f"'{test_path.name}' has columns that '{train_path.name}' lacks, ignored: "
                    f"{extra}.",
                    tuple(map(str, extra)),
                )
            )
        from pandas.api.types import is_numeric_dtype

        differ = [
            c
            for c in needed
            if kinds.kinds.get(c) == "numeric"
            and not is_numeric_dtype(test[c])
            and test[c].notna().any()
        ]
        if differ:
            b.findings.append(
                Finding(
                    "test_columns",
                    f"columns numeric in '{train_path.name}' are not numeric in "
                    f"'{test_path.name}'; values that are not numbers count as missing: {differ}.",
                    tuple(differ),
                )
            )
        test_ids = (
            unique_ids(test, id_column, test_path)
            if id_column
            else pd.Series(np.arange(len(test)), name="id")
        )
        order = np.arange(len(test))
        if sample is not None:
            sample_ids = sample.iloc[:, 0]
            position = pd.Series(np.arange(len(test)), index=test_ids.astype(str).to_numpy())
            wanted = sample_ids.astype(str).to_numpy()
            absent = [i for i in wanted if i not in position.index]
            if absent or len(wanted) != len(test):
                raise DataError(
                    f"The ids of '{sample_path.name}' ({len(wanted)} rows) do not match those of "
                    f"'{test_path.name}' ({len(test)} rows)"
                    + (f"; not in the test part: {absent[:5]}" if absent else "")
                    + "."
                )
            order = position.loc[wanted].to_numpy()
            probabilities = probability_sample(sample, columns)
            shown_ids = sample_ids
        else:
            probabilities = False
            shown_ids = test_ids
            columns = (target,)
        test_X = apply_columns(test.iloc[order].reset_index(drop=True), kinds)
        submission = SubmissionFormat(
            id_column=id_column or "id",
            ids=shown_ids.reset_index(drop=True),
            columns=columns,
            probabilities=probabilities and problem == "binary",
            per_class=per_class,
        )
        if problem != "regression":
            what = (
                "class probabilities"
                if per_class
                else ("positive-class probabilities" if submission.probabilities else "labels")
            )
            shape = f"as '{sample_path.name}' asks" if sample_path else "(no sample submission)"
            b.notes.append(f"the submission holds {what}, {shape}")
    elif path.is_dir():
        b.notes.append(f"no test part in '{path}': no submission is written")

    metric = b.get("metric") or DEFAULT_METRICS[problem][0]
    extras = tuple(b.get("extra_metrics", [m for m in DEFAULT_METRICS[problem] if m != metric]))
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
        metric=metric,
        extras=extras,
        positive_class=positive,
        target=target,
    )
