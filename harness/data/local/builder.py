"""What every layout of the user's data shares: the `Builder` that collects notes and findings
while a path becomes a `LocalTask`, the `LocalTask` itself and its `SubmissionFormat`, the task's
name, and `local_task`, which puts the pieces together.

Everything here runs before any store is touched, so a refused command writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.contracts.task import Dataset, Task
from harness.data.health import Finding
from harness.data.local.settings import Options, config_beside
from harness.data.local.tables import TABLE_SUFFIXES, read_table, similar
from harness.errors import DataError, PluginError, UsageError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "Builder",
    "LocalTask",
    "SubmissionFormat",
    "chosen_name",
    "local_task",
    "looks_like_path",
    "probability_sample",
    "task_name",
]


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


def probability_sample(sample: pd.DataFrame, columns: tuple[str, ...]) -> bool:
    """Whether the sample's prediction values are floats in [0, 1] (probabilities)."""
    from pandas.api.types import is_float_dtype

    values = sample[list(columns)]
    if not all(is_float_dtype(values[c]) for c in columns):
        return False
    array = values.to_numpy(dtype=float)
    return bool(((array >= 0) & (array <= 1)).all())


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
        options: The command-line settings given (`Options` fields that were set), so a reader
            of the run can load the same task again (`harness importance` rebuilds its holdout).
    """

    task: Task
    dataset: Dataset
    source: str
    submission: SubmissionFormat | None = None
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    options: Mapping[str, Any] = field(default_factory=dict)


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


class Builder:
    """Collects notes and findings while a path becomes a `LocalTask`."""

    def __init__(self, path: Path, options: Options) -> None:
        self.path = path
        self.notes: list[str] = []
        config, self.config_path = config_beside(path, self.notes)
        self.settings: dict[str, Any] = dict(config)
        for item in fields(options):
            value = getattr(options, item.name)
            if item.name == "drop":
                if value:
                    self.settings["drop"] = [*self.settings.get("drop", []), *value]
            elif value is not None:
                self.settings[item.name] = value
        self.findings: list[Finding] = []
        self.given = {
            item.name: list(value) if isinstance(value, tuple) else value
            for item in fields(options)
            if (value := getattr(options, item.name)) not in (None, ())
        }
        if self.config_path:
            self.notes.insert(0, f"settings from '{self.config_path}'")

    def get(self, key: str, default: Any = None) -> Any:
        """A setting: from the command line, else from task.toml, else `default`."""
        return self.settings.get(key, default)

    def read(self, path: Path) -> pd.DataFrame:
        """A table of the user's, read with the settings' encoding and separator."""
        frame = read_table(path, encoding=self.get("encoding"), sep=self.get("sep"))
        if frame.attrs.get("encoding") == "cp1252":
            self.notes.append(f"'{path.name}' is not UTF-8; read it as Windows-1252")
        return frame

    def column(self, frame: pd.DataFrame, name: str, what: str, file: Path) -> str:
        """`name`, once checked to be a column of `frame` (read from `file`)."""
        if name not in frame.columns:
            raise DataError(
                f"The {what} column {name!r} is not in '{file}'{similar(name, frame.columns)}."
            )
        return name


def chosen_name(b: Builder, known: set[str]) -> str:
    """The task's name: given (--name, task.toml) or from the path; never a built-in task's."""
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


def local_task(
    b: Builder,
    path: Path,
    dataset: Dataset,
    submission: SubmissionFormat | None,
    *,
    name: str,
    description: str,
    modality: str,
    problem_type: str,
    positive_class: Any,
    target: Any,
) -> LocalTask:
    """The `LocalTask` of the user's files: their task (a bad setting is a usage error).

    The metric and the extra metrics are the settings', else the problem type's defaults.
    """
    from harness.contracts.metrics import DEFAULT_METRICS

    metric = b.get("metric") or DEFAULT_METRICS[problem_type][0]
    extras = b.get("extra_metrics", [m for m in DEFAULT_METRICS[problem_type] if m != metric])
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
        options=dict(b.given),
    )
