"""What a user's table is: the problem type of its target and the kind of every column.

The rules are deliberately simple and every decision that is not obvious comes back as a note the
CLI prints, so a user can see why and override it (`--problem-type`, or `categorical = [...]`,
`text = [...]`, `drop = [...]` in task.toml).

Problem type (fastai's trap is integer class labels read as regression):
    bool or strings -> classification; integers (or floats that are all whole numbers) with at most
    20 distinct values, and no more than 10% of the rows, -> classification; other numbers ->
    regression. Two classes make a binary task, more a multiclass one.

Feature kinds:
    bool and numbers -> numeric; strings that parse as dates -> expanded to numeric parts (year,
    month, day, day of week, and hour when any value has a time); long strings with spaces and
    mostly unique values -> text (long strings that repeat -> categorical, with a note); strings
    unique in every row (or integer sequences, or columns named like an id with unique values) ->
    id-like, dropped; other strings -> categorical (many levels are kept; the one-hot encoder
    groups rare ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.errors import plain

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DATE_MIN_SHARE",
    "HIGH_CARDINALITY",
    "MAX_CLASSES",
    "MAX_CLASS_SHARE",
    "TEXT_MIN_MEAN_LENGTH",
    "Columns",
    "ProblemGuess",
    "apply_columns",
    "date_parts",
    "default_positive_class",
    "infer_columns",
    "infer_problem_type",
    "parse_dates",
]

MAX_CLASSES = 20
MAX_CLASS_SHARE = 0.10
TEXT_MIN_MEAN_LENGTH = 30
DATE_MIN_SHARE = 0.95
HIGH_CARDINALITY = 50
_ID_NAME = re.compile(r"(^|[_\W])id$|Id$|ID$|^index$|^row_?num(ber)?$", re.IGNORECASE)


@dataclass(frozen=True)
class ProblemGuess:
    """The inferred problem type and why.

    Attributes:
        problem_type: binary, multiclass or regression.
        reason: One sentence saying what in the target led there.
    """

    problem_type: str
    reason: str


@dataclass
class Columns:
    """Feature columns after inference: the frame to train on, kinds, and what was done.

    Attributes:
        kinds: Column -> numeric, categorical or text (of the transformed frame).
        dates: Original date columns expanded to parts.
        dropped: Column -> why it is not a feature (id-like, constant, all missing).
        notes: Human-readable lines, one per decision that is not obvious.
    """

    kinds: dict[str, str] = field(default_factory=dict)
    dates: dict[str, bool] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _whole_numbers(values: pd.Series) -> bool:
    import numpy as np
    from pandas.api.types import is_float_dtype, is_integer_dtype

    if is_integer_dtype(values):
        return True
    if is_float_dtype(values):
        array = values.to_numpy(dtype=float)
        return bool(np.all(np.isfinite(array)) and np.all(array == np.round(array)))
    return False


def infer_problem_type(y: pd.Series) -> ProblemGuess:
    """Guess the problem type of a target without missing values (see the module docstring)."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    distinct = int(y.nunique())
    n = len(y)
    name = repr(str(y.name))
    if is_bool_dtype(y) or not is_numeric_dtype(y):
        kind = "boolean" if is_bool_dtype(y) else "non-numeric"
        problem = "binary" if distinct == 2 else "multiclass"
        return ProblemGuess(problem, f"target {name} is {kind} with {distinct} distinct values")
    if _whole_numbers(y):
        if distinct == 2 or (distinct <= MAX_CLASSES and distinct <= MAX_CLASS_SHARE * n):
            problem = "binary" if distinct == 2 else "multiclass"
            return ProblemGuess(
                problem,
                f"target {name} has {distinct} distinct integer values in {n} rows, read as "
                "class labels",
            )
        return ProblemGuess(
            "regression", f"target {name} has {distinct} distinct integer values in {n} rows"
        )
    return ProblemGuess("regression", f"target {name} has non-integer numbers")


