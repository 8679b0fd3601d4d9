"""Metric registry: name -> scoring function, direction, and what predictions it needs.

Every score is stored raw (log loss as log loss, never negated); `Metric.direction` says which
way is better. Classification predictions are always a probability matrix over the encoded classes
0..k-1; metrics that need labels take its arg-max, so a model is asked to predict once per fold.
scikit-learn is imported only when a metric is computed, so building a `Task` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from harness.errors import PluginError, UnknownNameError

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
    """

    name: str
    direction: str
    needs: str
    problem_types: tuple[str, ...]
    func: Callable[[np.ndarray, np.ndarray], float]

    def better(self, a: float, b: float) -> bool:
        """Whether score `a` is strictly better than score `b`."""
        return a > b if self.direction == MAXIMIZE else a < b

    def score(self, y_true: np.ndarray, prediction: np.ndarray) -> float:
        """Score predictions as produced by the runner (probabilities or values)."""
        if self.needs == "label":
            prediction = np.asarray(prediction).argmax(axis=1)
        return float(self.func(np.asarray(y_true), np.asarray(prediction)))


def _roc_auc(y, proba):
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(y, proba[:, 1])


def _log_loss(y, proba):
    from sklearn.metrics import log_loss

    return log_loss(y, proba, labels=list(range(proba.shape[1])))


def _brier(y, proba):
    from sklearn.metrics import brier_score_loss

    return brier_score_loss(y, proba[:, 1])


def _accuracy(y, labels):
    from sklearn.metrics import accuracy_score

    return accuracy_score(y, labels)


def _balanced_accuracy(y, labels):
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(y, labels)


def _f1_macro(y, labels):
    from sklearn.metrics import f1_score

    return f1_score(y, labels, average="macro")


def _rmse(y, pred):
    return np.sqrt(np.mean((y.astype(float) - pred.astype(float)) ** 2))


def _mae(y, pred):
    return np.mean(np.abs(y.astype(float) - pred.astype(float)))


def _r2(y, pred):
    from sklearn.metrics import r2_score

    return r2_score(y, pred)


_BIN, _MULTI, _REG = ("binary",), ("binary", "multiclass"), ("regression",)

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("roc_auc", MAXIMIZE, "proba", _BIN, _roc_auc),
        Metric("log_loss", MINIMIZE, "proba", _MULTI, _log_loss),
        Metric("brier", MINIMIZE, "proba", _BIN, _brier),
        Metric("accuracy", MAXIMIZE, "label", _MULTI, _accuracy),
        Metric("balanced_accuracy", MAXIMIZE, "label", _MULTI, _balanced_accuracy),
        Metric("f1_macro", MAXIMIZE, "label", _MULTI, _f1_macro),
        Metric("rmse", MINIMIZE, "value", _REG, _rmse),
        Metric("mae", MINIMIZE, "value", _REG, _mae),
        Metric("r2", MAXIMIZE, "value", _REG, _r2),
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
