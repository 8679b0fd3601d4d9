"""Optuna studies: one per (task, model), trial 0 = the model's defaults, per-fold pruning, resume.

A trial fits the whole pipeline (preprocessing + model, built fresh by the model's `build`) inside
each training fold and scores it on that fold's validation rows. After each fold it reports the
running mean of the primary metric, so a pruner can stop a clearly worse trial early (state
PRUNED). A trial whose model raises is FAIL with the error kept in its `error` user attribute.

Resume: a study is named `<task>.<model>` in the Optuna storage. A rerun counts the trials already
finished (complete, pruned, or failed with a recorded error) and runs only the missing ones. Trials
left RUNNING by a killed process are not counted, so they are run again. The study remembers the
fingerprints of the folds and data it was tuned on and refuses to continue on different ones.
"""

from __future__ import annotations

import contextvars
import functools
import os
import random
import socket
import time
import traceback
import uuid
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from harness import journal
from harness.errors import StoreError
from harness.metrics import get_metric
from harness.model import BuildSpec, Model, thread_limits
from harness.preprocess import SKEWED_ATTR, target_skewed
from harness.splits import Prepared
from harness.task import NO_AUGMENTATION, Augmentation
from harness.tracking import DISK_FULL_HINT, disk_full, local_lock, mask, write_ahead_log
from harness.worker import JobFailed, Worker

DEFAULT_ATTR = "harness.default"
SLOT_ATTR = "harness.slot"  # the queue slot a trial fills (see ensure_slots)
SURPLUS_ATTR = "harness.surplus"  # a trial beyond the queue, or a second trial for a filled slot
SLOTTED_ATTR = "harness.slotted"  # study attribute: its trials come from numbered slots
HOST_ATTR, PID_ATTR = "harness.host", "harness.pid"  # the process running a trial
CREATOR_ATTR = "harness.creator"  # study attribute: host:pid of the process that created it
QUEUED_ATTR = "harness.queued"  # study attribute: its first slots are queued
CREATOR_GRACE = 10.0  # seconds a process joining a new study waits for its creator's slots
ERROR_ATTR = "error"
STATUS_ATTR = "harness.status"  # timeout / oom for trials killed at a limit
FIT_INFO_ATTR = "fit_info"
# A completed trial's results, in one user attribute (one storage write instead of one per key):
# fold_<metric> (per-fold scores), fit_seconds and predict_seconds (per fold), FIT_INFO_ATTR.
# Trials of studies made before it hold the same keys as separate attributes (`results_of`).
RESULT_ATTR = "harness.result"
# Per-epoch pruning (networks): epoch e of fold f is Optuna step f * EPOCH_STEPS + e, and a trial
# that reports epochs reports no fold steps, so a step means the same thing in every trial of a
# study (a study is one model). Pruning is considered from the EPOCH_WARMUP-th epoch of a fold.
EPOCH_STEPS = 10_000
EPOCH_WARMUP = 3


@dataclass(frozen=True)
class FoldScores:
    """Scores of one configuration over the CV folds.

    Attributes:
        scores: Metric name -> one score per fold.
        fit_seconds: Fit time per fold.
        predict_seconds: Prediction time per fold.
        fit_info: Numbers a fitted estimator reports about its fit (e.g. `rounds_used` of an
            early-stopped booster) -> one value per fold.
        oof: Out-of-fold predictions of the training part: rows x classes (probabilities) or a
            vector (regression), averaged over repeats, NaN for rows no fold validates (the
            first block of time-ordered folds). What ensembles are fitted on.
    """

    scores: dict[str, list[float]]
    fit_seconds: list[float]
    predict_seconds: list[float]
    fit_info: dict[str, list[float]] = field(default_factory=dict)
    oof: np.ndarray | None = field(default=None, compare=False, repr=False)


