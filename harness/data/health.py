"""Health checks on load: things about the data a careful Kaggler looks at before tuning anything.

Each check returns `Finding`s: warnings, not errors. The CLI prints them, and every study run of
the task logs them as a `health.json` artifact with the count as the tag `harness.health_warnings`.

Checks: rows duplicated across the training part and the holdout (a leak that flatters the holdout
score); constant and all-missing columns; id-like columns; a single feature that predicts the
target almost perfectly (leak suspect); strong class imbalance; infinite values in numeric
columns (which the protocol treats as missing: `without_infinite`); and, for Kaggle folders,
columns of test.csv that train.csv lacks or whose type differs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from harness.errors import plain

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from harness.contracts.task import Task
    from harness.protocol.splits import Prepared

__all__ = [
    "IMBALANCE_SHARE",
    "LEAK_MAX_ROWS",
    "LEAK_THRESHOLD",
    "Finding",
    "check_prepared",
    "constant_columns",
    "duplicates_across",
    "imbalance",
    "infinite_mask",
    "infinite_values",
    "leak_suspects",
    "without_infinite",
]

LEAK_THRESHOLD = 0.99
IMBALANCE_SHARE = 0.05
LEAK_MAX_ROWS = 50_000


@dataclass(frozen=True)
class Finding:
    """One health warning.

    Attributes:
        check: Short name of the check (duplicates, constant, all_missing, id_like, leak,
            imbalance, infinite, test_columns).
        message: What was found, in one sentence, with what to do about it.
        columns: The columns concerned, if any.
    """

    check: str
    message: str
    columns: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["columns"] = list(self.columns)
        return data


def duplicates_across(train: pd.DataFrame, holdout: pd.DataFrame) -> list[Finding]:
    """Holdout rows whose features equal a training row."""
    import pandas as pd

    if train.empty or holdout.empty:
        return []
    seen = set(pd.util.hash_pandas_object(train, index=False).to_numpy().tolist())
    hashes = pd.util.hash_pandas_object(holdout, index=False).to_numpy()
    count = int(sum(h in seen for h in hashes.tolist()))
    if not count:
        return []
    return [
        Finding(
            "duplicates",
            f"{count} of {len(holdout)} holdout rows ({count / len(holdout):.1%}) have the same "
            "features as a training row; the holdout score may be optimistic. Consider dropping "
            "duplicates or grouping them with a group column.",
        )
    ]


def constant_columns(frame: pd.DataFrame) -> list[Finding]:
    """All-missing and constant columns (they carry no information)."""
    findings = []
    for column in frame.columns:
        values = frame[column]
        if values.isna().all():
            findings.append(
                Finding("all_missing", f"column {column!r} has no values.", (str(column),))
            )
        elif values.nunique(dropna=False) == 1:
            findings.append(
                Finding(
                    "constant",
                    f"column {column!r} is constant ({plain(values.iloc[0])!r}).",
                    (str(column),),
                )
            )
    return findings


def _purity(values: pd.Series, y: Any) -> float:
    """Share of rows whose class is the majority class of their value (numbers in 20 bins)."""
    import numpy as np
    import pandas as pd
    from pandas.api.types import is_numeric_dtype

    if is_numeric_dtype(values) and values.nunique() > 20:
        keys = pd.qcut(values.rank(method="first"), 20, labels=False)
    else:
        keys = values.astype(str)
    table = pd.crosstab(np.asarray(keys), np.asarray(y))
    return float(table.max(axis=1).sum() / table.to_numpy().sum())


def leak_suspects(X: pd.DataFrame, y: Any, classification: bool) -> list[Finding]:
    """Single features that predict the target almost perfectly on their own.

    Classification: the majority class within each level (numbers in 20 quantile bins) is right
    for at least 99% of rows, and removes at least 90% of the errors of always guessing the
    majority class; string levels must be far fewer than rows, so id-like columns do not count.
    Regression: |Spearman correlation| >= 0.99.
    """
    import numpy as np
    import pandas as pd
    from pandas.api.types import is_numeric_dtype

    y = np.asarray(y)
    if len(X) > LEAK_MAX_ROWS:
        rows = np.random.default_rng(0).choice(len(X), LEAK_MAX_ROWS, replace=False)
        X, y = X.iloc[rows], y[rows]
    findings = []
    baseline = float(pd.Series(y).value_counts(normalize=True).max()) if classification else 0.0
    for column in X.columns:
        values = X[column].reset_index(drop=True)
        known = values.notna().to_numpy()
        if known.sum() < 20:
            continue
        values, target = values[known], y[known]
        if classification:
            if values.nunique() > max(20, len(values) // 20) and not is_numeric_dtype(values):
                continue
            score = _purity(values, target)
            gain = (score - baseline) / (1.0 - baseline) if baseline < 1.0 else 0.0
            if score >= LEAK_THRESHOLD and gain >= 0.9:  # not just the majority class again
                findings.append(
                    Finding(
                        "leak",
                        f"column {column!r} alone predicts the target for {score:.1%} of rows; "
                        "is it known before the target? Drop it with drop = [...] in task.toml "
                        "if not.",
                        (str(column),),
                    )
                )
        elif is_numeric_dtype(values) and values.nunique() > 1:
            corr = pd.Series(values.to_numpy(dtype=float)).corr(
                pd.Series(target.astype(float)), method="spearman"
            )
            if np.isfinite(corr) and abs(corr) >= LEAK_THRESHOLD:
                findings.append(
                    Finding(
                        "leak",
                        f"column {column!r} has a rank correlation of {corr:.3f} with the "
                        "target; is it known before the target? Drop it with drop = [...] in "
                        "task.toml if not.",
                        (str(column),),
                    )
                )
    return findings


def imbalance(y: Any, classes: tuple) -> list[Finding]:
    """A class below 5% of the training rows."""
    import numpy as np

    if not classes:
        return []
    counts = np.bincount(np.asarray(y), minlength=len(classes))
    shares = counts / counts.sum()
    rare = [(classes[i], shares[i]) for i in range(len(classes)) if shares[i] < IMBALANCE_SHARE]
    if not rare:
        return []
    listed = ", ".join(f"{plain(label)!r} {share:.1%}" for label, share in rare)
    return [
        Finding(
            "imbalance",
            f"strong class imbalance: {listed} of the training rows; prefer roc_auc, log_loss "
            "or balanced_accuracy to accuracy.",
        )
    ]


def infinite_mask(values: pd.Series) -> np.ndarray | None:
    """Which values of a column are infinite (inf or -inf); None for a column that cannot hold
    them (integers, booleans, categories, strings without any float)."""
    import numpy as np
    from pandas.api.types import is_float_dtype

    if is_float_dtype(values.dtype):
        return np.isinf(values.to_numpy(dtype=np.float64, na_value=np.nan))
    if values.dtype == object:
        return values.isin([np.inf, -np.inf]).to_numpy()
    return None


def without_infinite(
    frame: pd.DataFrame, feature_kinds: dict[str, str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """`frame` with the infinite values of its numeric columns made missing (NaN), so that the
    preprocessing imputes them as it imputes missing values, and how many each column had.

    The frame is copied only when it has infinite values; others are returned as they are.
    """
    counts: dict[str, int] = {}
    out = frame
    for column, kind in feature_kinds.items():
        if kind != "numeric" or column not in frame.columns:
            continue
        mask = infinite_mask(frame[column])
        if mask is None or not mask.any():
            continue
        if out is frame:
            out = frame.copy()
        out[column] = frame[column].mask(mask)
        counts[str(column)] = int(mask.sum())
    return out, counts


def infinite_values(counts: dict[str, int], rows: int, part: str = "labeled rows") -> list[Finding]:
    """The finding for infinite values (`counts`: per column, in `rows` rows of `part`)."""
    if not counts:
        return []
    listed = ", ".join(f"{column!r} {count}" for column, count in counts.items())
    return [
        Finding(
            "infinite",
            f"infinite values (inf or -inf) in {len(counts)} numeric "
            f"column{'s' if len(counts) > 1 else ''} of the {rows} {part}: {listed}; they are "
            "treated as missing values (imputed like them). Replace them in the data if they "
            "mean something else (a cap, a sentinel).",
            tuple(counts),
        )
    ]


def check_prepared(task: Task, data: Prepared) -> list[Finding]:
    """The checks that need the split data: duplicates, constants, leaks, imbalance, and the
    infinite values the split made missing.

    Image cells are compared by a digest of their pixels, so an image in both the training part
    and the holdout counts as a duplicate row.
    """
    from harness.data.images import hashable

    train, holdout = hashable(data.X), hashable(data.holdout_X)
    findings = duplicates_across(train, holdout)
    findings += constant_columns(train)
    findings += leak_suspects(train, data.y, task.is_classification)
    findings += imbalance(data.y, data.classes)
    findings += infinite_values(data.infinite, len(data.y) + len(data.holdout_y))
    return findings
