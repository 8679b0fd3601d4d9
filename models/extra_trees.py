"""Extremely randomized trees on ordinal-encoded features (scikit-learn)."""

from __future__ import annotations

from harness.model import BuildSpec, Model
from harness.preprocess import make_preprocessor


def build(spec: BuildSpec, params: dict, *, seed: int):
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
    from sklearn.pipeline import make_pipeline

    forest = ExtraTreesClassifier if spec.is_classification else ExtraTreesRegressor
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
    # The random forest space of Grinsztajn, Oyallon & Varoquaux (2022), Appendix A.2, which
    # TabArena also uses for extra trees (Erickson et al. 2025): max_features as a share of the
    # columns, depth in {none, 4, 8, 16}, small min_samples_leaf, bootstrap on/off. Trees capped
    # at 300 for small budgets; max_depth 0 means unlimited.
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 300, step=50),
        "max_features": trial.suggest_float("max_features", 0.1, 1.0),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20, log=True),
        "max_depth": trial.suggest_categorical("max_depth", [0, 4, 8, 16]),
        "bootstrap": trial.suggest_categorical("bootstrap", [True, False]),
    }


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
