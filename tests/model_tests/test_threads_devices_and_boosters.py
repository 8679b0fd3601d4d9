"""Thread budgets, GPU options with silent CPU fallback, and the boosters' early-stopping split."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from harness import registry
from harness.contracts.model import Model
from harness.contracts.testing import probe_data
from harness.protocol import cv
from harness.protocol.cv import spec_for

THREADED = {
    "random_forest": "n_jobs",
    "extra_trees": "n_jobs",
    "knn": "n_jobs",
    "xgboost": "n_jobs",
    "lightgbm": "n_jobs",
    "catboost": "thread_count",
}


def _options(estimator) -> dict:
    if hasattr(estimator, "learner_options"):
        return estimator.learner_options()
    return estimator.steps[-1][1].get_params()


@pytest.mark.parametrize("name", sorted(THREADED))
def test_models_with_their_own_threads_take_the_runs_thread_budget(name):
    model = registry.get_model(name)
    data = probe_data("binary", rows=60)
    for n_jobs in (1, 3):
        # Boosters use one thread below 10,000 rows; the budget applies on larger data.
        spec = replace(spec_for("binary", "tabular", data, n_jobs=n_jobs), n_rows=50_000)
        options = _options(model.build(spec, dict(model.defaults), seed=0))
        assert options[THREADED[name]] == n_jobs


@pytest.mark.parametrize("name", ["xgboost", "lightgbm", "catboost"])
def test_boosters_use_one_thread_on_small_data(name):
    model = registry.get_model(name)
    data = probe_data("binary", rows=60)
    spec = spec_for("binary", "tabular", data, n_jobs=4)
    options = _options(model.build(spec, dict(model.defaults), seed=0))
    assert options[THREADED[name]] == 1


def test_every_fit_runs_under_the_thread_budget_for_blas_and_openmp_pools():
    from threadpoolctl import threadpool_info

    seen = []

    class Probe:
        def fit(self, X, y):
            seen.append([pool["num_threads"] for pool in threadpool_info()])
            self.classes_ = np.array([0, 1])
            return self

        def predict_proba(self, X):
            return np.full((len(X), 2), 0.5)

    model = Model(
        name="probe",
        description="Records its thread pools.",
        family="classical",
        build=lambda spec, params, *, seed: Probe(),
        search_space=lambda trial: {},
    )
    data = probe_data("binary", rows=60)
    cv.fit_fold(model, {}, data, spec_for("binary", "tabular", data, n_jobs=1), 0, 0)
    assert seen and all(n == 1 for n in seen[0])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("xgboost", {"device": "cuda"}),
        ("lightgbm", {"device_type": "gpu"}),
        ("catboost", {"task_type": "GPU"}),
    ],
)
def test_boosters_ask_for_their_gpu_mode_only_on_a_cuda_device(name, expected):
    model = registry.get_model(name)
    data = probe_data("binary", rows=60)
    cpu = spec_for("binary", "tabular", data, device="cpu")
    gpu = replace(cpu, device="cuda")
    on_gpu = model.build(gpu, dict(model.defaults), seed=0).learner_options()
    on_cpu = model.build(cpu, dict(model.defaults), seed=0).learner_options()
    assert expected.items() <= on_gpu.items()
    assert not expected.items() <= on_cpu.items()
    assert on_cpu.get("device", "cpu") == "cpu" and "task_type" not in on_cpu


@pytest.mark.parametrize("name", ["lightgbm", "catboost"])
def test_a_gpu_mode_that_cannot_run_falls_back_to_the_cpu_silently(name, recwarn):
    model = registry.get_model(name)
    data = probe_data("binary", rows=120)
    spec = spec_for("binary", "tabular", data, device="cuda")
    estimator = model.build(spec, {**model.defaults, "max_rounds": 30}, seed=0)
    estimator.fit(data.X, data.y)  # on a machine with a working GPU mode, on the GPU
    assert not [w for w in recwarn if "gpu" in str(w.message).lower()]
    assert estimator.predict_proba(data.X).shape == (len(data.y), 2)
    assert estimator.fit_info_["gpu"] in (0.0, 1.0)


@pytest.mark.parametrize("shuffle", [True, False])
def test_the_early_stopping_split_is_carved_from_the_fit_rows_and_keeps_every_class(shuffle):
    from harness.models._boosting import validation_split

    y = np.array([0] * 80 + [1] * 15 + [2] * 5)
    fit, valid = validation_split(y, classification=True, shuffle=shuffle, seed=0)
    assert sorted(np.concatenate([fit, valid])) == list(range(100))
    assert len(valid) == 20 and not set(fit) & set(valid)
    if shuffle:
        assert set(y[valid]) == {0, 1, 2}
    else:  # time-ordered tasks: the latest rows validate
        assert list(valid) == list(range(80, 100))


@pytest.mark.parametrize("name", ["xgboost", "lightgbm", "catboost", "hist_gradient_boosting"])
def test_boosters_stop_early_and_report_the_rounds_used(name):
    model = registry.get_model(name)
    data = probe_data("regression", rows=200)
    spec = spec_for("regression", "tabular", data)
    # A learning rate this high overfits within a few dozen rounds: early stopping must cut.
    params = {**model.defaults, "learning_rate": 0.3 if name != "catboost" else 0.1}
    estimator = model.build(spec, {**params, "max_rounds": 400}, seed=0)
    estimator.fit(data.X, data.y)
    info = cv.fit_info(estimator)
    assert info["rounds_max"] == 400
    assert 1 <= info["rounds_used"] < 400, info


def test_a_booster_fitted_on_a_fold_missing_a_class_pads_it_with_zero_probability():
    model = registry.get_model("lightgbm")
    data = probe_data("multiclass", rows=120)
    keep = data.y != 2
    spec = spec_for("multiclass", "tabular", data)
    estimator = model.build(spec, {**model.defaults, "max_rounds": 30}, seed=0)
    estimator.fit(data.X.loc[keep].reset_index(drop=True), data.y[keep])
    proba = cv.predict(estimator, data.X, 3)
    assert proba.shape == (len(data.y), 3) and np.all(proba[:, 2] == 0)


@pytest.mark.parametrize("problem", ["binary", "regression"])
def test_the_svm_switches_to_a_kernel_approximation_above_its_row_limit(monkeypatch, problem):
    import harness.models._kernel as kernel

    model = registry.get_model("svm")
    data = probe_data(problem, rows=200)
    spec = spec_for(problem, "tabular", data)
    train, valid = data.folds[0]
    exact = model.build(spec, dict(model.defaults), seed=0).fit(data.X.iloc[train], data.y[train])
    monkeypatch.setattr(kernel, "MAX_EXACT_ROWS", 50)
    monkeypatch.setattr(kernel, "NYSTROEM_COMPONENTS", 40)
    approx = model.build(spec, dict(model.defaults), seed=0).fit(data.X.iloc[train], data.y[train])
    assert exact.fit_info_ == {"kernel_approximation": 0.0}
    assert approx.fit_info_ == {"kernel_approximation": 1.0}
    n_classes = 2 if problem == "binary" else 0
    prediction = cv.predict(approx, data.X.iloc[valid], n_classes)
    assert np.isfinite(prediction).all() and len(prediction) == len(valid)
