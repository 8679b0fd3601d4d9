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
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

import harness
from harness import devices, journal, registry, schedule, tuning
from harness.data.health import Finding, check_prepared
from harness.errors import NotSupportedError, StoreError, UsageError
from harness.metrics import get_metric
from harness.model import Model
from harness.splits import Prepared, prepare
from harness.task import Dataset, Task
from harness.tracking import TAG, Stores, Tracker, make_folders, mask
from harness.worker import JobFailed, Limits, Worker

DEFAULT_TRIALS = 5
DEFAULT_STUDY_TIMEOUT = 20.0
BUDGET_MAX_TRIALS = 100_000  # with --budget and no --trials, time is the only limit
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
        workers: Studies run at once (each in its own worker process); threads per model default
            to the cores divided among them.
        budget: Wall-clock seconds for the whole run, shared among the studies by
            `harness.schedule` (None: each study runs its `trials` within `timeout`).
        ensemble: After the studies, blend the ok ones by greedy selection on their out-of-fold
            predictions (`harness.ensemble`) and record the blend as the model "ensemble".
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
    workers: int = 1
    budget: float | None = None
    ensemble: bool = True

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
        if self.workers < 1:
            raise UsageError(f"--workers must be at least 1, got {self.workers}.")
        cores = devices.cpu_count()
        if self.workers > cores:
            raise UsageError(
                f"--workers {self.workers} is more than the {cores} cores here; studies in "
                f"parallel would oversubscribe them. Use --workers {cores} or fewer."
            )
        if self.workers > 1 and self.n_jobs is not None and self.n_jobs * self.workers > cores:
            raise UsageError(
                f"--workers {self.workers} x --jobs {self.n_jobs} = "
                f"{self.n_jobs * self.workers} threads on {cores} cores; lower one of them "
                "(without --jobs, the cores are divided among the workers)."
            )
        if self.budget is not None and self.budget <= 0:
            raise UsageError(f"--budget must be more than 0 seconds, got {self.budget}.")
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
        tuning_seconds: Wall-clock seconds this run spent tuning the study.
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
    tuning_seconds: float = field(default=0.0, compare=False)


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
    attrs = tuning.results_of(trial)
    status = attrs.get(tuning.STATUS_ATTR, status)  # timeout, oom
    series = {f"fold_{name}": attrs[f"fold_{name}"] for name in metrics if f"fold_{name}" in attrs}
    summary = {}
    for key, values in series.items():
        name = key[len("fold_") :]
        summary[f"cv_{name}_mean"] = float(np.mean(values))
        summary[f"cv_{name}_std"] = float(np.std(values))
    if "fit_seconds" in attrs:
        summary["fit_seconds"] = float(np.sum(attrs["fit_seconds"]))
        summary["predict_seconds"] = float(np.sum(attrs["predict_seconds"]))
    # What the fitted models reported (an early-stopped booster's rounds_used): the fold mean.
    for key, values in attrs.get(tuning.FIT_INFO_ATTR, {}).items():
        summary[key] = float(np.mean(values))
    intermediate = trial.intermediate_values
    if status == "pruned" and intermediate:
        summary["pruned_after_folds"] = max(intermediate) + 1
    tags = {f"{TAG}kind": "trial", f"{TAG}trial": trial.number, f"{TAG}status": status}
    if attrs.get(tuning.DEFAULT_ATTR):
        tags[f"{TAG}default_config"] = "true"
    if tuning.ERROR_ATTR in attrs:
        tags[f"{TAG}error"] = attrs[tuning.ERROR_ATTR]
    return {"metrics": summary, "series": series, "tags": tags, "status": status}


