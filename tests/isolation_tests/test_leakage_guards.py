"""Leakage guards: no estimator is ever fitted on a row it is then scored on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness import registry, tuning
from harness.model import Model
from harness.splits import prepare
from harness.worker import Worker


def _row_keys(X: pd.DataFrame) -> set[int]:
    return set(pd.util.hash_pandas_object(X, index=False).tolist())


class _Canary:
    """Predicts the prior, and raises if asked to predict a row it was fitted on."""

    def fit(self, X, y):
        self.seen_ = _row_keys(X)
        self.classes_ = np.unique(y)
        self.prior_ = np.bincount(y, minlength=int(y.max()) + 1) / len(y)
        return self

    def predict_proba(self, X):
        leaked = len(_row_keys(X) & self.seen_)
        if leaked:
            raise AssertionError(f"leak: {leaked} scored rows were in the fit")
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)


def _model(estimator: type) -> Model:
    return Model(
        name="canary",
        description="Raises when a scored row was in its fit.",
        family="baseline",
        build=lambda spec, params, *, seed: estimator(),
        search_space=lambda trial: {},
        problem_types=("binary", "multiclass"),
    )


@pytest.fixture(scope="module")
def data():
    task = registry.get_task("breast_cancer")
    loaded = task.load()
    assert not loaded.X.duplicated().any()  # the canary keys rows by their values
    return task, prepare(task, loaded, folds=5, seed=0)


def test_cv_folds_and_the_holdout_refit_never_score_a_row_the_estimator_was_fitted_on(data):
    task, prepared = data
    spec = tuning.spec_for(task.problem_type, task.modality, prepared)
    context = tuning.StudyContext(_model(_Canary), prepared, spec, task.metrics, 0)
    with Worker(context) as worker:
        scores = worker.call(tuning.cv_job, {})
        prediction, _, _, _ = worker.call(tuning.refit_job, {}, prepared.holdout_X)
    assert len(scores.scores["roc_auc"]) == 5
    assert prediction.shape == (len(prepared.holdout_y), 2)
    assert not _row_keys(prepared.X) & _row_keys(prepared.holdout_X)


def test_the_canary_fires_when_folds_leak_scored_rows_into_training(data):
    from dataclasses import replace

    task, prepared = data
    everything = np.arange(len(prepared.y))
    leaky = replace(prepared, folds=tuple((everything, valid) for _, valid in prepared.folds))
    spec = tuning.spec_for(task.problem_type, task.modality, leaky)
    context = tuning.StudyContext(_model(_Canary), leaky, spec, task.metrics, 0)
    with pytest.raises(AssertionError, match=r"leak: \d+ scored rows were in the fit"):
        tuning.cv_job(context, lambda message: None, {})
