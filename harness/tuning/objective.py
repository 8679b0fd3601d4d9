"""The Optuna objective: a trial's folds run in the study's worker, its progress drives pruning."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from harness.errors import error_text
from harness.execution.jobs import StudyContext, cv_job
from harness.execution.messages import EpochDone, FoldDone
from harness.execution.worker import JobFailed, Worker
from harness.protocol.cv import FoldScores
from harness.store import schema
from harness.tuning.attrs import ERROR_ATTR, FIT_INFO_ATTR, RESULT_ATTR, STATUS_ATTR
from harness.tuning.slots import claim_slot

__all__ = ["EPOCH_STEPS", "EPOCH_WARMUP", "make_objective", "pruning_reporter"]

# Per-epoch pruning (networks): epoch e of fold f is Optuna step f * EPOCH_STEPS + e, and a trial
# that reports epochs reports no fold steps, so a step means the same thing in every trial of a
# study (a study is one model). Pruning is considered from the EPOCH_WARMUP-th epoch of a fold.
EPOCH_STEPS = 10_000
EPOCH_WARMUP = 3


def make_objective(
    context: StudyContext,
    worker: Worker | None = None,
    until: Callable[[], float | None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_result: Callable[[Any, float, FoldScores], None] | None = None,
    keep_bag: bool = False,
) -> Callable[[Any], float]:
    """The Optuna objective: CV score of the primary metric, with fold scores as user attrs.

    With a `worker`, each trial's folds run in that process under its limits (a trial killed at
    a limit fails with the user attribute `harness.status` = timeout or oom); without one, they
    run in this process. `until()` gives the `time.monotonic()` instant at which a trial still
    running is killed (the end of a whole-run budget), or None. When `cancelled()` is true (the
    run was interrupted and its workers killed), a trial's failure is the interruption's: it
    raises KeyboardInterrupt, so the trial is not counted and a rerun runs it again.
    `on_result(trial, value, scores)` sees each completed trial's scores
    (with its out-of-fold predictions, which are too large for the trial's user attributes).
    With `keep_bag`, the process that fits the folds keeps the fold models of its best trial
    (`harness.execution.jobs.bag_job` predicts with them).
    """
    import optuna

    metrics = context.metrics

    def objective(trial: optuna.Trial) -> float:
        if cancelled is not None and cancelled():
            raise KeyboardInterrupt
        claim_slot(trial)  # raises SurplusTrial for a trial no slot is left for
        report = pruning_reporter(trial, len(context.data.folds))

        try:
            params = context.model.sample(trial, context.spec)
            number = trial.number if keep_bag else None
            if worker is not None:
                result = worker.call(
                    cv_job, params, number, on_message=report, until=until() if until else None
                )
            else:
                result = cv_job(context, report, params, number)
            value = float(np.mean(result.scores[metrics[0]]))
            if not np.isfinite(value):
                raise ValueError(f"the CV {metrics[0]} is {value}")
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            if cancelled is not None and cancelled():
                raise KeyboardInterrupt from None
            if isinstance(exc, JobFailed):  # killed at a limit or crashed: say which
                trial.set_user_attr(STATUS_ATTR, exc.status)
                trial.set_user_attr(ERROR_ATTR, str(exc))
            else:
                trial.set_user_attr(ERROR_ATTR, error_text(exc))
            raise
        claim_slot(trial, finished=True)  # another process filled the slot meanwhile
        results = {schema.fold(name): values for name, values in result.scores.items()}
        results.update(fit_seconds=result.fit_seconds, predict_seconds=result.predict_seconds)
        if result.fit_info:
            results[FIT_INFO_ATTR] = result.fit_info
        trial.set_user_attr(RESULT_ATTR, results)
        if on_result is not None:
            on_result(trial, value, result)
        return value

    return objective


def pruning_reporter(trial: Any, folds: int) -> Callable[[FoldDone | EpochDone], bool]:
    """Handle a trial's progress messages: fold (running mean) or epoch (validation score).

    Folds are steps 0..K-2: the last fold's running mean is the trial's value, so it is not
    reported, and a trial whose folds are all done is never pruned (it completes with its score,
    which the sampler learns from; pruning it then would save nothing). A network that reports
    epochs makes the trial's steps epochs (`fold * EPOCH_STEPS + epoch`), and its fold messages
    are then not reported: mixing the two would put a fold mean and an epoch score at the same
    step, and MedianPruner compares trials step by step. Every trial of a study is the same
    model, so all use the same kind of step.
    """
    import optuna

    by_epoch = False

    def report(message: FoldDone | EpochDone) -> bool:
        nonlocal by_epoch
        if isinstance(message, EpochDone):
            fold, epoch, value = message.fold, message.epoch, message.value
            by_epoch = True
            trial.report(value, fold * EPOCH_STEPS + epoch)
            if epoch + 1 >= EPOCH_WARMUP and trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch + 1} of fold {fold + 1}")
            return True
        fold, running_mean = message.fold, message.running_mean
        if by_epoch or fold + 1 >= folds:
            return True
        trial.report(running_mean, fold)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned after fold {fold + 1}")
        return True

    return report
