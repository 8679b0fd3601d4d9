"""The Kaggle layout's files: `train.csv`, `test.csv` and `sample_submission.csv` in a folder.

`find_files` picks them (or the files task.toml names; a single file is the training file alone);
`read_roles` takes the id and target columns from the sample submission (its first column is the
id, the others are predictions: the target, or one probability column per class), else from the
settings; `test_part` checks the test part's columns, puts its rows in the sample's order and
returns the `SubmissionFormat` that writes predictions exactly in the sample's format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data.health import Finding
from harness.data.infer import apply_columns
from harness.data.local.builder import Builder, SubmissionFormat, probability_sample
from harness.data.local.tables import similar
from harness.data.local.target import unique_ids
from harness.errors import DataError, UsageError, plain

if TYPE_CHECKING:
    import pandas as pd

    from harness.data.infer import Columns

__all__ = ["Files", "Roles", "find_files", "read_roles", "test_part"]


@dataclass(frozen=True)
class Files:
    """The training file, and the test and sample submission files (None: absent)."""

    train: Path
    test: Path | None
    sample: Path | None


@dataclass(frozen=True)
class Roles:
    """The target and id columns, and what the sample submission asks for.

    Attributes:
        target: The target column.
        id_column: The id column (None: none given and no sample submission).
        columns: The sample's prediction columns (() without a sample).
        per_class: The sample has one probability column per class.
        sample: The sample submission (None: absent).
    """

    target: str
    id_column: str | None
    columns: tuple[str, ...]
    per_class: bool
    sample: pd.DataFrame | None


def find_files(path: Path, settings: dict[str, Any]) -> Files:
    """The training, test and sample submission files of a folder, or the single file."""
    if path.is_file():
        return Files(path, None, None)
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
    return Files(train, pick("test", ("test",)), pick("sample_submission", ("sample_submission",)))


def _submission_columns(
    b: Builder, sample: pd.DataFrame, sample_path: Path, train: pd.DataFrame
) -> tuple[str, str, tuple[str, ...], bool]:
    """(id column, target column, prediction columns, per-class) from the sample submission."""
    if sample.shape[1] < 2:
        raise DataError(
            f"'{sample_path}' has {sample.shape[1]} column; a sample submission has the id "
            "column first and then the target column."
        )
    _check_sample_order(sample, sample_path)
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


def _check_sample_order(sample: pd.DataFrame, sample_path: Path) -> None:
    """Refuse a sample whose first column repeats values: it cannot be the id column, so the
    columns are out of order (a sample is the id column, then the target column or columns).

    Without this, the target would be taken for the id, and the error would be about duplicate
    ids in train.csv.
    """
    first = sample.iloc[:, 0]
    repeated = first[first.duplicated()]
    if not len(repeated):
        return
    unique = [str(c) for c in sample.columns[1:] if sample[c].notna().all() and sample[c].is_unique]
    hint = (
        f" Its column {unique[0]!r} has a unique value in every row: are the columns reversed? "
        f"Put {unique[0]!r} first."
        if unique
        else ""
    )
    raise DataError(
        f"The first column of '{sample_path}', {str(sample.columns[0])!r}, repeats values (such "
        f"as {plain(repeated.iloc[0])!r}), so it is not an id column: a sample submission has "
        f"the id column first, then the target column.{hint}"
    )


def read_roles(b: Builder, path: Path, train: pd.DataFrame, files: Files) -> Roles:
    """The target and id columns: from the sample submission, else from the settings."""
    sample = None
    per_class = False
    columns: tuple[str, ...] = ()
    id_column = b.get("id")
    if files.sample is not None:
        sample = b.read(files.sample)
        sample_id, target, columns, per_class = _submission_columns(b, sample, files.sample, train)
        id_column = id_column or sample_id
        b.notes.append(f"id column {id_column!r} and target {target!r} from '{files.sample.name}'")
    else:
        target = b.get("target")
        if target is None:
            raise UsageError(
                f"'{files.train}' needs a target: pass --target COLUMN, or set target = \"...\" "
                f"in task.toml{' (or add sample_submission.csv)' if path.is_dir() else ''}. "
                f"Columns: {', '.join(map(str, list(train.columns)[:12]))}"
                f"{', ...' if train.shape[1] > 12 else ''}."
            )
    if target not in train.columns and files.sample is not None and not b.get("target"):
        raise DataError(
            f"The target column {target!r} of '{files.sample.name}' is not in '{files.train}'"
            f"{similar(target, train.columns)}; name the target with --target COLUMN (the "
            "submission keeps the sample's column name)."
        )
    b.column(train, target, "target", files.train)
    if id_column is not None:
        b.column(train, id_column, "id", files.train)
    return Roles(target, id_column, columns, per_class, sample)


def test_part(
    b: Builder,
    files: Files,
    roles: Roles,
    train: pd.DataFrame,
    source: pd.DataFrame,
    kinds: Columns,
    problem: str,
) -> tuple[pd.DataFrame, SubmissionFormat]:
    """(the test part's features in the submission's row order, the submission format)."""
    test = b.read(files.test)
    needed = [c for c in source.columns if c in kinds.kinds or c in kinds.dates]
    _check_test_columns(b, test, train, needed, kinds, roles.id_column, files)
    order, submission = _submission(b, test, files, roles, problem)
    test_X = apply_columns(test.iloc[order].reset_index(drop=True), kinds)
    return test_X, submission


def _check_test_columns(
    b: Builder,
    test: pd.DataFrame,
    train: pd.DataFrame,
    needed: list[str],
    kinds: Columns,
    id_column: str | None,
    files: Files,
) -> None:
    """Refuse a test part without the feature (or id) columns; note extra and non-numeric ones."""
    from pandas.api.types import is_numeric_dtype

    train_name, test_name = files.train.name, files.test.name
    lacking = [c for c in needed if c not in test.columns]
    if id_column and id_column not in test.columns:
        lacking.insert(0, id_column)
    if lacking:
        raise DataError(
            f"'{test_name}' lacks columns that '{train_name}' has: {lacking}. The "
            "test part needs every feature column (and the id column)."
        )
    extra = [c for c in test.columns if c not in train.columns]
    if extra:
        b.findings.append(
            Finding(
                "test_columns",
                f"'{test_name}' has columns that '{train_name}' lacks, ignored: {extra}.",
                tuple(map(str, extra)),
            )
        )
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
                f"columns numeric in '{train_name}' are not numeric in "
                f"'{test_name}'; values that are not numbers count as missing: {differ}.",
                tuple(differ),
            )
        )


def _submission(
    b: Builder, test: pd.DataFrame, files: Files, roles: Roles, problem: str
) -> tuple[Any, SubmissionFormat]:
    """(the test rows in the sample's order, the submission format): the sample's ids, columns
    and probabilities, or without a sample the test part's ids (or row numbers) and the target."""
    import numpy as np
    import pandas as pd

    id_column, sample, columns = roles.id_column, roles.sample, roles.columns
    test_ids = (
        unique_ids(test, id_column, files.test)
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
                f"The ids of '{files.sample.name}' ({len(wanted)} rows) do not match those of "
                f"'{files.test.name}' ({len(test)} rows)"
                + (f"; not in the test part: {absent[:5]}" if absent else "")
                + "."
            )
        order = position.loc[wanted].to_numpy()
        probabilities = probability_sample(sample, columns)
        shown_ids = sample_ids
    else:
        probabilities = False
        shown_ids = test_ids
        columns = (roles.target,)
    submission = SubmissionFormat(
        id_column=id_column or "id",
        ids=shown_ids.reset_index(drop=True),
        columns=columns,
        probabilities=probabilities and problem == "binary",
        per_class=roles.per_class,
    )
    if problem != "regression":
        what = (
            "class probabilities"
            if roles.per_class
            else ("positive-class probabilities" if submission.probabilities else "labels")
        )
        shape = f"as '{files.sample.name}' asks" if files.sample else "(no sample submission)"
        b.notes.append(f"the submission holds {what}, {shape}")
    return order, submission
