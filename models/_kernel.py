"""RBF support vector machine with a row limit past which it uses a Nystroem kernel approximation.

Not a plugin (the registry skips modules whose name starts with "_"); `models/svm.py` imports it
inside `build`, so `harness list` never imports scikit-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from harness.contracts import BuildSpec
from harness.contracts.preprocessing import make_preprocessor

# Exact kernel SVMs cost O(n^2) memory and O(n^2..n^3) time (and probability calibration fits five
# more); above this many training rows the model switches to a Nystroem approximation.
MAX_EXACT_ROWS = 10_000
NYSTROEM_COMPONENTS = 1000


class RBFSVM(BaseEstimator):
    """One-hot preprocessing + an RBF SVM (SVC with Platt probabilities, or SVR).

    The kernel width is `gamma_scale` times scikit-learn's "scale" heuristic, 1 / (features x
    variance of the preprocessed training rows), computed in `fit` from the training fold.
    Regression standardizes the target so `epsilon` is in standard deviations. Above
    `MAX_EXACT_ROWS` rows: Nystroem features with logistic regression or ridge (same C, gamma).
    Image tasks use their raw pixels in [0, 1]. Text tasks get a linear SVM instead (LinearSVC
    with Platt probabilities, or LinearSVR) on sparse word and character TF-IDF n-grams, the
    standard text baseline; `gamma_scale` is then unused.

    Args:
        spec: The task and machine description given to `build`.
        params: C, gamma_scale and (regression) epsilon.
        seed: Seed of Platt scaling's internal folds and of the Nystroem sample.
    """

    def __init__(self, spec: BuildSpec, params: dict, seed: int = 0) -> None:
        self.spec = spec
        self.params = params
        self.seed = seed

    def fit(self, X: Any, y: Any) -> RBFSVM:
        """Fit the preprocessing and the SVM on the training fold."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.kernel_approximation import Nystroem
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import SVC, SVR

        spec, p = self.spec, self.params
        y = np.asarray(y)
        if spec.modality == "text":
            return self._fit_linear(X, y)
        self.preprocessor_ = make_preprocessor(
            spec.feature_kinds,
            "onehot",
            problem_type=spec.problem_type,
            random_state=self.seed,
            scaler=p.get("scaler", "standard"),
            encoder=p.get("encoder", "onehot"),
        )
        features = self.preprocessor_.fit_transform(X, y)
        variance = float(features.var()) or 1.0
        gamma = p["gamma_scale"] / (features.shape[1] * variance)
        approximate = len(y) > MAX_EXACT_ROWS
        if spec.is_classification:
            self.classes_ = np.unique(y.astype(int))
            target = y
        else:
            self.y_mean_, self.y_scale_ = float(y.mean()), float(y.std() or 1.0)
            target = (y - self.y_mean_) / self.y_scale_
        if approximate:
            kernel = Nystroem(gamma=gamma, n_components=NYSTROEM_COMPONENTS, random_state=self.seed)
            if spec.is_classification:
                linear = LogisticRegression(C=p["C"], max_iter=1000, random_state=self.seed)
            else:
                linear = Ridge(alpha=1.0 / p["C"])
            self.learner_ = make_pipeline(kernel, linear)
        elif spec.is_classification:
            # Platt scaling on 5 internal folds (what SVC(probability=True) did before
            # scikit-learn 1.9 deprecated it), deterministic: unshuffled stratified folds.
            svc = SVC(C=p["C"], gamma=gamma, random_state=self.seed, cache_size=500)
            self.learner_ = CalibratedClassifierCV(svc, method="sigmoid", ensemble=False)
        else:
            self.learner_ = SVR(C=p["C"], gamma=gamma, epsilon=p["epsilon"], cache_size=500)
        self.learner_.fit(features, target)
        self.fit_info_ = {"kernel_approximation": float(approximate)}
        return self

    def _fit_linear(self, X: Any, y: np.ndarray) -> RBFSVM:
        """Text tasks: a linear SVM on sparse word + character TF-IDF (same C and epsilon)."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC, LinearSVR

        spec, p = self.spec, self.params
        self.preprocessor_ = make_preprocessor(
            spec.feature_kinds,
            "onehot",
            problem_type=spec.problem_type,
            sparse=True,
            text_ngrams="word_char",
            random_state=self.seed,
        )
        features = self.preprocessor_.fit_transform(X, y)
        if spec.is_classification:
            self.classes_ = np.unique(y.astype(int))
            svc = LinearSVC(C=p["C"], random_state=self.seed, max_iter=5000)
            self.learner_ = CalibratedClassifierCV(svc, method="sigmoid", ensemble=False)
            self.learner_.fit(features, y)
        else:
            self.y_mean_, self.y_scale_ = float(y.mean()), float(y.std() or 1.0)
            self.learner_ = LinearSVR(
                C=p["C"], epsilon=p["epsilon"], random_state=self.seed, max_iter=5000
            )
            self.learner_.fit(features, (y - self.y_mean_) / self.y_scale_)
        self.fit_info_ = {"kernel_approximation": 0.0}
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities over `classes_` (Platt scaling, or logistic on Nystroem)."""
        return self.learner_.predict_proba(self.preprocessor_.transform(X))

    def predict(self, X: Any) -> np.ndarray:
        """Class codes or values."""
        if self.spec.is_classification:
            return self.classes_[self.predict_proba(X).argmax(axis=1)]
        raw = self.learner_.predict(self.preprocessor_.transform(X))
        return np.asarray(raw, dtype=np.float64) * self.y_scale_ + self.y_mean_

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier" if self.spec.is_classification else "regressor"
        return tags
