"""Preprocessing choices in the search: scaler and encoder for linear, kNN and SVM, and a log
target transform offered only where the training target is positive and skewed."""

from __future__ import annotations

import numpy as np
import pytest

from harness import registry
from harness.contracts.task import Dataset, Task
from harness.contracts.testing import check_search_space
from harness.protocol import cv
from harness.protocol.choices import (
    ENCODERS,
    SCALERS,
    target_skewed,
    with_target_transform,
)
from harness.protocol.preprocess import make_preprocessor
from harness.protocol.splits import Prepared, prepare
from harness.tuning import studies

CHOOSERS = ("linear", "knn", "svm")


@pytest.fixture(scope="module")
def penguins():
    task = registry.get_task("penguins")
    return task, prepare(task, task.load(), folds=3, seed=0)


def _skewed_diabetes() -> tuple[Task, Prepared]:
    bunch = registry.get_task("diabetes").load()
    y = np.exp(bunch.y / 60.0)  # positive and right-skewed, still a function of the features
    dataset = Dataset(X=bunch.X, y=y, feature_kinds=bunch.feature_kinds)
    task = Task(
        name="diabetes_skewed",
        description="diabetes with exp(target / 60)",
        modality="tabular",
        problem_type="regression",
        metric="rmse",
        load=lambda: dataset,
    )
    return task, prepare(task, dataset, folds=3, seed=0)


@pytest.mark.parametrize("name", CHOOSERS)
def test_the_defaults_keep_standard_scaling_and_onehot_and_lie_in_the_space(name):
    model = registry.get_model(name)
    assert model.defaults["scaler"] == "standard" and model.defaults["encoder"] == "onehot"
    assert model.defaults["target_transform"] == "none"
    check_search_space(model)


def test_every_scaler_and_encoder_gives_finite_features_of_the_expected_width(penguins):
    task, data = penguins
    categorical = [c for c, k in data.feature_kinds.items() if k == "categorical"]
    assert categorical  # island and sex
    widths = {}
    for scaler in SCALERS:
        for encoder in ENCODERS:
            pre = make_preprocessor(
                data.feature_kinds, "onehot", problem_type="multiclass", scaler=scaler,
                encoder=encoder,
            )  # fmt: skip
            out = pre.fit_transform(data.X, data.y)
            assert np.isfinite(out).all(), (scaler, encoder)
            widths[scaler, encoder] = out.shape[1]
    numeric = widths["standard", "ordinal"] - len(categorical)
    assert widths["standard", "onehot"] > widths["standard", "ordinal"]
    # target encoding: one column per class for each categorical
    assert widths["standard", "target"] == numeric + 3 * len(categorical)
    raw = make_preprocessor(data.feature_kinds, "onehot", scaler="none", encoder="ordinal")
    scaled = make_preprocessor(data.feature_kinds, "onehot", encoder="ordinal")
    assert np.abs(raw.fit_transform(data.X, data.y)).max() > 100  # body mass in grams
    assert np.allclose(scaled.fit_transform(data.X, data.y)[:, 0].std(), 1.0)


def test_an_unknown_scaler_or_encoder_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown scaler 'minmax' or encoder 'onehot'; use one"):
        make_preprocessor({"a": "numeric"}, "onehot", scaler="minmax")


def test_only_a_positive_right_skewed_target_counts_as_skewed():
    rng = np.random.default_rng(0)
    assert target_skewed(rng.lognormal(size=500))
    assert not target_skewed(rng.normal(size=500))
    assert not target_skewed(rng.normal(size=500) ** 2 - 0.5)  # skewed but not positive
    assert not target_skewed(registry.get_task("diabetes").load().y)  # skewness about 0.44
    assert not target_skewed(np.ones(10))


def test_the_space_offers_log1p_only_for_a_skewed_regression_target(tmp_path, penguins):
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    task, skewed = _skewed_diabetes()
    _, plain = penguins
    offered = {}
    for name, data, problem in (("skewed", skewed, "regression"), ("plain", plain, "multiclass")):
        spec = cv.spec_for(problem, "tabular", data)
        assert spec.target_skewed is (name == "skewed")
        study = studies.open_study(storage, name, "minimize", seed=0, data=data)
        trial = study.ask()
        params = registry.get_model("linear").sample(trial, spec)
        assert set(params) == set(registry.get_model("linear").defaults)
        offered[name] = trial.distributions["target_transform"].choices
    assert offered == {"skewed": ("none", "log1p"), "plain": ("none",)}


@pytest.mark.parametrize("name", CHOOSERS)
def test_log1p_wraps_the_regressor_and_predicts_on_the_original_scale(name):
    task, data = _skewed_diabetes()
    model = registry.get_model(name)
    spec = cv.spec_for(task.problem_type, task.modality, data)
    params = {**model.defaults, "target_transform": "log1p"}
    train, valid = data.folds[0]
    plain, _, _ = cv.fit_fold(model, model.defaults, data, spec, 0, 0)
    logged, _, _ = cv.fit_fold(model, params, data, spec, 0, 0)
    assert (logged > 0).all()  # expm1 of a fit on log1p(y)
    assert not np.allclose(plain, logged)
    truth = data.y[valid]
    assert np.sqrt(np.mean((logged - truth) ** 2)) < truth.std()  # it learned something
    wrapped = model.build(spec, params, seed=0)
    assert type(wrapped).__name__ == "TransformedTargetRegressor"
    assert with_target_transform(wrapped, "binary", params) is wrapped  # never for classes
