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


def test_every_pick_improves_so_the_blend_is_never_worse_than_the_best_single_model():
    rng = np.random.default_rng(3)
    y = rng.normal(size=500)
    oof = {f"m{i}": y + rng.normal(scale=0.5 + 0.1 * i, size=500) for i in range(3)}
    oof["bad"] = y + rng.normal(scale=3.0, size=500)
    selection = ensemble.select(oof, y, "rmse", rounds=30)
    assert "bad" not in selection.weights
    assert 1 < len(selection.trajectory) < 30  # it stopped at the plateau
    assert all(b < a for a, b in zip(selection.trajectory, selection.trajectory[1:], strict=False))
    assert selection.score == selection.trajectory[-1] == min(selection.trajectory)
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


def test_a_constant_model_is_never_picked_and_classification_selects_on_log_loss():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 400)
    signal = np.clip(y * 0.6 + rng.normal(0.2, 0.25, 400), 0.01, 0.99)
    good = np.column_stack([1 - signal, signal])
    constant = np.tile([0.5, 0.5], (400, 1))  # ROC AUC ignores it; log loss does not
    squashed = 0.5 + (good - 0.5) * 0.2  # the same ranking, worse probabilities
    oof = {"dummy": constant, "squashed": squashed, "good": good}
    on_auc = ensemble.select(oof, y, "roc_auc")
    assert on_auc.weights == {"squashed": 1.0}  # a tie on ROC AUC: the first one, then a plateau
    metric = ensemble.selection_metric("roc_auc", 2)
    assert metric == "log_loss" and ensemble.selection_metric("rmse", 0) == "rmse"
    assert ensemble.select(oof, y, metric).weights == {"good": 1.0}


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


def test_cross_validation_returns_out_of_fold_predictions_per_repeat():
    from harness import registry
    from harness.protocol.splits import prepare

    task = registry.get_task("penguins")
    data = prepare(task, task.load(), folds=3, seed=0, repeats=2)
    model = registry.get_model("naive_bayes")
    spec = cv.spec_for(task.problem_type, task.modality, data)
    scores = cv.cross_validate(model, model.defaults, data, spec, task.metrics, seed=0)
    assert scores.oof.shape == (2, len(data.y), data.n_classes)
    assert np.allclose(scores.oof.sum(axis=2), 1.0)
    # each row is validated once per repeat: repeat r holds the predictions of its own folds
    by_repeat = np.zeros_like(scores.oof)
    for fold in range(len(data.folds)):
        prediction, _, _ = cv.fit_fold(model, model.defaults, data, spec, 0, fold)
        by_repeat[fold // 3][data.folds[fold][1]] = prediction
    assert np.allclose(scores.oof, by_repeat)
    averaged = ensemble.mean_over_repeats(scores.oof)
    assert np.allclose(averaged, by_repeat.mean(axis=0))
    assert ensemble.by_repeat(averaged, len(data.y), 3).shape == (1, len(data.y), 3)  # older runs


@pytest.mark.parametrize("repeats", [1, 3])
def test_a_one_member_ensemble_scores_exactly_its_members_fold_scores(repeats):
    from harness import registry
    from harness.protocol.splits import prepare

    task = registry.get_task("penguins")
    data = prepare(task, task.load(), folds=3, seed=0, repeats=repeats)
    model = registry.get_model("naive_bayes")
    spec = cv.spec_for(task.problem_type, task.modality, data)
    scores = cv.cross_validate(model, model.defaults, data, spec, task.metrics, seed=0)
    crossed = ensemble.cross_fitted_scores(
        {"naive_bayes": scores.oof}, data.y, data.folds, task.metrics, repeats=repeats
    )
    for name in task.metrics:
        assert crossed[name] == pytest.approx(scores.scores[name], abs=1e-12), name


def test_cross_fitting_shows_what_selection_on_its_own_rows_hides():
    """Many weak models on few rows: the blend chosen on all rows flatters itself there."""
    rng = np.random.default_rng(11)
    n, k = 120, 4
    y = rng.integers(0, 2, n)
    oof = {}
    for i in range(25):  # pure noise with a faint signal
        p = np.clip(0.5 + 0.05 * (y - 0.5) + rng.normal(0, 0.2, n), 0.02, 0.98)
        oof[f"weak{i}"] = np.column_stack([1 - p, p])[np.newaxis]
    folds = tuple(
        (np.setdiff1d(np.arange(n), part), part) for part in np.array_split(rng.permutation(n), k)
    )
    mean = {name: sets[0] for name, sets in oof.items()}
    in_sample = ensemble.select(mean, y, "roc_auc").score
    crossed = ensemble.cross_fitted_scores(oof, y, folds, ("roc_auc",))
    assert np.mean(crossed["roc_auc"]) < in_sample - 0.05


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
