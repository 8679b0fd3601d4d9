"""NB-SVM for binary text: naive Bayes log-count ratios scale binary n-grams (Wang & Manning)."""

from __future__ import annotations

from typing import Any

from harness.contracts import BuildSpec, Model


class NBSVM:
    """Wang & Manning (2012), "Baselines and Bigrams: Simple, Good Sentiment and Topic
    Classification", ACL, section 2.3, with a logistic loss so it gives probabilities.

    Binarized word 1-2-gram counts f of every text column (joined) are scaled by the naive Bayes
    log-count ratio r = log((p / |p|_1) / (q / |q|_1)), p = alpha + the positive rows' counts,
    q = alpha + the negative rows'; an L2-regularized logistic regression is fitted on f * r, and
    its weights are interpolated towards their mean magnitude, w' = (1 - beta) mean|w| + beta w
    (the paper's beta, 0.25 in its experiments). Everything is fitted on the training fold.

    Args:
        text_columns: The text columns to read (joined with a space).
        C: Inverse L2 penalty of the logistic regression.
        alpha: Additive smoothing of the counts.
        beta: Interpolation weight (1: the plain logistic weights).
        seed: Seed of the solver.
    """

    def __init__(
        self, text_columns: list[str], C: float, alpha: float, beta: float, seed: int = 0
    ) -> None:
        self.text_columns = text_columns
        self.C = C
        self.alpha = alpha
        self.beta = beta
        self.seed = seed

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (scikit-learn's estimator protocol)."""
        return {k: getattr(self, k) for k in ("text_columns", "C", "alpha", "beta", "seed")}

    def set_params(self, **params: Any) -> NBSVM:
        """Set constructor arguments (scikit-learn's estimator protocol)."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def _texts(self, X: Any) -> Any:
        joined = X[self.text_columns[0]].fillna("").astype(str)
        for column in self.text_columns[1:]:
            joined = joined + " " + X[column].fillna("").astype(str)
        return joined.to_numpy()

    def fit(self, X: Any, y: Any) -> NBSVM:
        """Fit the vocabulary, the log-count ratios and the logistic regression on the fold."""
        import numpy as np
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(y).astype(int)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError(
                f"NB-SVM is binary; the training rows hold {len(self.classes_)} classes"
            )
        self.vectorizer_ = CountVectorizer(ngram_range=(1, 2), binary=True, dtype=np.float32)
        counts = self.vectorizer_.fit_transform(self._texts(X))
        positive = self.alpha + np.asarray(counts[y == 1].sum(axis=0)).ravel()
        negative = self.alpha + np.asarray(counts[y == 0].sum(axis=0)).ravel()
        self.ratio_ = np.log((positive / positive.sum()) / (negative / negative.sum()))
        self.learner_ = LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed)
        self.learner_.fit(counts.multiply(self.ratio_).tocsr(), y)
        weights = self.learner_.coef_
        self.learner_.coef_ = (1.0 - self.beta) * np.abs(weights).mean() + self.beta * weights
        return self

    def predict_proba(self, X: Any) -> Any:
        """Probabilities of class 0 and class 1."""
        if not hasattr(self, "learner_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("NBSVM is not fitted; call fit first")
        counts = self.vectorizer_.transform(self._texts(X))
        return self.learner_.predict_proba(counts.multiply(self.ratio_).tocsr())

    def predict(self, X: Any) -> Any:
        """Class codes."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(),
        )


def build(spec: BuildSpec, params: dict, *, seed: int) -> NBSVM:
    columns = [c for c, kind in spec.feature_kinds.items() if kind == "text"]
    if not columns:
        raise ValueError("NB-SVM needs a text column; the task has none")
    return NBSVM(columns, params["C"], params["alpha"], params["beta"], seed)


def search_space(trial) -> dict:
    # Wang & Manning (2012) fix alpha = 1, C = 1 and beta = 0.25 for all their datasets; the
    # space spans two orders of magnitude around C and alpha (log-uniform) and all of beta in
    # [0, 1] (their interpolation between the mean weight and the fitted weights).
    return {
        "C": trial.suggest_float("C", 1e-2, 1e2, log=True),
        "alpha": trial.suggest_float("alpha", 0.1, 10.0, log=True),
        "beta": trial.suggest_float("beta", 0.0, 1.0),
    }


MODEL = Model(
    name="nbsvm",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    defaults={"C": 1.0, "alpha": 1.0, "beta": 0.25},
    modalities=("text",),
    problem_types=("binary",),
)
