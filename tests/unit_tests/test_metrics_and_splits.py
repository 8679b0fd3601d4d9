"""Metrics keep one orientation; the holdout and folds are seeded, disjoint and fingerprinted."""

from __future__ import annotations

import numpy as np
import pytest

from harness import registry
from harness.errors import DataError, UnknownNameError, UsageError
from harness.metrics import get_metric
from harness.splits import prepare


def test_metrics_store_raw_values_and_say_which_way_is_better():
    y = np.array([0, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    assert get_metric("roc_auc").score(y, proba) == pytest.approx(0.75)
    assert get_metric("accuracy").score(y, proba) == pytest.approx(0.75)
    loss = get_metric("log_loss")
    assert loss.score(y, proba) > 0 and loss.direction == "minimize"
    assert loss.better(0.1, 0.2) and get_metric("roc_auc").better(0.9, 0.8)
    assert get_metric("rmse").score(np.array([1.0, 3.0]), np.array([2.0, 2.0])) == 1.0


def test_unknown_metric_suggests_the_closest_name():
    with pytest.raises(UnknownNameError, match="Unknown metric 'rmsee'. Did you mean 'rmse'?"):
        get_metric("rmsee")


def test_holdout_is_stratified_disjoint_and_the_same_for_the_same_seed():
    task = registry.get_task("breast_cancer")
    data = task.load()
    a = prepare(task, data, folds=5, seed=0)
    b = prepare(task, data, folds=5, seed=0)
    c = prepare(task, data, folds=5, seed=1)
    assert len(a.y) + len(a.holdout_y) == len(data.y)
    assert a.folds_fingerprint == b.folds_fingerprint
    assert a.folds_fingerprint != c.folds_fingerprint
    assert a.data_fingerprint == c.data_fingerprint
    assert abs(a.y.mean() - a.holdout_y.mean()) < 0.02  # stratified
    assert a.classes[1] == "malignant"  # code 1 is the positive class
    validation = np.concatenate([valid for _, valid in a.folds])
    assert sorted(validation) == list(range(len(a.y)))  # every training row scored once


def test_folds_below_two_and_too_many_folds_are_refused():
    task = registry.get_task("penguins")
    with pytest.raises(UsageError, match="--folds must be at least 2, got 1"):
        prepare(task, task.load(), folds=1, seed=0)
    with pytest.raises(DataError, match="the rarest class has .* fewer than --folds 100"):
        prepare(task, task.load(), folds=100, seed=0)
