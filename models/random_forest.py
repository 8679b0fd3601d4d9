"""Random forest on ordinal-encoded features (scikit-learn)."""

from __future__ import annotations

from harness.model import BuildSpec, Model
from harness.preprocess import make_preprocessor


def build(spec: BuildSpec, params: dict, *, seed: int):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.pipeline import make_pipeline

    forest = RandomForestClassifier if spec.is_classification else RandomForestRegressor
    learner = forest(
        n_estimators=params["n_estimators"],
        max_features=params["max_features"],
        min_samples_leaf=params["min_samples_leaf"],
        max_depth=params["max_depth"] or None,
        bootstrap=params["bootstrap"],
        n_jobs=spec.n_jobs,
        random_state=seed,
    )
    return make_pipeline(make_preprocessor(spec.feature_kinds, "ordinal"), learner)


def search_space(trial) -> dict:
    # After the random forest space of Grinsztajn, Oyallon & Varoquaux (2022), "Why do tree-based
    # models still outperform deep learning on tabular data?", Appendix A.2: max_features as a
    # share of columns, depth in {none, 2..}, min_samples_leaf small, bootstrap on/off. The tree
    # count is capped at 300 to keep the default budget small; max_depth 0 means unlimited.
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 300, step=50),
        "max_features": trial.suggest_float("max_features", 0.1, 1.0),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20, log=True),
        "max_depth": trial.suggest_categorical("max_depth", [0, 4, 8, 16]),
        "bootstrap": trial.suggest_categorical("bootstrap", [True, False]),
    }


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
)
