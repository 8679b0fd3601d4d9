"""Metrics keep one orientation; the holdout and folds are seeded, disjoint and fingerprinted."""

from __future__ import annotations

import numpy as np
import pytest

from harness import registry
from harness.contracts.metrics import METRICS, get_metric
from harness.errors import DataError, UnknownNameError, UsageError
from harness.protocol.splits import prepare


def test_metrics_store_raw_values_and_say_which_way_is_better():
    y = np.array([0, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    assert get_metric("roc_auc").score(y, proba) == pytest.approx(0.75)
    assert get_metric("accuracy").score(y, proba) == pytest.approx(0.75)
    loss = get_metric("log_loss")
    assert loss.score(y, proba) > 0 and loss.direction == "minimize"
    assert loss.better(0.1, 0.2) and get_metric("roc_auc").better(0.9, 0.8)
    assert get_metric("rmse").score(np.array([1.0, 3.0]), np.array([2.0, 2.0])) == 1.0


def _reference(name: str, y: np.ndarray, prediction: np.ndarray) -> float:
    """scikit-learn's value of metric `name` (harness's metrics are NumPy rewrites of these)."""
    import warnings

    from sklearn import metrics

    warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true" and the like
    labels = prediction.argmax(axis=1) if prediction.ndim == 2 else None
    return {
        "roc_auc": lambda: metrics.roc_auc_score(y, prediction[:, 1]),
        "log_loss": lambda: metrics.log_loss(
            y, prediction, labels=list(range(prediction.shape[1]))
        ),
        "brier": lambda: metrics.brier_score_loss(y, prediction[:, 1]),
        "accuracy": lambda: metrics.accuracy_score(y, labels),
        "balanced_accuracy": lambda: metrics.balanced_accuracy_score(y, labels),
        "f1_macro": lambda: metrics.f1_score(y, labels, average="macro", zero_division=0),
        "rmse": lambda: metrics.root_mean_squared_error(y, prediction),
        "mae": lambda: metrics.mean_absolute_error(y, prediction),
        "r2": lambda: metrics.r2_score(y, prediction),
    }[name]()


def _cases(rng: np.random.Generator):
    """(metric names, y, prediction) cases: random, tied, float32, lopsided, certain-and-wrong."""
    for n_classes in (2, 3, 5):
        names = [m for m, metric in METRICS.items() if "multiclass" in metric.problem_types]
        if n_classes == 2:
            names = [m for m, metric in METRICS.items() if "binary" in metric.problem_types]
        for n, dtype, rounding in ((7, float, None), (500, float, 1), (300, np.float32, None)):
            y = rng.integers(0, n_classes, n)
            y[:n_classes] = np.arange(n_classes)  # every class present
            raw = rng.dirichlet(np.ones(n_classes), n)
            if rounding is not None:  # many tied scores
                raw = np.round(raw, rounding)
                raw /= raw.sum(axis=1, keepdims=True)
            yield names, y, raw.astype(dtype)
        certain = np.eye(n_classes)[(np.arange(40) + 1) % n_classes]  # all wrong, p = 0 and 1
        yield names, np.arange(40) % n_classes, certain
        lopsided = np.zeros(60, dtype=int)
        lopsided[:2] = 1 if n_classes == 2 else [1, n_classes - 1]
        yield names, lopsided, rng.dirichlet(np.ones(n_classes), 60)
    regression = [m for m, metric in METRICS.items() if "regression" in metric.problem_types]
    y = rng.normal(size=200)
    yield regression, y, y + rng.normal(size=200)
    yield regression, np.full(10, 3.0), rng.normal(size=10)
    yield regression, np.full(10, 3.0), np.full(10, 3.0)


def test_every_metric_equals_scikit_learns_value():
    rng = np.random.default_rng(0)
    checked = set()
    for names, y, prediction in _cases(rng):
        for name in names:
            ours = get_metric(name).score(y, prediction)
            # float32 probabilities: scikit-learn sums in float32, harness in float64
            rel = 1e-6 if prediction.dtype == np.float32 else 1e-9
            assert ours == pytest.approx(_reference(name, y, prediction), rel=rel, abs=1e-12), (
                name,
                y[:10],
            )
            checked.add(name)
    assert checked == set(METRICS)


def test_roc_auc_of_one_class_is_nan_with_a_warning_and_bad_probabilities_are_refused():
    from sklearn.exceptions import UndefinedMetricWarning

    proba = np.array([[0.3, 0.7], [0.6, 0.4]])
    with pytest.warns(UndefinedMetricWarning, match="Only one class is present"):
        assert np.isnan(get_metric("roc_auc").score(np.array([1, 1]), proba))
    with pytest.raises(ValueError, match=r"probabilities must lie in \[0, 1\]"):
        get_metric("log_loss").score(np.array([0, 1]), np.array([[1.2, -0.2], [0.5, 0.5]]))
    for name in ("roc_auc", "log_loss", "brier"):  # a diverged network's NaN never scores
        with pytest.raises(ValueError, match="probabilities contain NaN"):
            get_metric(name).score(np.array([0, 1]), np.array([[np.nan, np.nan], [0.5, 0.5]]))


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


def _regression_task(name: str = "probe"):
    from harness.contracts.task import Task

    return Task(
        name=name,
        description="a probe",
        modality="tabular",
        problem_type="regression",
        metric="rmse",
        load=lambda: None,
    )


def _dataset(n: int = 200, **parts):
    import pandas as pd

    from harness.contracts.task import Dataset

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=n)})
    return Dataset(X=X, y=pd.Series(rng.normal(size=n)), feature_kinds={"x": "numeric"}, **parts)


