"""The end of a study: refit the best configuration, score the holdout once, store predictions.

`refit_and_score` is `StudyRun.finish`'s work once tuning is over: one more fit of the best
configuration on the whole training part predicts the holdout (and the test part, when there is
one) in the study's worker; the holdout is scored with every metric of the task, and the study run
gets its metrics, params, tags and artifacts (fold scores, holdout predictions, the best trial's
out-of-fold predictions for the ensemble, the submission).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harness.contracts.metrics import get_metric
from harness.errors import HarnessError, error_text
from harness.execution import jobs
from harness.protocol import ensemble
from harness.protocol.splits import Prepared
from harness.run.config import StudyResult
from harness.run.trials import trial_payload
from harness.store import schema
from harness.store.tracker import Tracker
from harness.tuning import attrs as tuning_attrs

if TYPE_CHECKING:
    from harness.run.study import StudyRun

__all__ = ["best_oof", "holdout_frame", "load_array", "log_artifacts", "refit_and_score"]


def load_array(tracker: Tracker, run_id: str, name: str) -> np.ndarray | None:
    """A `.npy` artifact of a run, or None when the run has no such file."""
    if name not in {item.path for item in tracker.client.list_artifacts(run_id)}:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        return np.load(tracker.client.download_artifacts(run_id, name, tmp))


def holdout_frame(data: Prepared, prediction: np.ndarray, target: str) -> pd.DataFrame:
    """Holdout predictions: id, true target, predicted target, and class probabilities."""
    frame = pd.DataFrame({"id": data.holdout_ids})
    if data.n_classes:
        classes = np.asarray(data.classes, dtype=object)
        frame[target] = classes[data.holdout_y]
        frame[f"predicted_{target}"] = classes[prediction.argmax(axis=1)]
        for code, label in enumerate(data.classes):
            frame[f"proba_{label}"] = prediction[:, code]
    else:
        frame[target] = data.holdout_y
        frame[f"predicted_{target}"] = prediction
    return frame


def refit_and_score(
    study_run: StudyRun, study: Any, run_id: str, done: list, trials_run: int
) -> StudyResult:
    """Refit the best configuration of a study with a completed trial, score the holdout once,
    log the study run's metrics, params, tags and artifacts; a study without one is failed."""
    counts = trial_counts(done, trials_run)
    if not counts["trials_complete"]:
        return _no_trial_completed(study_run, run_id, done, counts)
    best = study.best_trial
    refit = _refit(study_run, best)
    oof, oof_note = best_oof(study_run, best)
    arrays = {schema.HOLDOUT_ARRAY: refit.holdout, **refit.arrays}
    if oof is not None:
        arrays[schema.OOF_ARRAY] = oof
    payload = trial_payload(best, study_run.task.metrics)
    metrics = {**_study_metrics(study_run, best, payload, refit), **counts}
    study_run.tracker.log(
        run_id,
        metrics=metrics,
        series=payload["series"],
        params=best.params,
        tags={
            schema.STATUS: "ok",
            schema.BEST_TRIAL: best.number,
            schema.OOF: oof_note,
            **({schema.OOF_TRIAL: best.number} if oof is not None else {}),
        },
    )
    log_artifacts(study_run, run_id, best, payload, refit.holdout, refit.submission, arrays)
    primary = study_run.task.metric
    return StudyResult(
        study_run.model.name,
        "ok",
        cv_mean=metrics[schema.cv_mean(primary)],
        cv_std=metrics[schema.cv_std(primary)],
        holdout=metrics[schema.holdout(primary)],
        trials_done=len(done),
        trials_run=trials_run,
        best_params=dict(best.params),
        run_id=run_id,
        submission=refit.submission,
    )


def trial_counts(done: list, trials_run: int) -> dict[str, int]:
    """The study's counted trials by outcome (MLflow metrics `trials_*`)."""
    from optuna.trial import TrialState

    limited = [t.user_attrs.get(tuning_attrs.STATUS_ATTR) for t in done]
    return {
        "trials_done": len(done),
        "trials_complete": sum(t.state == TrialState.COMPLETE for t in done),
        "trials_pruned": sum(t.state == TrialState.PRUNED for t in done),
        "trials_failed": sum(t.state == TrialState.FAIL for t in done),
        "trials_run": trials_run,
        "trials_timeout": limited.count("timeout"),
        "trials_oom": limited.count("oom"),
    }


def _no_trial_completed(
    study_run: StudyRun, run_id: str, done: list, counts: dict[str, int]
) -> StudyResult:
    """A study without a completed trial fails with the last error (or the limit they all hit)."""
    errors = [t.user_attrs.get(tuning_attrs.ERROR_ATTR) for t in done]
    reason = next((e for e in reversed(errors) if e), "no trial completed")
    reason += "; failed trials count towards --trials: rerun with --fresh to retry"
    limited = [t.user_attrs.get(tuning_attrs.STATUS_ATTR) for t in done]
    # Every trial killed at the same limit: the study's status names it.
    status = limited[0] if limited and len(set(limited)) == 1 and limited[0] else "failed"
    study_run.tracker.log(
        run_id, metrics=counts, tags={schema.STATUS: status, schema.ERROR: reason}
    )
    return StudyResult(
        study_run.model.name,
        status,
        reason,
        trials_done=len(done),
        trials_run=counts["trials_run"],
        run_id=run_id,
    )