class _StudyRun:
    """One study's life within a run: tuning, trial logging, refit and holdout."""

    # (trial number, CV value, OOF predictions) of the best trial this process has run
    _kept_oof: tuple[int, float, np.ndarray] | None = None
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
        cancelled: threading.Event | None = None,
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
        self.cancelled = cancelled or threading.Event()
        self.budget = config.budget
        self.study: Any = None
        self.run_id: str | None = None
        self.before = 0
        self.done_before: set[int] = set()  # numbers of the trials done when the study started
        self.failure: tuple[str, str] | None = None
        self.tuning_seconds = 0.0
        self.trial_seconds: list[float] = []

    def skipped(self, reason: str, *, started: bool = False) -> StudyResult:
        """Record the study as skipped, with the reason (`started`: its run is already open)."""
        tags = {f"{TAG}status": "skipped", f"{TAG}reason": reason}
        if started:  # its time still counts: a budget's allocation shows where the time went
            self.worker.close()
            run_id, self.run_id = self.run_id, None
            self.tracker.log(run_id, metrics={"tuning_seconds": self.tuning_seconds}, tags=tags)
        else:
            run_id = self.tracker.start_run(self.task.name, self.model.name, {**self.tags, **tags})
        self.tracker.end_run(run_id)
        return StudyResult(
            self.model.name, "skipped", reason, run_id=run_id, tuning_seconds=self.tuning_seconds
        )

    def start(self, trials_target: int | None) -> None:
        """Open the study and its MLflow run; log trials an interrupted run finished unlogged."""
        self.study = tuning.open_study(
            self.tracker.stores.storage_url,
            self.name,
            self.metric.direction,
            seed=self.config.seed,
            data=self.data,
            fresh=self.config.fresh,
        )
        self.tags[f"{TAG}study_uid"] = self.study.user_attrs["harness.uid"]
        self.run_id = self.tracker.start_run(
            self.task.name, self.model.name, {**self.tags, f"{TAG}status": "running"}
        )
        done = tuning.done_trials(self.study)
        logged = self._logged_trials()
        for trial in done:  # trials finished by an earlier, interrupted run but never logged
            if trial.number not in logged and _unlogged_for_good(trial):
                self._log_trial(self.run_id, trial)
        self.before = len(done)
        self.done_before = {t.number for t in done}
        self.reporter.study_started(self.model.name, self.before, trials_target)

    def tune(self, target: int, deadline: float | None = None, until: float | None = None) -> int:
        """Run trials until the study has `target` done; return how many it has done.

        No trial starts after `deadline`, nor when the study's typical trial would not end by
        then; a trial still running at `until` is killed (both `time.monotonic()` instants).
        A failure of the model's code fails the study (see `finish`); store failures raise.
        """
        if self.failure is not None:
            return len(tuning.done_trials(self.study))
        began = time.monotonic()
        try:
            return self._tune(target, deadline, until)
        except (StoreError, KeyboardInterrupt):
            raise
        except Exception as exc:
            self.failure = ("failed", tuning.error_text(exc))
            return len(tuning.done_trials(self.study))
        finally:
            self.tuning_seconds += time.monotonic() - began

    def finish(self) -> StudyResult:
        """Refit the best configuration, score it on the holdout, and end the study's run."""
        # Until the refit returns, the run counts as killed (Ctrl-C, SIGTERM).
        end_status, status, error = "KILLED", "failed", "interrupted"
        run_id = self.run_id
        try:
            if self.cancelled.is_set():
                raise KeyboardInterrupt
            if self.failure is not None:
                end_status, (status, error) = "FAILED", self.failure
                return StudyResult(self.model.name, status, error, run_id=run_id)
            done = tuning.done_trials(self.study)
            self.tracker.log(
                run_id,
                metrics={"tuning_seconds": self.tuning_seconds},
                tags={f"{TAG}budget": f"{self.budget:g}"} if self.budget else None,
            )
            # this run's own trials, not those of other processes (harness worker)
            trials_run = sum(t.number not in self.done_before for t in tuning.run_here(done))
            result = self._refit_and_score(self.study, run_id, done, trials_run)
            end_status, error = ("FINISHED" if result.status == "ok" else "FAILED"), None
            return result
        except StoreError as exc:
            end_status, error = "FAILED", f"store failure: {exc}"
            raise
        except JobFailed as exc:  # the refit of the best configuration
            if self.cancelled.is_set():  # its worker was killed by an interrupted run
                raise KeyboardInterrupt from None
            end_status, status, error = "FAILED", exc.status, f"refit on the training part: {exc}"
            return StudyResult(self.model.name, status, error, run_id=run_id)
        except Exception as exc:
            end_status, error = "FAILED", tuning.error_text(exc)
            return StudyResult(self.model.name, "failed", error, run_id=run_id)
        finally:
            self.worker.close()
            self.run_id = None
            self._end(run_id, end_status, status, error)

    def abort(self) -> None:
        """End an unfinished study (interrupted run): stop its worker, its run counts as killed."""
        self.worker.close()
        if self.run_id is not None:
            run_id, self.run_id = self.run_id, None
            self._end(run_id, "KILLED", "failed", "interrupted")

    def _end(self, run_id: str, end_status: str, status: str, error: str | None) -> None:
        if error:  # best effort on a broken store, which then reports its own error
            self.tracker.log(run_id, tags={f"{TAG}status": status, f"{TAG}error": error})
        self.tracker.end_run(run_id, end_status)

    def run_tuning(self) -> None:
        """Start the study and tune it to `--trials` (within `--timeout`); `finish` follows."""
        timeout = self.config.timeout
        try:
            self.start(self.config.trials)
            self.tune(self.config.trials, time.monotonic() + timeout if timeout else None)
        except BaseException:
            self.abort()
            raise

    def standing(self) -> schedule.Standing:
        """Where the study stands, for the budget's allocation."""
        from optuna.trial import TrialState

        best, refit = None, 0.0
        complete = [t for t in tuning.done_trials(self.study) if t.state == TrialState.COMPLETE]
        if complete:
            best_trial = self.study.best_trial
            best = float(best_trial.value)
            folds = tuning.results_of(best_trial).get("fit_seconds") or [0.0]
            k = len(self.data.folds) / max(self.data.repeats, 1)
            refit = float(np.mean(folds)) * k / max(k - 1, 1)
        return schedule.Standing(
            name=self.model.name,
            best=best,
            done=len(tuning.done_trials(self.study)),
            trial_seconds=float(np.median(self.trial_seconds)) if self.trial_seconds else 0.0,
            refit_seconds=refit,
            failed=self.failure is not None,
        )

    def _logged_trials(self) -> set[int]:
        uid = self.tags[f"{TAG}study_uid"]
        runs = self.tracker.search(self.task.name, f"tags.`{TAG}study_uid` = '{uid}'")
        return {int(r.data.tags[f"{TAG}trial"]) for r in runs if f"{TAG}trial" in r.data.tags}

    def _log_trial(self, run_id: str, trial: Any) -> None:
        payload = _trial_payload(trial, self.task.metrics)
        start, end = trial.datetime_start or trial.datetime_complete, trial.datetime_complete
        self.tracker.record_run(
            self.task.name,
            f"{self.model.name}-trial-{trial.number}",
            {**self.tags, **payload["tags"]},
            parent=run_id,
            metrics=payload["metrics"],
            params=trial.params,
            series=payload["series"],
            status="FAILED" if payload["status"] == "failed" else "FINISHED",
            start_time=int(start.timestamp() * 1000) if start else None,
            end_time=int(end.timestamp() * 1000) if end else None,
        )

    def _tune(self, target: int, deadline: float | None, until: float | None) -> int:
        import optuna

        study = self.study
        finished = len(tuning.done_trials(study))
        if finished >= target or (deadline is not None and time.monotonic() >= deadline):
            return finished
        tuning.ensure_slots(study, target, self.model.defaults)  # the shared queue
        study.sampler = tuning.make_sampler(self.config.seed + self.sampler_offset, finished)
        study.pruner = tuning.make_pruner()
        objective = tuning.make_objective(
            self.worker.context,
            self.worker,
            until=lambda: until,
            cancelled=self.cancelled.is_set,
            on_result=self._keep_oof,
        )

        def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            # One read of the storage per trial (each costs milliseconds on SQLite).
            done = tuning.done_trials(study)
            if not tuning.counts(study, trial, done):  # surplus or unfinished
                return
            self._log_trial(self.run_id, trial)
            self.reporter.trial_finished(
                self.model.name, trial.number, trial.state.name.lower(), _best_of(study, done)
            )
            now = time.monotonic()
            if self.cancelled.is_set():
                study.stop()
            if trial.datetime_start and trial.datetime_complete:
                self.trial_seconds.append(
                    (trial.datetime_complete - trial.datetime_start).total_seconds()
                )
            typical = float(np.median(self.trial_seconds)) if self.trial_seconds else 0.0
            if len(done) >= target or (
                deadline is not None and now + (typical if until else 0.0) >= deadline
            ):
                study.stop()

        # Trials that fail on a dead process are not "done"; loop until the target is met.
        while finished < target:
            if self.cancelled.is_set():
                raise KeyboardInterrupt
            left = deadline - time.monotonic() if deadline is not None else None
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
        return finished

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
        arrays = {"holdout_predictions.npy": prediction}
        if test_X is not None:
            arrays["test_predictions.npy"] = test_prediction
        oof, oof_note = self._best_oof(best)
        if oof is not None:
            arrays["oof_predictions.npy"] = oof
        n_hold = len(self.data.holdout_y)
        results = tuning.results_of(best)
        fit_info_keys = results.get(tuning.FIT_INFO_ATTR, {})
        metrics = {
            **{k: v for k, v in payload["metrics"].items() if k.startswith("cv_")},
            **{k: v for k, v in payload["metrics"].items() if k in fit_info_keys},
            **{f"refit_{k}": v for k, v in refit_info.items()},
            **holdout,
            **counts,
            "fit_seconds": fit_s,
            "predict_seconds": predict_s,
            "predict_seconds_per_1000_rows": predict_s / max(n_hold + n_test, 1) * 1000,
            "cv_fit_seconds_per_fold": float(np.mean(results["fit_seconds"])),
        }
        self.tracker.log(
            run_id,
            metrics=metrics,
            series=payload["series"],
            params=best.params,
            tags={
                f"{TAG}status": "ok",
                f"{TAG}best_trial": best.number,
                f"{TAG}oof": oof_note,
                **({f"{TAG}oof_trial": best.number} if oof is not None else {}),
            },
        )
        self._log_artifacts(run_id, best, payload, prediction, submission, arrays)
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
        arrays: dict[str, np.ndarray] | None = None,
    ) -> None:
        folds = pd.DataFrame(payload["series"])
        folds.insert(0, "fold", range(len(folds)))
        folds["fit_seconds"] = tuning.results_of(best)["fit_seconds"]
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
            for name, array in (arrays or {}).items():  # what ensembles are made of
                np.save(Path(tmp, name), np.asarray(array, dtype=np.float64))
                self.tracker.log_artifact(run_id, Path(tmp, name))
            if self.extras.findings:
                health = [finding.as_dict() for finding in self.extras.findings]
                Path(tmp, "health.json").write_text(json.dumps(health, indent=2, default=str))
                self.tracker.log_artifact(run_id, Path(tmp, "health.json"))

    def _keep_oof(self, trial: Any, value: float, scores: tuning.FoldScores) -> None:
        """Objective hook: keep the OOF predictions of the best trial run in this process."""
        kept = self._kept_oof
        if scores.oof is not None and (kept is None or self.metric.better(value, kept[1])):
            self._kept_oof = (trial.number, value, scores.oof)

    def _best_oof(self, best: Any) -> tuple[np.ndarray | None, str]:
        """The best trial's OOF predictions and where they came from.

        Kept in memory when this process ran the trial; else stored by an earlier invocation's
        study run of the same study (it was the best there too when that run refitted);
        else recomputed by one more cross-validation of the best configuration.
        """
        if self._kept_oof is not None and self._kept_oof[0] == best.number:
            return self._kept_oof[2], "kept"
        uid = self.tags[f"{TAG}study_uid"]
        runs = self.tracker.search(
            self.task.name,
            f"tags.`{TAG}study_uid` = '{uid}' and tags.`{TAG}oof_trial` = '{best.number}'",
        )
        for run in runs:
            oof = load_array(self.tracker, run.info.run_id, "oof_predictions.npy")
            if oof is not None and len(oof) == len(self.data.y):
                return oof, f"stored in run {run.info.run_id}"
        try:
            return self.worker.call(tuning.cv_job, best.params).oof, "recomputed"
        except Exception as exc:  # the study's result stands; only the ensemble loses it
            return None, f"missing: {tuning.error_text(exc)}"