def predict(estimator: Any, X: Any, n_classes: int) -> np.ndarray:
    """Probabilities over all `n_classes` codes (classification) or values (regression).

    Estimators that never saw a class in their training rows get a zero column for it.
    """
    if n_classes == 0:
        return np.asarray(estimator.predict(X), dtype=float).ravel()
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    classes = getattr(estimator, "classes_", None)
    if proba.shape[1] != n_classes and classes is not None:
        full = np.zeros((proba.shape[0], n_classes))
        full[:, np.asarray(classes, dtype=int)] = proba
        proba = full
    # float32 outputs (XGBoost, Keras) sum to 1 only within 1e-7: renormalize in float64.
    return proba / proba.sum(axis=1, keepdims=True)


def fit_info(estimator: Any) -> dict[str, float]:
    """The numeric `fit_info_` of a fitted estimator, or of the last step of a pipeline.

    Models report what their fit decided there (an early-stopped booster: `rounds_used`);
    tuning keeps it per fold and the runner logs it to MLflow. Empty when there is none.
    """
    info = getattr(estimator, "fit_info_", None)
    if info is None and hasattr(estimator, "steps"):
        info = getattr(estimator.steps[-1][1], "fit_info_", None)
    if not isinstance(info, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in info.items()
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
    }


def fit_and_predict(
    model: Model,
    params: dict,
    spec: BuildSpec,
    seed: int,
    X_fit,
    y_fit,
    X_pred,
    n_classes: int,
    *,
    info: dict | None = None,
) -> tuple[np.ndarray, float, float]:
    """Build a fresh estimator, fit it, predict; return (predictions, fit s, predict s).

    BLAS and OpenMP pools (scikit-learn's histogram boosting, NumPy's linear algebra) are capped
    at `spec.n_jobs` for the fit and the prediction, so parallel studies never oversubscribe the
    cores; learners with their own thread setting get `spec.n_jobs` from their `build`. The
    estimator's `fit_info` is copied into `info` when given.
    """
    estimator = model.build(replace(spec, n_rows=len(y_fit)), dict(params), seed=seed)
    with thread_limits(spec.n_jobs):
        start = time.perf_counter()
        estimator.fit(X_fit, y_fit)
        fitted = time.perf_counter()
        prediction = predict(estimator, X_pred, n_classes)
        done = time.perf_counter()
    if info is not None:
        info.update(fit_info(estimator))
    return prediction, fitted - start, done - fitted


def spec_for(
    problem_type: str,
    modality: str,
    data: Prepared,
    *,
    n_jobs: int = 1,
    device: str = "cpu",
    augmentation: Augmentation = NO_AUGMENTATION,
) -> BuildSpec:
    """The BuildSpec a model gets for the training part of `data`."""
    return BuildSpec(
        problem_type=problem_type,
        modality=modality,
        feature_kinds=data.feature_kinds,
        n_classes=data.n_classes,
        n_rows=len(data.y),
        n_jobs=n_jobs,
        device=device,
        shuffle=not data.ordered,
        augmentation=augmentation,
    )


def fit_fold(
    model: Model,
    params: dict,
    data: Prepared,
    spec: BuildSpec,
    seed: int,
    fold: int,
    *,
    info: dict | None = None,
) -> tuple[np.ndarray, float, float]:
    """Fit a fresh estimator on a fold's training rows and predict its validation rows."""
    train, valid = data.folds[fold]
    return fit_and_predict(
        model,
        params,
        spec,
        seed,
        data.X.iloc[train],
        data.y[train],
        data.X.iloc[valid],
        data.n_classes,
        info=info,
    )


