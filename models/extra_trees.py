"""Extremely randomized trees on ordinal-encoded features (scikit-learn)."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model


def build(spec: BuildSpec, params: dict, *, seed: int):
    from harness.models._forest import build_forest

    return build_forest("extra_trees", spec, params, seed)


def search_space(trial) -> dict:
    from harness.models._forest import forest_space

    return forest_space(trial)


MODEL = Model(
    name="extra_trees",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    # Geurts et al. (2006)'s defaults as scikit-learn ships them (no bootstrap, fully grown
    # trees), with half the columns tried per split.
    defaults={
        "n_estimators": 200,
        "max_features": 0.5,
        "min_samples_leaf": 1,
        "max_depth": 0,
        "bootstrap": False,
    },
)
