"""Orchestrates a `harness run`: load and split once, then one study per model, then the holdout.

For each model: skip it (with the reason, recorded) when it cannot handle the task; otherwise open
its Optuna study, run the missing trials (each logged as an MLflow child run as it ends), refit the
best configuration on the whole training part, score it once on the holdout and store the holdout
predictions. A model that fails is recorded as failed with its error and the run goes on; problems
with the stores stop the run.

Health checks (harness.data.health) run once on the split data; their warnings go to the
reporter and to every study run (`health.json`, tag `harness.health_warnings`). When the data has
an unlabeled test part, the refitted best model of each study also predicts it, and the
submission (in the sample submission's format for a task built from the user's files) is stored
as `submission.csv` and returned in the study's result.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import harness
from harness import devices, registry, tuning
from harness.data.health import Finding, check_prepared
from harness.errors import NotSupportedError, StoreError, UsageError
from harness.metrics import get_metric
from harness.model import Model
from harness.splits import Prepared, prepare
from harness.task import Dataset, Task
from harness.tracking import TAG, Stores, Tracker, make_folders
from harness.worker import JobFailed, Limits, Worker

DEFAULT_TRIALS = 5
DEFAULT_STUDY_TIMEOUT = 20.0
STATUSES = ("ok", "failed", "timeout", "oom", "pruned", "skipped")


@dataclass(frozen=True)
class RunConfig:
    """What `harness run` was asked to do.

    Attributes:
        task: Task name.
        models: Model names; empty means every registered model that supports the task.
        trials: Trials each study should have in total (resume adds only the missing ones).
        timeout: Seconds after which a study starts no new trial (None: no limit).
        folds: CV folds (None: the task's default).
        repeats: Repetitions of the K-fold (repeated CV); not for time-ordered tasks.
        seed: Seed for the splits, the sampler and the models.
        fresh: Delete existing studies of these models before tuning.
        n_jobs: Threads per model (None: all cores).
        trial_timeout: Hard wall-clock limit per trial (and for the refit), in seconds; a trial
            over it is killed and recorded as timeout (None: no limit).
        memory_limit: Hard limit on a study worker's resident memory, in MiB; a trial over it is
            killed and recorded as oom (None: no limit).
    """

    task: str
    models: tuple[str, ...] = ()
    trials: int = DEFAULT_TRIALS
    timeout: float | None = None
    folds: int | None = None
    repeats: int = 1
    seed: int = 0
    fresh: bool = False
    n_jobs: int | None = None
    trial_timeout: float | None = None
    memory_limit: float | None = None

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise UsageError(f"--trials must be at least 1, got {self.trials}.")
        if self.timeout is not None and self.timeout <= 0:
            raise UsageError(f"--timeout must be a positive number of seconds, got {self.timeout}.")
        if self.folds is not None and self.folds < 2:
            raise UsageError(f"--folds must be at least 2, got {self.folds}.")
        if self.repeats < 1:
            raise UsageError(f"--repeats must be at least 1, got {self.repeats}.")
        if self.n_jobs is not None and self.n_jobs < 1:
            raise UsageError(f"--jobs must be at least 1, got {self.n_jobs}.")
        if self.trial_timeout is not None and self.trial_timeout <= 0:
            raise UsageError(
                f"--trial-timeout must be a positive number of seconds, got {self.trial_timeout}."
            )
        if self.memory_limit is not None and self.memory_limit < 64:
            raise UsageError(
                f"--memory-limit must be at least 64 MiB, got {self.memory_limit:g} MiB."
            )


@dataclass(frozen=True)
class StudyResult:
    """The outcome of one (task, model) study in this run.

    Attributes:
        model: Model name.
        status: ok, failed or skipped.
        reason: Why it failed or was skipped ("" when ok).
        cv_mean: Mean CV score of the best trial (primary metric).
        cv_std: Standard deviation of that score over folds.
        holdout: Holdout score of the refitted best configuration (primary metric).
        trials_done: Trials the study has finished in total.
        trials_run: Trials this run added.
        best_params: The best configuration.
        run_id: The MLflow parent run.
        submission: Predictions of the refitted best model on the unlabeled test part, in the
            submission's format (None without a test part).
    """

    model: str
    status: str
    reason: str = ""
    cv_mean: float | None = None
    cv_std: float | None = None
    holdout: float | None = None
    trials_done: int = 0
    trials_run: int = 0
    best_params: dict = field(default_factory=dict)
    run_id: str | None = None
    submission: pd.DataFrame | None = field(default=None, compare=False, repr=False)


class Reporter:
    """Progress hooks; the CLI draws them with rich, tests and libraries ignore them."""

    def study_started(self, model: str, trials_done: int, trials_target: int) -> None:
        """A study starts with `trials_done` of `trials_target` trials already finished."""

    def trial_finished(self, model: str, number: int, state: str, best: float | None) -> None:
        """A trial ended in `state`; `best` is the study's best CV score so far."""

    def study_finished(self, result: StudyResult) -> None:
        """A study ended (or was skipped)."""

    def health(self, findings: Sequence[Finding]) -> None:
        """The health warnings of the task's data, once, before the first study."""


def select_models(task: Task, names: Sequence[str]) -> list[tuple[Model, str | None]]:
    """The models to run with the reason each must be skipped (None when it can run).

    Models named explicitly that cannot handle the task raise; the default set (every registered
    model) skips them with the reason.
    """
    if names:
        chosen = []
        for name in dict.fromkeys(names):
            model = registry.get_model(name)
            reason = model.unsupported_reason(task.modality, task.problem_type)
            if reason:
                raise NotSupportedError(
                    f"Task {task.name!r} is {task.modality} {task.problem_type}, and {reason}. "
                    "See 'harness list models'."
                )
            chosen.append((model, None))
        return chosen
    return [
        (model, model.unsupported_reason(task.modality, task.problem_type))
        for model in registry.models().values()
    ]


def _base_tags(task: Task, model: Model, data: Prepared, config: RunConfig, device: str) -> dict:
    return {
        f"{TAG}task": task.name,
        f"{TAG}model": model.name,
        f"{TAG}family": model.family,
        f"{TAG}kind": "study",
        f"{TAG}study": f"{task.name}.{model.name}",
        f"{TAG}metric": task.metric,
        f"{TAG}problem_type": task.problem_type,
        f"{TAG}direction": get_metric(task.metric).direction,
        f"{TAG}folds_fingerprint": data.folds_fingerprint,
        f"{TAG}data_fingerprint": data.data_fingerprint,
        f"{TAG}folds": len(data.folds),
        f"{TAG}cv": data.scheme,
        f"{TAG}repeats": data.repeats,
        f"{TAG}device": device if "gpu" in model.hardware else "cpu",
        f"{TAG}seed": config.seed,
        f"{TAG}version": harness.__version__,
        f"{TAG}host": socket.gethostname(),
        f"{TAG}pid": os.getpid(),
    }


def _trial_payload(trial: Any, metrics: tuple[str, ...]) -> dict:
    """MLflow metrics, per-fold series and tags of one finished Optuna trial."""
    state = trial.state.name.lower()
    status = {"complete": "ok", "pruned": "pruned", "fail": "failed"}.get(state, state)
    status = trial.user_attrs.get(tuning.STATUS_ATTR, status)  # timeout, oom
    series = {
        f"fold_{name}": trial.user_attrs[f"fold_{name}"]
        for name in metrics
        if f"fold_{name}" in trial.user_attrs
    }
    summary = {}
    for key, values in series.items():
        name = key[len("fold_") :]
        summary[f"cv_{name}_mean"] = float(np.mean(values))
        summary[f"cv_{name}_std"] = float(np.std(values))
    if "fit_seconds" in trial.user_attrs:
        summary["fit_seconds"] = float(np.sum(trial.user_attrs["fit_seconds"]))
        summary["predict_seconds"] = float(np.sum(trial.user_attrs["predict_seconds"]))
    # What the fitted models reported (an early-stopped booster's rounds_used): the fold mean.
    for key, values in trial.user_attrs.get(tuning.FIT_INFO_ATTR, {}).items():
        summary[key] = float(np.mean(values))
    intermediate = trial.intermediate_values
    if status == "pruned" and intermediate:
        summary["pruned_after_folds"] = max(intermediate) + 1
    tags = {f"{TAG}kind": "trial", f"{TAG}trial": trial.number, f"{TAG}status": status}
    if trial.user_attrs.get(tuning.DEFAULT_ATTR):
        tags[f"{TAG}default_config"] = "true"
    if tuning.ERROR_ATTR in trial.user_attrs:
        tags[f"{TAG}error"] = trial.user_attrs[tuning.ERROR_ATTR]
    return {"metrics": summary, "series": series, "tags": tags, "status": status}


class _StudyRun:
    """One study's life within a run: tuning, trial logging, refit and holdout."""

    sampler_offset = 0  # added to the sampler's seed (`harness worker` makes it differ per process)

    def __init__(
        self,
        task: Task,
        model: Model,
        data: Prepared,
        config: RunConfig,
        tracker: Tracker,
        reporter: Reporter,
        device: str,
        n_jobs: int,
        extras: _Extras | None = None,
    ) -> None:
        self.task, self.model, self.data, self.config = task, model, data, config
        self.tracker, self.reporter = tracker, reporter
        self.extras = extras or _Extras()
        self.metric = get_metric(task.metric)
        self.tags = _base_tags(task, model, data, config, device)
        self.tags[f"{TAG}health_warnings"] = len(self.extras.findings)
        if self.extras.source:
            self.tags[f"{TAG}source"] = self.extras.source
        self.name = f"{task.name}.{model.name}"
        spec = tuning.spec_for(
            task.problem_type,
            task.modality,
            data,
            n_jobs=n_jobs,
            device=device,
            augmentation=task.augmentation,
        )
        context = tuning.StudyContext(model, data, spec, task.metrics, config.seed)
        self.worker = Worker(context, Limits(config.trial_timeout, config.memory_limit))

    def skipped(self, reason: str) -> StudyResult:
        run_id = self.tracker.start_run(
            self.task.name,
            self.model.name,
            {**self.tags, f"{TAG}status": "skipped", f"{TAG}reason": reason},
        )
        self.tracker.end_run(run_id)
        return StudyResult(self.model.name, "skipped", reason, run_id=run_id)

    def run(self) -> StudyResult:
        study = tuning.open_study(
            self.tracker.stores.storage_url,
            self.name,
            self.metric.direction,
            seed=self.config.seed,
            data=self.data,
            fresh=self.config.fresh,
        )
        self.tags[f"{TAG}study_uid"] = study.user_attrs["harness.uid"]
        run_id = self.tracker.start_run(
            self.task.name, self.model.name, {**self.tags, f"{TAG}status": "running"}
        )
        # Until the study returns, its run counts as killed (Ctrl-C, SIGTERM).
        end_status, status, error = "KILLED", "failed", "interrupted"
        try:
            result = self._tune_and_score(study, run_id)
            end_status, error = ("FINISHED" if result.status == "ok" else "FAILED"), None
            return result
        except StoreError as exc:
            end_status, error = "FAILED", f"store failure: {exc}"
            raise
        except JobFailed as exc:  # the refit of the best configuration
            end_status, status, error = "FAILED", exc.status, f"refit on the training part: {exc}"
            return StudyResult(self.model.name, status, error, run_id=run_id)
        except Exception as exc:
            end_status, error = "FAILED", tuning.error_text(exc)
            return StudyResult(self.model.name, "failed", error, run_id=run_id)
        finally:
            self.worker.close()
            if error:  # best effort on a broken store, which then reports its own error
                self.tracker.log(run_id, tags={f"{TAG}status": status, f"{TAG}error": error})
            self.tracker.end_run(run_id, end_status)

    def _logged_trials(self) -> set[int]:
        uid = self.tags[f"{TAG}study_uid"]
        runs = self.tracker.search(self.task.name, f"tags.`{TAG}study_uid` = '{uid}'")
        return {int(r.data.tags[f"{TAG}trial"]) for r in runs if f"{TAG}trial" in r.data.tags}

    def _log_trial(self, run_id: str, trial: Any) -> None:
        payload = _trial_payload(trial, self.task.metrics)
        start = trial.datetime_start or trial.datetime_complete
        child = self.tracker.start_run(
            self.task.name,
            f"{self.model.name}-trial-{trial.number}",
            {**self.tags, **payload["tags"]},
            parent=run_id,
            start_time=int(start.timestamp() * 1000) if start else None,
        )
        try:
            self.tracker.log(
                child, metrics=payload["metrics"], series=payload["series"], params=trial.params
            )
        finally:
            end = trial.datetime_complete
            self.tracker.end_run(
                child,
                "FAILED" if payload["status"] == "failed" else "FINISHED",
                int(end.timestamp() * 1000) if end else None,
            )

    def _tune_and_score(self, study: Any, run_id: str) -> StudyResult:
        import optuna

        done = tuning.done_trials(study)
        logged = self._logged_trials()
        for trial in done:  # trials finished by an earlier, interrupted run but never logged
            if trial.number not in logged:
                self._log_trial(run_id, trial)
        before = len(done)
        target = self.config.trials
        self.reporter.study_started(self.model.name, before, target)
        if before < target:
            tuning.ensure_slots(study, target, self.model.defaults)  # the shared queue
            study.sampler = tuning.make_sampler(self.config.seed + self.sampler_offset, before)
            study.pruner = tuning.make_pruner()
            objective = tuning.make_objective(self.worker.context, self.worker)
            deadline = time.monotonic() + self.config.timeout if self.config.timeout else None

            def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
                if not tuning.counts(study, trial):  # surplus or unfinished
                    return
                self._log_trial(run_id, trial)
                self.reporter.trial_finished(
                    self.model.name, trial.number, trial.state.name.lower(), _best_value(study)
                )
                finished = len(tuning.done_trials(study))
                if finished >= target or (deadline and time.monotonic() >= deadline):
                    study.stop()

            # Trials that fail on a dead process are not "done"; loop until the target is met.
            finished = before
            while finished < target:
                left = deadline - time.monotonic() if deadline else None
                if left is not None and left <= 0:
                    break
                study.optimize(
                    objective,
                    n_trials=target - finished,
                    timeout=left,
                    catch=(Exception,),
                    callbacks=[after_trial],
                    gc_after_trial=False,
                )
                now_finished = len(tuning.done_trials(study))
                if now_finished == finished and not tuning.await_slots(
                    study, target, self.model.defaults, deadline
                ):  # nothing counted, and no slot left to run or to wait for (other processes)
                    break
                finished = now_finished
        done = tuning.done_trials(study)
        trials_run = len(tuning.run_here(done))  # not those of other processes (harness worker)
        return self._refit_and_score(study, run_id, done, trials_run)

    def _refit_and_score(self, study: Any, run_id: str, done: list, trials_run: int) -> StudyResult:
        from optuna.trial import TrialState

        complete = [t for t in done if t.state == TrialState.COMPLETE]
        counts = {
            "trials_done": len(done),
            "trials_complete": len(complete),
            "trials_pruned": sum(t.state == TrialState.PRUNED for t in done),
            "trials_failed": sum(t.state == TrialState.FAIL for t in done),
            "trials_run": trials_run,
        }
        limited = [t.user_attrs.get(tuning.STATUS_ATTR) for t in done]
        counts["trials_timeout"] = limited.count("timeout")
        counts["trials_oom"] = limited.count("oom")
        if not complete:
            errors = [t.user_attrs.get(tuning.ERROR_ATTR) for t in done]
            reason = next((e for e in reversed(errors) if e), "no trial completed")
            reason += "; failed trials count towards --trials: rerun with --fresh to retry"
            # Every trial killed at the same limit: the study's status names it.
            status = limited[0] if limited and len(set(limited)) == 1 and limited[0] else "failed"
            self.tracker.log(
                run_id,
                metrics=counts,
                tags={f"{TAG}status": status, f"{TAG}error": reason},
            )
            return StudyResult(
                self.model.name,
                status,
                reason,
                trials_done=len(done),
                trials_run=trials_run,
                run_id=run_id,
            )
        test_X = self.extras.test_X
        n_test = 0 if test_X is None else len(test_X)
        to_predict = self.data.holdout_X
        if test_X is not None:  # one refit predicts the holdout and the test part
            to_predict = pd.concat([self.data.holdout_X, test_X], ignore_index=True)
        best = study.best_trial
        payload = _trial_payload(best, self.task.metrics)
        prediction, fit_s, predict_s, refit_info = self.worker.call(
            tuning.refit_job, best.params, to_predict
        )
        submission = None
        if test_X is not None:  # the test part's rows follow the holdout's
            prediction, test_prediction = np.split(prediction, [len(self.data.holdout_y)])
            submission = self.extras.submission_frame(test_prediction, self.data, self.task)
        holdout = {
            f"holdout_{name}": get_metric(name).score(self.data.holdout_y, prediction)
            for name in self.task.metrics
        }
        n_hold = len(self.data.holdout_y)
        fit_info_keys = best.user_attrs.get(tuning.FIT_INFO_ATTR, {})
        metrics = {
            **{k: v for k, v in payload["metrics"].items() if k.startswith("cv_")},
            **{k: v for k, v in payload["metrics"].items() if k in fit_info_keys},
            **{f"refit_{k}": v for k, v in refit_info.items()},
            **holdout,
            **counts,
            "fit_seconds": fit_s,
            "predict_seconds": predict_s,
            "predict_seconds_per_1000_rows": predict_s / max(n_hold + n_test, 1) * 1000,
            "cv_fit_seconds_per_fold": float(np.mean(best.user_attrs["fit_seconds"])),
        }
        self.tracker.log(
            run_id,
            metrics=metrics,
            series=payload["series"],
            params=best.params,
            tags={f"{TAG}status": "ok", f"{TAG}best_trial": best.number},
        )
        self._log_artifacts(run_id, best, payload, prediction, submission)
        primary = self.task.metric
        return StudyResult(
            self.model.name,
            "ok",
            cv_mean=metrics[f"cv_{primary}_mean"],
            cv_std=metrics[f"cv_{primary}_std"],
            holdout=holdout[f"holdout_{primary}"],
            trials_done=len(done),
            trials_run=trials_run,
            best_params=dict(best.params),
            run_id=run_id,
            submission=submission,
        )

    def _log_artifacts(
        self,
        run_id: str,
        best: Any,
        payload: dict,
        prediction: np.ndarray,
        submission: pd.DataFrame | None = None,
    ) -> None:
        folds = pd.DataFrame(payload["series"])
        folds.insert(0, "fold", range(len(folds)))
        folds["fit_seconds"] = best.user_attrs["fit_seconds"]
        predictions = holdout_frame(self.data, prediction, self.task.target)
        with tempfile.TemporaryDirectory() as tmp:
            paths = {
                "fold_scores.csv": folds,
                "holdout_predictions.csv": predictions,
            }
            if submission is not None:
                paths["submission.csv"] = submission
            for name, frame in paths.items():
                frame.to_csv(Path(tmp, name), index=False)
                self.tracker.log_artifact(run_id, Path(tmp, name))
            Path(tmp, "best_params.json").write_text(json.dumps(best.params, indent=2))
            self.tracker.log_artifact(run_id, Path(tmp, "best_params.json"))
            if self.extras.findings:
                health = [finding.as_dict() for finding in self.extras.findings]
                Path(tmp, "health.json").write_text(json.dumps(health, indent=2, default=str))
                self.tracker.log_artifact(run_id, Path(tmp, "health.json"))


@dataclass(frozen=True)
class _Extras:
    """What a study needs beyond the split data: health warnings and the test part."""

    findings: tuple[Finding, ...] = ()
    test_X: pd.DataFrame | None = None
    submission: Any = None  # harness.data.files.SubmissionFormat, or None for the default
    source: str = ""

    def submission_frame(self, prediction: np.ndarray, data: Prepared, task: Task) -> pd.DataFrame:
        """The test predictions in the submission's format (default: id, then the target)."""
        if self.submission is not None:
            return self.submission.frame(prediction, data.classes)
        frame = pd.DataFrame({"id": np.arange(len(prediction))})
        if data.n_classes:
            frame[task.target] = np.asarray(data.classes, dtype=object)[prediction.argmax(axis=1)]
        else:
            frame[task.target] = prediction
        return frame


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


def _best_value(study: Any) -> float | None:
    try:
        return float(study.best_value)
    except ValueError:  # no completed trial yet
        return None


def run(
    config: RunConfig,
    stores: Stores,
    reporter: Reporter | None = None,
    *,
    local: Any = None,
) -> tuple[Task, Prepared, list[StudyResult]]:
    """Run every selected study of a task and return their results (in model order).

    Args:
        config: What to run.
        stores: Where to record it.
        reporter: Progress hooks.
        local: A `harness.data.files.LocalTask` built from the user's files; it replaces the
            registry lookup of `config.task`.

    Raises:
        HarnessError: Unknown task or model, a model asked for by name that cannot handle the
            task, data that cannot be split, or stores that cannot be used.
    """
    reporter = reporter or Reporter()
    task = local.task if local is not None else registry.get_task(config.task)
    selected = select_models(task, config.models)
    dataset: Dataset = local.dataset if local is not None else task.load()
    data = prepare(
        task,
        dataset,
        folds=config.folds or task.folds,
        seed=config.seed,
        repeats=config.repeats,
    )
    findings = (*(local.findings if local is not None else ()), *check_prepared(task, data))
    if hasattr(reporter, "health"):
        reporter.health(findings)
    extras = _Extras(
        findings=findings,
        test_X=dataset.test_X,
        submission=local.submission if local is not None else None,
        source=local.source if local is not None else "",
    )
    make_folders(stores)  # only now: a task whose data cannot be split leaves nothing behind
    tracker = Tracker(stores)
    tracker.experiment_id(task.name)
    tracker.close_orphans(task.name)
    device = devices.device()
    n_jobs = config.n_jobs or devices.cpu_count()
    results = []
    for model, reason in selected:
        study = _StudyRun(task, model, data, config, tracker, reporter, device, n_jobs, extras)
        result = study.skipped(reason) if reason else study.run()
        reporter.study_finished(result)
        results.append(result)
    return task, data, results