def cross_validate(
    model: Model,
    params: dict,
    data: Prepared,
    spec: BuildSpec,
    metrics: tuple[str, ...],
    *,
    seed: int,
    on_fold: Callable[[int, float], None] | None = None,
) -> FoldScores:
    """Score one configuration on every fold; `on_fold(i, running mean)` may raise to prune.

    The fold predictions are also gathered into the out-of-fold matrix `FoldScores.oof`.
    """
    primary = metrics[0]
    scores: dict[str, list[float]] = {name: [] for name in metrics}
    fit_s, predict_s = [], []
    infos: dict[str, list[float]] = {}
    n_rows = len(data.y)
    oof_sum = np.zeros((n_rows, data.n_classes) if data.n_classes else n_rows)
    oof_count = np.zeros(n_rows)
    for number, (_, valid) in enumerate(data.folds):
        info: dict[str, float] = {}
        prediction, fit_time, predict_time = fit_fold(
            model, params, data, spec, seed, number, info=info
        )
        oof_sum[valid] += prediction
        oof_count[valid] += 1
        for key, value in info.items():
            infos.setdefault(key, []).append(value)
        for name in metrics:
            scores[name].append(get_metric(name).score(data.y[valid], prediction))
        fit_s.append(fit_time)
        predict_s.append(predict_time)
        if on_fold is not None:
            on_fold(number, float(np.mean(scores[primary])))
    return FoldScores(scores, fit_s, predict_s, infos, oof=out_of_fold(oof_sum, oof_count))


def out_of_fold(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Summed fold predictions / how often each row was validated; NaN where never."""
    with np.errstate(invalid="ignore", divide="ignore"):
        shape = (-1, 1) if total.ndim == 2 else (-1,)
        return np.where(count.reshape(shape) > 0, total / count.reshape(shape), np.nan)


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

    def __call__(self, message: tuple[int, float]) -> None:
        self.fold = message[0] + 1
        self._send(message)

    def epoch(self, epoch: int, y_true: np.ndarray, prediction: np.ndarray) -> None:
        """Score `prediction` of the fit's validation rows with the study's primary metric."""
        value = float(get_metric(self.metric).score(y_true, prediction))
        self._send(("epoch", self.fold, epoch, value))


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
    """Worker job: cross-validate `params`, sending (fold, running mean) after each fold."""
    return cross_validate(
        context.model,
        params,
        context.data,
        context.spec,
        context.metrics,
        seed=context.seed,
        on_fold=lambda fold, running_mean: send((fold, running_mean)),
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


def make_objective(
    context: StudyContext,
    worker: Worker | None = None,
    until: Callable[[], float | None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_result: Callable[[Any, float, FoldScores], None] | None = None,
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
    """
    import optuna

    metrics = context.metrics

    def objective(trial: optuna.Trial) -> float:
        if cancelled is not None and cancelled():
            raise KeyboardInterrupt
        claim_slot(trial)  # raises SurplusTrial for a trial no slot is left for
        report = _pruning_reporter(trial, len(context.data.folds))

        try:
            params = context.model.search_space(trial)
            if worker is not None:
                result = worker.call(
                    cv_job, params, on_message=report, until=until() if until else None
                )
            else:
                result = cv_job(context, report, params)
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
        results = {f"fold_{name}": values for name, values in result.scores.items()}
        results.update(fit_seconds=result.fit_seconds, predict_seconds=result.predict_seconds)
        if result.fit_info:
            results[FIT_INFO_ATTR] = result.fit_info
        trial.set_user_attr(RESULT_ATTR, results)
        if on_result is not None:
            on_result(trial, value, result)
        return value

    return objective


def _pruning_reporter(trial: Any, folds: int) -> Callable[[tuple], bool]:
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

    def report(message: tuple) -> bool:
        nonlocal by_epoch
        if message[0] == "epoch":
            _, fold, epoch, value = message
            by_epoch = True
            trial.report(value, fold * EPOCH_STEPS + epoch)
            if epoch + 1 >= EPOCH_WARMUP and trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch + 1} of fold {fold + 1}")
            return True
        fold, running_mean = message
        if by_epoch or fold + 1 >= folds:
            return True
        trial.report(running_mean, fold)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned after fold {fold + 1}")
        return True

    return report


