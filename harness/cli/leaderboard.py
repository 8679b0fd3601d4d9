"""`harness leaderboard [TASK...] [--format table|md|csv|json|html]`: leaderboards from MLflow."""

from __future__ import annotations

import typer

from harness.cli.app import app, console
from harness.results.leaderboard import BASES, FORMATS

__all__ = ["leaderboard", "load_boards", "log_boards", "print_summary", "print_table"]


def _wide():
    """The stdout console, at least 180 columns wide when writing to a pipe or a file."""
    out = console()
    if not out.is_terminal:
        out.width = max(out.width, 180)
    return out


def print_table(rows: list, title: str) -> None:
    """Draw leaderboard rows as a rich table on stdout."""
    from rich.table import Table

    from harness.results.tables import display_rows

    header, cells = display_rows(rows)
    table = Table(title=title)
    for name in header:
        table.add_column(name, overflow="fold")
    for row in cells:
        table.add_row(*row)
    _wide().print(table)


def print_summary(summary) -> None:
    """Draw the across-task summary and its notes as a rich table on stdout."""
    from rich.table import Table

    from harness.results.tables import summary_cells, summary_notes

    header, cells = summary_cells(summary)
    table = Table(title=f"Across tasks ({summary.basis} scores)")
    for name in header:
        table.add_column(name, overflow="fold")
    for row in cells:
        table.add_row(*row)
    out = _wide()
    out.print(table)
    for note in summary_notes(summary):
        out.print(note, markup=False, highlight=False)


def load_boards(tasks: list[str], tracking_uri: str | None, basis: str, log: bool):
    """Boards of the named tasks (or of every task with runs), the summary, and the tracker.

    Raises:
        HarnessError: An unknown task, a task without runs, an empty store, mixed folds.
    """
    from harness import registry
    from harness.errors import UnknownNameError
    from harness.results.leaderboard import no_runs, task_board, tasks_with_runs
    from harness.results.summary import summarize
    from harness.store.tracker import Tracker
    from harness.store.urls import local_store_missing, mask, resolve_stores

    unknown: dict[str, UnknownNameError] = {}
    for task in tasks:
        try:
            registry.get_task(task)
        except UnknownNameError as error:  # maybe the user's own data, named at 'harness run'
            unknown[task] = error
    stores = resolve_stores(tracking_uri, create=False)
    if local_store_missing(stores):  # opening it would create an empty database
        if unknown:
            raise next(iter(unknown.values()))
        if tasks:
            raise no_runs(tasks[0], stores)
        from harness.errors import HarnessError

        raise HarnessError(
            f"No MLflow store at {mask(stores.tracking_uri)!r}. Run 'harness run TASK' first, "
            "or pass --tracking-uri."
        )
    tracker = Tracker(stores)
    if unknown:
        stored = set(tasks_with_runs(tracker))
        for task, error in unknown.items():
            if task not in stored:
                raise error
    names = list(dict.fromkeys(tasks)) or tasks_with_runs(tracker)
    if not names:
        from harness.errors import HarnessError

        raise HarnessError(
            f"No study runs in the MLflow store {mask(stores.tracking_uri)!r}. "
            "Run 'harness run TASK' first."
        )
    boards = [task_board(tracker, name) for name in names]
    summary = summarize(boards, basis=basis) if len(boards) > 1 else None
    if log:
        log_boards(tracker, boards)
    return boards, summary, tracker


def log_boards(tracker, boards: list) -> None:
    """Log each task's table (csv, json, md, html) to the task's MLflow `leaderboard` run."""
    from harness.results.leaderboard import log_board
    from harness.results.tables import render

    for board in boards:
        files = {f"leaderboard.{f}": render([board], None, f) for f in ("csv", "json", "md")}
        files["leaderboard.html"] = render([board], None, "html")
        log_board(tracker, board, files)


@app.command("leaderboard")
def leaderboard(
    tasks: list[str] = typer.Argument(
        None, help="Task names (default: every task with runs in the store)."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help=f"One of: {', '.join(FORMATS)}."),
    basis: str = typer.Option(
        "cv", "--by", help="Score the across-task summary on 'cv' (default) or 'holdout' scores."
    ),
    log: bool = typer.Option(
        True, "--log/--no-log", help="Also log each table to the task's MLflow 'leaderboard' run."
    ),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else ./mlruns)."
    ),
) -> None:
    """Rank models per task by CV score (with significance marks against the leader), then
    summarize across tasks: mean rank, normalized score, wins, Elo with bootstrap intervals."""
    from harness.errors import UsageError

    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}.")
    if basis not in BASES:
        raise UsageError(f"--by must be one of {', '.join(BASES)}; got {basis!r}.")
    boards, summary, _ = load_boards(list(tasks or ()), tracking_uri, basis, log)
    if fmt == "table":
        from harness.results.tables import LEGEND

        for board in boards:
            print_table(board.rows, f"Leaderboard: {board.task}")
        if summary is not None:
            print_summary(summary)
        console().print(LEGEND.format(alpha=boards[0].alpha), markup=False, highlight=False)
    else:
        from harness.results.tables import render

        typer.echo(render(boards, summary, fmt), nl=False)
