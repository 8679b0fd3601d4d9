"""`harness leaderboard TASK [--format table|md|csv|json]`: a task's leaderboard from MLflow."""

from __future__ import annotations

import typer

from harness.cli import app, console
from harness.leaderboard import FORMATS


def print_table(rows: list, title: str) -> None:
    """Draw leaderboard rows as a rich table on stdout."""
    from rich.table import Table

    from harness.leaderboard import display_rows

    header, cells = display_rows(rows)
    table = Table(title=title)
    for name in header:
        table.add_column(name, overflow="fold")
    for row in cells:
        table.add_row(*row)
    console().print(table)


@app.command("leaderboard")
def leaderboard(
    task: str = typer.Argument(..., help="Task name (see 'harness list tasks')."),
    fmt: str = typer.Option("table", "--format", "-f", help=f"One of: {', '.join(FORMATS)}."),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else ./mlruns)."
    ),
) -> None:
    """Rank the models of TASK by CV score, with holdout scores, timings, trials and status."""
    from harness import registry
    from harness.errors import UsageError
    from harness.leaderboard import no_runs, render, task_rows
    from harness.tracking import Tracker, local_store_missing, resolve_stores

    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}.")
    registry.get_task(task)
    stores = resolve_stores(tracking_uri, create=False)
    if local_store_missing(stores):  # opening it would create an empty database
        raise no_runs(task, stores)
    rows = task_rows(Tracker(stores), task)
    if fmt == "table":
        print_table(rows, f"Leaderboard: {task}")
    else:
        typer.echo(render(rows, fmt), nl=False)