def error_text(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"[:2000]


def open_storage(storage_url: str, name: str | None = None) -> Any:
    """The Optuna storage of `storage_url`: for a `journal:///` folder, the journal file of study
    `name` (`harness.journal`); otherwise Optuna's RDB storage with heartbeats, its tables created
    once (retried while other processes or threads create them), SQLite in write-ahead-log mode
    (`write_ahead_log`)."""
    import optuna

    if journal.is_journal(storage_url):
        if name is None:
            raise ValueError("a journal storage holds one study per file: name the study")
        return journal.open_storage(storage_url, name)
    for attempt in range(8):
        try:
            with local_lock(storage_url):  # a fresh sqlite database gets its tables once
                storage = optuna.storages.RDBStorage(
                    storage_url,
                    heartbeat_interval=60,
                    grace_period=120,
                    engine_kwargs={"connect_args": {"timeout": 60}}
                    if storage_url.startswith("sqlite")
                    else {},
                )
            if storage_url.startswith("sqlite"):
                write_ahead_log(storage.engine)
            return storage
        except Exception as exc:  # two processes creating the schema of a fresh database
            text = str(exc)
            racing = any(m in text for m in ("UniqueViolation", "already exists", "IntegrityError"))
            if not racing or attempt == 7:
                raise
            time.sleep(0.5 + random.random())
    raise AssertionError("unreachable")


def load_study(storage_url: str, name: str) -> Any:
    """The existing study `name` of a storage, as it is: no fingerprint checks, no slots queued
    (a journal folder gets an empty file for a study it does not hold yet)."""
    import optuna

    return optuna.load_study(study_name=name, storage=open_storage(storage_url, name))


def open_study(
    storage_url: str, name: str, direction: str, *, seed: int, data: Prepared, fresh: bool = False
) -> Any:
    """Create or load the study `name`, checking it was tuned on the same folds and data.

    Raises:
        StoreError: The storage cannot be opened, or the study was tuned on other folds or data.
    """
    import optuna

    # Failed trials are recorded (state, error text) by harness; Optuna would print tracebacks.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    try:
        storage = open_storage(storage_url, name)
        if fresh:
            try:
                optuna.delete_study(study_name=name, storage=storage)
            except KeyError:
                pass
        # Exactly one process creates the study (its name is unique in the storage) and writes
        # its identity; the others load it and wait for that identity.
        try:
            study = optuna.create_study(storage=storage, study_name=name, direction=direction)
            created = True
        except optuna.exceptions.DuplicatedStudyError:
            study = optuna.load_study(study_name=name, storage=storage)
            created = False
    except Exception as exc:
        text = mask(str(exc)).splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = "Pass a working --storage."
        if "No module named" in text and "psycopg" in text:
            hint = "Install the PostgreSQL driver: pip install 'harness[postgres]'."
        elif disk_full(text):
            hint = DISK_FULL_HINT
        raise StoreError(
            f"Cannot open the Optuna storage {mask(storage_url)!r}: {text}. {hint}"
        ) from None
    attrs = study.user_attrs
    waited = time.monotonic()
    while not created and "harness.uid" not in attrs and time.monotonic() - waited < 15:
        time.sleep(0.2)  # the creator is writing the study's identity
        attrs = study.user_attrs
    if "harness.folds_fingerprint" not in attrs:
        study.set_user_attr("harness.folds_fingerprint", data.folds_fingerprint)
        study.set_user_attr("harness.data_fingerprint", data.data_fingerprint)
        study.set_user_attr("harness.seed", seed)
        study.set_user_attr("harness.folds", len(data.folds))
        # whether search spaces offer a log target transform (harness.preprocess)
        study.set_user_attr(SKEWED_ATTR, not data.n_classes and target_skewed(data.y))
        if created:  # it queues the first slots; processes joining at once wait for them
            study.set_user_attr(CREATOR_ATTR, _process_id())
        study.set_user_attr("harness.uid", uuid.uuid4().hex[:12])  # last: loaders wait for it
    elif attrs["harness.folds_fingerprint"] != data.folds_fingerprint:
        raise StoreError(
            f"Study {name!r} in {mask(storage_url)!r} was tuned on other folds or data "
            f"(seed {attrs.get('harness.seed')}, {attrs.get('harness.folds')} folds, data "
            f"{attrs.get('harness.data_fingerprint')}; now seed {seed}, {len(data.folds)} folds, "
            f"data {data.data_fingerprint}). Rerun with the same --seed and --folds, "
            "or add --fresh to start the study over."
        )
    if study.direction.name.lower() != direction:
        raise StoreError(
            f"Study {name!r} optimizes in the other direction; add --fresh to start it over."
        )
    return study


def is_done(trial: Any) -> bool:
    """Whether a trial counts towards the budget: complete, pruned, or failed by the model."""
    from optuna.trial import TrialState

    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and ERROR_ATTR in trial.user_attrs


def done_trials(study: Any) -> list[Any]:
    """The study's trials that count towards `--trials`, in order.

    A trial counts when it is done (`is_done`) and, for a trial of a numbered slot, it is the
    first done trial of its slot (by trial id): a slot counts once, however many processes raced
    for it. Done trials without a slot (from studies made before slots) count as they are.
    """
    counted, filled = [], set()
    for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t._trial_id):
        if not is_done(trial):
            continue
        slot = trial.user_attrs.get(SLOT_ATTR)
        if slot is not None:
            if slot in filled:
                continue
            filled.add(slot)
        counted.append(trial)
    return sorted(counted, key=lambda t: t.number)


