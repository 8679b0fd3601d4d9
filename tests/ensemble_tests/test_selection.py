"""Greedy forward selection with replacement (Caruana et al. 2004) on synthetic OOF predictions
whose best blend is known."""

from __future__ import annotations

import numpy as np
import pytest

from harness.contracts.metrics import get_metric
from harness.errors import HarnessError
from harness.protocol import cv, ensemble


def _noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=n)


def test_two_models_with_opposite_errors_are_blended_half_and_half():
    y = np.linspace(0, 10, 400)
    noise = _noise(400, 0)
    oof = {"over": y + noise, "under": y - noise, "worse": y + 3 * _noise(400, 1)}
    selection = ensemble.select(oof, y, "rmse", rounds=20)
    assert selection.weights == {"over": 0.5, "under": 0.5}
    assert selection.score == pytest.approx(0.0, abs=1e-12)  # their errors cancel exactly
    assert selection.score < min(selection.single.values())
    assert sum(selection.weights.values()) == pytest.approx(1.0)


def test_a_perfect_classifier_takes_all_the_weight_whatever_the_direction():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    perfect = np.column_stack([1 - y, y]) * 0.98 + 0.01
    noisy = rng.dirichlet([1, 1], 300)
    for metric in ("roc_auc", "log_loss"):  # maximize and minimize
        selection = ensemble.select({"noisy": noisy, "perfect": perfect}, y, metric, rounds=10)
        assert selection.weights == {"perfect": 1.0}, metric
        assert selection.counts == {"perfect": 1}


def test_the_best_prefix_is_kept_so_the_blend_is_never_worse_than_the_best_single_model():
    rng = np.random.default_rng(3)
    y = rng.normal(size=500)
    oof = {f"m{i}": y + rng.normal(scale=0.5 + i, size=500) for i in range(4)}
    selection = ensemble.select(oof, y, "rmse", rounds=30)
    assert len(selection.trajectory) == 30
    assert selection.score == min(selection.trajectory)
    assert selection.score <= min(selection.single.values())
    n = sum(selection.counts.values())
    assert selection.weights == {m: c / n for m, c in selection.counts.items()}
    # the weights reproduce the score
    blended = ensemble.blend(oof, selection.weights)
    assert get_metric("rmse").score(y, blended) == pytest.approx(selection.score)


def test_ties_go_to_the_model_given_first_and_repeat_deterministically():
    y = np.arange(50, dtype=float)
    same = y + _noise(50, 2)
    first = ensemble.select({"b": same, "a": same.copy()}, y, "mae")
    again = ensemble.select({"b": same, "a": same.copy()}, y, "mae")
    assert first.weights == again.weights == {"b": 1.0}


def test_rows_without_an_out_of_fold_prediction_are_left_out_of_the_fit():
    y = np.linspace(0, 1, 100)
    noise = _noise(100, 4)
    a, b = y + noise, y - noise
    a[:20] = np.nan  # a time-ordered first block no fold validates
    b[:20] = np.nan
    selection = ensemble.select({"a": a, "b": b}, y, "rmse", rounds=4)
    assert list(selection.rows) == list(range(20, 100))
    assert selection.weights == {"a": 0.5, "b": 0.5}
    assert np.isfinite(selection.score)


def test_cross_validation_returns_out_of_fold_predictions_averaged_over_repeats():
    from harness import registry
    from harness.protocol import cv
    from harness.protocol.splits import prepare

    task = registry.get_task("penguins")
    data = prepare(task, task.load(), folds=3, seed=0, repeats=2)
    model = registry.get_model("naive_bayes")
    spec = cv.spec_for(task.problem_type, task.modality, data)
    scores = cv.cross_validate(model, model.defaults, data, spec, task.metrics, seed=0)
    assert scores.oof.shape == (len(data.y), data.n_classes)
    assert np.allclose(scores.oof.sum(axis=1), 1.0)
    # each row is validated once per repeat: its OOF is the mean of its two fold predictions
    by_row = np.zeros_like(scores.oof)
    for fold in range(len(data.folds)):
        prediction, _, _ = cv.fit_fold(model, model.defaults, data, spec, 0, fold)
        by_row[data.folds[fold][1]] += prediction / 2
    assert np.allclose(scores.oof, by_row)


def test_out_of_fold_is_nan_where_no_fold_validates_a_row():
    total = np.array([[0.2, 0.8], [0.0, 0.0], [1.2, 0.8]])
    oof = cv.out_of_fold(total, np.array([1.0, 0.0, 2.0]))
    assert np.allclose(oof[[0, 2]], [[0.2, 0.8], [0.6, 0.4]])
    assert np.isnan(oof[1]).all()
    assert np.isnan(cv.out_of_fold(np.zeros(2), np.array([0.0, 1.0]))[0])


def test_selection_refuses_predictions_of_different_shapes_with_a_hint():
    y = np.zeros(10)
    with pytest.raises(HarnessError, match=r"different shapes .* same folds"):
        ensemble.select({"a": np.zeros(10), "b": np.zeros(9)}, y, "rmse")
    with pytest.raises(HarnessError, match="at least one model"):
        ensemble.select({}, y, "rmse")
    with pytest.raises(HarnessError, match="No training row has an out-of-fold prediction"):
        ensemble.select({"a": np.full(10, np.nan)}, y, "rmse")
