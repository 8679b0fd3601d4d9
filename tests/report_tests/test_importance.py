"""Permutation importance (`harness.results.importance.compute`) of real fitted models on real data.

The command and the report's figure, which load a run's logged model, are tested end to end in
tests/report_tests/test_importance_cli.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from harness.contracts.metrics import get_metric
from harness.errors import UsageError
from harness.results import plots
from harness.results.importance import Importance, compute


class Fitted:
    """A fitted scikit-learn pipeline seen as harness sees a logged model: raw predictions."""

    def __init__(self, estimator, classification: bool) -> None:
        self.estimator, self.classification = estimator, classification

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        if self.classification:
            return self.estimator.predict_proba(X)
        return self.estimator.predict(X)


def _halves(X: pd.DataFrame, y: np.ndarray):
    order = np.random.default_rng(0).permutation(len(X))
    fit, held = order[: len(X) // 2], order[len(X) // 2 :]
    return X.iloc[fit], y[fit], X.iloc[held].reset_index(drop=True), y[held]


def test_an_informative_feature_ranks_above_noise_and_the_baseline_is_the_holdout_score():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X[["worst concave points", "worst area", "mean texture"]].copy()
    X["noise"] = np.random.default_rng(1).normal(size=len(X))
    X_fit, y_fit, X_held, y_held = _halves(X, y.to_numpy())
    model = Fitted(make_pipeline(StandardScaler(), LogisticRegression()).fit(X_fit, y_fit), True)

    frame, baseline, rows = compute(model, X_held, y_held, "roc_auc", repeats=5, seed=0)

    assert rows == len(X_held)
    assert baseline == pytest.approx(get_metric("roc_auc").score(y_held, model.predict_raw(X_held)))
    assert list(frame.columns) == ["feature", "importance", "std"]
    assert frame["importance"].is_monotonic_decreasing
    by_feature = frame.set_index("feature")["importance"]
    assert by_feature["worst concave points"] > 0.01
    assert abs(by_feature["noise"]) < by_feature["worst concave points"] / 5
    assert frame["feature"].iloc[-1] in {"noise", "mean texture"}


def test_a_loss_worsens_upwards_so_importances_are_positive_for_a_regression():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X_fit, y_fit, X_held, y_held = _halves(X, y.to_numpy())
    model = Fitted(Ridge(alpha=0.1).fit(X_fit, y_fit), False)

    frame, baseline, _ = compute(model, X_held, y_held, "rmse", repeats=3, seed=0)

    assert baseline == pytest.approx(get_metric("rmse").score(y_held, model.predict_raw(X_held)))
    top = frame.iloc[0]
    assert top["feature"] in {"bmi", "s5"}  # the two strongest predictors of diabetes' target
    assert top["importance"] > 5  # RMSE rises by several units without it


def test_the_rows_are_capped_by_a_seeded_sample_and_the_result_is_repeatable():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Fitted(Ridge().fit(X, y), False)
    first = compute(model, X, y.to_numpy(), "rmse", repeats=2, seed=3, max_rows=100)
    again = compute(model, X, y.to_numpy(), "rmse", repeats=2, seed=3, max_rows=100)
    assert first[2] == 100
    pd.testing.assert_frame_equal(first[0], again[0])
    assert first[1] == again[1]


def test_repeats_below_one_are_refused():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    with pytest.raises(UsageError, match="--repeats must be at least 1; got 0"):
        compute(Fitted(Ridge().fit(X, y), False), X, y.to_numpy(), "rmse", repeats=0)


def test_the_stored_form_reads_back_the_same():
    frame = pd.DataFrame({"feature": ["a", "b"], "importance": [0.2, -0.01], "std": [0.02, 0.0]})
    result = Importance("xgboost", "r1", "roc_auc", True, 0.9, 100, 5, 0, frame)
    again = Importance.from_dict(result.as_dict())
    assert again.as_dict() == result.as_dict()
    pd.testing.assert_frame_equal(again.frame, frame)


def test_the_figure_shows_the_top_features_and_says_how_many_are_left_out():
    names = [f"a rather long feature name number {i}" for i in range(30)]
    png = plots.importance(names, list(np.linspace(1, -0.1, 30)), [0.05] * 30, "rmse", "ridge")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 640 and 600 < height < 900  # 20 rows of bars, not 30


def test_a_computation_over_the_time_allowed_is_refused_before_it_starts():
    from harness.results.importance import TooCostly

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Fitted(Ridge().fit(X, y), False)
    with pytest.raises(TooCostly, match=r"it would take about \d+ s \(10 features x 5 shuffles"):
        compute(model, X, y.to_numpy(), "rmse", max_seconds=0.0)
