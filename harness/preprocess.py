"""Leakage-safe preprocessing built from a task's feature kinds.

Models name the style they need; they never write their own column handling. Every step is part of
the scikit-learn pipeline that is fitted inside each training fold, so nothing here learns from the
rows it is scored on.

Styles:
    "onehot": numerics imputed (median, with missing-indicator columns) and standardized;
        categoricals imputed with a "missing" level and one-hot encoded, levels rarer than
        `min_frequency` grouped into one. For linear models, kNN, SVMs and neural nets.
    "ordinal": numerics imputed only when the learner cannot take NaN; categoricals as ordinal
        codes (unknown and missing as -1). For tree ensembles, which need no scaling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STYLES = ("onehot", "ordinal")
MISSING = "__missing__"


def _as_float(values: Any) -> Any:
    import numpy as np

    return np.asarray(values, dtype=np.float64)


def columns_of(feature_kinds: Mapping[str, str], kind: str) -> list[str]:
    """Column names of one kind, in their original order."""
    return [column for column, k in feature_kinds.items() if k == kind]


def make_preprocessor(
    feature_kinds: Mapping[str, str],
    style: str,
    *,
    impute_numeric: bool = True,
    min_frequency: int = 10,
) -> Any:
    """A `ColumnTransformer` for the tabular columns of a task.

    Args:
        feature_kinds: Column -> kind, from the task's dataset.
        style: "onehot" or "ordinal" (see the module docstring).
        impute_numeric: For "ordinal": impute numerics (False keeps NaN for learners that take it).
        min_frequency: For "onehot": levels seen fewer times are grouped as infrequent.

    Returns:
        An unfitted transformer producing a dense float array.
    """
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        OneHotEncoder,
        OrdinalEncoder,
        StandardScaler,
    )

    if style not in STYLES:
        raise ValueError(f"unknown preprocessing style {style!r}; use one of {STYLES}")
    unsupported = sorted({k for k in feature_kinds.values() if k not in ("numeric", "categorical")})
    if unsupported:
        raise ValueError(f"tabular preprocessing cannot handle {unsupported} columns yet")

    numeric = columns_of(feature_kinds, "numeric")
    categorical = columns_of(feature_kinds, "categorical")
    to_float = FunctionTransformer(_as_float, feature_names_out="one-to-one")
    cat_imputer = SimpleImputer(strategy="constant", fill_value=MISSING)
    if style == "onehot":
        num_steps = [SimpleImputer(strategy="median", add_indicator=True), StandardScaler()]
        cat_steps = [
            cat_imputer,
            OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                min_frequency=min_frequency,
                sparse_output=False,
                dtype=np.float32,
            ),
        ]
    else:
        num_steps = [SimpleImputer(strategy="median")] if impute_numeric else [to_float]
        cat_steps = [
            cat_imputer,
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float32),
        ]
    transformers = []
    if numeric:
        transformers.append(("numeric", make_pipeline(*num_steps), numeric))
    if categorical:
        transformers.append(("categorical", make_pipeline(*cat_steps), categorical))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
