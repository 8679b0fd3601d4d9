"""Metric registry: name -> scoring function, direction, and what predictions it needs.

Every score is stored raw (log loss as log loss, never negated); `Metric.direction` says which
way is better. Classification predictions are always a probability matrix over the encoded classes
0..k-1; metrics that need labels take its arg-max, so a model is asked to predict once per fold.
The metrics are NumPy: every fold of every trial is scored with every metric, and scikit-learn's
input validation made that cost about 3 ms a score (tests check each against scikit-learn).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from harness.errors import PluginError, UnknownNameError

__all__ = [
    "DEFAULT_METRICS",
    "MAXIMIZE",
    "METRICS",
    "MINIMIZE",
    "Metric",
    "check_metric_fits",
    "get_metric",
]

MAXIMIZE, MINIMIZE = "maximize", "minimize"


@dataclass(frozen=True)
class Metric:
    """One metric.

    Attributes:
        name: Registry name, used in MLflow keys (`cv_<name>_mean`).
        direction: "maximize" or "minimize".
        needs: "proba" (probability matrix), "label" (class labels) or "value" (regression values).
        problem_types: Problem types it applies to.
        func: `func(y_true, y_pred) -> float` with y_pred as `needs` says.
        bounds: The range the score can take (a confidence interval is clipped to it).
    """

    name: str
    direction: str
    needs: str
    problem_types: tuple[str, ...]
    func: Callable[[np.ndarray, np.ndarray], float]
    bounds: tuple[float, float] = (-math.inf, math.inf)

    def better(self, a: float, b: float) -> bool:
        """Whether score `a` is strictly better than score `b`."""
        return a > b if self.direction == MAXIMIZE else a < b

    def score(self, y_true: np.ndarray, prediction: np.ndarray) -> float:
        """Score predictions as produced by the runner (probabilities or values)."""
        if self.needs == "label":
            prediction = np.asarray(prediction).argmax(axis=1)
        return float(self.func(np.asarray(y_true), np.asarray(prediction)))


def _roc_auc(y, proba):
    """Binary ROC AUC as the Mann-Whitney statistic (ties count one half), like scikit-learn's.

    Written with NumPy because scikit-learn's input validation costs milliseconds per call, and
    every fold of every trial is scored with every metric. One class present: NaN with
    scikit-learn's UndefinedMetricWarning, as `roc_auc_score` does.
    """
    positive = y == 1
    n_pos = int(positive.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        import warnings

        from sklearn.exceptions import UndefinedMetricWarning

        warnings.warn(
            "Only one class is present in y_true. ROC AUC score is not defined in that case.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        return float("nan")
    rank_sum = _rank_sum(_probabilities(proba)[:, 1], positive)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _rank_sum(values: np.ndarray, chosen: np.ndarray) -> float:
    """Sum of the 1-based ranks of `values[chosen]` among `values`, ties at their average rank.

    Ranks are summed in sorted order, so the order of tied values (an unstable sort's) does not
    matter and no array of ranks is scattered back to the input's order.
    """
    order = np.argsort(values)
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.repeat((starts + ends + 1) / 2, ends - starts)
    return float(ranks[chosen[order]].sum())


def _probabilities(proba: np.ndarray) -> np.ndarray:
    """`proba` as floats, refused (as scikit-learn refuses them) when NaN or outside [0, 1]."""
    proba = proba if np.issubdtype(proba.dtype, np.floating) else proba.astype(float)
    if np.isnan(proba).any():
        raise ValueError("probabilities contain NaN")
    if proba.size and (proba.max() > 1 or proba.min() < 0):
        raise ValueError(f"probabilities must lie in [0, 1]; got {proba.min()} to {proba.max()}")
    return proba


def _log_loss(y, proba):
    """Mean negative log-likelihood, probabilities clipped to [eps, 1 - eps] of their dtype."""
    proba = _probabilities(proba)
    eps = np.finfo(proba.dtype).eps
    picked = np.clip(proba[np.arange(len(y)), y.astype(np.intp)], eps, 1 - eps)
    return float(-np.mean(np.log(picked.astype(float))))


def _brier(y, proba):
    return float(np.mean((y.astype(float) - _probabilities(proba)[:, 1].astype(float)) ** 2))


def _accuracy(y, labels):
    return float(np.mean(y == labels))


def _balanced_accuracy(y, labels):
    """Mean recall over the classes present in `y` (as scikit-learn's, no adjustment)."""
    classes = np.unique(y)
    return float(np.mean([np.mean(labels[y == c] == c) for c in classes]))


def _f1_macro(y, labels):
    """Unweighted mean F1 over the classes in `y` or `labels`; 0 for a class never hit."""
    scores = []
    for c in np.union1d(y, labels):
        hit, truth = labels == c, y == c
        true_pos = np.sum(hit & truth)
        scores.append(2 * true_pos / (hit.sum() + truth.sum()))
    return float(np.mean(scores))


def _rmse(y, pred):
    return np.sqrt(np.mean((y.astype(float) - pred.astype(float)) ** 2))


def _mae(y, pred):
    return np.mean(np.abs(y.astype(float) - pred.astype(float)))


def _r2(y, pred):
    """1 - residual / total sum of squares; a constant target scores 1 if hit exactly, else 0."""
    y, pred = y.astype(float), pred.astype(float)
    residual = np.sum((y - pred) ** 2)
    total = np.sum((y - y.mean()) ** 2)
    if total == 0:
        return 1.0 if residual == 0 else 0.0
    return 1 - residual / total


_BIN, _MULTI, _REG = ("binary",), ("binary", "multiclass"), ("regression",)
_UNIT, _POSITIVE = (0.0, 1.0), (0.0, math.inf)

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("roc_auc", MAXIMIZE, "proba", _BIN, _roc_auc, _UNIT),
        Metric("log_loss", MINIMIZE, "proba", _MULTI, _log_loss, _POSITIVE),
        Metric("brier", MINIMIZE, "proba", _BIN, _brier, _UNIT),
        Metric("accuracy", MAXIMIZE, "label", _MULTI, _accuracy, _UNIT),
        Metric("balanced_accuracy", MAXIMIZE, "label", _MULTI, _balanced_accuracy, _UNIT),
        Metric("f1_macro", MAXIMIZE, "label", _MULTI, _f1_macro, _UNIT),
        Metric("rmse", MINIMIZE, "value", _REG, _rmse, _POSITIVE),
        Metric("mae", MINIMIZE, "value", _REG, _mae, _POSITIVE),
        Metric("r2", MAXIMIZE, "value", _REG, _r2, (-math.inf, 1.0)),
    )
}

DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("roc_auc", "log_loss", "accuracy", "balanced_accuracy", "brier"),
    "multiclass": ("log_loss", "accuracy", "balanced_accuracy", "f1_macro"),
    "regression": ("rmse", "mae", "r2"),
}


def get_metric(name: str) -> Metric:
    """Look a metric up by name; unknown names suggest the closest one."""
    try:
        return METRICS[name]
    except KeyError:
        raise UnknownNameError("metric", name, METRICS) from None


def check_metric_fits(name: str, problem_type: str, *, where: str) -> None:
    """Raise a `PluginError` when `name` is unknown or does not fit `problem_type`."""
    try:
        metric = get_metric(name)
    except UnknownNameError as exc:
        raise PluginError(f"{where}: {exc}") from None
    if problem_type not in metric.problem_types:
        raise PluginError(
            f"{where}: metric {name!r} does not fit a {problem_type} task; "
            f"it applies to {', '.join(metric.problem_types)}."
        )
