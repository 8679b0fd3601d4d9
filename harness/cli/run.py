"""`harness run TASK`: tune every (or each named) model on the task and print the leaderboard.

TASK is a registered task name or the user's own data: a Kaggle-layout folder (train.csv,
test.csv, sample_submission.csv) or one CSV/Parquet file with `--target`. With a test part, the
refitted best model of each study writes `submissions/<task>/<model>.csv`, and the leader (first
by CV) `submissions/<task>/submission.csv`, in exactly the sample submission's format.
"""

from __future__ import annotations

import dataclasses
import signal
from pathlib import Path
from typing import Any

import typer

from harness.cli.app import app, console

__all__ = ["EXIT_INTERRUPTED", "EXIT_STUDIES_FAILED", "RichReporter", "interrupt", "run"]

EXIT_STUDIES_FAILED = 3
EXIT_INTERRUPTED = 130


def interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class RichReporter:
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

    def health(self, findings: Any) -> None:
        for finding in findings:
            self.console.print(f"Health warning ({finding.check}): {finding.message}", markup=False)

    def notice(self, message: str) -> None:
        self.console.print(message, markup=False, highlight=False)

    def study_finished(self, result: Any) -> None:
        if result.model not in self.bars:
            self.bars[result.model] = self.progress.add_task(result.model, total=0, best="")
        bar = self.bars[result.model]
        done = self.progress.tasks[bar].completed  # stop the clock of a study ended early
        self.progress.update(bar, total=done)
        if result.status != "ok":
            self.progress.update(bar, best=result.status)
        if result.model == "ensemble" and result.status == "skipped":  # it records no run
            self.console.print(f"Ensemble skipped: {result.reason}.", markup=False)


