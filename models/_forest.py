"""Shared build and search space of the bagged tree ensembles (random forest, extra trees)."""

from __future__ import annotations

from typing import Any

from harness.model import BuildSpec
from harness.preprocess import make_preprocessor


def build_forest(kind: str, spec: BuildSpec, params: dict, seed: int) -> Any:
    """A scikit-learn forest ("random_forest" or "extra_trees") on ordinal-encoded features."""
    from sklearn import ensemble
    from sklearn.pipeline import make_pipeline

    prefix = {"random_forest": "RandomForest", "extra_trees": "ExtraTrees"}[kind]
    suffix = "Classifier" if spec.is_classification else "Regressor"
    learner = getattr(ensemble, prefix + suffix)(
        n_estimators=params["n_estimators"],
        max_features=params["max_features"],
        min_samples_leaf=params["min_samples_leaf"],
        max_depth=params["max_depth"] or None,
        bootstrap=params["bootstrap"],
        n_jobs=spec.n_jobs,
        random_state=seed,
    )
    return make_pipeline(make_preprocessor(spec.feature_kinds, "ordinal"), learner)


def forest_space(trial: Any) -> dict:
    """The random forest space of Grinsztajn, Oyallon & Varoquaux (2022), "Why do tree-based
    models still outperform deep learning on tabular data?", Appendix A.2, which TabArena
    (Erickson et al. 2025) also uses for extra trees: max_features as a share of the columns,
    depth in {none, 4, 8, 16}, small min_samples_leaf, bootstrap on/off. The tree count is capped
    at 300 to keep small budgets small; max_depth 0 means unlimited."""
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 300, step=50),
        "max_features": trial.suggest_float("max_features", 0.1, 1.0),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20, log=True),
        "max_depth": trial.suggest_categorical("max_depth", [0, 4, 8, 16]),
        "bootstrap": trial.suggest_categorical("bootstrap", [True, False]),
    }