def results_of(trial: Any) -> dict[str, Any]:
    """A trial's user attributes with its results (`RESULT_ATTR`) among them, as separate keys:
    fold_<metric>, fit_seconds, predict_seconds, FIT_INFO_ATTR. Trials from before the results
    were one attribute hold those keys themselves, and are read the same way."""
    attrs = dict(trial.user_attrs)
    attrs.update(attrs.pop(RESULT_ATTR, {}))
    return attrs


def run_here(trials: list[Any]) -> list[Any]:
    """The trials among `trials` that this process ran (by the host and pid they record)."""
    host, pid = socket.gethostname(), os.getpid()
    return [
        t
        for t in trials
        if t.user_attrs.get(HOST_ATTR) == host and t.user_attrs.get(PID_ATTR) == pid
    ]


def counts(study: Any, trial: Any, done: list[Any] | None = None) -> bool:
    """Whether `trial` is one of the study's counted trials (`done_trials`, or `done` when the
    caller has just read them)."""
    done = done_trials(study) if done is None else done
    return any(t._trial_id == trial._trial_id for t in done)


class SurplusTrial(Exception):
    """Raised at the start (or end) of a trial that no slot is left for; the trial is FAIL
    without an error, so it never counts and is never logged."""


def ensure_slots(study: Any, target: int, defaults: dict) -> None:
    """Make the study's queue hold one trial for each of its `target` numbered slots.

    The queue is Optuna's own: WAITING trials made by `enqueue_trial`, which `study.ask` pops
    atomically (one process wins each). Slot 0 carries the model's defaults; the others are
    sampled when popped. A slot is filled while a trial for it waits, runs, or is done; the
    trials of dead processes on this machine are failed first, so their slots are queued again
    at once (those of other machines after Optuna's heartbeat grace period). Any process may
    call this at any time: a slot queued twice by two processes at the same moment is run once
    (`claim_slot`) and counted once (`done_trials`).
    """
    from optuna.trial import TrialState

    reap_dead_trials(study)
    trials = study.get_trials(deepcopy=False)
    attrs = study.user_attrs
    creator = attrs.get(CREATOR_ATTR)
    if QUEUED_ATTR not in attrs and creator and creator != _process_id():
        # Joined a study another process has just created: let it queue the slots, instead of
        # queueing them too (duplicates would only be taken off the queue again).
        waited = time.monotonic()
        while QUEUED_ATTR not in study.user_attrs and time.monotonic() - waited < CREATOR_GRACE:
            time.sleep(0.2)
        trials = study.get_trials(deepcopy=False)
    legacy = [t for t in trials if SLOT_ATTR not in t.user_attrs and is_done(t)]
    filled = {
        t.user_attrs[SLOT_ATTR]
        for t in trials
        if SLOT_ATTR in t.user_attrs
        and (is_done(t) or t.state in (TrialState.WAITING, TrialState.RUNNING))
    }
    defaults_done = any(t.user_attrs.get(DEFAULT_ATTR) for t in legacy)
    if not study.user_attrs.get(SLOTTED_ATTR):
        study.set_user_attr(SLOTTED_ATTR, True)
    for slot in range(target - len(legacy)):
        if slot in filled:
            continue
        if slot == 0 and not defaults_done:
            study.enqueue_trial(dict(defaults), user_attrs={SLOT_ATTR: 0, DEFAULT_ATTR: True})
        else:
            study.enqueue_trial({}, user_attrs={SLOT_ATTR: slot})
    if QUEUED_ATTR not in study.user_attrs:
        study.set_user_attr(QUEUED_ATTR, True)