def default_positive_class(y: pd.Series) -> tuple[Any, str]:
    """The positive class of a binary target and why: 1 or True for 0/1 labels, else the minority.

    0/1 and False/True targets keep the conventional positive class (Kaggle samples ask for the
    probability of 1); other labels take the minority class (ties: the last label in sorted order).
    """
    labels = sorted((v.item() if hasattr(v, "item") else v for v in y.unique()), key=str)
    as_text = {str(label).lower() for label in labels}
    if as_text in ({"0", "1"}, {"false", "true"}, {"0.0", "1.0"}):
        positive = next(label for label in labels if str(label).lower() in ("1", "true", "1.0"))
        return positive, "the conventional positive label"
    counts = {(k.item() if hasattr(k, "item") else k): v for k, v in y.value_counts().items()}
    smallest = min(counts.values())
    positive = sorted((label for label in labels if counts[label] == smallest), key=str)[-1]
    share = smallest / len(y)
    return positive, f"the minority class, {share:.1%} of rows"


def _looks_like_dates(values: pd.Series) -> tuple[bool, Any]:
    import warnings

    import pandas as pd

    sample = values.dropna().astype(str)
    if sample.empty or sample.str.fullmatch(r"[-+]?\d+(\.\d+)?").mean() > 0.5:
        return False, None  # plain numbers stored as strings are not dates
    if not sample.str.contains(r"\d").all() or not sample.str.contains(r"[-/:.\s]").all():
        return False, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # A sample of distinct values first: parsing mixed formats is slow on long columns.
            probe = pd.Series(sample.unique()[:500])
            hits = pd.to_datetime(probe, errors="coerce", format="mixed").notna().mean()
            if hits < DATE_MIN_SHARE:
                return False, None
            parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        except (ValueError, TypeError, OverflowError):
            return False, None
    if parsed.notna().sum() < DATE_MIN_SHARE * values.notna().sum():
        return False, None
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    return True, parsed


def parse_dates(values: pd.Series) -> pd.Series | None:
    """`values` as datetimes when (nearly) all of them parse as dates, else None."""
    from pandas.api.types import is_datetime64_any_dtype

    if is_datetime64_any_dtype(values):
        return values.dt.tz_convert(None) if values.dt.tz is not None else values
    if values.dtype == object or str(values.dtype).startswith(("string", "str")):
        ok, parsed = _looks_like_dates(values)
        return parsed if ok else None
    return None


def date_parts(name: str, dates: pd.Series, with_hour: bool) -> dict[str, pd.Series]:
    """Numeric parts of a date column: year, month, day, day of week (and hour)."""
    parts = {
        f"{name}_year": dates.dt.year,
        f"{name}_month": dates.dt.month,
        f"{name}_day": dates.dt.day,
        f"{name}_dayofweek": dates.dt.dayofweek,
    }
    if with_hour:
        parts[f"{name}_hour"] = dates.dt.hour
    return {key: value.astype("float64") for key, value in parts.items()}


def _is_text(values: pd.Series) -> bool:
    strings = values.dropna().astype(str)
    if strings.empty:
        return False
    return bool(
        strings.str.len().mean() >= TEXT_MIN_MEAN_LENGTH
        and strings.str.contains(" ").mean() >= 0.5
        and strings.nunique() >= 0.5 * len(strings)
    )


def _looks_long(values: pd.Series) -> bool:
    """Long strings with spaces (what text looks like), whether or not they repeat."""
    strings = values.dropna().astype(str)
    return bool(
        not strings.empty
        and strings.str.len().mean() >= TEXT_MIN_MEAN_LENGTH
        and strings.str.contains(" ").mean() >= 0.5
    )


def _id_like(name: str, values: pd.Series) -> str | None:
    from pandas.api.types import is_float_dtype, is_integer_dtype

    n = len(values)
    if n < 20 or values.isna().any() or values.nunique() != n:
        return None
    if _ID_NAME.search(name):
        return "named like an id, unique in every row"
    if is_integer_dtype(values):
        ordered = values.sort_values().to_numpy()
        if (ordered[1:] - ordered[:-1] == 1).all():
            return "an integer sequence, unique in every row"
        return None
    if is_float_dtype(values):
        return None
    if not _is_text(values):
        return "a string unique in every row"
    return None


