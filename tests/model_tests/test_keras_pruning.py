"""Per-epoch pruning: how epoch reports reach Optuna from inside a fit, in a study worker too.

The learner here is a real one that trains in epochs without TensorFlow (scikit-learn's SGD
logistic regression, one `partial_fit` per epoch) and reports through the same hook as the Keras
callback, so the worker path is tested without forking a process that has started TensorFlow.
"""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from harness.contracts.model import Model
from harness.contracts.testing import probe_data
from harness.execution import jobs
from harness.execution.jobs import StudyContext
from harness.execution.messages import EpochDone, FoldDone
from harness.execution.worker import Worker
from harness.protocol.cv import spec_for
from harness.tuning import attrs, objective
from harness.tuning.objective import EPOCH_STEPS, EPOCH_WARMUP, make_objective


class EpochSGD:
    """Logistic regression by SGD, one pass per epoch, reporting each epoch's validation score."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def fit(self, X, y):
        from sklearn.linear_model import SGDClassifier
        from sklearn.preprocessing import StandardScaler

        values = StandardScaler().fit(X)
        self.scaler = values
        rows = np.arange(len(y))
        fit_rows, val_rows = rows[: int(0.8 * len(y))], rows[int(0.8 * len(y)) :]
        features = values.transform(X)
        self.model = SGDClassifier(loss="log_loss", random_state=0)
        reporter = jobs.epoch_reporter()
        for epoch in range(self.epochs):
            self.model.partial_fit(features[fit_rows], y[fit_rows], classes=[0, 1])
            if reporter is not None:
                proba = self.model.predict_proba(features[val_rows])
                reporter.epoch(epoch, y[val_rows], proba)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(self.scaler.transform(X))


EPOCH_SGD = Model(
    name="epoch_sgd",
    description="SGD logistic regression reporting per epoch.",
    family="classical",
    build=lambda spec, params, *, seed: EpochSGD(params["epochs"]),
    search_space=lambda trial: {"epochs": trial.suggest_int("epochs", 6, 6)},
    defaults={"epochs": 6},
    problem_types=("binary",),
)


class _Recorder:
    """Stands in for an Optuna trial: records reports, prunes when told to."""

    def __init__(self, prune: bool) -> None:
        self.reports: list[tuple[float, int]] = []
        self.prune = prune

    def report(self, value: float, step: int) -> None:
        self.reports.append((value, step))

    def should_prune(self) -> bool:
        return self.prune


def test_a_trial_that_reports_epochs_uses_epoch_steps_only_and_folds_keep_fold_steps():
    trial = _Recorder(prune=False)
    report = objective.pruning_reporter(trial, folds=2)
    for message in [
        EpochDone(0, 0, 0.7),
        EpochDone(0, 1, 0.8),
        FoldDone(0, 0.75),
        EpochDone(1, 0, 0.6),
    ]:
        assert report(message) is True
    report(FoldDone(1, 0.7))
    assert trial.reports == [(0.7, 0), (0.8, 1), (0.6, EPOCH_STEPS)]
    classical = _Recorder(prune=False)
    report = objective.pruning_reporter(classical, folds=3)
    report(FoldDone(0, 0.7))
    report(FoldDone(1, 0.8))
    report(FoldDone(2, 0.9))  # the last fold's mean is the trial's value: not a step to prune at
    assert classical.reports == [(0.7, 0), (0.8, 1)]


def test_pruning_is_considered_from_the_warm_up_epoch_of_each_fold():
    report = objective.pruning_reporter(_Recorder(prune=True), folds=2)
    for epoch in range(EPOCH_WARMUP - 1):
        assert report(EpochDone(1, epoch, 0.5)) is True
    with pytest.raises(optuna.TrialPruned, match=f"pruned at epoch {EPOCH_WARMUP} of fold 2"):
        report(EpochDone(1, EPOCH_WARMUP - 1, 0.5))


class _AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study, trial) -> bool:
        return True


def test_an_epoch_report_from_inside_a_worker_fit_prunes_the_trial_and_keeps_the_worker():
    data = probe_data("binary")
    spec = spec_for("binary", "tabular", data)
    study = optuna.create_study(direction="maximize", pruner=_AlwaysPrune())
    with Worker(StudyContext(EPOCH_SGD, data, spec, ("roc_auc",), 0)) as worker:
        study.optimize(make_objective(worker.context, worker), n_trials=1)
        pid = worker.pid
        refit = worker.call(jobs.refit_job, {"epochs": 6}, data.X.iloc[:5])
        assert worker.pid == pid  # the stop left the worker in step for the next job
    trial = study.trials[0]
    assert trial.state.name == "PRUNED"
    assert list(trial.intermediate_values) == list(range(EPOCH_WARMUP))
    assert refit[0].shape == (5, 2)


def test_without_pruning_every_epoch_of_every_fold_is_a_step_and_the_trial_completes():
    data = probe_data("binary")
    spec = spec_for("binary", "tabular", data)
    study = optuna.create_study(direction="maximize")
    study.optimize(make_objective(StudyContext(EPOCH_SGD, data, spec, ("roc_auc",), 0)), 1)
    trial = study.trials[0]
    assert trial.state.name == "COMPLETE"
    expected = [fold * EPOCH_STEPS + epoch for fold in range(2) for epoch in range(6)]
    assert sorted(trial.intermediate_values) == expected
    assert len(attrs.results_of(trial)["fold_roc_auc"]) == 2