@app.command("run")
def run(
    task: str = typer.Argument(
        ...,
        help="Task name (see 'harness list tasks'), or your data: a Kaggle-layout folder or a "
        "CSV/Parquet file.",
    ),
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
    trial_timeout: float = typer.Option(
        None,
        "--trial-timeout",
        help="Hard limit per trial in seconds: a longer trial is killed and recorded as timeout.",
    ),
    memory_limit: str = typer.Option(
        None,
        "--memory-limit",
        help="Hard memory limit per study worker, e.g. 4G or 512M (default: 90%% of RAM); "
        "a trial over it is killed and recorded as oom.",
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        "-w",
        help="Studies run at once, each in its own process; the cores are divided among them.",
    ),
    budget: str = typer.Option(
        None,
        "--budget",
        "-b",
        help="Wall-clock budget for the whole run, e.g. 90s, 10m or 1h: every model gets its "
        "defaults, then the most promising get more trials (see docs/PRESETS.md).",
    ),
    preset: str = typer.Option(
        None,
        "--preset",
        help="fast, medium or best: models, folds, budget and ensembling in one word "
        "(flags given with it win).",
    ),
    fresh: bool = typer.Option(False, "--fresh", help="Start the studies over (delete them)."),
    ensemble: bool = typer.Option(
        None,
        "--ensemble/--no-ensemble",
        help="Blend the ok studies by greedy selection on their out-of-fold predictions "
        "(the model 'ensemble'). Default: on, except with --preset fast.",
    ),
    final: str = typer.Option(
        None,
        "--final",
        help="What predicts the holdout and the submission: 'bag' (the best trial's fold "
        "models averaged, no refit) or 'refit' (one more fit on the whole training part). "
        "Default: bag, refit on time-ordered tasks.",
    ),
    portfolio: str = typer.Option(
        None,
        "--portfolio",
        help="A portfolio file: configurations each study tries right after its defaults "
        "(default: the one shipped, built on the catalog; see docs/PRESETS.md).",
    ),
    no_portfolio: bool = typer.Option(
        False, "--no-portfolio", help="Try no portfolio: the defaults, then the sampler."
    ),
    log_models: bool = typer.Option(
        True,
        "--log-models/--no-log-models",
        help="Log each study's final model (and the ensemble's) as an MLflow model for "
        "'harness predict' (about a second and a few MB per study; docs/PREDICT.md).",
    ),
    width: int = typer.Option(
        None,
        "--width",
        min=40,
        help="Columns of the leaderboard table (default: the terminal's; columns that do not "
        "fit are left out and named below it).",
    ),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else ./mlruns)."
    ),
    storage: str = typer.Option(
        None, "--storage", help="Optuna storage URL (default: HARNESS_STORAGE, else ./mlruns)."
    ),
    target: str = typer.Option(None, "--target", help="Your data: the target column."),
    metric: str = typer.Option(None, "--metric", help="Your data: the primary metric."),
    problem_type: str = typer.Option(
        None, "--problem-type", help="Your data: binary, multiclass or regression (else inferred)."
    ),
    id_column: str = typer.Option(None, "--id", help="Your data: the id column."),
    positive_class: str = typer.Option(
        None, "--positive-class", help="Your data: the positive label of a binary target."
    ),
    group: str = typer.Option(None, "--group", help="Your data: group column (grouped K-fold)."),
    time_column: str = typer.Option(
        None, "--time", help="Your data: time column (latest rows held out, forward folds)."
    ),
    drop: list[str] = typer.Option(
        None, "--drop", help="Your data: a column that must not be a feature (repeatable)."
    ),
    name: str = typer.Option(
        None, "--name", help="Your data: the task name (MLflow experiment); default from the path."
    ),
) -> None:
    """Tune models on TASK with cross-validation, score the best on the holdout, rank them."""
    import time

    started = time.monotonic()  # a --budget counts from here: loading the data is part of it

    from harness import devices, registry
    from harness import run as harness_run
    from harness.cli.leaderboard import print_table
    from harness.data.local import Options, load_path, looks_like_path
    from harness.errors import UsageError
    from harness.run import config as run_config
    from harness.run import schedule
    from harness.store.urls import mask, resolve_stores

    if portfolio and no_portfolio:
        raise UsageError("--portfolio and --no-portfolio exclude each other; give one of them.")
    config = run_config.RunConfig(  # the run's policy (defaults, presets) is RunConfig's
        task=task,
        models=tuple(model or ()),
        trials=trials,
        timeout=timeout,
        folds=folds,
        repeats=repeats,
        seed=seed,
        fresh=fresh,
        n_jobs=jobs,
        trial_timeout=trial_timeout,
        memory_limit=devices.parse_memory(memory_limit) if memory_limit else None,
        workers=workers,
        budget=schedule.parse_duration(budget) if budget is not None else None,
        ensemble=ensemble,
        preset=preset,
        final=final,
        portfolio=None if no_portfolio else (portfolio or run_config.SHIPPED_PORTFOLIO),
        log_models=log_models,
    )
    options = Options(
        target=target,
        id=id_column,
        metric=metric,
        problem_type=problem_type,
        positive_class=positive_class,
        group=group,
        time=time_column,
        drop=tuple(drop or ()),
        name=name,
    )
    err = console(stderr=True)
    known = set(registry.tasks())
    local = None
    if looks_like_path(task, known):
        # Files are read and checked before any store is created: a refused command writes nothing.
        local = load_path(task, options, known_tasks=known)
        spec = local.task
        config = dataclasses.replace(config, task=spec.name)
        for note in local.notes:
            err.print(f"Inferred: {note}", markup=False, highlight=False)
    else:
        given = [flag for flag, value in _data_flags(options) if value]
        if given:
            raise UsageError(
                f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} only to your own "
                f"data (a folder or a CSV/Parquet file); {task!r} is a registered task."
            )
        spec = registry.get_task(task)
    # name errors before any store is created
    harness_run.select_models(spec, config.models, config.preset)
    stores = resolve_stores(tracking_uri, storage, create=False)  # folders once data is split
    err.print(
        f"Task {spec.name}: {spec.problem_type}, metric {spec.metric}; "
        f"store {mask(stores.tracking_uri)}"
    )
    reporter = RichReporter(err, spec.metric)
    # SIGTERM (a cancelled job, `timeout`) unwinds like Ctrl-C, so every open run is ended.
    signal.signal(signal.SIGTERM, interrupt)
    try:
        with reporter.progress:
            _, data, results = harness_run.run(
                config, stores, reporter, local=local, started=started
            )
    except KeyboardInterrupt:
        err.print("Interrupted: finished trials are kept, and the same command resumes.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    scored = f"{len(data.folds)} folds"
    if data.folds_of:
        scored = f"{len(data.folds)} of {data.folds_of} folds (what the budget fits)"
    err.print(
        f"{len(data.y)} training rows in {scored} "
        f"(fingerprint {data.folds_fingerprint}), {len(data.holdout_y)} holdout rows."
    )
    from harness.results.leaderboard import run_board
    from harness.store.tracker import Tracker

    tracker = Tracker(stores)
    this_run = run_board(tracker, spec.name, [r.run_id for r in results if r.run_id])
    rows = this_run.rows
    print_table(this_run, f"Leaderboard: {spec.name} (CV ranks, holdout scored once)", width)
    board = _log_leaderboard(err, tracker, spec.name)
    _say_if_stale(err, board, results)
    _write_submissions(err, spec.name, results, rows)
    if config.budget is not None:
        _print_allocation(err, config.budget, results)
    failed = [r for r in results if r.status not in ("ok", "skipped")]
    if failed:
        err.print(
            f"{len(failed)} of {len(results)} studies failed: "
            + "; ".join(f"{r.model} ({r.status}): {r.reason}" for r in failed)
        )
        raise typer.Exit(EXIT_STUDIES_FAILED)
    if config.budget is not None and not any(r.status == "ok" for r in results):
        # every study was skipped: nothing was trained, which is no success
        err.print(
            f"The budget of {config.budget:g} s ended before any model finished a trial "
            "(loading the data and opening the stores count); give a larger --budget.",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(EXIT_STUDIES_FAILED)


def _print_allocation(err: Any, budget: float, results: list) -> None:
    """How the budget was shared: seconds and trials each study got in this run."""
    parts = [
        f"{r.model} {r.tuning_seconds:.0f} s / "
        + (f"{r.trials_run} trials" if r.status != "skipped" else "skipped")
        for r in sorted(results, key=lambda r: -r.tuning_seconds)
        if r.model != "ensemble" and (r.status != "skipped" or r.tuning_seconds)
    ]
    if not parts:  # the command says why, and exits non-zero
        return
    err.print(f"Budget {budget:g} s shared: " + "; ".join(parts), markup=False, highlight=False)


def _log_leaderboard(err: Any, tracker: Any, task: str) -> Any:
    """Log the task's whole leaderboard (every model's newest study) as its `leaderboard` run;
    return it (None when it cannot be built)."""
    from harness.cli.leaderboard import log_boards
    from harness.errors import HarnessError
    from harness.results.leaderboard import task_board

    try:
        board = task_board(tracker, task)
        log_boards(tracker, [board])
    except HarnessError as error:  # e.g. older studies of other models on other folds
        err.print(f"The leaderboard run was not updated: {error}", markup=False, highlight=False)
        return None
    return board


def _say_if_stale(err: Any, board: Any, results: list) -> None:
    """Tell when this run left an earlier ensemble blending studies it has replaced."""
    if board is None or any(r.model == "ensemble" and r.run_id for r in results):
        return
    for row in board.rows:
        if row.model == "ensemble" and row.status == "stale":
            err.print(
                f"The task's ensemble ({', '.join(row.members) or 'an earlier run'}) is stale: "
                f"{row.reason}. It stays on the board below the ranked models.",
                markup=False,
                highlight=False,
            )


def _data_flags(options: Any) -> list[tuple[str, Any]]:
    """(flag, value) of the options that only apply to the user's own data."""
    return [
        ("--target", options.target),
        ("--id", options.id),
        ("--metric", options.metric),
        ("--problem-type", options.problem_type),
        ("--positive-class", options.positive_class),
        ("--group", options.group),
        ("--time", options.time),
        ("--drop", options.drop),
        ("--name", options.name),
    ]


def _write_submissions(err: Any, task: str, results: list, rows: list) -> None:
    """Write each study's submission and the leader's under ./submissions/<task>/."""
    made = {r.model: r.submission for r in results if r.submission is not None}
    if not made:
        return
    folder = Path.cwd() / "submissions" / task
    folder.mkdir(parents=True, exist_ok=True)
    for model, frame in made.items():
        frame.to_csv(folder / f"{model}.csv", index=False)
    leader = next((row.model for row in rows if row.status == "ok" and row.model in made), None)
    if leader is None:
        leader = next(iter(made))
    made[leader].to_csv(folder / "submission.csv", index=False)
    err.print(
        f"Submission of the leader ({leader}): {folder / 'submission.csv'}; every model's in "
        f"{folder}/",
        markup=False,
        highlight=False,
    )