def infer_columns(
    frame: pd.DataFrame,
    *,
    categorical: tuple[str, ...] = (),
    text: tuple[str, ...] = (),
    numeric: tuple[str, ...] = (),
    keep: tuple[str, ...] = (),
) -> Columns:
    """Decide the kind of every column of `frame` (the features, target already removed).

    Args:
        frame: The candidate feature columns.
        categorical: Columns forced to categorical (numeric codes that are categories).
        text: Columns forced to text.
        numeric: Columns forced to numeric.
        keep: Columns never dropped as id-like, constant or empty (named by the user).

    Returns:
        The kinds, the date columns to expand, the dropped columns and the notes to print.
    """
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    result = Columns()
    forced = {**{c: "categorical" for c in categorical}, **{c: "text" for c in text}}
    forced.update({c: "numeric" for c in numeric})
    for column in frame.columns:
        name = str(column)
        values = frame[column]
        if name in forced:
            result.kinds[name] = forced[name]
            continue
        if name not in keep:
            if values.isna().all():
                result.dropped[name] = "all values missing"
                continue
            if values.nunique(dropna=False) == 1:
                result.dropped[name] = f"constant ({plain(values.iloc[0])!r})"
                continue
        number = is_bool_dtype(values) or is_numeric_dtype(values)
        dates = None if number else parse_dates(values)
        if name not in keep and dates is None:
            reason = _id_like(name, values)
            if reason:
                result.dropped[name] = f"id-like: {reason}"
                continue
        if number:
            result.kinds[name] = "numeric"
            continue
        if dates is not None:
            with_hour = bool((dates.dropna().dt.hour != 0).any())
            result.dates[name] = with_hour
            parts = "year, month, day, day of week" + (", hour" if with_hour else "")
            result.notes.append(f"column {name!r}: dates, expanded to numeric parts ({parts})")
            for part in date_parts(name, dates, with_hour):
                result.kinds[part] = "numeric"
            continue
        if _is_text(values):
            result.kinds[name] = "text"
            result.notes.append(
                f"column {name!r}: free text (long strings, mostly unique), left for the text "
                "pipeline; set categorical = [...] in task.toml to treat it as categories"
            )
            continue
        result.kinds[name] = "categorical"
        levels = int(values.nunique())
        if _looks_long(values):
            result.notes.append(
                f"column {name!r}: long strings but only {levels} distinct values in "
                f"{int(values.notna().sum())} rows, so categories rather than free text; set "
                "text = [...] in task.toml to use the text pipeline"
            )
        elif levels > HIGH_CARDINALITY:
            result.notes.append(
                f"column {name!r}: categorical with {levels} levels (high cardinality; rare "
                "levels are grouped)"
            )
    for name, why in result.dropped.items():
        result.notes.append(f"column {name!r} dropped: {why}")
    return result


def apply_columns(frame: pd.DataFrame, columns: Columns) -> pd.DataFrame:
    """The feature frame that `columns` describes: dates expanded, kinds cast, others dropped."""
    import numpy as np
    import pandas as pd

    from harness.data.packages import as_category_strings

    out: dict[str, pd.Series] = {}
    for name in frame.columns:
        name = str(name)
        if name in columns.dates:
            dates = parse_dates(frame[name])
            if dates is None:  # the test part holds no parseable dates in this column
                dates = pd.to_datetime(frame[name], errors="coerce", format="mixed")
            out.update(date_parts(name, dates, columns.dates[name]))
            continue
        kind = columns.kinds.get(name)
        if kind is None:
            continue
        values = frame[name]
        if kind == "numeric":
            if values.dtype == bool or str(values.dtype) == "boolean":
                values = values.astype("float64")
            else:
                values = pd.to_numeric(values, errors="coerce").astype("float64")
        elif kind == "categorical":
            values = as_category_strings(values)
        else:
            values = values.astype(str).where(values.notna(), np.nan).astype(object)
        out[name] = values
    ordered = [c for c in columns.kinds if c in out]
    return pd.DataFrame({c: out[c] for c in ordered}, index=frame.index)
