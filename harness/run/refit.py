"""The end of a study: the final model predicts the holdout, scored once; predictions stored.

`refit_and_score` is `StudyRun.finish`'s work once tuning is over. The study's final model
(`RunConfig.final`) predicts the holdout (and the test part, when there is one) in the study's
worker: by default the **bag** of the best trial's fold models, which the worker kept when it
cross-validated that trial (their predictions averaged, as AutoGluon's bagging does: no refit),
or a **refit**, one more fit of the best configuration on the whole training part. A bag the
worker no longer holds is taken from an earlier invocation's run of the same best trial, else
rebuilt by one more cross-validation (under a budget: refitted instead, which costs one fit, not
K). The holdout is scored with every metric of the task, and the study run gets its metrics,
params, tags (`harness.final`: bag or refit) and artifacts (fold scores, holdout predictions, the
best trial's out-of-fold predictions for the ensemble, the submission). The final model itself
is saved by the worker and logged as the study run's MLflow logged model
(`harness.results.models`), unless `RunConfig.log_models` is off; a stored bag reuses the
logged model of the run that stored it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harness.contracts.metrics import get_metric
from harness.errors import HarnessError, StoreError, error_text
from harness.execution import jobs
from harness.protocol import ensemble
from harness.protocol.splits import Prepared
from harness.results import models as logged_models
from harness.run.config import StudyResult
from harness.run.trials import trial_payload
from harness.store import schema
from harness.store.tracker import Tracker
from harness.tuning import attrs as tuning_attrs

if TYPE_CHECKING:
    from harness.run.study import StudyRun

__all__ = [
    "best_oof",
    "final_model",
    "holdout_frame",
    "load_array",
    "log_artifacts",
    "log_final_model",
    "refit_and_score",
]


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
    folder = tempfile.mkdtemp(prefix="harness-model-") if study_run.log_models else None
    try:
        return _score(study_run, best, run_id, done, trials_run, counts, folder)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _score(
    study_run: StudyRun,
    best: Any,
    run_id: str,
    done: list,
    trials_run: int,
    counts: dict,
    folder: str | None,
) -> StudyResult:
    """`refit_and_score` once the study has a completed trial; the worker saves the final
    model's estimators under `folder` (when models are logged)."""
    save_to = None if folder is None else str(Path(folder, schema.MODEL_FILES))
    refit, recomputed = final_model(study_run, best, save_to)
    oof, oof_note = best_oof(study_run, best, recomputed)
    arrays = {schema.HOLDOUT_ARRAY: refit.holdout, **refit.arrays}
    if oof is not None:
        arrays[schema.OOF_ARRAY] = oof
    payload = trial_payload(best, study_run.task.metrics)
    metrics = {
        **_study_metrics(study_run, best, payload, refit),
        **counts,
        schema.FINAL_MODELS: refit.models,
    }
    study_run.tracker.log(
        run_id,
        metrics=metrics,
        series=payload["series"],
        params=best.params,
        tags={
            schema.STATUS: "ok",
            schema.BEST_TRIAL: best.number,
            schema.OOF: oof_note,
            schema.FINAL: refit.kind,
            **({schema.OOF_TRIAL: best.number} if oof is not None else {}),
        },
    )
    log_artifacts(study_run, run_id, best, payload, refit.holdout, refit.submission, arrays)
    if save_to is not None:
        log_final_model(study_run, run_id, best, refit, Path(save_to))
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
    """The study's final model (a bag of fold models, or a refit), and what it predicted."""

    holdout: np.ndarray  # predictions of the holdout rows
    arrays: dict[str, np.ndarray]  # the test part's predictions, when there is one
    submission: pd.DataFrame | None  # those in the submission's format
    fit_seconds: float  # a bag: its fold models' fits (done while tuning)
    predict_seconds: float
    info: dict[str, float]  # what the refitted estimator reported (`fit_info_`)
    rows: int  # rows predicted (holdout and test part)
    kind: str = "refit"  # `schema.FINALS`
    models: int = 1  # estimators averaged (a bag's fold models)
    model_id: str | None = None  # a stored bag: the logged model of the run that stored it


def _rows_to_predict(study_run: StudyRun) -> pd.DataFrame:
    """The holdout's rows, then the test part's (when there is one)."""
    data, test_X = study_run.data, study_run.extras.test_X
    if test_X is None:
        return data.holdout_X
    return pd.concat([data.holdout_X, test_X], ignore_index=True)


def _split_prediction(
    study_run: StudyRun, prediction: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray], pd.DataFrame | None]:
    """(holdout predictions, the test part's arrays, the submission) of one prediction of
    `_rows_to_predict`'s rows."""
    data, test_X = study_run.data, study_run.extras.test_X
    if test_X is None:
        return prediction, {}, None
    holdout, test_prediction = np.split(prediction, [len(data.holdout_y)])
    submission = study_run.extras.submission_frame(test_prediction, data, study_run.task)
    return holdout, {schema.TEST_ARRAY: test_prediction}, submission


def _refit(study_run: StudyRun, best: Any, save_to: str | None = None) -> Refit:
    """One fit of the best configuration in the study's worker predicts the holdout and, after
    its rows, the test part (the fitted estimator is saved under `save_to` when given)."""
    to_predict = _rows_to_predict(study_run)
    prediction, fit_s, predict_s, info = study_run.worker.call(
        jobs.refit_job, best.params, to_predict, save_to, fit_by=study_run.refit_deadline()
    )
    holdout, arrays, submission = _split_prediction(study_run, prediction)
    return Refit(holdout, arrays, submission, fit_s, predict_s, info, len(to_predict))


