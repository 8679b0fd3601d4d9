"""Shared build and search space of the bagged tree ensembles (random forest, extra trees)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from harness.contracts import BuildSpec
from harness.contracts.preprocessing import make_preprocessor


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
    if spec.modality == "image":
        learner = PixelForest(learner, params["max_features"])
    return make_pipeline(make_preprocessor(spec.feature_kinds, "ordinal"), learner)


class PixelForest(BaseEstimator):
    """A forest on raw pixels whose column share is of 2 x sqrt(pixels) rather than of all pixels.

    Breiman's sqrt(p) columns per split is the usual choice for images; a share of all 784
    pixels of MNIST would make each split 20 times slower for little gain. So on image tasks
    `max_features` = 0.5 (the default) means sqrt(p) columns, 1.0 means 2 sqrt(p), and the
    search space stays the one of tabular tasks.

    Args:
        forest: The unfitted scikit-learn forest.
        share: The `max_features` hyperparameter.
    """

    def __init__(self, forest: Any, share: float) -> None:
        self.forest = forest
        self.share = share

    def fit(self, X: Any, y: Any) -> PixelForest:
        """Set the column count from the pixel count, then fit the forest."""
        from sklearn.base import clone

        pixels = X.shape[1]
        columns = max(1, min(pixels, int(round(self.share * 2.0 * np.sqrt(pixels)))))
        self.forest_ = clone(self.forest).set_params(max_features=columns)
        self.forest_.fit(X, y)
        if hasattr(self.forest_, "classes_"):
            self.classes_ = self.forest_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Class codes or values."""
        return self.forest_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities."""
        return self.forest_.predict_proba(X)

    def __sklearn_tags__(self) -> Any:
        from sklearn.base import is_classifier

        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier" if is_classifier(self.forest) else "regressor"
        return tags


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
