"""The user's own data: a Kaggle-layout folder or one CSV/Parquet file, turned into a task.

`harness run path/to/folder` reads `train.csv`, `test.csv` and `sample_submission.csv` (the first
column of the sample is the id, the other is the target); `harness run data.csv --target y` reads
one file. An optional `task.toml` (or `task.yaml`) beside the data sets anything that would
otherwise be inferred; command-line flags win over it. See docs/OWN_DATA.md.

Everything here runs before any store is touched, so a refused command writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data.health import Finding
from harness.data.local.settings import Options, config_beside
from harness.data.local.tables import TABLE_SUFFIXES, read_table, similar
from harness.errors import DataError, UsageError
from harness.task import PROBLEM_TYPES, Dataset, Task

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass(frozen=True)
class SubmissionFormat:
    """How to write predictions on the test part in exactly the sample submission's format.

    Attributes:
        id_column: Name of the id column (the sample's first column).
        ids: Test ids, in the sample's row order (the test part is put in this order).
        columns: The sample's prediction columns, in order.
        probabilities: Write probabilities (the sample's values are floats in [0, 1]) rather
            than labels; binary: the positive class's probability.
        per_class: The columns are class labels (one probability column per class).
    """

    id_column: str
    ids: Any
    columns: tuple[str, ...]
    probabilities: bool = False
    per_class: bool = False

    def frame(self, prediction: np.ndarray, classes: tuple) -> pd.DataFrame:
        """The submission for model predictions (class probabilities or regression values)."""
        import numpy as np
        import pandas as pd

        out = pd.DataFrame({self.id_column: np.asarray(self.ids)})
        if not classes:
            out[self.columns[0]] = np.asarray(prediction, dtype=float)
            return out
        proba = np.asarray(prediction, dtype=float)
        if self.per_class:
            by_label = {str(label): code for code, label in enumerate(classes)}
            for column in self.columns:
                out[column] = proba[:, by_label[column]]
        elif self.probabilities:
            if len(classes) != 2:
                raise DataError(
                    "the sample submission asks for one probability but the target has "
                    f"{len(classes)} classes."
                )
            out[self.columns[0]] = proba[:, 1]  # code 1 is the positive class
        else:
            labels = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
            out[self.columns[0]] = pd.Series(labels).infer_objects().to_numpy()
        return out


@dataclass(frozen=True)
class LocalTask:
    """A task built from the user's files, with what was inferred and found on the way.

    Attributes:
        task: The task (its `load` returns `dataset`).
        dataset: The loaded data, features already inferred.
        source: The path the user gave.
        submission: How to write the submission (None without a test part).
        findings: Health warnings found while loading (id-like, constant, empty, test columns).
        notes: One line per decision that was inferred rather than given.
    """

    task: Task
    dataset: Dataset
    source: str
    submission: SubmissionFormat | None = None
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def looks_like_path(argument: str, known_tasks: set[str] | None = None) -> bool:
    """Whether a `harness run` argument names files rather than a registered task.

    A path has a separator, a table suffix or a leading dot or tilde; a bare word is a path only
    when no task has that name and a file or folder of that name exists.
    """
    if "/" in argument or "\\" in argument or argument.startswith((".", "~")):
        return True
    if argument.lower().endswith(TABLE_SUFFIXES):
        return True
    if known_tasks is not None and argument in known_tasks:
        return False
    return Path(argument).exists()


def task_name(stem: str) -> str:
    """A lower-case identifier from a file or folder name: `My Data-2024` -> `my_data_2024`."""
    name = re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_")
    if not name or not name[0].isalpha():
        name = f"data_{name}".rstrip("_")
    return name


# ---------------------------------------------------------------------------------------------
# Building the task


class _Builder:
    """Collects notes and findings while a path becomes a `LocalTask`."""

    def __init__(self, path: Path, options: Options) -> None:
        self.path = path
        config, self.config_path = config_beside(path)
        self.settings: dict[str, Any] = dict(config)
        for item in fields(options):
            value = getattr(options, item.name)
            if item.name == "drop":
                if value:
                    self.settings["drop"] = [*self.settings.get("drop", []), *value]
            elif value is not None:
                self.settings[item.name] = value
        self.notes: list[str] = []
        self.findings: list[Finding] = []
        if self.config_path:
            self.notes.append(f"settings from '{self.config_path}'")

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    def read(self, path: Path) -> pd.DataFrame:
        frame = read_table(path, encoding=self.get("encoding"), sep=self.get("sep"))
        if frame.attrs.get("encoding") == "cp1252":
            self.notes.append(f"'{path.name}' is not UTF-8; read it as Windows-1252")
        return frame

    def column(self, frame: pd.DataFrame, name: str, what: str, file: Path) -> str:
        if name not in frame.columns:
            raise DataError(
                f"The {what} column {name!r} is not in '{file}'{similar(name, frame.columns)}."
            )
        return name


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
    b: _Builder, sample: pd.DataFrame, sample_path: Path, train: pd.DataFrame
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


def _problem_type(b: _Builder, y: pd.Series) -> str:
    from harness.data.infer import infer_problem_type
    from harness.errors import UnknownNameError
    from harness.metrics import get_metric

    given = b.get("problem_type")
    metric_name = b.get("metric")
    metric = None
    if metric_name is not None:
        try:
            metric = get_metric(metric_name)
        except UnknownNameError as exc:
            raise UsageError(str(exc)) from None
    if given is not None:
        if given not in PROBLEM_TYPES:
            raise UsageError(
                f"Unknown problem type {given!r}; use one of {', '.join(PROBLEM_TYPES)}."
            )
        problem = given
        b.notes.append(f"problem type {problem} (given)")
    else:
        guess = infer_problem_type(y)
        problem = guess.problem_type
        if metric is not None and problem not in metric.problem_types:
            if metric.problem_types == ("regression",):
                problem = "regression"
                b.notes.append(f"problem type regression, as metric {metric.name} asks")
            else:
                raise UsageError(
                    f"Metric {metric.name!r} does not fit the target: {guess.reason}, so the "
                    f"problem type is {problem}, and {metric.name} applies to "
                    f"{', '.join(metric.problem_types)}. Pass --problem-type, or another "
                    "--metric."
                )
        else:
            b.notes.append(f"problem type {problem}: {guess.reason} (override with --problem-type)")
    if metric is not None and problem not in metric.problem_types:
        raise UsageError(
            f"Metric {metric.name!r} does not fit a {problem} task; it applies to "
            f"{', '.join(metric.problem_types)}."
        )
    return problem


def _check_target(b: _Builder, y: pd.Series, problem: str, file: Path) -> None:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if problem == "regression":
        if is_bool_dtype(y) or not is_numeric_dtype(y):
            example = y.iloc[0]
            raise DataError(
                f"The target {str(y.name)!r} of '{file}' is not numeric (values such as "
                f"{example!r}), but the task is regression"
                + (f" (metric {b.get('metric')})" if b.get("metric") else "")
                + ". Pass --problem-type binary or multiclass with a classification metric."
            )
        return
    distinct = int(y.nunique())
    if distinct < 2:
        raise DataError(
            f"The target {str(y.name)!r} of '{file}' has a single class {y.iloc[0]!r}; a "
            "classification task needs at least two."
        )
    if problem == "binary" and distinct != 2:
        raise DataError(
            f"The target {str(y.name)!r} of '{file}' has {distinct} classes, but the task is "
            "binary. Pass --problem-type multiclass."
        )


def _positive_class(b: _Builder, y: pd.Series) -> Any:
    from harness.data.infer import default_positive_class

    labels = sorted((v.item() if hasattr(v, "item") else v for v in y.unique()), key=str)
    given = b.get("positive_class")
    if given is not None:
        for label in labels:
            if str(label) == str(given) or label == given:
                b.notes.append(f"positive class {label!r} (given)")
                return label
        raise UsageError(
            f"The positive class {given!r} is not a label of the target; labels are "
            f"{[str(v) for v in labels]}."
        )
    positive, why = default_positive_class(y)
    b.notes.append(f"positive class {positive!r}: {why} (override with --positive-class)")
    return positive


def _ids(b: _Builder, frame: pd.DataFrame, column: str, file: Path) -> pd.Series:
    ids = frame[column]
    if ids.isna().any():
        raise DataError(
            f"The id column {column!r} of '{file}' has {int(ids.isna().sum())} missing values."
        )
    repeated = ids[ids.duplicated()]
    if len(repeated):
        raise DataError(
            f"The id column {column!r} of '{file}' has {len(repeated)} duplicate ids, such as "
            f"{repeated.iloc[0]!r}; ids must be unique."
        )
    return ids.reset_index(drop=True)


def _name(b: _Builder, known: set[str]) -> str:
    given = b.get("name")
    if given is not None:
        if not given.isidentifier() or given != given.lower():
            raise UsageError(
                f"Task name {given!r} must be a lower-case identifier, such as "
                f"{task_name(given)!r}."
            )
        name = given
    else:
        stem = b.path.name if b.path.is_dir() else b.path.name.split(".")[0]
        name = task_name(stem)
    if name in known:
        raise UsageError(
            f"The name {name!r} (from '{b.path}') is a built-in task's experiment; name this "
            f'data otherwise: --name my_{name}, or name = "my_{name}" in task.toml.'
        )
    return name


def load_path(argument: str, options: Options, *, known_tasks: set[str] = frozenset()) -> LocalTask:
    """Build a task from a Kaggle-layout folder or a single CSV/Parquet file.

    Args:
        argument: The path given to `harness run`.
        options: Command-line settings (they win over task.toml).
        known_tasks: Names of registered tasks, which a path task may not take.

    Raises:
        DataError: Missing or unreadable files, a missing or unusable target, duplicate ids,
            test columns that differ from train's.
        UsageError: Bad settings: unknown keys or metrics, a metric that does not fit, a name
            that collides with a registered task.
    """
    import numpy as np
    import pandas as pd

    from harness.data.infer import apply_columns, infer_columns, parse_dates
    from harness.metrics import DEFAULT_METRICS

    path = Path(argument).expanduser()
    if not path.exists():
        raise DataError(
            f"No such file or folder: '{argument}'. Give a Kaggle-layout folder (train.csv, "
            "test.csv, sample_submission.csv) or a CSV/Parquet file, or a task name from "
            "'harness list tasks'."
        )
    b = _Builder(path, options)
    name = _name(b, set(known_tasks))
    from harness.data.local import image_folders

    layout = image_folders.detect(path, b.settings)
    if layout is not None:
        image_folders.check_options(options)
        return image_folders.load_image_folder(path, layout, b, name)
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
    problem = _problem_type(b, y)
    _check_target(b, y, problem, train_path)
    positive = _positive_class(b, y) if problem == "binary" else None
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

    ids = _ids(b, train, id_column, train_path) if id_column else None
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
            _ids(b, test, id_column, test_path)
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
            probabilities = _probability_sample(sample, columns)
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


def local_task(
    b: Any,
    path: Path,
    dataset: Dataset,
    submission: Any,
    *,
    name: str,
    description: str,
    modality: str,
    problem_type: str,
    metric: str,
    extras: Any,
    positive_class: Any,
    target: Any,
) -> LocalTask:
    """The `LocalTask` of the user's files: their task (a bad setting is a usage error)."""
    from harness.errors import PluginError

    try:
        task = Task(
            name=name,
            description=description,
            modality=modality,
            problem_type=problem_type,
            metric=metric,
            extra_metrics=tuple(m for m in extras if m != metric),
            holdout=float(b.get("holdout", 0.2)),
            folds=int(b.get("folds", 5)),
            positive_class=positive_class,
            target=str(target),
            load=lambda: dataset,
            source=str(path.resolve()),
        )
    except PluginError as exc:
        raise UsageError(str(exc)) from None
    return LocalTask(
        task=task,
        dataset=dataset,
        source=str(path.resolve()),
        submission=submission,
        findings=tuple(b.findings),
        notes=tuple(b.notes),
    )


def _probability_sample(sample: pd.DataFrame, columns: tuple[str, ...]) -> bool:
    """Whether the sample's prediction values are floats in [0, 1] (probabilities)."""
    from pandas.api.types import is_float_dtype

    values = sample[list(columns)]
    if not all(is_float_dtype(values[c]) for c in columns):
        return False
    array = values.to_numpy(dtype=float)
    return bool(((array >= 0) & (array <= 1)).all())
