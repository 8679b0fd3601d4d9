"""RBF support vector machine (exact up to 10,000 rows, Nystroem above); linear SVM on text."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model
from harness.contracts.preprocessing import (
    DEFAULT_PREPROCESSING,
    preprocessing_space,
    target_transform_space,
    with_target_transform,
)


def build(spec: BuildSpec, params: dict, *, seed: int):
    from harness.models._kernel import RBFSVM

    return with_target_transform(RBFSVM(spec, params, seed), spec.problem_type, params)


def search_space(trial, spec: BuildSpec | None = None) -> dict:
    # Probst, Boulesteix & Bischl (2019), "Tunability: Importance of Hyperparameters of Machine
    # Learning Algorithms", JMLR 20(53), Table 1 (svm): cost and gamma log-uniform in
    # 2^-10..2^10. gamma is expressed as a multiple of scikit-learn's "scale" heuristic (so 1 is
    # scikit-learn's default), over the same 2^20 span centred on it. epsilon (regression, on a
    # standardized target) log-uniform 1e-3..1; classification ignores it.
    return {
        "C": trial.suggest_float("C", 2**-10, 2**10, log=True),
        "gamma_scale": trial.suggest_float("gamma_scale", 2**-10, 2**10, log=True),
        "epsilon": trial.suggest_float("epsilon", 1e-3, 1.0, log=True),
        # plus the preprocessing choices, and log1p for a positive skewed regression target
        **preprocessing_space(trial),
        **target_transform_space(trial, spec),
    }


MODEL = Model(
    name="svm",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    # scikit-learn's defaults: C = 1, gamma = "scale", epsilon 0.1 (here in standard deviations).
    defaults={
        "C": 1.0,
        "gamma_scale": 1.0,
        "epsilon": 0.1,
        **DEFAULT_PREPROCESSING,
        "target_transform": "none",
    },
    modalities=("tabular", "image", "text"),
)