def final_model(study_run: StudyRun, best: Any, save_to: str | None = None) -> tuple[Refit, Any]:
    """The study's final model and its predictions, with the cross-validation that rebuilt a
    bag (a `FoldScores`, whose out-of-fold predictions the ensemble can use) or None. With
    `save_to`, the worker saves the final model's estimators there (a stored bag is not in the
    worker: its run's logged model is reused, `Refit.model_id`)."""
    if study_run.final != "bag":
        return _refit(study_run, best, save_to), None
    stored = _stored_bag(study_run, best, save_to is not None)
    if stored is not None:
        return stored, None
    to_predict = _rows_to_predict(study_run)
    rebuild = not study_run.budget  # under a budget one refit is cheaper than K fold fits
    answer = study_run.worker.call(
        jobs.bag_job, best.number, best.params, to_predict, rebuild, save_to
    )
    if answer is None:
        return _refit(study_run, best, save_to), None
    fits = tuning_attrs.results_of(best).get("fit_seconds") or [0.0]
    if answer.recomputed is not None:
        fits = answer.recomputed.fit_seconds
    holdout, arrays, submission = _split_prediction(study_run, answer.prediction)
    refit = Refit(
        holdout,
        arrays,
        submission,
        float(np.sum(fits)),
        answer.predict_seconds,
        {},
        len(to_predict),
        kind="bag",
        models=answer.models,
    )
    return refit, answer.recomputed


def _stored_bag(study_run: StudyRun, best: Any, with_model: bool = False) -> Refit | None:
    """The bag's predictions stored by an earlier invocation's run whose best trial this was
    (`with_model`: only a run that logged the bag's model, which is then reused)."""
    uid = study_run.tags[schema.STUDY_UID]
    runs = study_run.tracker.search(
        study_run.task.name,
        f"tags.`{schema.STUDY_UID}` = '{uid}' and tags.`{schema.BEST_TRIAL}` = '{best.number}' "
        f"and tags.`{schema.FINAL}` = 'bag'",
    )
    data, test_X = study_run.data, study_run.extras.test_X
    for run in runs:
        model_id = run.data.tags.get(schema.LOGGED_MODEL)
        if with_model and (not model_id or study_run.tracker.model_location(model_id) is None):
            continue  # without its model the bag must be rebuilt, to be logged
        holdout = load_array(study_run.tracker, run.info.run_id, schema.HOLDOUT_ARRAY)
        test = None
        if test_X is not None:
            test = load_array(study_run.tracker, run.info.run_id, schema.TEST_ARRAY)
            if test is None or len(test) != len(test_X):
                continue
        if holdout is None or len(holdout) != len(data.holdout_y):
            continue
        prediction = holdout if test is None else np.concatenate([holdout, test])
        holdout, arrays, submission = _split_prediction(study_run, prediction)
        metrics = run.data.metrics
        return Refit(
            holdout,
            arrays,
            submission,
            float(metrics.get("fit_seconds", 0.0)),
            float(metrics.get("predict_seconds", 0.0)),
            {},
            len(prediction),
            kind="bag",
            models=int(metrics.get(schema.FINAL_MODELS, len(data.folds))),
            model_id=model_id,
        )
    return None


def log_final_model(
    study_run: StudyRun, run_id: str, best: Any, refit: Refit, folder: Path
) -> None:
    """Log the final model the worker saved in `folder` as the study run's MLflow logged model
    (or link the stored bag's), with its cost (`model_log_seconds`, `model_mb`).

    A model that cannot be saved or logged (an estimator that does not pickle) leaves the study
    ok, with the reason in the tag `harness.model_error`; a failure of the store stops the run.
    """
    tracker = study_run.tracker
    if refit.model_id is not None:  # a stored bag: its run's model is this bag
        tracker.link_model(run_id, refit.model_id)
        tracker.log(run_id, tags={schema.LOGGED_MODEL: refit.model_id})
        return
    start = time.perf_counter()
    try:
        saved = json.loads(Path(folder, jobs.MEMBERS_FILE).read_text())
        if saved.get("error"):
            raise HarnessError(f"the worker could not save the model: {saved['error']}")
        card = logged_models.model_card(
            task=study_run.task,
            data=study_run.data,
            model=study_run.model.name,
            kind=refit.kind,
            id_column=study_run.extras.id_column,
        )
        _, size = logged_models.log_model(
            tracker, run_id, folder, card, example=study_run.data.X, params=best.params
        )
    except StoreError:
        raise
    except Exception as exc:
        reason = error_text(exc)
        tracker.log(run_id, tags={schema.MODEL_ERROR: reason})
        notice = getattr(study_run.reporter, "notice", None)
        if notice is not None:
            notice(
                f"{study_run.model.name}: its final model was not logged "
                f"({reason.splitlines()[0][:300]}); 'harness predict' cannot use it."
            )
        return
    seconds = saved.get("save_seconds", 0.0) + time.perf_counter() - start
    tracker.log(run_id, metrics={schema.MODEL_LOG_SECONDS: seconds, schema.MODEL_MB: size})


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


def best_oof(
    study_run: StudyRun, best: Any, recomputed: Any = None
) -> tuple[np.ndarray | None, str]:
    """The best trial's OOF predictions and where they came from.

    Kept in memory when this process ran the trial; else those of the cross-validation that
    rebuilt its bag (`recomputed`); else stored by an earlier invocation's study run of the
    same study (it was the best there too when that run refitted); else recomputed by one more
    cross-validation of the best configuration.
    """
    if study_run._kept_oof is not None and study_run._kept_oof[0] == best.number:
        return study_run._kept_oof[2], "kept"
    if recomputed is not None and recomputed.oof is not None:
        return recomputed.oof, "recomputed"
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
