"""A finished Optuna trial as MLflow sees it: its metrics, per-fold series and tags.

Also when a trial missing from MLflow must be logged by this process (`unlogged_for_good`), and the
best value among a study's trials so far (`best_of`, for progress lines).
"""

from __future__ import annotations

import datetime
import os
import socket
from typing import Any

import numpy as np

from harness.store import schema
from harness.store.orphans import process_alive
from harness.tuning import attrs as tuning_attrs

__all__ = ["best_of", "cv_summary", "trial_payload", "unlogged_for_good"]


def trial_payload(trial: Any, metrics: tuple[str, ...]) -> dict:
    """MLflow metrics, per-fold series and tags of one finished Optuna trial."""
    state = trial.state.name.lower()
    status = {"complete": "ok", "pruned": "pruned", "fail": "failed"}.get(state, state)
    attrs = tuning_attrs.results_of(trial)
    status = attrs.get(tuning_attrs.STATUS_ATTR, status)  # timeout, oom
    scores = {name: attrs[schema.fold(name)] for name in metrics if schema.fold(name) in attrs}
    series = {schema.fold(name): values for name, values in scores.items()}
    summary = cv_summary(scores)
    if "fit_seconds" in attrs:
        summary["fit_seconds"] = float(np.sum(attrs["fit_seconds"]))
        summary["predict_seconds"] = float(np.sum(attrs["predict_seconds"]))
    # What the fitted models reported (an early-stopped booster's rounds_used): the fold mean.
    for key, values in attrs.get(tuning_attrs.FIT_INFO_ATTR, {}).items():
        summary[key] = float(np.mean(values))
    intermediate = trial.intermediate_values
    if status == "pruned" and intermediate:
        summary["pruned_after_folds"] = max(intermediate) + 1
    tags = {schema.KIND: schema.KIND_TRIAL, schema.TRIAL: trial.number, schema.STATUS: status}
    if attrs.get(tuning_attrs.DEFAULT_ATTR):
        tags[schema.DEFAULT_CONFIG] = "true"
    if attrs.get(tuning_attrs.PORTFOLIO_ATTR):
        tags[schema.PORTFOLIO_CONFIG] = attrs[tuning_attrs.PORTFOLIO_ATTR]
    if tuning_attrs.ERROR_ATTR in attrs:
        tags[schema.ERROR] = attrs[tuning_attrs.ERROR_ATTR]
    return {"metrics": summary, "series": series, "tags": tags, "status": status}


def cv_summary(scores: dict[str, list[float]]) -> dict[str, float]:
    """The CV mean and standard deviation (over folds) of each metric's fold scores."""
    summary = {}
    for name, values in scores.items():
        summary[schema.cv_mean(name)] = float(np.mean(values))
        summary[schema.cv_std(name)] = float(np.std(values))
    return summary


def unlogged_for_good(trial: Any, grace_seconds: float = 60.0) -> bool:
    """Whether a finished trial missing from MLflow will stay missing unless we log it.

    Its own process logs it a moment after it ends: we log it only when that process is this
    one, or dead (on this host), or on another host and the trial ended over `grace_seconds`
    ago. Otherwise a `harness run` starting beside live workers would log their trials twice.
    """
    host, pid = (
        trial.user_attrs.get(tuning_attrs.HOST_ATTR),
        trial.user_attrs.get(tuning_attrs.PID_ATTR),
    )
    if host is None or pid is None:
        return True
    if host == socket.gethostname():
        return pid == os.getpid() or not process_alive(int(pid))
    ended = trial.datetime_complete
    if ended is None:
        return True
    return (datetime.datetime.now() - ended).total_seconds() > grace_seconds


def best_of(study: Any, trials: list) -> float | None:
    """The best value among `trials` (the study's direction), None before one completes."""
    from optuna.study import StudyDirection
    from optuna.trial import TrialState

    values = [t.value for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    if not values:
        return None
    return max(values) if study.direction == StudyDirection.MAXIMIZE else min(values)