def ensure_defaults_queued(study: Any, defaults: dict) -> None:
    """Queue the model's defaults as the next trial unless they already ran or wait."""
    from optuna.trial import TrialState

    for trial in study.get_trials(deepcopy=False):
        if trial.user_attrs.get(DEFAULT_ATTR) and (
            is_done(trial) or trial.state == TrialState.WAITING
        ):
            return
    study.enqueue_trial(dict(defaults), user_attrs={DEFAULT_ATTR: True})


_SETTLED: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def settled_attr(study: Any, key: str) -> Any:
    """A study attribute that never changes once set (`SLOTTED_ATTR`, `SKEWED_ATTR`), or None.

    `study.user_attrs` is a query of the storage; these are asked at every trial. Once a value is
    seen it is kept for the life of this `study` object; until then each call asks the storage.
    """
    known = _SETTLED.setdefault(study, {})
    if key not in known:
        attrs = study.user_attrs
        if key not in attrs:
            return None
        known[key] = attrs[key]
    return known[key]


def claim_slot(trial: Any, *, finished: bool = False) -> None:
    """Check that a running trial may fill its slot; mark it surplus and raise if not.

    Called when a trial starts (it also records the host and pid running it) and again when its
    folds are done. The trial may not fill its slot when it was created beyond the queue (no
    slot), when another trial of its slot is done, or when one with a lower id is running.
    Another WAITING trial of the same slot (queued twice) is taken off the queue atomically.
    Studies without slots (made by `optimize` directly) are not checked.

    Raises:
        SurplusTrial: The trial is surplus; it ends FAIL without an error and never counts.
    """
    from optuna.trial import TrialState

    study = trial.study
    if not settled_attr(study, SLOTTED_ATTR):
        return
    storage, trial_id = study._storage, trial._trial_id
    slot = trial.user_attrs.get(SLOT_ATTR)
    if not finished:
        trial.set_user_attr(HOST_ATTR, socket.gethostname())
        trial.set_user_attr(PID_ATTR, os.getpid())
    surplus = slot is None
    others = [] if surplus else study.get_trials(deepcopy=False)
    for other in others:
        if other._trial_id == trial_id or other.user_attrs.get(SLOT_ATTR) != slot:
            continue
        if other.state == TrialState.WAITING:
            if _take_off_queue(storage, other._trial_id):
                continue
            other = storage.get_trial(other._trial_id)
        if is_done(other) or (other.state == TrialState.RUNNING and other._trial_id < trial_id):
            surplus = True
            break
    if surplus:
        reason = "no slot" if slot is None else "slot filled" + (" after cv" if finished else "")
        trial.set_user_attr(SURPLUS_ATTR, reason)
        if slot is None:  # the queue is empty: this process stops asking for trials
            study.stop()
        raise SurplusTrial(
            f"trial {trial.number} is surplus: "
            + ("no queued slot was left" if slot is None else f"slot {slot} is filled")
        )


