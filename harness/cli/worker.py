"""`harness worker TASK`: join the task's shared studies and run trials until each has --trials.

Start one on every machine with the same --storage (PostgreSQL) and --tracking-uri (an MLflow
server); `harness run` with the same stores refits and scores the holdout. See docs/SCALING.md.
"""

from __future__ import annotations

import signal

import typer

from harness.cli.app import app, console

__all__ = ["worker"]


@app.command("worker")
def worker(
    task: str = typer.Argument(..., help="Task name (see 'harness list tasks')."),
    model: list[str] = typer.Option(
        None, "--model", "-m", help="Model to run (repeatable). Default: every model that fits."
    ),
    trials: int = typer.Option(
        None, "--trials", "-n", help="Trials each study has in total, across all workers (5)."
    ),
    timeout: float = typer.Option(
        None, "--timeout", help="Seconds after which this worker starts no new trial of a study."
    ),
    folds: int = typer.Option(None, "--folds", "-k", help="CV folds (default: the task's, 5)."),
    repeats: int = typer.Option(1, "--repeats", help="Repeat the K-fold (repeated CV)."),
    seed: int = typer.Option(0, "--seed", help="Seed for the holdout and folds: as 'harness run'."),
    jobs: int = typer.Option(None, "--jobs", "-j", help="Threads per model (default: all cores)."),
    trial_timeout: float = typer.Option(
        None, "--trial-timeout", help="Hard limit per trial in seconds (recorded as timeout)."
    ),
    memory_limit: str = typer.Option(
        None, "--memory-limit", help="Hard memory limit per study worker, e.g. 4G (default 90%%)."
    ),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow server, e.g. http://host:5000 (MLFLOW_TRACKING_URI)."
    ),
    storage: str = typer.Option(
        None,
        "--storage",
        help="Optuna storage shared by the workers, e.g. postgresql://user@host/optuna "
        "(HARNESS_STORAGE).",
    ),
) -> None:
    """Run trials of TASK's shared studies (no refit); 'harness run' refits and scores."""
    from harness import devices
    from harness import run as harness_run
    from harness.cli.run import EXIT_INTERRUPTED, EXIT_STUDIES_FAILED, RichReporter, interrupt
    from harness.registry import get_task
    from harness.run import config as run_config
    from harness.run import remote
    from harness.store.urls import mask, resolve_stores

    config = run_config.RunConfig(
        task=task,
        models=tuple(model or ()),
        # a worker has no per-study time limit unless given one: it runs until the trials are in
        trials=run_config.DEFAULT_TRIALS if trials is None else trials,
        timeout=timeout,
        folds=folds,
        repeats=repeats,
        seed=seed,
        n_jobs=jobs,
        trial_timeout=trial_timeout,
        memory_limit=devices.parse_memory(memory_limit) if memory_limit else None,
    )
    spec = get_task(task)
    harness_run.select_models(spec, config.models)  # name errors before any store is touched
    stores = resolve_stores(tracking_uri, storage, create=False)
    err = console(stderr=True)
    err.print(
        f"Worker on task {spec.name}: studies in {mask(stores.storage_url)}, "
        f"runs in {mask(stores.tracking_uri)}",
        markup=False,
        highlight=False,
    )
    if stores.storage_url.startswith(("sqlite", "journal")):
        err.print(
            "Note: the Optuna storage is local files; only workers on this machine share it. "
            "Pass --storage postgresql://... to share it between machines.",
            markup=False,
            highlight=False,
        )
    reporter = RichReporter(err, spec.metric)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        with reporter.progress:
            results = remote.run_worker(config, stores, reporter)
    except KeyboardInterrupt:
        err.print("Interrupted: finished trials are kept; start the worker again to go on.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    for result in results:
        err.print(
            f"{result.model}: this worker ran {result.trials_run} trials; the study has "
            f"{result.trials_done} of {config.trials} ({result.status}"
            + (f": {result.reason})" if result.reason else ")"),
            markup=False,
            highlight=False,
        )
    if any(r.status != "ok" for r in results):
        raise typer.Exit(EXIT_STUDIES_FAILED)
