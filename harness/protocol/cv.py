"""Cross-validation of one configuration: a fresh estimator per fold, scores, OOF predictions."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from harness.contracts.metrics import get_metric
from harness.contracts.model import BuildSpec, Model, thread_limits
from harness.contracts.task import NO_AUGMENTATION, Augmentation
from harness.protocol import deadline as fit_deadlines
from harness.protocol.choices import target_skewed
from harness.protocol.splits import Prepared

__all__ = [
    "FoldScores",
    "bag_predict",
    "cross_validate",
    "fit_and_predict",
    "fit_fold",
    "fit_info",
    "out_of_fold",
    "predict",
    "spec_for",
]


@dataclass(frozen=True)
class FoldScores:
    """Scores of one configuration over the CV folds.

    Attributes:
        scores: Metric name -> one score per fold.
        fit_seconds: Fit time per fold.
        predict_seconds: Prediction time per fold.
        fit_info: Numbers a fitted estimator reports about its fit (e.g. `rounds_used` of an
            early-stopped booster) -> one value per fold.
        oof: Out-of-fold predictions of the training part, one set per repeat of the K-fold:
            repeats x rows x classes (probabilities) or repeats x rows (regression), NaN for
            rows no fold validates (the first block of time-ordered folds). What ensembles are
            fitted on (`harness.protocol.ensemble.by_repeat` reads older, averaged ones too).
    """

    scores: dict[str, list[float]]
    fit_seconds: list[float]
    predict_seconds: list[float]
    fit_info: dict[str, list[float]] = field(default_factory=dict)
    oof: np.ndarray | None = field(default=None, compare=False, repr=False)


def predict(estimator: Any, X: Any, n_classes: int) -> np.ndarray:
    """Probabilities over all `n_classes` codes (classification) or values (regression).

    Estimators that never saw a class in their training rows get a zero column for it.
    """
    if n_classes == 0:
        return np.asarray(estimator.predict(X), dtype=float).ravel()
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    classes = getattr(estimator, "classes_", None)
    if proba.shape[1] != n_classes and classes is not None:
        full = np.zeros((proba.shape[0], n_classes))
        full[:, np.asarray(classes, dtype=int)] = proba
        proba = full
    # float32 outputs (XGBoost, Keras) sum to 1 only within 1e-7: renormalize in float64.
    return proba / proba.sum(axis=1, keepdims=True)


def fit_info(estimator: Any) -> dict[str, float]:
    """The numeric `fit_info_` of a fitted estimator, or of the last step of a pipeline.

    Models report what their fit decided there (an early-stopped booster: `rounds_used`);
    tuning keeps it per fold and the runner logs it to MLflow. Empty when there is none.
    """
    info = getattr(estimator, "fit_info_", None)
    if info is None and hasattr(estimator, "steps"):
        info = getattr(estimator.steps[-1][1], "fit_info_", None)
    if not isinstance(info, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in info.items()
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
    }


def fit_and_predict(
    model: Model,
    params: dict,
    spec: BuildSpec,
    seed: int,
    X_fit,
    y_fit,
    X_pred,
    n_classes: int,
    *,
    info: dict | None = None,
    keep: list | None = None,
) -> tuple[np.ndarray, float, float]:
    """Build a fresh estimator, fit it, predict; return (predictions, fit s, predict s).

    BLAS and OpenMP pools (scikit-learn's histogram boosting, NumPy's linear algebra) are capped
    at `spec.n_jobs` for the fit and the prediction, so parallel studies never oversubscribe the
    cores; learners with their own thread setting get `spec.n_jobs` from their `build`. The
    estimator's `fit_info` is copied into `info` when given, and the fitted estimator is
    appended to `keep` when given.
    """
    estimator = model.build(replace(spec, n_rows=len(y_fit)), dict(params), seed=seed)
    with thread_limits(spec.n_jobs):
        start = time.perf_counter()
        estimator.fit(X_fit, y_fit)
        fitted = time.perf_counter()
        prediction = predict(estimator, X_pred, n_classes)
        done = time.perf_counter()
    if info is not None:
        info.update(fit_info(estimator))
    if keep is not None:
        keep.append(estimator)
    return prediction, fitted - start, done - fitted


def bag_predict(estimators: list, X: Any, n_classes: int, n_jobs: int) -> tuple[np.ndarray, float]:
    """The mean prediction of fitted `estimators` (a bag of fold models) on `X`, and its
    seconds: averaged probabilities (classification) or values (regression)."""
    with thread_limits(n_jobs):
        start = time.perf_counter()
        total = sum(predict(estimator, X, n_classes) for estimator in estimators)
        seconds = time.perf_counter() - start
    return total / len(estimators), seconds


def spec_for(
    problem_type: str,
    modality: str,
    data: Prepared,
    *,
    n_jobs: int = 1,
    device: str = "cpu",
    augmentation: Augmentation = NO_AUGMENTATION,
) -> BuildSpec:
    """The BuildSpec a model gets for the training part of `data`."""
    return BuildSpec(
        problem_type=problem_type,
        modality=modality,
        feature_kinds=data.feature_kinds,
        n_classes=data.n_classes,
        n_rows=len(data.y),
        n_jobs=n_jobs,
        device=device,
        shuffle=not data.ordered,
        augmentation=augmentation,
        target_skewed=not data.n_classes and target_skewed(data.y),
    )


def fit_fold(
    model: Model,
    params: dict,
    data: Prepared,
    spec: BuildSpec,
    seed: int,
    fold: int,
    *,
    info: dict | None = None,
    keep: list | None = None,
) -> tuple[np.ndarray, float, float]:
    """Fit a fresh estimator on a fold's training rows and predict its validation rows."""
    train, valid = data.folds[fold]
    return fit_and_predict(
        model,
        params,
        spec,
        seed,
        data.X.iloc[train],
        data.y[train],
        data.X.iloc[valid],
        data.n_classes,
        info=info,
        keep=keep,
    )