@dataclass(frozen=True)
class Refit:
    """The best configuration fitted on the whole training part, and what it predicted."""

    holdout: np.ndarray  # predictions of the holdout rows
    arrays: dict[str, np.ndarray]  # the test part's predictions, when there is one
    submission: pd.DataFrame | None  # those in the submission's format
    fit_seconds: float
    predict_seconds: float
    info: dict[str, float]  # what the refitted estimator reported (`fit_info_`)
    rows: int  # rows predicted (holdout and test part)


def _refit(study_run: StudyRun, best: Any) -> Refit:
    """One fit of the best configuration in the study's worker predicts the holdout and, after
    its rows, the test part."""
    data, test_X = study_run.data, study_run.extras.test_X
    to_predict = data.holdout_X
    if test_X is not None:
        to_predict = pd.concat([data.holdout_X, test_X], ignore_index=True)
    prediction, fit_s, predict_s, info = study_run.worker.call(
        jobs.refit_job, best.params, to_predict, fit_by=study_run.refit_deadline()
    )
    arrays, submission = {}, None
    if test_X is not None:  # the test part's rows follow the holdout's
        prediction, test_prediction = np.split(prediction, [len(data.holdout_y)])
        submission = study_run.extras.submission_frame(test_prediction, data, study_run.task)
        arrays[schema.TEST_ARRAY] = test_prediction
    return Refit(prediction, arrays, submission, fit_s, predict_s, info, len(to_predict))


def _study_metrics(study_run: StudyRun, best: Any, payload: dict, refit: Refit) -> dict:
    """The study run's metrics: the best trial's CV and fit info, the refit's, the holdout."""
    trial_metrics = payload["metrics"]
    results = tuning_attrs.results_of(best)
    fit_info_keys = results.get(tuning_attrs.FIT_INFO_ATTR, {})
    holdout_y = study_run.data.holdout_y
    return {
        **{
            key: trial_metrics[key]
            for name in study_run.task.metrics
            for key in (schema.cv_mean(name), schema.cv_std(name))
            if key in trial_metrics
        },
        **{k: v for k, v in trial_metrics.items() if k in fit_info_keys},
        **{schema.refit(k): v for k, v in refit.info.items()},
        **{
            schema.holdout(name): get_metric(name).score(holdout_y, refit.holdout)
            for name in study_run.task.metrics
        },
        "fit_seconds": refit.fit_seconds,
        "predict_seconds": refit.predict_seconds,
        "predict_seconds_per_1000_rows": refit.predict_seconds / max(refit.rows, 1) * 1000,
        "cv_fit_seconds_per_fold": float(np.mean(results["fit_seconds"])),
    }


def log_artifacts(
    study_run,
    run_id: str,
    best: Any,
    payload: dict,
    prediction: np.ndarray,
    submission: pd.DataFrame | None = None,
    arrays: dict[str, np.ndarray] | None = None,
) -> None:
    folds = pd.DataFrame(payload["series"])
    folds.insert(0, "fold", range(len(folds)))
    folds["fit_seconds"] = tuning_attrs.results_of(best)["fit_seconds"]
    predictions = holdout_frame(study_run.data, prediction, study_run.task.target)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {
            schema.FOLD_SCORES: folds,
            schema.HOLDOUT_PREDICTIONS: predictions,
        }
        if submission is not None:
            paths["submission.csv"] = submission
        for name, frame in paths.items():
            frame.to_csv(Path(tmp, name), index=False)
            study_run.tracker.log_artifact(run_id, Path(tmp, name))
        Path(tmp, schema.BEST_PARAMS).write_text(json.dumps(best.params, indent=2))
        study_run.tracker.log_artifact(run_id, Path(tmp, schema.BEST_PARAMS))
        for name, array in (arrays or {}).items():  # what ensembles are made of
            np.save(Path(tmp, name), np.asarray(array, dtype=np.float64))
            study_run.tracker.log_artifact(run_id, Path(tmp, name))
        if study_run.extras.findings:
            health = [finding.as_dict() for finding in study_run.extras.findings]
            Path(tmp, schema.HEALTH).write_text(json.dumps(health, indent=2, default=str))
            study_run.tracker.log_artifact(run_id, Path(tmp, schema.HEALTH))


def _one_set_per_repeat(oof: np.ndarray, data: Prepared) -> bool:
    """Whether stored OOF predictions hold one set per repeat of these folds (older runs
    stored one set averaged over the repeats: recomputed when there are repeats)."""
    try:
        sets = ensemble.by_repeat(oof, len(data.y), data.n_classes)
    except HarnessError:
        return False
    return len(sets) == max(data.repeats, 1)


def best_oof(study_run: StudyRun, best: Any) -> tuple[np.ndarray | None, str]:
    """The best trial's OOF predictions and where they came from.

    Kept in memory when this process ran the trial; else stored by an earlier invocation's
    study run of the same study (it was the best there too when that run refitted);
    else recomputed by one more cross-validation of the best configuration.
    """
    if study_run._kept_oof is not None and study_run._kept_oof[0] == best.number:
        return study_run._kept_oof[2], "kept"
    uid = study_run.tags[schema.STUDY_UID]
    runs = study_run.tracker.search(
        study_run.task.name,
        f"tags.`{schema.STUDY_UID}` = '{uid}' and tags.`{schema.OOF_TRIAL}` = '{best.number}'",
    )
    for run in runs:
        oof = load_array(study_run.tracker, run.info.run_id, schema.OOF_ARRAY)
        if oof is not None and _one_set_per_repeat(oof, study_run.data):
            return oof, f"stored in run {run.info.run_id}"
    try:
        return study_run.worker.call(jobs.cv_job, best.params).oof, "recomputed"
    except Exception as exc:  # the study's result stands; only the ensemble loses it
        return None, f"missing: {error_text(exc)}"
