"""A `harness run`: load and split once, one study per model, then the ensemble.

`run` is the whole flow on one screen: load -> split -> record -> tune -> refit -> ensemble.
Each step is a call into one module: the studies' life is `harness.run.study`, how they are
driven (in full, in threads, under a budget) `harness.run.drivers`, the refit and holdout
`harness.run.refit`, the ensemble `harness.run.ensemble`. A model that fails is recorded as
failed with its error and the run goes on; problems with the stores stop the run.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from harness import devices, registry
from harness.contracts.model import Model
from harness.contracts.task import Dataset, Task
from harness.data.health import check_prepared, infinite_values, without_infinite
from harness.errors import NotSupportedError, StoreError
from harness.protocol.splits import Prepared, fewer_folds, prepare
from harness.run.config import Reporter, RunConfig, StudyResult
from harness.run.drivers import drive
from harness.run.ensemble import run_ensemble
from harness.run.presets import get_preset, preset_models
from harness.run.study import Extras, StudyRun, data_note
from harness.store import journal
from harness.store.datasets import data_inputs
from harness.store.tracker import Tracker
from harness.store.urls import Stores, mask, opening
from harness.tuning import studies as tuning_studies

__all__ = ["Reporter", "RunConfig", "StudyResult", "run", "select_models"]


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
    if config.workers > 1:  # OpenMP threads that spin while waiting steal the other studies' cores
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    task = local.task if local is not None else registry.get_task(config.task)  # load
    selected = select_models(task, config.models, config.preset)
    dataset: Dataset = local.dataset if local is not None else task.load()
    data = prepare(  # split: the holdout first, then the folds
        task, dataset, folds=config.folds or task.folds, seed=config.seed, repeats=config.repeats
    )
    extras = _health_and_extras(task, data, dataset, local, reporter)
    tracker = _open_stores(stores, task.name, config.workers, reporter)  # record
    cancelled = threading.Event()
    device, n_jobs = devices.device(), config.n_jobs or _cores_per_study(config.workers)
    # a model that cannot handle the task records nothing: the board names it in one footnote
    runnable = [model for model, reason in selected if not reason]
    data = _sized_to_budget(data, config, runnable)
    studies = [
        StudyRun(task, model, data, config, tracker, reporter, device, n_jobs, extras, cancelled)
        for model in runnable
    ]
    results = drive(studies, config, reporter, cancelled, started)  # tune, refit, holdout
    ordered = [results[model.name] for model in runnable]
    if config.ensemble:
        result = run_ensemble(task, data, config, tracker, extras, ordered)
        reporter.study_finished(result)
        if result.run_id:  # a skipped ensemble records nothing: only the reporter hears why
            ordered.append(result)
    return task, data, ordered


def select_models(
    task: Task, names: Sequence[str], preset: str | None = None
) -> list[tuple[Model, str | None]]:
    """The models to run with the reason each must be skipped (None when it can run).

    Models named explicitly that cannot handle the task raise; the default set (every registered
    model, or the preset's models that can handle the task) skips the others with the reason.
    """
    if not names and preset is not None:
        names = preset_models(get_preset(preset), task)
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


def _health_and_extras(
    task: Task, data: Prepared, dataset: Dataset, local: Any, reporter: Reporter
) -> Extras:
    """Health warnings of the split data (reported once), and what studies need beyond it
    (the test part, the data as MLflow dataset inputs and in words).

    The test part's infinite values become missing values, as `prepare` makes the labeled rows'.
    """
    test_X, infinite = dataset.test_X, {}
    if test_X is not None:
        test_X, infinite = without_infinite(test_X, data.feature_kinds)
    findings = (
        *(local.findings if local is not None else ()),
        *check_prepared(task, data),
        *infinite_values(infinite, 0 if test_X is None else len(test_X), "test rows"),
    )
    if hasattr(reporter, "health"):
        reporter.health(findings)
    source = local.source if local is not None else ""
    options = dict(local.options) if local is not None else {}
    return Extras(
        findings=findings,
        test_X=test_X,
        submission=local.submission if local is not None else None,
        source=source,
        source_options=json.dumps(options) if options else "",
        id_column=_id_column(dataset),
        inputs=tuple(data_inputs(task, data, source)),  # once: every run logs the same
        data_note=data_note(task, data, source),
    )


def _id_column(dataset: Dataset) -> str | None:
    """The name of the data's id column (the user's data), kept by `harness predict`."""
    name = None if dataset.ids is None else dataset.ids.name
    return None if name is None else str(name)


def _open_stores(stores: Stores, task: str, workers: int, reporter: Reporter) -> Tracker:
    """Create the stores' folders, open MLflow (re-rooting a moved store, rebuilding a
    half-created one: the reporter hears of it), close the runs a killed process left open."""
    # only now: a task whose data cannot be split leaves nothing behind, nor a store that
    # cannot be opened
    with opening(stores):
        tracker = Tracker(stores)
        for notice in tracker.notices:
            if hasattr(reporter, "notice"):
                reporter.notice(notice)
        tracker.experiment_id(task)
        tracker.close_orphans(task)
    # Create an RDB storage's tables before threads open studies in it (a journal has none).
    if workers > 1 and not journal.is_journal(stores.storage_url):
        try:
            tuning_studies.open_storage(stores.storage_url)
        except Exception as exc:
            raise StoreError(
                f"Cannot open the Optuna storage {mask(stores.storage_url)!r}: "
                f"{mask(str(exc)).splitlines()[0]}. Pass a working --storage."
            ) from None
    return tracker


def _sized_to_budget(data: Prepared, config: RunConfig, models: list[Model]) -> Prepared:
    """The folds a run scores: all K, or under a `--budget` too short for K booster defaults
    per model, fewer of them (`schedule.planned_folds`, `splits.fewer_folds`)."""
    if config.budget is None or data.repeats > 1:
        return data
    from harness.run.schedule import planned_folds

    learners = sum(model.family != "baseline" for model in models)
    count = planned_folds(
        len(data.y),
        len(data.feature_kinds),
        len(data.folds),
        config.budget,
        learners,
        config.workers,
    )
    return fewer_folds(data, count)


def _cores_per_study(workers: int) -> int:
    return max(1, devices.cpu_count() // workers)