def cross_validate(
    model: Model,
    params: dict,
    data: Prepared,
    spec: BuildSpec,
    metrics: tuple[str, ...],
    *,
    seed: int,
    on_fold: Callable[[int, float], None] | None = None,
    models: list | None = None,
) -> FoldScores:
    """Score one configuration on every fold; `on_fold(i, running mean)` may raise to prune.

    The fold predictions are also gathered into the out-of-fold predictions `FoldScores.oof`,
    one set per repeat of the K-fold (the folds hold K pairs per repeat, repeat by repeat).
    The fitted fold models are appended to `models` when given (a bag: `bag_predict`).
    Under a fit deadline (`harness.protocol.deadline`), each fold's fit gets its share of the
    time left.
    """
    primary = metrics[0]
    scores: dict[str, list[float]] = {name: [] for name in metrics}
    fit_s, predict_s = [], []
    infos: dict[str, list[float]] = {}
    n_rows, repeats = len(data.y), max(data.repeats, 1)
    per_repeat = len(data.folds) // repeats
    shape = (repeats, n_rows, data.n_classes) if data.n_classes else (repeats, n_rows)
    oof_sum, oof_count = np.zeros(shape), np.zeros((repeats, n_rows))
    deadline = fit_deadlines.fit_deadline()
    for number, (_, valid) in enumerate(data.folds):
        info: dict[str, float] = {}
        left, reserve = len(data.folds) - number, predict_s[-1] if predict_s else 0.0
        with fit_deadlines.fitting_until(fit_deadlines.fold_deadline(deadline, left, reserve)):
            prediction, fit_time, predict_time = fit_fold(
                model, params, data, spec, seed, number, info=info, keep=models
            )
        repeat = number // per_repeat
        oof_sum[repeat, valid] += prediction
        oof_count[repeat, valid] += 1
        for key, value in info.items():
            infos.setdefault(key, []).append(value)
        for name in metrics:
            scores[name].append(get_metric(name).score(data.y[valid], prediction))
        fit_s.append(fit_time)
        predict_s.append(predict_time)
        if on_fold is not None:
            on_fold(number, float(np.mean(scores[primary])))
    return FoldScores(scores, fit_s, predict_s, infos, oof=out_of_fold(oof_sum, oof_count))


def out_of_fold(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Summed fold predictions / how often each row was validated; NaN where never (`count`
    has the shape of `total` without its class axis, when it has one)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        shape = (*count.shape, 1) if total.ndim == count.ndim + 1 else count.shape
        return np.where(count.reshape(shape) > 0, total / count.reshape(shape), np.nan)
