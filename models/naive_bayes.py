"""Gaussian naive Bayes, sigmoid-calibrated, on standardized numerics and one-hot categoricals."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model
from harness.contracts.preprocessing import make_preprocessor


def build(spec: BuildSpec, params: dict, *, seed: int):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline

    pre = make_preprocessor(
        spec.feature_kinds, "onehot", problem_type=spec.problem_type, random_state=seed
    )
    # Naive Bayes counts correlated features twice and its probabilities are pushed to 0 and 1
    # (log loss of 5-8 on penguins uncalibrated); Zadrozny & Elkan (2002) calibrate it, here
    # with Platt's sigmoid on 3 internal folds of the training fold, one model refitted on all.
    learner = CalibratedClassifierCV(
        GaussianNB(var_smoothing=params["var_smoothing"]), method="sigmoid", cv=3, ensemble=False
    )
    return make_pipeline(pre, learner)


def search_space(trial) -> dict:
    # Naive Bayes has no tuning space in the benchmark literature (auto-sklearn's GaussianNB has
    # no hyperparameters); the one knob, var_smoothing (a share of the largest variance added to
    # all), is searched log-uniformly from 1e-12 to 1, around scikit-learn's 1e-9.
    return {"var_smoothing": trial.suggest_float("var_smoothing", 1e-12, 1.0, log=True)}


MODEL = Model(
    name="naive_bayes",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    defaults={"var_smoothing": 1e-9},
    problem_types=("binary", "multiclass"),
)
