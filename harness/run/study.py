"""One study's life within a run: open, tune (trial by trial, logged to MLflow), finish."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import harness
from harness.contracts.metrics import get_metric
from harness.contracts.model import Model
from harness.contracts.task import Task
from harness.data.health import Finding
from harness.errors import StoreError, error_text
from harness.execution import jobs
from harness.execution.worker import JobFailed, Limits, Worker
from harness.protocol import cv as protocol_cv
from harness.protocol.splits import Prepared
from harness.run import schedule
from harness.run.config import Reporter, RunConfig, StudyResult
from harness.run.refit import refit_and_score
from harness.run.trials import best_of, trial_payload, unlogged_for_good
from harness.store import current as store_current
from harness.store import schema
from harness.store.tracker import Tracker
from harness.tuning import attrs as tuning_attrs
from harness.tuning import objective as tuning_objective
from harness.tuning import portfolio, pruning, slots, studies

__all__ = [
    "BAG_MEMORY_SHARE",
    "Extras",
    "StudyRun",
    "base_tags",
    "data_note",
    "describe",
    "open_run",
    "study_name",
]

# A worker keeps the best trial's fold models while its memory stays under this share of the
# memory limit; past it, the final model is rebuilt at the end (or refitted).
BAG_MEMORY_SHARE = 0.5


def study_name(task: Task, model: Model, data: Prepared) -> str:
    """The Optuna study of a model on a task: `<task>.<model>`, with `@<n>of<K>` when a budget
    scores only n of the K folds (its own study: a study's trials share their folds)."""
    name = f"{task.name}.{model.name}"
    return f"{name}@{len(data.folds)}of{data.folds_of}" if data.folds_of else name


def base_tags(task: Task, model: Model, data: Prepared, config: RunConfig, device: str) -> dict:
    return {
        schema.TASK: task.name,
        schema.MODEL: model.name,
        schema.FAMILY: model.family,
        schema.KIND: schema.KIND_STUDY,
        schema.STUDY: study_name(task, model, data),
        schema.METRIC: task.metric,
        schema.PROBLEM_TYPE: task.problem_type,
        schema.MODALITY: task.modality,
        schema.DIRECTION: get_metric(task.metric).direction,
        schema.FOLDS_FINGERPRINT: data.folds_fingerprint,
        schema.DATA_FINGERPRINT: data.data_fingerprint,
        schema.FOLDS: len(data.folds),
        **({schema.FOLDS_OF: data.folds_of} if data.folds_of else {}),
        schema.CV: data.scheme,
        schema.TEST_TRAIN_RATIO: f"{data.test_train_ratio:.6g}",
        schema.REPEATS: data.repeats,
        schema.DEVICE: device if "gpu" in model.hardware else "cpu",
        schema.SEED: config.seed,
        schema.VERSION: harness.__version__,
        schema.HOST: socket.gethostname(),
        schema.PID: os.getpid(),
    }


def open_run(
    tracker: Tracker, task: str, model: str, tags: dict, extras: Extras, *, current: bool
) -> str:
    """Create a study's (or the ensemble's) MLflow run: its tags, MLflow's source and user tags
    (the UI's Source and User columns), the data as dataset inputs, and, when `current`, the
    current marker (`harness.store.current`; a `harness worker` run is never current).

    The run's own tags only: trial runs copy the study's `tags`, and each tag there is a row
    more per trial.
    """
    kind = tags[schema.KIND]
    command = "worker" if kind == schema.KIND_WORKER else "run"
    own = {
        schema.SOURCE_NAME: f"harness {command} {task}",
        schema.SOURCE_TYPE: "LOCAL",
        schema.USER: _user(),
        **({schema.CURRENT: "true"} if current else {}),
    }
    run_id = tracker.start_run(task, model, {**tags, **own})
    tracker.log_inputs(run_id, list(extras.inputs))
    if current:
        store_current.settle(tracker, task, kind, model)
    return run_id


def describe(tracker: Tracker, run_id: str, extras: Extras) -> None:
    """Write the run's description: its board row in words, then the data it ran on."""
    from harness.results.notes import describe_run

    describe_run(tracker, run_id, extras.data_note)


def data_note(task: Task, data: Prepared, path: str = "") -> str:
    """What a run's description says of its data: the task, its parts and where it came from
    (`path`: the user's file or folder, else the task's `source`)."""
    where = path or task.source
    text = (
        f"Data: {task.name}, {len(data.y):,} training rows and {len(data.holdout_y):,} holdout "
        f"rows, {len(data.feature_kinds)} features"
    )
    return f"{text}; source: {where}." if where else f"{text}."


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container's user without a name
        return ""


class StudyRun:
    """One study's life within a run: tuning, trial logging, refit and holdout."""

    # (trial number, CV value, OOF predictions) of the best trial this process has run
    _kept_oof: tuple[int, float, np.ndarray] | None = None
    sampler_offset = 0  # added to the sampler's seed (`harness worker` makes it differ per process)
    keeps_models = True  # the worker keeps the best trial's fold models when the final is a bag

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
        extras: Extras | None = None,
        cancelled: threading.Event | None = None,
    ) -> None:
        self.task, self.model, self.data, self.config = task, model, data, config
        self.tracker, self.reporter = tracker, reporter
        self.extras = extras or Extras()
        self.metric = get_metric(task.metric)
        self.tags = base_tags(task, model, data, config, device)
        self.tags[schema.HEALTH_WARNINGS] = len(self.extras.findings)
        if self.extras.source:
            self.tags[schema.SOURCE] = self.extras.source
        if self.extras.source_options:
            self.tags[schema.SOURCE_OPTIONS] = self.extras.source_options
        self.name = study_name(task, model, data)
        spec = protocol_cv.spec_for(
            task.problem_type,
            task.modality,
            data,
            n_jobs=n_jobs,
            device=device,
            augmentation=task.augmentation,
        )
        # The final model: the best trial's fold models (kept by the worker) or a refit.
        self.final = config.final_for(data.ordered)
        # Configurations that did well across the catalog: trials 1..n, after the defaults.
        self.queued = portfolio.for_study(model, spec, config.portfolio_file())
        self.log_models = config.log_models  # the final model as an MLflow logged model
        bag_memory = config.memory_limit * BAG_MEMORY_SHARE if config.memory_limit else None
        context = jobs.StudyContext(model, data, spec, task.metrics, config.seed, bag_memory)
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
        tags = {schema.STATUS: "skipped", schema.REASON: reason}
        if started:  # its time still counts: a budget's allocation shows where the time went
            self.worker.close()
            run_id, self.run_id = self.run_id, None
            self.tracker.log(run_id, metrics={"tuning_seconds": self.tuning_seconds}, tags=tags)
        else:
            run_id = self._open_run({**self.tags, **tags})
        self._describe(run_id)
        self.tracker.end_run(run_id)
        return StudyResult(
            self.model.name, "skipped", reason, run_id=run_id, tuning_seconds=self.tuning_seconds
        )

    def start(self, trials_target: int | None) -> None:
        """Open the study and its MLflow run; log trials an interrupted run finished unlogged."""
        self.study = studies.open_study(
            self.tracker.stores.storage_url,
            self.name,
            self.metric.direction,
            seed=self.config.seed,
            data=self.data,
            fresh=self.config.fresh,
        )
        self.tags[schema.STUDY_UID] = self.study.user_attrs[tuning_attrs.UID_ATTR]
        self.run_id = self._open_run(
            {**self.tags, schema.STATUS: "running", schema.PORTFOLIO: self._portfolio_note()}
        )
        done = studies.done_trials(self.study)
        logged = self._logged_trials()
        for trial in done:  # trials finished by an earlier, interrupted run but never logged
            if trial.number not in logged and unlogged_for_good(trial):
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
            return len(studies.done_trials(self.study))
        began = time.monotonic()
        try:
            return self._tune(target, deadline, until)
        except (StoreError, KeyboardInterrupt):
            raise
        except Exception as exc:
            self.failure = ("failed", error_text(exc))
            return len(studies.done_trials(self.study))
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
            done = studies.done_trials(self.study)
            self.tracker.log(
                run_id,
                metrics={"tuning_seconds": self.tuning_seconds},
                tags={schema.BUDGET: f"{self.budget:g}"} if self.budget else None,
            )
            # this run's own trials, not those of other processes (harness worker)
            trials_run = sum(t.number not in self.done_before for t in studies.run_here(done))
            result = self.conclude(run_id, done, trials_run)
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
            end_status, error = "FAILED", error_text(exc)
            return StudyResult(self.model.name, "failed", error, run_id=run_id)
        finally:
            self.worker.close()
            self.run_id = None
            self._end(run_id, end_status, status, error)

    def conclude(self, run_id: str, done: list, trials_run: int) -> StudyResult:
        """What `finish` does once tuning is over: refit the best configuration and score the
        holdout once (`harness.run.refit`); `harness worker`'s studies record their counts."""
        return refit_and_score(self, self.study, run_id, done, trials_run)

    def refit_deadline(self) -> float | None:
        """The refit's fit deadline under a budget: its planned time (the estimate the budget's
        reserve was sized with, `schedule.refit_until`); else None.

        Without it the refit of a trial cut short would grow trees until early stopping, in
        the time reserved for the other refits and the ensemble.
        """
        if self.budget is None:  # (called once the study has a completed trial)
            return None
        return schedule.refit_until(time.monotonic(), self._final_seconds("refit"))

    def abort(self) -> None:
        """End an unfinished study (interrupted run): stop its worker, its run counts as killed."""
        self.worker.close()
        if self.run_id is not None:
            run_id, self.run_id = self.run_id, None
            self._end(run_id, "KILLED", "failed", "interrupted")

    def _end(self, run_id: str, end_status: str, status: str, error: str | None) -> None:
        if error:  # best effort on a broken store, which then reports its own error
            self.tracker.log(run_id, tags={schema.STATUS: status, schema.ERROR: error})
        self._describe(run_id)
        self.tracker.end_run(run_id, end_status)

    def _open_run(self, tags: dict) -> str:
        """The study's MLflow run, created (`open_run`): a study run is the model's current."""
        current = tags[schema.KIND] == schema.KIND_STUDY
        return open_run(
            self.tracker, self.task.name, self.model.name, tags, self.extras, current=current
        )

    def _describe(self, run_id: str) -> None:
        if self.tags[schema.KIND] == schema.KIND_STUDY:  # a worker's run has no board row
            describe(self.tracker, run_id, self.extras)

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
        complete = [t for t in studies.done_trials(self.study) if t.state == TrialState.COMPLETE]
        if complete:
            best_trial = self.study.best_trial  # one read of the storage
            best = float(best_trial.value)
            refit = self._final_seconds(self.final, best_trial)
            if self.log_models:  # the reserve keeps time to save and log the final model
                refit += schedule.MODEL_LOG_SECONDS
        return schedule.Standing(
            name=self.model.name,
            best=best,
            done=len(studies.done_trials(self.study)),
            trial_seconds=float(np.median(self.trial_seconds)) if self.trial_seconds else 0.0,
            refit_seconds=refit,
            failed=self.failure is not None,
            baseline=self.model.family == "baseline",
        )

    def _final_seconds(self, final: str, best_trial: Any = None) -> float:
        """The estimated seconds of the best trial's final model of kind `final` (the study has
        a completed trial): a bag predicts the holdout and test rows with every fold model; a
        refit is a fold's fit, scaled up to the whole training part."""
        results = tuning_attrs.results_of(best_trial or self.study.best_trial)
        if final == "bag":
            test_X = self.extras.test_X
            rows = len(self.data.holdout_y) + (0 if test_X is None else len(test_X))
            validated = sum(len(valid) for _, valid in self.data.folds)
            per_row = float(np.sum(results.get("predict_seconds") or [0.0])) / max(validated, 1)
            return per_row * rows * len(self.data.folds)
        k = self.data.folds_of or len(self.data.folds) / max(self.data.repeats, 1)
        folds = results.get("fit_seconds") or [0.0]
        return float(np.mean(folds)) * k / max(k - 1, 1)

    def _logged_trials(self) -> set[int]:
        uid = self.tags[schema.STUDY_UID]
        runs = self.tracker.search(self.task.name, f"tags.`{schema.STUDY_UID}` = '{uid}'")
        return {int(r.data.tags[schema.TRIAL]) for r in runs if schema.TRIAL in r.data.tags}

    def _log_trial(self, run_id: str, trial: Any) -> None:
        payload = trial_payload(trial, self.task.metrics)
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
        finished = len(studies.done_trials(study))
        if finished >= target or (deadline is not None and time.monotonic() >= deadline):
            return finished
        queued = self.queued.configurations
        slots.ensure_slots(study, target, self.model.defaults, queued)  # the shared queue
        study.sampler = studies.make_sampler(self.config.seed + self.sampler_offset, finished)
        study.pruner = pruning.make_pruner()
        objective = tuning_objective.make_objective(
            self.worker.context,
            self.worker,
            until=lambda: until,
            cancelled=self.cancelled.is_set,
            on_result=self._keep_oof,
            keep_bag=self.keeps_models and self.final == "bag",
        )

        def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            # One read of the storage per trial (each costs milliseconds on SQLite).
            done = studies.done_trials(study)
            if not studies.counts(study, trial, done):  # surplus or unfinished
                return
            self._log_trial(self.run_id, trial)
            self.reporter.trial_finished(
                self.model.name, trial.number, trial.state.name.lower(), best_of(study, done)
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
            now_finished = len(studies.done_trials(study))
            if now_finished == finished and not slots.await_slots(
                study, target, self.model.defaults, deadline, portfolio=queued
            ):  # nothing counted, and no slot left to run or to wait for (other processes)
                break
            finished = now_finished
        return finished

    def _portfolio_note(self) -> str:
        """The study run's `harness.portfolio` tag: what was queued after the defaults."""
        queued = self.queued
        if not queued.source:
            return "none"
        note = f"{len(queued.configurations)} configurations from {queued.source}"
        return "; ".join([note, *queued.notes])

    def _keep_oof(self, trial: Any, value: float, scores: protocol_cv.FoldScores) -> None:
        """Objective hook: keep the OOF predictions of the best trial run in this process."""
        kept = self._kept_oof
        if scores.oof is not None and (kept is None or self.metric.better(value, kept[1])):
            self._kept_oof = (trial.number, value, scores.oof)


@dataclass(frozen=True)
class Extras:
    """What a study needs beyond the split data: health warnings and the test part."""

    findings: tuple[Finding, ...] = ()
    test_X: pd.DataFrame | None = None
    submission: Any = None  # harness.data.local.SubmissionFormat, or None for the default
    source: str = ""
    source_options: str = ""  # the command-line settings of the user's data, as JSON
    id_column: str | None = None  # the user's data's id column (kept by `harness predict`)
    inputs: tuple = ()  # the data as MLflow dataset inputs (`harness.store.datasets`)
    data_note: str = ""  # what a run's description says of the data (`data_note`)

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
