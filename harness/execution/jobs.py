"""The jobs a study's worker process runs: cross-validate a configuration, refit the best one,
or predict with the bag of the best one's fold models.

The worker keeps the fold models of the best trial it has cross-validated (a `Bag`), so the
study's final model can be that bag (their averaged predictions) without a refit. Only one bag
is kept per study, and none when keeping it would take the worker past `bag_memory_mb`.

The final model's fitted estimators live only here, so the worker also saves them
(`save_models`, given a folder by `bag_job` / `refit_job`): the study process logs that folder
as the study's MLflow model (`harness.results.models`).
"""

from __future__ import annotations

import contextvars
import functools
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.contracts.metrics import get_metric
from harness.contracts.model import BuildSpec, Model
from harness.execution.messages import EpochDone, FoldDone
from harness.protocol.cv import FoldScores, bag_predict, cross_validate, fit_and_predict
from harness.protocol.splits import Prepared

__all__ = [
    "Bag",
    "BagPrediction",
    "EpochReporter",
    "StudyContext",
    "bag_job",
    "cv_job",
    "epoch_reporter",
    "kept_bag",
    "model_mb_limit",
    "refit_job",
    "MEMBERS_FILE",
    "MODEL_LIBRARIES",
    "MODEL_MB_LIMIT",
    "MODEL_MB_LIMIT_ENV",
    "save_models",
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
    bag_memory_mb: float | None = None  # a bag that takes the worker past this is not kept


@dataclass(frozen=True)
class Bag:
    """The fold models of a trial's cross-validation, kept in the worker that fitted them."""

    trial: int
    value: float  # the trial's CV score (primary metric)
    models: tuple[Any, ...]


@dataclass(frozen=True)
class BagPrediction:
    """What `bag_job` returns: the bag's mean prediction and how it was had.

    Attributes:
        prediction: Mean prediction of the fold models on the rows asked for.
        predict_seconds: Seconds the fold models took to predict them.
        models: Fold models in the bag.
        recomputed: The cross-validation that rebuilt the bag when the worker had not kept it
            (its scores and out-of-fold predictions), else None.
    """

    prediction: np.ndarray
    predict_seconds: float
    models: int
    recomputed: FoldScores | None = None


# context id -> the bag of the best trial this process cross-validated for that study
_BAGS: dict[int, Bag] = {}

MEMBERS_FILE = "members.json"  # what `save_models` wrote: the files, libraries, seconds
# Libraries a saved estimator may need besides scikit-learn, pandas and NumPy: those imported in
# the worker when it saves are the model's (the study process imports none of them).
MODEL_LIBRARIES = ("xgboost", "lightgbm", "catboost", "keras", "tensorflow", "torch", "scipy")
# A final model larger than this is not saved (nor logged): a bag of five fully grown random
# forests on diamonds' 43,000 rows is 2.9 GB and took 43 s to save. HARNESS_MODEL_MB_LIMIT
# changes it.
MODEL_MB_LIMIT = 1000.0
MODEL_MB_LIMIT_ENV = "HARNESS_MODEL_MB_LIMIT"


class _TooLarge(Exception):
    """A final model past `model_mb_limit()` while it was being saved."""


def model_mb_limit() -> float:
    """The size past which a final model is not saved, in MB (`MODEL_MB_LIMIT_ENV`)."""
    try:
        return float(os.environ.get(MODEL_MB_LIMIT_ENV, MODEL_MB_LIMIT))
    except ValueError:
        return MODEL_MB_LIMIT


def _for_cpu(estimator: Any, seen: set[int] | None = None) -> None:
    """Make a fitted estimator predict on the CPU wherever it is loaded: an XGBoost learner
    fitted with `device="cuda"` is set to the CPU (LightGBM and CatBoost predict on the CPU
    whatever they were fitted on; Keras places a loaded network on what the machine has)."""
    seen = set() if seen is None else seen
    if id(estimator) in seen or estimator is None:
        return
    seen.add(id(estimator))
    if type(estimator).__module__.startswith("xgboost") and hasattr(estimator, "set_params"):
        estimator.set_params(device="cpu")
        return
    for part in getattr(estimator, "steps", None) or ():  # a scikit-learn pipeline
        _for_cpu(part[1], seen)
    for name in ("learner_", "estimator_", "model_"):
        _for_cpu(getattr(estimator, name, None), seen)


def save_models(models: list, folder: str) -> dict:
    """Save fitted estimators into `folder` (joblib, one file each) with `members.json`: the
    files, the versions of the model libraries loaded here, and the seconds it took. An
    estimator that cannot be saved does not fail the job (its predictions stand): the error is
    written there instead, for the study process to record.

    Returns:
        What `members.json` holds.
    """
    from importlib.metadata import PackageNotFoundError, version

    import joblib

    from harness.errors import error_text

    start = time.perf_counter()
    os.makedirs(folder, exist_ok=True)
    files, size, limit = [], 0.0, model_mb_limit()
    try:
        for number, estimator in enumerate(models):
            _for_cpu(estimator)
            name = f"model_{number}.joblib"
            joblib.dump(estimator, os.path.join(folder, name))
            files.append(name)
            size += os.path.getsize(os.path.join(folder, name)) / 1e6
            if size > limit:
                for written in files:
                    os.remove(os.path.join(folder, written))
                raise _TooLarge
    except _TooLarge:
        saved = {
            "error": f"the model passed {limit:g} MB after {len(files)} of {len(models)} "
            f"estimator(s) ({size:.3g} MB); set {MODEL_MB_LIMIT_ENV} to log larger models"
        }
        with open(os.path.join(folder, MEMBERS_FILE), "w") as out:
            json.dump(saved, out)
        return saved
    except Exception as exc:
        saved = {"error": error_text(exc)}
        with open(os.path.join(folder, MEMBERS_FILE), "w") as out:
            json.dump(saved, out)
        return saved
    libraries = {}
    for library in MODEL_LIBRARIES:
        if library in sys.modules:
            try:
                libraries[library] = version(library)
            except PackageNotFoundError:
                pass
    saved = {
        "files": files,
        "libraries": libraries,
        "save_seconds": time.perf_counter() - start,
    }
    with open(os.path.join(folder, MEMBERS_FILE), "w") as out:
        json.dump(saved, out, indent=2)
    return saved


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
def cv_job(
    context: StudyContext, send: Callable[[Any], None], params: dict, trial: int | None = None
) -> FoldScores:
    """Worker job: cross-validate `params`, sending a `FoldDone` after each fold.

    With a `trial` number, the fold models are kept as the study's bag when their CV score is
    the best this process has seen (`bag_job` predicts with them).
    """
    models: list | None = [] if trial is not None else None
    scores = _cross_validate(
        context, params, models, lambda fold, running_mean: send(FoldDone(fold, running_mean))
    )
    if trial is not None:
        _keep_bag(context, trial, scores, models or [])
    return scores


def _cross_validate(
    context: StudyContext,
    params: dict,
    models: list | None,
    on_fold: Callable[[int, float], None] | None = None,
) -> FoldScores:
    """`params` over the study's folds, the fold models appended to `models` when given."""
    return cross_validate(
        context.model,
        params,
        context.data,
        context.spec,
        context.metrics,
        seed=context.seed,
        on_fold=on_fold,
        models=models,
    )


def _keep_bag(context: StudyContext, trial: int, scores: FoldScores, models: list) -> None:
    """Keep `models` as the study's bag if their score is the best yet, and if memory allows."""
    from harness.execution.worker import rss_mb

    metric = get_metric(context.metrics[0])
    value = float(np.mean(scores.scores[metric.name]))
    kept = _BAGS.get(id(context))
    if not np.isfinite(value) or (kept is not None and not metric.better(value, kept.value)):
        return
    _BAGS[id(context)] = Bag(trial, value, tuple(models))
    del kept
    if context.bag_memory_mb is None:
        return
    gc.collect()  # the replaced bag's models, before the worker's memory is read
    used = rss_mb(os.getpid())
    if used is not None and used > context.bag_memory_mb:
        del _BAGS[id(context)]  # the final model will be recomputed or refitted instead
        gc.collect()


def kept_bag(context: StudyContext) -> Bag | None:
    """The bag this process keeps for the study of `context` (None when it keeps none)."""
    return _BAGS.get(id(context))


def bag_job(
    context: StudyContext,
    send: Callable[[Any], None],
    trial: int,
    params: dict,
    X_pred: Any,
    rebuild: bool = True,
    save_to: str | None = None,
) -> BagPrediction | None:
    """Worker job: predict `X_pred` with the bag of trial `trial` (the averaged predictions of
    its fold models). A bag this process did not keep is rebuilt by cross-validating `params`
    (its scores and out-of-fold predictions come back too), or, without `rebuild`, the job
    returns None. With `save_to`, the fold models are saved there (`save_models`)."""
    bag, recomputed = _BAGS.get(id(context)), None
    if bag is None or bag.trial != trial:
        if not rebuild:
            return None
        models: list = []
        recomputed = _cross_validate(context, params, models)
        bag = Bag(trial, float(np.mean(recomputed.scores[context.metrics[0]])), tuple(models))
    prediction, seconds = bag_predict(
        list(bag.models), X_pred, context.data.n_classes, context.spec.n_jobs
    )
    if save_to is not None:
        save_models(list(bag.models), save_to)
    return BagPrediction(prediction, seconds, len(bag.models), recomputed)


def refit_job(
    context: StudyContext,
    send: Callable[[Any], None],
    params: dict,
    X_pred: Any,
    save_to: str | None = None,
) -> tuple[np.ndarray, float, float, dict[str, float]]:
    """Worker job: fit `params` on the whole training part and predict `X_pred`; with
    `save_to`, the fitted estimator is saved there (`save_models`).

    Returns:
        Predictions, fit seconds, predict seconds, and the fitted estimator's `fit_info`.
    """
    data = context.data
    info: dict[str, float] = {}
    kept: list = []
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
        keep=kept,
    )
    if save_to is not None:
        save_models(kept, save_to)
    return prediction, fit_s, predict_s, info
