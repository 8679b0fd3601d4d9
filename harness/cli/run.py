"""`harness run TASK`: tune every (or each named) model on the task and print the leaderboard."""

from __future__ import annotations

import signal
from typing import Any

import typer

from harness.cli import app, console

EXIT_STUDIES_FAILED = 3
EXIT_INTERRUPTED = 130


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class _RichReporter:
    """Draws one progress line per study on stderr while trials finish."""

    def __init__(self, console: Any, metric: str) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console, self.metric = console, metric
        self.progress = Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[best]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.bars: dict[str, Any] = {}

    def study_started(self, model: str, trials_done: int, trials_target: int) -> None:
        self.bars[model] = self.progress.add_task(
            model, total=trials_target, completed=trials_done, best=""
        )

    def trial_finished(self, model: str, number: int, state: str, best: float | None) -> None:
        text = "" if best is None else f"best CV {self.metric} {best:.4f}"
        self.progress.update(self.bars[model], advance=1, best=text)

    def study_finished(self, result: Any) -> None:
        if result.model not in self.bars:
            self.bars[result.model] = self.progress.add_task(result.model, total=0, best="")
        bar = self.bars[result.model]
        done = self.progress.tasks[bar].completed  # stop the clock of a study ended early
        self.progress.update(bar, total=done)
        if result.status != "ok":
            self.progress.update(bar, best=result.status)


@app.command("run")
def run(
    task: str = typer.Argument(..., help="Task name (see 'harness list tasks')."),
    model: list[str] = typer.Option(
        None, "--model", "-m", help="Model to run (repeatable). Default: every model that fits."
    ),
    trials: int = typer.Option(
        None,
        "--trials",
        "-n",
        help="Trials per study in total; a rerun adds only the missing ones. Default: 5.",
    ),
    timeout: float = typer.Option(
        None,
        "--timeout",
        help="Seconds after which a study starts no new trial. Default: 20 when --trials is "
        "not given either, else no limit.",
    ),
    folds: int = typer.Option(None, "--folds", "-k", help="CV folds (default: the task's, 5)."),
    repeats: int = typer.Option(
        1, "--repeats", help="Repeat the K-fold with reshuffled seeds (repeated CV)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for the holdout, folds, sampler and models."),
    jobs: int = typer.Option(None, "--jobs", "-j", help="Threads per model (default: all cores)."),
    fresh: bool = typer.Option(False, "--fresh", help="Start the studies over (delete them)."),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else ./mlruns)."
    ),
    storage: str = typer.Option(
        None, "--storage", help="Optuna storage URL (default: HARNESS_STORAGE, else ./mlruns)."
    ),
) -> None:
    """Tune models on TASK with cross-validation, score the best on the holdout, rank them."""
    from harness import registry, runner
    from harness.cli.leaderboard import print_table
    from harness.tracking import mask, resolve_stores

    if trials is None and timeout is None:
        timeout = runner.DEFAULT_STUDY_TIMEOUT
    config = runner.RunConfig(
        task=task,
        models=tuple(model or ()),
        trials=runner.DEFAULT_TRIALS if trials is None else trials,
        timeout=timeout,
        folds=folds,
        repeats=repeats,
        seed=seed,
        fresh=fresh,
        n_jobs=jobs,
    )
    spec = registry.get_task(task)
    runner.select_models(spec, config.models)  # name errors before any store is created
    stores = resolve_stores(tracking_uri, storage)
    err = console(stderr=True)
    err.print(
        f"Task {spec.name}: {spec.problem_type}, metric {spec.metric}; "
        f"store {mask(stores.tracking_uri)}"
    )
    reporter = _RichReporter(err, spec.metric)
    # SIGTERM (a cancelled job, `timeout`) unwinds like Ctrl-C, so every open run is ended.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with reporter.progress:
            _, data, results = runner.run(config, stores, reporter)
    except KeyboardInterrupt:
        err.print("Interrupted: finished trials are kept, and the same command resumes.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    err.print(
        f"{len(data.y)} training rows in {len(data.folds)} folds "
        f"(fingerprint {data.folds_fingerprint}), {len(data.holdout_y)} holdout rows."
    )
    from harness.leaderboard import run_rows
    from harness.tracking import Tracker

    rows = run_rows(Tracker(stores), spec.name, [r.run_id for r in results if r.run_id])
    print_table(rows, f"Leaderboard: {spec.name} (CV ranks, holdout scored once)")
    failed = [r for r in results if r.status == "failed"]
    if failed:
        err.print(
            f"{len(failed)} of {len(results)} studies failed: "
            + "; ".join(f"{r.model}: {r.reason}" for r in failed)
        )
        raise typer.Exit(EXIT_STUDIES_FAILED)