def load_array(tracker: Tracker, run_id: str, name: str) -> np.ndarray | None:
    """A `.npy` artifact of a run, or None when the run has no such file."""
    if name not in {item.path for item in tracker.client.list_artifacts(run_id)}:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        return np.load(tracker.client.download_artifacts(run_id, name, tmp))


@dataclass(frozen=True)
class _Extras:
    """What a study needs beyond the split data: health warnings and the test part."""

    findings: tuple[Finding, ...] = ()
    test_X: pd.DataFrame | None = None
    submission: Any = None  # harness.data.local.SubmissionFormat, or None for the default
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


def _best_of(study: Any, trials: list) -> float | None:
    """The best value among `trials` (the study's direction), None before one completes."""
    from optuna.study import StudyDirection
    from optuna.trial import TrialState

    values = [t.value for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    if not values:
        return None
    return max(values) if study.direction == StudyDirection.MAXIMIZE else min(values)


def run(
    config: RunConfig,
    stores: Stores,
    reporter: Reporter | None = None,
    *,
    local: Any = None,
    started: float | None = None,
) -> tuple[Task, Prepared, list[StudyResult]]:
    """Run every selected study of a task and return their results (in model order).

    Args:
        config: What to run.
        stores: Where to record it.
        reporter: Progress hooks.
        local: A `harness.data.local.LocalTask` built from the user's files; it replaces the
            registry lookup of `config.task`.
        started: The `time.monotonic()` instant the run began (default: now), from which a
            `--budget` counts; the command passes its own start, so loading the data counts.

    Raises:
        HarnessError: Unknown task or model, a model asked for by name that cannot handle the
            task, data that cannot be split, or stores that cannot be used.
    """
    started = time.monotonic() if started is None else started
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
    # Create an RDB storage's tables before threads open studies in it (a journal has none).
    if config.workers > 1 and not journal.is_journal(stores.storage_url):
        try:
            tuning.open_storage(stores.storage_url)
        except Exception as exc:
            raise StoreError(
                f"Cannot open the Optuna storage {mask(stores.storage_url)!r}: "
                f"{mask(str(exc)).splitlines()[0]}. Pass a working --storage."
            ) from None
    device = devices.device()
    n_jobs = config.n_jobs or max(1, devices.cpu_count() // config.workers)
    cancelled = threading.Event()
    studies: list[_StudyRun] = []
    results: dict[str, StudyResult] = {}
    for model, reason in selected:
        study = _StudyRun(
            task, model, data, config, tracker, reporter, device, n_jobs, extras, cancelled
        )
        if reason:
            results[model.name] = study.skipped(reason)
            reporter.study_finished(results[model.name])
        else:
            studies.append(study)
    pool = None
    if config.workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="study")
    try:
        if config.budget is not None:
            results.update(_budgeted(studies, config, reporter, cancelled, started, pool))
        else:
            results.update(_each_in_full(studies, config, reporter, cancelled, pool))
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    ordered = [results[model.name] for model, _ in selected]
    if config.ensemble:
        result = _run_ensemble(task, data, config, tracker, extras, ordered)
        reporter.study_finished(result)
        if result.run_id:  # a skipped ensemble records nothing: only the reporter hears why
            ordered.append(result)
    return task, data, ordered


def _unlogged_for_good(trial: Any, grace_seconds: float = 60.0) -> bool:
    """Whether a finished trial missing from MLflow will stay missing unless we log it.

    Its own process logs it a moment after it ends: we log it only when that process is this
    one, or dead (on this host), or on another host and the trial ended over `grace_seconds`
    ago. Otherwise a `harness run` starting beside live workers would log their trials twice.
    """
    import datetime

    from harness.tracking import process_alive

    host, pid = trial.user_attrs.get(tuning.HOST_ATTR), trial.user_attrs.get(tuning.PID_ATTR)
    if host is None or pid is None:
        return True
    if host == socket.gethostname():
        return pid == os.getpid() or not process_alive(int(pid))
    ended = trial.datetime_complete
    if ended is None:
        return True
    return (datetime.datetime.now() - ended).total_seconds() > grace_seconds


def _finished(study: _StudyRun, reporter: Reporter) -> StudyResult:
    """Finish a study (refit, holdout, end its run) and report it."""
    result = replace(study.finish(), tuning_seconds=study.tuning_seconds)
    reporter.study_finished(result)
    return result


def _each_in_full(
    studies: list[_StudyRun],
    config: RunConfig,
    reporter: Reporter,
    cancelled: threading.Event,
    pool: Any = None,
) -> dict[str, StudyResult]:
    """Run each study to its `--trials` (within `--timeout`), on `pool`'s threads if given."""

    def whole(study: _StudyRun) -> StudyResult:
        study.run_tuning()
        return _finished(study, reporter)

    if pool is None:
        results = {}
        for study in studies:
            results[study.model.name] = whole(study)
        return results
    return _in_threads(pool, studies, whole, cancelled)


def _in_threads(
    pool: Any, studies: list[_StudyRun], job: Any, cancelled: threading.Event
) -> dict[str, Any]:
    """`job(study)` for every study on the run's thread `pool`; model name -> its return value.

    One pool serves the whole run: a worker process is forked by a pool thread and gets SIGKILL
    when that thread exits (PR_SET_PDEATHSIG follows the forking thread), so the threads must
    outlive every worker. On Ctrl-C (or SIGTERM) the run is cancelled: every worker process is
    killed, so the trials in flight end uncounted, every thread returns, and the interrupt is
    raised again here.
    """
    from concurrent.futures import FIRST_EXCEPTION, wait

    futures = {pool.submit(job, study): study for study in studies}
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    raise future.exception()
    except BaseException:
        cancelled.set()
        for study in studies:
            study.worker.kill()
        wait(futures)
        for study in studies:
            study.abort()
        raise
    return {study.model.name: future.result() for future, study in futures.items()}


def _budgeted(
    studies: list[_StudyRun],
    config: RunConfig,
    reporter: Reporter,
    cancelled: threading.Event,
    started: float,
    pool: Any = None,
) -> dict[str, StudyResult]:
    """Share `config.budget` seconds from `started` among the studies (see `harness.schedule`),
    then finish every study that ran a trial; a study the budget never reached is skipped."""
    end = started + config.budget
    direction = get_metric(studies[0].task.metric).direction if studies else "minimize"
    by_name = {study.model.name: study for study in studies}
    standings: dict[str, schedule.Standing] = {}

    score_seconds = 0.0
    if config.ensemble and studies:
        from harness.ensemble import score_seconds as timed

        data = studies[0].data
        score_seconds = timed(data.y, studies[0].task.metric, data.n_classes)

    def tuning_end() -> float:
        reserve = schedule.reserve_seconds(
            config.budget,
            list(standings.values()),
            config.workers,
            ensemble=config.ensemble,
            score_seconds=score_seconds,
        )
        return end - reserve

    waiting = set(by_name)  # studies whose rung-0 grant has not begun
    first = schedule.FirstRung.plan(time.monotonic(), tuning_end(), len(studies), config.workers)

    def grant(study: _StudyRun, more: int, deadline: float) -> None:
        now = time.monotonic()
        waiting.discard(study.model.name)
        if more == 0:  # rung 0: one slow default may not eat the others' turn or their tuning
            ranked = sum(
                1
                for name, standing in list(standings.items())
                if standing.best is not None and by_name[name].model.family != "baseline"
            )
            deadline = first.until(now, len(waiting), config.workers, deadline, ranked)
        if now >= deadline:
            return
        if study.run_id is None:
            study.start(None)
        target = min(len(tuning.done_trials(study.study)) + more, config.trials)
        if study.run_id is not None and study.failure is None:
            study.tune(max(target, 1), deadline, until=deadline)
        standings[study.model.name] = study.standing()

    def run_rung(grants: dict[str, int]) -> None:
        deadline = tuning_end()
        chosen = [by_name[name] for name in grants]
        if pool is None:
            for study in chosen:
                grant(study, grants[study.model.name], deadline)
        else:
            granted = lambda study: grant(study, grants[study.model.name], deadline)  # noqa: E731
            _in_threads(pool, chosen, granted, cancelled)

    try:
        run_rung(schedule.first_rung(studies))  # rung 0: every model's defaults
        rung = 1
        while True:
            left = tuning_end() - time.monotonic()
            if left <= 0:
                break
            grants = schedule.next_rung(
                list(standings.values()),
                rung,
                direction=direction,
                workers=config.workers,
                max_trials=config.trials,
                seconds_left=left,
            )
            if not grants:
                break
            run_rung(grants)
            rung += 1
    except BaseException:
        for study in studies:
            study.abort()
        raise
    results = {}
    late = "the run's budget ended before its first trial"
    for study in studies:
        if study.study is None:
            results[study.model.name] = study.skipped(late)
        elif not tuning.done_trials(study.study):
            results[study.model.name] = study.skipped(late, started=True)
        elif all(schedule.cut_by_budget(t) for t in tuning.done_trials(study.study)):
            reason = "its defaults did not finish within its share of the run's budget"
            results[study.model.name] = study.skipped(reason, started=True)
        else:
            continue
        reporter.study_finished(results[study.model.name])
    ready = [study for study in studies if study.model.name not in results]
    if pool is None:
        for study in ready:
            results[study.model.name] = _finished(study, reporter)
    else:
        finishing = lambda study: _finished(study, reporter)  # noqa: E731
        results.update(_in_threads(pool, ready, finishing, cancelled))
    return results


# ----------------------------------------------------------------------------- the ensemble


def _run_ensemble(
    task: Task,
    data: Prepared,
    config: RunConfig,
    tracker: Tracker,
    extras: _Extras,
    results: list[StudyResult],
) -> StudyResult:
    """Blend this run's ok studies (greedy selection on OOF predictions) and record the blend.

    The weights see only the training part's OOF predictions and target; the holdout is scored
    once with them. Recorded as a run of kind "ensemble" for the model "ensemble" (family
    "ensemble") with its members and weights, shaped like a study run, so leaderboards rank it
    and `harness submit --model ensemble` picks it.
    Fewer than two ok studies with OOF predictions: skipped, with the reason, and no run.
    """
    from harness import ensemble

    members, notes = _ensemble_inputs(tracker, results, extras.test_X is not None)
    if len(members) < 2:
        reason = f"fewer than 2 studies ended ok with out-of-fold predictions ({len(members)})" + (
            f"; {'; '.join(notes)}" if notes else ""
        )
        return StudyResult(ensemble.MODEL, "skipped", reason)
    kind = SimpleNamespace(name=ensemble.MODEL, family=ensemble.FAMILY, hardware=())
    tags = _base_tags(task, kind, data, config, "cpu")  # type: ignore[arg-type]
    tags[f"{TAG}kind"] = ensemble.KIND  # not an Optuna study: study counters skip it
    tags[f"{TAG}health_warnings"] = len(extras.findings)
    if extras.source:
        tags[f"{TAG}source"] = extras.source
    run_id = tracker.start_run(task.name, ensemble.MODEL, {**tags, f"{TAG}status": "running"})
    end_status, status, error = "KILLED", "failed", "interrupted"
    try:
        result = _score_ensemble(task, data, tracker, extras, members, notes, run_id)
        end_status, error = "FINISHED", None
        return result
    except StoreError as exc:
        end_status, error = "FAILED", f"store failure: {exc}"
        raise
    except Exception as exc:
        end_status, error = "FAILED", tuning.error_text(exc)
        return StudyResult(ensemble.MODEL, "failed", error, run_id=run_id)
    finally:
        if error:
            tracker.log(run_id, tags={f"{TAG}status": status, f"{TAG}error": error})
        tracker.end_run(run_id, end_status)


def _ensemble_inputs(
    tracker: Tracker, results: list[StudyResult], with_test: bool
) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """Model -> its stored OOF, holdout (and test) predictions, for the ok studies of the run."""
    members: dict[str, dict[str, np.ndarray]] = {}
    notes = []
    for result in results:
        if result.status != "ok" or not result.run_id:
            continue
        parts = ["oof", "holdout", *(["test"] if with_test else [])]
        arrays = {p: load_array(tracker, result.run_id, f"{p}_predictions.npy") for p in parts}
        lacking = [p for p, a in arrays.items() if a is None]
        if lacking:
            notes.append(f"{result.model} stored no {' / '.join(lacking)} predictions")
            continue
        members[result.model] = arrays  # type: ignore[assignment]
    return members, notes


def _score_ensemble(
    task: Task,
    data: Prepared,
    tracker: Tracker,
    extras: _Extras,
    members: dict[str, dict[str, np.ndarray]],
    notes: list[str],
    run_id: str,
) -> StudyResult:
    from harness import ensemble

    start = time.perf_counter()
    oof = {name: parts["oof"] for name, parts in members.items()}
    selection = ensemble.select(oof, data.y, task.metric)
    fit_s = time.perf_counter() - start
    weights = selection.weights
    blended_oof = ensemble.blend(oof, weights)
    series = {
        f"fold_{name}": values
        for name, values in ensemble.fold_scores(
            blended_oof, data.y, data.folds, task.metrics
        ).items()
    }
    start = time.perf_counter()
    holdout_prediction = ensemble.blend({m: p["holdout"] for m, p in members.items()}, weights)
    submission, arrays = None, {"oof_predictions.npy": blended_oof}
    if extras.test_X is not None:
        test_prediction = ensemble.blend({m: p["test"] for m, p in members.items()}, weights)
        submission = extras.submission_frame(test_prediction, data, task)
        arrays["test_predictions.npy"] = test_prediction
    predict_s = time.perf_counter() - start
    arrays["holdout_predictions.npy"] = holdout_prediction
    holdout = {
        f"holdout_{name}": get_metric(name).score(data.holdout_y, holdout_prediction)
        for name in task.metrics
    }
    metrics: dict[str, float] = {}
    for key, values in series.items():
        metrics[f"cv_{key[len('fold_') :]}_mean"] = float(np.mean(values))
        metrics[f"cv_{key[len('fold_') :]}_std"] = float(np.std(values))
    metrics.update(holdout)
    metrics[f"oof_{task.metric}"] = selection.score
    metrics["fit_seconds"] = fit_s
    metrics["predict_seconds"] = predict_s
    metrics["members"] = len(weights)
    tracker.log(
        run_id,
        metrics=metrics,
        series=series,
        params={f"weight.{name}": round(w, 6) for name, w in weights.items()},
        tags={
            f"{TAG}status": "ok",
            f"{TAG}ensemble_members": json.dumps(weights),
            f"{TAG}ensemble_candidates": ",".join(members),
            **({f"{TAG}ensemble_notes": "; ".join(notes)} if notes else {}),
        },
    )
    folds = pd.DataFrame(series)
    folds.insert(0, "fold", range(len(folds)))
    with tempfile.TemporaryDirectory() as tmp:
        frames = {
            "fold_scores.csv": folds,
            "holdout_predictions.csv": holdout_frame(data, holdout_prediction, task.target),
        }
        if submission is not None:
            frames["submission.csv"] = submission
        for name, frame in frames.items():
            frame.to_csv(Path(tmp, name), index=False)
            tracker.log_artifact(run_id, Path(tmp, name))
        Path(tmp, "ensemble.json").write_text(json.dumps(selection.as_dict(), indent=2))
        tracker.log_artifact(run_id, Path(tmp, "ensemble.json"))
        for name, array in arrays.items():
            np.save(Path(tmp, name), np.asarray(array, dtype=np.float64))
            tracker.log_artifact(run_id, Path(tmp, name))
    primary = task.metric
    return StudyResult(
        ensemble.MODEL,
        "ok",
        cv_mean=metrics[f"cv_{primary}_mean"],
        cv_std=metrics[f"cv_{primary}_std"],
        holdout=holdout[f"holdout_{primary}"],
        best_params={name: round(w, 6) for name, w in weights.items()},
        run_id=run_id,
        submission=submission,
    )