def test_time_ordered_data_holds_out_the_latest_rows_and_folds_only_look_back():
    import pandas as pd

    times = pd.Series(np.random.default_rng(1).permutation(200))  # shuffled time stamps
    data = _dataset(times=times)
    prepared = prepare(_regression_task(), data, folds=4, seed=0)
    held = set(data.X["x"].iloc[np.flatnonzero(times >= 160)])
    assert set(prepared.holdout_X["x"]) == held  # the latest 20 %
    assert prepared.scheme == "time" and prepared.ordered
    train_times = times.to_numpy()[np.argsort(times.to_numpy())][:160]
    for train, valid in prepared.folds:
        assert train_times[train].max() < train_times[valid].min()  # train on the past only
        assert np.array_equal(train, np.arange(valid[0]))  # on every row before the block
    # the 4 validation blocks share the latest half of the training part, 20 rows each
    assert [len(valid) for _, valid in prepared.folds] == [20, 20, 20, 20]
    assert [len(train) for train, _ in prepared.folds] == [80, 100, 120, 140]
    assert prepared.test_train_ratio == pytest.approx(
        np.mean([20 / 80, 20 / 100, 20 / 120, 20 / 140])
    )
    with pytest.raises(DataError, match="11 training rows are too few for 3 time-ordered folds"):
        prepare(_regression_task(), _dataset(n=14, times=pd.Series(np.arange(14))), folds=3, seed=0)


def test_grouped_data_never_splits_a_group_between_holdout_folds_and_training():
    import pandas as pd

    groups = pd.Series(np.arange(200) // 5)  # 40 groups of 5 rows
    data = _dataset(groups=groups)
    prepared = prepare(_regression_task(), data, folds=4, seed=0)
    assert prepared.scheme == "group"
    hold_groups = set(groups[np.isin(data.X["x"], prepared.holdout_X["x"])])
    train_rows = ~np.isin(data.X["x"], prepared.holdout_X["x"])
    assert not hold_groups & set(groups[train_rows])
    train_groups = groups[train_rows].to_numpy()
    for train, valid in prepared.folds:
        assert not set(train_groups[train]) & set(train_groups[valid])


def test_repeated_cv_makes_k_times_r_folds_with_a_fingerprint_of_their_own():
    task = registry.get_task("breast_cancer")
    data = task.load()
    once = prepare(task, data, folds=5, seed=0)
    twice = prepare(task, data, folds=5, seed=0, repeats=2)
    assert len(twice.folds) == 10 and twice.repeats == 2
    assert twice.folds_fingerprint != once.folds_fingerprint
    for repeat in range(2):
        rows = np.concatenate([valid for _, valid in twice.folds[repeat * 5 : repeat * 5 + 5]])
        assert sorted(rows) == list(range(len(twice.y)))


def test_impossible_split_requests_are_refused_with_the_reason():
    import pandas as pd

    task = _regression_task()
    with pytest.raises(UsageError, match="--repeats must be at least 1, got 0"):
        prepare(task, _dataset(), folds=5, seed=0, repeats=0)
    timed = _dataset(times=pd.Series(np.arange(200)))
    with pytest.raises(UsageError, match="time-ordered: .* cannot be repeated; drop --repeats 3"):
        prepare(task, timed, folds=5, seed=0, repeats=3)
    few_groups = _dataset(groups=pd.Series(np.arange(200) % 3))
    with pytest.raises(DataError, match="3 groups are too few to hold out 20% of them"):
        prepare(task, few_groups, folds=2, seed=0)
    from harness.errors import DataError as Err

    with pytest.raises(Err, match="groups has 3 missing values"):
        _dataset(groups=pd.Series([np.nan] * 3 + [1.0] * 197))
