"""Preprocessing choices a model's search space can offer: scaler, encoder, a log target."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_PREPROCESSING",
    "ENCODERS",
    "SCALERS",
    "SKEW_THRESHOLD",
    "TARGET_TRANSFORMS",
    "preprocessing_space",
    "scaler_steps",
    "target_skewed",
    "target_transform_space",
    "with_target_transform",
]

# ----------------------------------------------------------------------------- search choices

SCALERS = ("standard", "robust", "quantile", "none")
ENCODERS = ("onehot", "ordinal", "target")
TARGET_TRANSFORMS = ("none", "log1p")
SKEW_THRESHOLD = 1.0


def scaler_steps(name: str, seed: int, n_rows: int) -> list[Any]:
    from sklearn.preprocessing import QuantileTransformer, RobustScaler, StandardScaler

    if name == "none":
        return []
    if name == "robust":
        return [RobustScaler()]
    if name == "quantile":  # at most one quantile per training row of the fold
        quantiles = max(min(1000, n_rows), 2)
        return [
            QuantileTransformer(
                n_quantiles=quantiles, output_distribution="normal", random_state=seed
            )
        ]
    return [StandardScaler()]


def preprocessing_space(trial: Any) -> dict[str, str]:
    """The scaler and encoder choices of the "onehot" style, for a model's search space.

    Models merge this into their parameters and pass them to `make_preprocessor`; their
    defaults are `DEFAULT_PREPROCESSING` (what the style did before it was tunable).
    """
    return {
        "scaler": trial.suggest_categorical("scaler", list(SCALERS)),
        "encoder": trial.suggest_categorical("encoder", list(ENCODERS)),
    }


DEFAULT_PREPROCESSING = {"scaler": "standard", "encoder": "onehot"}


def target_skewed(y: Any) -> bool:
    """Whether a regression target is positive and right-skewed (sample skewness above 1)."""
    values = np.asarray(y, dtype=np.float64)
    if len(values) < 3 or not np.isfinite(values).all() or values.min() <= 0:
        return False
    spread = values.std()
    if spread == 0:
        return False
    skew = float(np.mean(((values - values.mean()) / spread) ** 3))
    return skew > SKEW_THRESHOLD


def target_transform_space(trial: Any, spec: Any = None) -> dict[str, str]:
    """`target_transform`: none or log1p where the training target is positive and skewed
    (`spec.target_skewed`, a `BuildSpec`), else always none.

    The choice is fixed per study (the spec is), so every trial of a study has the same space;
    the parameter is always present, so a model's defaults (`target_transform: none`) stay in the
    space.
    """
    skewed = bool(getattr(spec, "target_skewed", False))
    choices = list(TARGET_TRANSFORMS) if skewed else ["none"]
    return {"target_transform": trial.suggest_categorical("target_transform", choices)}


def with_target_transform(estimator: Any, problem_type: str, params: Mapping[str, Any]) -> Any:
    """Wrap a regressor so it learns log1p(y) and predicts expm1 of its output, when
    `params["target_transform"]` says so (classification and "none": unchanged)."""
    name = params.get("target_transform", "none")
    if name == "none" or problem_type != "regression":
        return estimator
    if name not in TARGET_TRANSFORMS:
        raise ValueError(f"unknown target_transform {name!r}; use one of {TARGET_TRANSFORMS}")
    from sklearn.compose import TransformedTargetRegressor

    return TransformedTargetRegressor(
        regressor=estimator, func=np.log1p, inverse_func=np.expm1, check_inverse=False
    )
