"""Iterative learners stop at their fit deadline and keep what they learned.

The four boosting libraries and a Keras network, on real data, with a deadline already passed
(one round or epoch, then a model that predicts), one that passes mid-fit (the best round so far,
by the learner's own early-stopping history), and none or a far one (the fit of before, tree for
tree). Cross-validation shares a job's deadline among its folds; the worker sets it a margin
before each hard kill.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from harness import registry
from harness.contracts.model import Model
from harness.contracts.reporting import CUT_SHORT, fit_deadline
from harness.contracts.testing import probe_data
from harness.execution.worker import Limits, Worker
from harness.protocol import cv
from harness.protocol import deadline as deadlines
from harness.protocol.cv import spec_for
from harness.protocol.splits import prepare

BOOSTERS = ["xgboost", "lightgbm", "catboost", "hist_gradient_boosting"]


@pytest.fixture(scope="module")
def diamonds():
    """Diamond prices (53,940 rows): the training part of its split, 5 folds."""
    task = registry.get_task("diamonds")
    return task, prepare(task, task.load(), folds=5, seed=0)


def _fit(name: str, data, params: dict, deadline: float | None, n_jobs: int = 1):
    model = registry.get_model(name)
    spec = spec_for("regression", "tabular", data, n_jobs=n_jobs)
    estimator = model.build(spec, {**model.defaults, **params}, seed=0)
    with deadlines.fitting_until(deadline):
        estimator.fit(data.X, data.y)
    return estimator


def _validation_history(name: str, learner) -> list[float]:
    """The learner's own record of its early-stopping split's loss, round by round."""
    if name == "xgboost":
        return list(learner.evals_result()["validation_0"]["rmse"])
    if name == "lightgbm":
        (scores,) = learner.evals_result_.values()
        return list(next(iter(scores.values())))
    if name == "catboost":
        return list(learner.get_evals_result()["validation"]["RMSE"])
    return [-s for s in learner.validation_score_[1:]]  # after each round, higher is better


@pytest.mark.parametrize("name", BOOSTERS)
def test_a_booster_past_its_deadline_keeps_one_round_and_predicts(name):
    data = probe_data("regression", rows=600)
    estimator = _fit(name, data, {}, time.monotonic() - 1.0)
    info = cv.fit_info(estimator)
    assert info[CUT_SHORT] == 1.0 and info["rounds_used"] == 1, info
    prediction = cv.predict(estimator, data.X, 0)
    assert prediction.shape == (len(data.y),) and np.isfinite(prediction).all()


@pytest.mark.parametrize("name", BOOSTERS)
def test_a_booster_cut_mid_fit_keeps_its_best_round_so_far(name, diamonds):
    _, data = diamonds
    # A small learning rate: early stopping alone would take a thousand rounds and more.
    began = time.monotonic()
    estimator = _fit(name, data, {"learning_rate": 0.01}, began + 1.5)
    took = time.monotonic() - began
    info = cv.fit_info(estimator)
    assert info[CUT_SHORT] == 1.0 and 1 <= info["rounds_used"] < info["rounds_max"], info
    assert took < 1.5 + 2.0, f"the fit went {took - 1.5:.1f} s past its deadline"
    history = _validation_history(name, estimator.learner_)
    assert len(history) < info["rounds_max"]  # it stopped growing trees
    if name == "hist_gradient_boosting":  # keeps every round grown, as its early stopping does
        assert info["rounds_used"] == len(history)
    else:  # the best round of those grown, not the last one
        assert info["rounds_used"] == int(np.argmin(history)) + 1
    prediction = cv.predict(estimator, data.holdout_X, 0)
    rmse = float(np.sqrt(np.mean((prediction - data.holdout_y) ** 2)))
    assert rmse < 0.9 * float(np.std(data.holdout_y))  # it learned something


@pytest.mark.parametrize("name", BOOSTERS)
def test_without_a_deadline_or_with_a_far_one_a_booster_fits_as_before(name):
    data = probe_data("regression", rows=600)
    params = {"learning_rate": 0.3, "max_rounds": 200}
    plain = _fit(name, data, params, None)
    far = _fit(name, data, params, time.monotonic() + 600)
    assert cv.fit_info(plain)[CUT_SHORT] == cv.fit_info(far)[CUT_SHORT] == 0.0
    assert cv.fit_info(plain)["rounds_used"] == cv.fit_info(far)["rounds_used"] < 200
    # the same trees: histogram boosting's warm-started chunks included
    np.testing.assert_array_equal(cv.predict(plain, data.X, 0), cv.predict(far, data.X, 0))


def test_histogram_boosting_in_chunks_stops_where_one_fit_stops_early():
    from harness.models._boosting import _hgb_should_stop

    # scikit-learn's rule: no score of the last `patience` beats the one before them by tol.
    assert not _hgb_should_stop([-3.0, -2.0, -1.0], 2, 1e-7)
    assert _hgb_should_stop([-3.0, -1.0, -1.0, -1.5], 2, 1e-7)
    assert not _hgb_should_stop([-3.0, -1.0, -1.0, -0.5], 2, 1e-7)
    assert not _hgb_should_stop([-1.0, -1.0], 2, 1e-7)  # too few scores yet


def test_a_network_past_its_deadline_trains_one_epoch_with_the_default_rate_and_predicts():
    data = probe_data("multiclass", rows=300)
    model = registry.get_model("keras_mlp")
    spec = spec_for("multiclass", "tabular", data)
    estimator = model.build(spec, dict(model.defaults), seed=0)
    with deadlines.fitting_until(time.monotonic() - 1.0):
        estimator.fit(data.X, data.y)
    info = estimator.fit_info_
    assert info[CUT_SHORT] == 1.0 and info["epochs_used"] == 1, info
    # too little time for the range test: Adam's usual rate
    assert info["learning_rate"] == pytest.approx(1e-3)
    proba = cv.predict(estimator, data.X, 3)
    assert proba.shape == (len(data.y), 3) and np.allclose(proba.sum(axis=1), 1.0)


def _validation_log_loss(estimator, X, y) -> float:
    from sklearn.metrics import log_loss

    rows = estimator.validation_rows_
    return log_loss(y[rows], estimator.predict_proba(X.iloc[rows]), labels=[0, 1, 2])


def test_a_network_cut_mid_training_keeps_its_best_epoch_and_without_a_deadline_fits_as_before():
    data = probe_data("multiclass", rows=300)
    model = registry.get_model("keras_mlp")
    spec = spec_for("multiclass", "tabular", data)
    params = {**model.defaults, "lr_find": False, "learning_rate": 3e-3, "max_epochs": 60}
    began = time.monotonic()
    plain = model.build(spec, params, seed=0).fit(data.X, data.y)
    seconds = time.monotonic() - began
    far = model.build(spec, params, seed=0)
    with deadlines.fitting_until(time.monotonic() + 600):
        far.fit(data.X, data.y)
    assert plain.fit_info_[CUT_SHORT] == far.fit_info_[CUT_SHORT] == 0.0
    assert plain.fit_info_["epochs_used"] == far.fit_info_["epochs_used"]
    np.testing.assert_allclose(plain.predict_proba(data.X), far.predict_proba(data.X), atol=1e-6)
    cut = model.build(spec, params, seed=0)
    with deadlines.fitting_until(time.monotonic() + seconds / 2):
        cut.fit(data.X, data.y)
    info = cut.fit_info_
    assert info[CUT_SHORT] == 1.0 and info["epochs_used"] < plain.fit_info_["epochs_used"]
    # the weights of its best epoch, not of the last: they reproduce the best validation loss
    assert _validation_log_loss(cut, data.X, data.y) == pytest.approx(info["val_loss"], rel=1e-3)


def test_the_range_test_stops_at_its_time_and_suggests_nothing():
    from harness.models._keras import batches, import_keras, lr_find

    keras = import_keras(1)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 4)).astype("float32"), rng.integers(0, 2, 256)
    network = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    weights = [w.copy() for w in network.get_weights()]
    data = batches(x, y, 32, shuffle=False, seed=0)
    loss = "sparse_categorical_crossentropy"
    assert lr_find(keras, network, loss, data, 1e-4, steps=30, until=time.monotonic()) is None
    for before, after in zip(weights, network.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)  # the sweep leaves no trace
    assert lr_find(keras, network, loss, data, 1e-4, steps=30) > 0


class DeadlineProbe:
    """Records the fit deadline it sees, and takes `seconds` to fit."""

    seen: list = []

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def fit(self, X, y):
        DeadlineProbe.seen.append((time.monotonic(), fit_deadline()))
        time.sleep(self.seconds)
        return self

    def predict(self, X):
        return np.zeros(len(X))


PROBE = Model(
    name="deadline_probe",
    description="Records its fit deadline.",
    family="classical",
    build=lambda spec, params, *, seed: DeadlineProbe(params["seconds"]),
    search_space=lambda trial: {},
)


def test_cross_validation_gives_each_fold_its_share_of_the_time_left():
    data = probe_data("regression", rows=200)
    data = replace(data, folds=(*data.folds, *data.folds))  # four folds
    spec = spec_for("regression", "tabular", data)
    DeadlineProbe.seen = []
    end = time.monotonic() + 8.0
    with deadlines.fitting_until(end):
        cv.cross_validate(PROBE, {"seconds": 0.2}, data, spec, ("rmse",), seed=0)
    shares = [(deadline - began) for began, deadline in DeadlineProbe.seen]
    # fold i of 4 beginning at t: (end - t) / (4 - i), less the last fold's prediction time
    for i, (began, deadline) in enumerate(DeadlineProbe.seen):
        assert deadline == pytest.approx(began + (end - began) / (4 - i), abs=0.05)
    assert shares[0] == pytest.approx(2.0, abs=0.1)
    assert shares[-1] == pytest.approx(8.0 - 3 * 0.2, abs=0.2)  # fast folds left it their time
    DeadlineProbe.seen = []
    cv.cross_validate(PROBE, {"seconds": 0.0}, data, spec, ("rmse",), seed=0)
    assert [deadline for _, deadline in DeadlineProbe.seen] == [None] * 4


def _deadline_seen(context, send):
    return time.monotonic(), fit_deadline()


def test_the_worker_sets_the_fit_deadline_a_margin_before_each_kill():
    with Worker(context=None) as worker:  # no hard limit: no deadline
        assert worker.call(_deadline_seen)[1] is None
        start = time.monotonic()
        _, seen = worker.call(_deadline_seen, until=start + 4.0)
        assert seen == pytest.approx(start + 4.0 - deadlines.MIN_MARGIN, abs=0.1)
        _, seen = worker.call(_deadline_seen, until=start + 100.0)
        assert seen == pytest.approx(start + 100.0 - 0.05 * 100.0, abs=0.1)  # 5% of its time
        _, seen = worker.call(_deadline_seen, fit_by=start + 3.0)  # a deadline without a kill
        assert seen == start + 3.0
    with Worker(context=None, limits=Limits(seconds=20.0)) as worker:  # --trial-timeout 20
        began, seen = worker.call(_deadline_seen)
        assert seen == pytest.approx(began + 20.0 - 1.0, abs=0.1)
        start = time.monotonic()
        _, seen = worker.call(_deadline_seen, until=start + 6.0)  # the earlier of the two
        assert seen == pytest.approx(start + 6.0 - deadlines.MIN_MARGIN, abs=0.1)


def test_the_deadline_leaves_a_margin_before_the_kill_and_folds_share_what_is_left():
    assert deadlines.soft_deadline(None, 0.0) is None
    assert deadlines.soft_deadline(10.0, 0.0) == 9.5  # at least MIN_MARGIN
    assert deadlines.soft_deadline(100.0, 0.0) == 95.0  # MARGIN_SHARE of the job's time
    assert deadlines.fold_deadline(None, 5) is None
    assert deadlines.fold_deadline(10.0, 5, now=0.0) == 2.0  # the first of five folds
    assert deadlines.fold_deadline(10.0, 1, now=6.0) == 10.0  # the last fold: all that is left
    assert deadlines.fold_deadline(10.0, 2, reserve=0.5, now=6.0) == 7.5  # less its prediction
