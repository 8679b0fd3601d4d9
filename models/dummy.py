"""Constant baseline: class priors or the training mean; the zero of normalized scores."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model


def build(spec: BuildSpec, params: dict, *, seed: int):
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if spec.is_classification:
        return DummyClassifier(strategy=params["strategy"], random_state=seed)
    return DummyRegressor(strategy="mean" if params["strategy"] == "prior" else "median")


def search_space(trial) -> dict:
    # Nothing to tune: "prior" predicts class frequencies (or the mean for regression).
    return {"strategy": trial.suggest_categorical("strategy", ["prior"])}


MODEL = Model(
    name="dummy",
    description=__doc__.strip().splitlines()[0],
    family="baseline",
    build=build,
    search_space=search_space,
    defaults={"strategy": "prior"},
    modalities=("tabular", "image", "text"),
)
