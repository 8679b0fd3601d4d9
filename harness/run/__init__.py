"""A `harness run`: load and split once, one study per model, then the ensemble."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from harness import devices, registry
from harness.contracts.model import Model
from harness.contracts.task import Dataset, Task
from harness.data.health import check_prepared
from harness.errors import NotSupportedError, StoreError
from harness.protocol.splits import Prepared, prepare
from harness.run.config import Reporter, RunConfig, StudyResult
from harness.run.drivers import budgeted, each_in_full
from harness.run.ensemble import run_ensemble
from harness.run.study import Extras, StudyRun
from harness.store import journal
from harness.store.tracker import Tracker
from harness.store.urls import Stores, make_folders, mask
from harness.tuning import studies as tuning_studies


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
        local: A `harness.data.files.LocalTask` built from the user's files; it replaces the
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
    extras = Extras(
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
            tuning_studies.open_storage(stores.storage_url)
        except Exception as exc:
            raise StoreError(
                f"Cannot open the Optuna storage {mask(stores.storage_url)!r}: "
                f"{mask(str(exc)).splitlines()[0]}. Pass a working --storage."
            ) from None
    device = devices.device()
    n_jobs = config.n_jobs or max(1, devices.cpu_count() // config.workers)
    cancelled = threading.Event()
    studies: list[StudyRun] = []
    results: dict[str, StudyResult] = {}
    for model, reason in selected:
        study = StudyRun(
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
            results.update(budgeted(studies, config, reporter, cancelled, started, pool))
        else:
            results.update(each_in_full(studies, config, reporter, cancelled, pool))
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    ordered = [results[model.name] for model, _ in selected]
    if config.ensemble:
        result = run_ensemble(task, data, config, tracker, extras, ordered)
        reporter.study_finished(result)
        if result.run_id:  # a skipped ensemble records nothing: only the reporter hears why
            ordered.append(result)
    return task, data, ordered
