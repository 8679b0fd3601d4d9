"""Random forest on ordinal-encoded features or raw pixels (scikit-learn)."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model


def build(spec: BuildSpec, params: dict, *, seed: int):
    from harness.models._forest import build_forest

    return build_forest("random_forest", spec, params, seed)


def search_space(trial) -> dict:
    from harness.models._forest import forest_space

    return forest_space(trial)


MODEL = Model(
    name="random_forest",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    # Breiman's defaults as scikit-learn ships them, with sqrt(p)-like column sampling (0.5
    # works well on both problem types for the small widths of tabular benchmarks).
    defaults={
        "n_estimators": 200,
        "max_features": 0.5,
        "min_samples_leaf": 1,
        "max_depth": 0,
        "bootstrap": True,
    },
    modalities=("tabular", "image"),
)
