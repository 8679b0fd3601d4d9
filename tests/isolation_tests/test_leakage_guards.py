"""Leakage guards: no estimator is ever fitted on a row it is then scored on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness import registry, run
from harness.contracts.model import Model
from harness.execution import jobs
from harness.execution.worker import Worker
from harness.protocol import cv
from harness.protocol.splits import prepare
from harness.run import config as run_config


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
    spec = cv.spec_for(task.problem_type, task.modality, prepared)
    context = jobs.StudyContext(_model(_Canary), prepared, spec, task.metrics, 0)
    with Worker(context) as worker:
        scores = worker.call(jobs.cv_job, {})
        prediction, _, _, _ = worker.call(jobs.refit_job, {}, prepared.holdout_X)
    assert len(scores.scores["roc_auc"]) == 5
    assert prediction.shape == (len(prepared.holdout_y), 2)
    assert not _row_keys(prepared.X) & _row_keys(prepared.holdout_X)


def test_the_canary_fires_when_folds_leak_scored_rows_into_training(data):
    from dataclasses import replace

    task, prepared = data
    everything = np.arange(len(prepared.y))
    leaky = replace(prepared, folds=tuple((everything, valid) for _, valid in prepared.folds))
    spec = cv.spec_for(task.problem_type, task.modality, leaky)
    context = jobs.StudyContext(_model(_Canary), leaky, spec, task.metrics, 0)
    with pytest.raises(AssertionError, match=r"leak: \d+ scored rows were in the fit"):
        jobs.cv_job(context, lambda message: None, {})


def _official_holdout_task(shuffle_holdout_labels: bool):
    from harness.contracts.task import Dataset, Task
    from harness.data.local import LocalTask

    bunch = registry.get_task("breast_cancer").load()
    rows = np.random.default_rng(0).permutation(len(bunch.y))
    train, hold = rows[:450], rows[450:]
    holdout_y = bunch.y.iloc[hold].reset_index(drop=True)
    if shuffle_holdout_labels:
        holdout_y = holdout_y.sample(frac=1.0, random_state=1).reset_index(drop=True)
    dataset = Dataset(
        X=bunch.X.iloc[train].reset_index(drop=True),
        y=bunch.y.iloc[train].reset_index(drop=True),
        feature_kinds=bunch.feature_kinds,
        holdout_X=bunch.X.iloc[hold].reset_index(drop=True),
        holdout_y=holdout_y,
    )
    task = Task(
        name="cancer_official",
        description="breast_cancer with an official holdout",
        modality="tabular",
        problem_type="binary",
        metric="roc_auc",
        positive_class="malignant",
        load=lambda: dataset,
    )
    return LocalTask(task=task, dataset=dataset, source="test")


def test_shuffling_the_holdout_labels_changes_no_cv_score_and_no_chosen_configuration(tmp_path):
    from harness.store.urls import resolve_stores

    outcomes = []
    for shuffled in (False, True):
        root = tmp_path / f"shuffled_{shuffled}"
        stores = resolve_stores(
            f"sqlite:///{root / 'mlflow.db'}", f"sqlite:///{root / 'optuna.db'}"
        )
        config = run_config.RunConfig(
            task="cancer_official", models=("linear", "random_forest"), trials=3, n_jobs=1
        )
        _, _, results = run.run(config, stores, local=_official_holdout_task(shuffled))
        outcomes.append({r.model: (r.cv_mean, r.cv_std, r.best_params, r.holdout) for r in results})
    real, shuffled = outcomes
    for model in ("linear", "random_forest"):
        assert real[model][:3] == shuffled[model][:3]  # CV and the choice never saw the holdout
        assert real[model][3] > 0.95 and shuffled[model][3] < 0.75  # but the holdout score did
    # the ensemble of the two: weights (its best_params) fitted on out-of-fold predictions only
    assert real["ensemble"][:3] == shuffled["ensemble"][:3]
    assert real["ensemble"][3] > 0.95 and shuffled["ensemble"][3] < 0.75
