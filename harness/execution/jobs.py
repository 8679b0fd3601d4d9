"""The jobs a study's worker process runs: cross-validate a configuration, refit the best one."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.contracts.metrics import get_metric
from harness.contracts.model import BuildSpec, Model
from harness.execution.messages import EpochDone, FoldDone
from harness.protocol.cv import FoldScores, cross_validate, fit_and_predict
from harness.protocol.splits import Prepared

__all__ = [
    "EpochReporter",
    "StudyContext",
    "cv_job",
    "epoch_reporter",
    "refit_job",
    "with_epoch_reporting",
]


@dataclass(frozen=True)
class StudyContext:
    """What a study's worker process needs to run its jobs (inherited through the fork)."""

    model: Model
    data: Prepared
    spec: BuildSpec
    metrics: tuple[str, ...]
    seed: int


class EpochReporter:
    """Sends a network's per-epoch validation score from inside a fit to the study's pruner.

    `cv_job` runs with one installed (`with_epoch_reporting`, `epoch_reporter`); it passes the
    fold messages through and counts them, so it knows which fold an epoch belongs to. A "stop"
    answer raises inside the fit (the worker's stop, or `optuna.TrialPruned` in-process) and ends
    the trial.
    """

    def __init__(self, send: Callable[[Any], None], metric: str) -> None:
        self._send, self.metric, self.fold = send, metric, 0

    def __call__(self, message: FoldDone) -> None:
        self.fold = message.fold + 1
        self._send(message)

    def epoch(self, epoch: int, y_true: np.ndarray, prediction: np.ndarray) -> None:
        """Score `prediction` of the fit's validation rows with the study's primary metric."""
        value = float(get_metric(self.metric).score(y_true, prediction))
        self._send(EpochDone(self.fold, epoch, value))


_EPOCH_REPORTER: contextvars.ContextVar[EpochReporter | None] = contextvars.ContextVar(
    "harness_epoch_reporter", default=None
)


def epoch_reporter() -> EpochReporter | None:
    """The reporter of the cross-validation running here, or None (refits, direct fits)."""
    return _EPOCH_REPORTER.get()


def with_epoch_reporting(job: Callable[..., Any]) -> Callable[..., Any]:
    """Let networks fitted inside a job `job(context, send, ...)` report epochs through `send`."""

    @functools.wraps(job)
    def reporting(context: StudyContext, send: Callable[[Any], None], *args: Any) -> Any:
        reporter = EpochReporter(send, context.metrics[0])
        token = _EPOCH_REPORTER.set(reporter)
        try:
            return job(context, reporter, *args)
        finally:
            _EPOCH_REPORTER.reset(token)

    return reporting


@with_epoch_reporting
def cv_job(context: StudyContext, send: Callable[[Any], None], params: dict) -> FoldScores:
    """Worker job: cross-validate `params`, sending a `FoldDone` after each fold."""
    return cross_validate(
        context.model,
        params,
        context.data,
        context.spec,
        context.metrics,
        seed=context.seed,
        on_fold=lambda fold, running_mean: send(FoldDone(fold, running_mean)),
    )


def refit_job(
    context: StudyContext, send: Callable[[Any], None], params: dict, X_pred: Any
) -> tuple[np.ndarray, float, float, dict[str, float]]:
    """Worker job: fit `params` on the whole training part and predict `X_pred`.

    Returns:
        Predictions, fit seconds, predict seconds, and the fitted estimator's `fit_info`.
    """
    data = context.data
    info: dict[str, float] = {}
    prediction, fit_s, predict_s = fit_and_predict(
        context.model,
        params,
        context.spec,
        context.seed,
        data.X,
        data.y,
        X_pred,
        data.n_classes,
        info=info,
    )
    return prediction, fit_s, predict_s, info