def _take_off_queue(storage: Any, trial_id: int) -> bool:
    """Pop a WAITING trial (atomic: one process wins) and fail it as surplus."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    try:
        if not storage.set_trial_state_values(trial_id, state=TrialState.RUNNING):
            return False
        storage.set_trial_user_attr(trial_id, SURPLUS_ATTR, "queued twice")
        storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
    except UpdateFinishedTrialError:
        return False
    return True


def _process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def reap_dead_trials(study: Any) -> int:
    """Fail the RUNNING trials of dead processes: this machine's at once (by pid), other
    machines' after Optuna's heartbeat grace period. Returns how many of this machine's."""
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    from harness.tracking import process_alive

    host, reaped = socket.gethostname(), 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid = trial.user_attrs.get(PID_ATTR)
        if trial.user_attrs.get(HOST_ATTR) != host or not isinstance(pid, int):
            continue
        if pid == os.getpid() or process_alive(pid):
            continue
        try:
            study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
            reaped += 1
        except UpdateFinishedTrialError:
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    return reaped


def await_slots(
    study: Any, target: int, defaults: dict, deadline: float | None, poll: float = 1.0
) -> bool:
    """Wait until the study has a queued slot to run (True) or needs none (False).

    While the study has fewer than `target` counted trials and every unfilled slot is being
    run by another process, this waits (polling every `poll` s) for those trials to end. It
    returns False once `target` trials count or the `deadline` (time.monotonic) has passed.
    """
    from optuna.trial import TrialState

    while True:
        ensure_slots(study, target, defaults)
        if len(done_trials(study)) >= target:
            return False
        if study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(poll)


def make_sampler(seed: int, n_done: int) -> Any:
    """A seeded TPE sampler, named explicitly (Optuna 5 changed TPE's defaults).

    The seed is offset by the trials already done, so a resumed study samples deterministically
    from its history instead of repeating the first configurations of the fresh sampler.
    """
    import optuna

    return optuna.samplers.TPESampler(
        seed=seed + n_done,
        n_startup_trials=10,
        multivariate=True,
        constant_liar=False,
    )


def make_pruner() -> Any:
    """Median pruning after each fold, once five trials have finished."""
    return FoldMedianPruner(n_startup_trials=5, n_warmup_steps=1)


class FoldMedianPruner:
    """Optuna's `MedianPruner` rule, reading the study's completed trials once per trial.

    A trial is pruned at a step when its best score so far is worse than the median of the
    completed trials' scores at that step (after `n_startup_trials` completed trials, from step
    `n_warmup_steps` on), the rule of `optuna.pruners.MedianPruner`. Optuna's pruner re-reads
    every completed trial from the storage at every report: several milliseconds each on SQLite,
    after each fold and after each epoch of a network. This one reads them at the trial's first
    report and reuses them for its later reports; a trial another process completes meanwhile
    is seen from the next trial on. Optuna calls a pruner only through `prune` (its
    `BasePruner` is not subclassed, so importing this module does not import Optuna).
    """

    def __init__(self, n_startup_trials: int = 5, n_warmup_steps: int = 0) -> None:
        self.n_startup_trials, self.n_warmup_steps = n_startup_trials, n_warmup_steps
        self._trial_id: int | None = None
        self._completed: list[Any] = []

    def prune(self, study: Any, trial: Any) -> bool:
        from optuna.study import StudyDirection
        from optuna.trial import TrialState

        if trial._trial_id != self._trial_id:
            self._trial_id = trial._trial_id
            self._completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        step = trial.last_step
        if (
            not self._completed
            or len(self._completed) < self.n_startup_trials
            or step is None
            or step < self.n_warmup_steps
        ):
            return False
        maximize = study.direction == StudyDirection.MAXIMIZE
        own = np.asarray(list(trial.intermediate_values.values()), dtype=float)
        if np.all(np.isnan(own)):
            return True
        best = np.nanmax(own) if maximize else np.nanmin(own)
        others = np.asarray(
            [t.intermediate_values[step] for t in self._completed if step in t.intermediate_values],
            dtype=float,
        )
        if not len(others) or np.all(np.isnan(others)):
            return False
        median = float(np.nanmedian(others))
        return bool(best < median if maximize else best > median)
