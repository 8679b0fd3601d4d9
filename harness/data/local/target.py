"""The target and the id column, inferred and checked alike in every layout of the user's data:
the problem type (given, inferred, or asked for by the metric), the classes, the positive class of
a binary task, unique and present ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.contracts.task import PROBLEM_TYPES
from harness.data.infer import default_positive_class, infer_problem_type
from harness.data.local.builder import Builder
from harness.errors import DataError, UnknownNameError, UsageError, plain

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_target", "positive_class_of", "problem_type_of", "unique_ids"]


def problem_type_of(b: Builder, y: pd.Series) -> str:
    """The problem type: given, else inferred from `y` (or regression, when the metric asks).

    Raises:
        UsageError: An unknown problem type or metric, or a metric that does not fit.
    """
    from harness.contracts.metrics import get_metric

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


def check_target(b: Builder, y: pd.Series, problem: str, file: Path) -> None:
    """Refuse a target that does not fit the problem type (`file`: where it comes from).

    Raises:
        DataError: A regression target that is not numeric, a single class, a "binary" target
            of more than two classes.
    """
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if problem == "regression":
        if is_bool_dtype(y) or not is_numeric_dtype(y):
            example = y.iloc[0]
            raise DataError(
                f"The target {str(y.name)!r} of '{file}' is not numeric (values such as "
                f"{plain(example)!r}), but the task is regression"
                + (f" (metric {b.get('metric')})" if b.get("metric") else "")
                + ". Pass --problem-type binary or multiclass with a classification metric."
            )
        return
    distinct = int(y.nunique())
    if distinct < 2:
        raise DataError(
            f"The target {str(y.name)!r} of '{file}' has a single class {plain(y.iloc[0])!r}; a "
            "classification task needs at least two."
        )
    if problem == "binary" and distinct != 2:
        raise DataError(
            f"The target {str(y.name)!r} of '{file}' has {distinct} classes, but the task is "
            "binary. Pass --problem-type multiclass."
        )


def positive_class_of(b: Builder, y: pd.Series) -> Any:
    """The positive label of a binary target: given (as the label or its text), else the default.

    Raises:
        UsageError: The given positive class is not a label of the target.
    """
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


def unique_ids(frame: pd.DataFrame, column: str, file: Path) -> pd.Series:
    """The id column of `frame` (read from `file`), re-indexed from 0.

    Raises:
        DataError: Missing or duplicate ids.
    """
    ids = frame[column]
    if ids.isna().any():
        raise DataError(
            f"The id column {column!r} of '{file}' has {int(ids.isna().sum())} missing values."
        )
    repeated = ids[ids.duplicated()]
    if len(repeated):
        raise DataError(
            f"The id column {column!r} of '{file}' has {len(repeated)} duplicate ids, such as "
            f"{plain(repeated.iloc[0])!r}; ids must be unique."
        )
    return ids.reset_index(drop=True)
