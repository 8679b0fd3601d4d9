"""k-nearest neighbours on standardized numerics and one-hot categoricals."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model
from harness.contracts.preprocessing import (
    DEFAULT_PREPROCESSING,
    make_preprocessor,
    preprocessing_space,
    target_transform_space,
    with_target_transform,
)


def build(spec: BuildSpec, params: dict, *, seed: int):
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.pipeline import make_pipeline

    neighbours = KNeighborsClassifier if spec.is_classification else KNeighborsRegressor
    learner = neighbours(
        # Never more neighbours than training rows (tiny folds).
        n_neighbors=max(1, min(params["n_neighbors"], spec.n_rows - 1)),
        weights=params["weights"],
        p=params["p"],
        n_jobs=spec.n_jobs,
    )
    pre = make_preprocessor(
        spec.feature_kinds,
        "onehot",
        problem_type=spec.problem_type,
        random_state=seed,
        scaler=params.get("scaler", "standard"),
        encoder=params.get("encoder", "onehot"),
    )
    return with_target_transform(make_pipeline(pre, learner), spec.problem_type, params)


def search_space(trial, spec: BuildSpec | None = None) -> dict:
    # Probst, Boulesteix & Bischl (2019), "Tunability", JMLR 20(53), Table 1 (kknn): k in 1..30;
    # plus the distance weighting and Minkowski power (Manhattan or Euclidean) of scikit-learn.
    return {
        "n_neighbors": trial.suggest_int("n_neighbors", 1, 30, log=True),
        "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
        "p": trial.suggest_categorical("p", [1, 2]),
        # the scaling decides the distances; log1p for a positive skewed regression target
        **preprocessing_space(trial),
        **target_transform_space(trial, spec),
    }


MODEL = Model(
    name="knn",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    # A common first choice: 15 neighbours weighted by distance, Euclidean.
    defaults={
        "n_neighbors": 15,
        "weights": "distance",
        "p": 2,
        **DEFAULT_PREPROCESSING,
        "target_transform": "none",
    },
)
