"""Logistic regression or ridge: one-hot tabular columns, raw pixels, or word+char TF-IDF text."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model
from harness.contracts.preprocessing import (
    DEFAULT_PREPROCESSING,
    make_preprocessor,
    preprocessing_space,
    target_transform_space,
    with_target_transform,
)


def build(spec: BuildSpec, params: dict, *, seed: int):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline

    if spec.is_classification:
        learner = LogisticRegression(C=params["C"], max_iter=2000, random_state=seed)
    else:
        # Ridge's alpha plays the role of 1/C: the same search space serves both.
        learner = Ridge(alpha=1.0 / params["C"], random_state=seed)
    # Sparse output keeps TF-IDF text columns sparse (linear models take them as they are);
    # text tasks get word and character n-grams, image tasks their raw pixels in [0, 1].
    pre = make_preprocessor(
        spec.feature_kinds,
        "onehot",
        problem_type=spec.problem_type,
        sparse=True,
        text_ngrams="word_char" if spec.modality == "text" else "word",
        random_state=seed,
        scaler=params.get("scaler", "standard"),
        encoder=params.get("encoder", "onehot"),
    )
    return with_target_transform(make_pipeline(pre, learner), spec.problem_type, params)


def search_space(trial, spec: BuildSpec | None = None) -> dict:
    # Regularization strength on a log scale over the range scikit-learn's LogisticRegressionCV
    # searches by default (1e-4 .. 1e4).
    # Plus the preprocessing choices and, for a positive skewed regression target, log1p.
    return {
        "C": trial.suggest_float("C", 1e-4, 1e4, log=True),
        **preprocessing_space(trial),
        **target_transform_space(trial, spec),
    }


MODEL = Model(
    name="linear",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    defaults={"C": 1.0, **DEFAULT_PREPROCESSING, "target_transform": "none"},
    modalities=("tabular", "image", "text"),
)
