"""`harness leaderboard [TASK...] [--format table|md|csv|json|html]`: leaderboards from MLflow."""

from __future__ import annotations

import typer

from harness.cli.app import app, console, tell
from harness.results.leaderboard import BASES, FORMATS

__all__ = [
    "leaderboard",
    "load_boards",
    "log_boards",
    "print_summary",
    "print_table",
    "table_width",
]


def _fitted_table(title, keys, header, cells, width, drop_order, wraps=None):
    """A rich table of the columns that fit `width` without splitting a value, and the note
    naming the columns it left out ("" when every column fits)."""
    from rich.table import Table

    from harness.results.tables import WRAPS, fit_columns

    wraps = WRAPS if wraps is None else wraps
    kept, widths, dropped, needed = fit_columns(keys, header, cells, width, drop_order, wraps)
    table = Table(title=title)
    for i, column_width in zip(kept, widths, strict=True):
        table.add_column(header[i], width=column_width, overflow="fold")
    for row in cells:
        table.add_row(*(row[i] for i in kept))
    note = (
        f"Left out to fit {width} columns: {', '.join(dropped)}; --width {needed} shows them."
        if dropped
        else ""
    )
    return table, note


def _print(table, notes: list[str], width: int) -> None:
    """Print a table (or nothing) and its notes at `width` columns on stdout."""
    out = console()
    out.width = width  # a pipe is as wide as the terminal (or --width), not rich's guess
    if table is not None:
        out.print(table)
    for note in notes:
        if note:
            out.print(note, markup=False, highlight=False)


def table_width(width: int | None) -> int:
    """The width of printed tables: --width, else $COLUMNS, else the terminal's (found on
    stdout, stderr or stdin, so `harness leaderboard | less` is as wide as the terminal), else
    120 (no terminal at all: a CI log or a file)."""
    import os
    import sys

    if width:
        return width
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) >= 40:  # as narrow as --width may be
        return int(columns)
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            continue
    return 120


def print_table(board, title: str, width: int | None = None) -> None:
    """Draw a task's leaderboard as a rich table on stdout, as wide as the terminal (or
    `width`): lower-priority columns are left out, and named, rather than values split."""
    from harness.results.tables import (
        DROP_ORDER,
        WRAPS,
        board_columns,
        folds_note,
        status_footnotes,
        unsupported_note,
    )

    width = table_width(width)
    keys, header, cells = board_columns(board.rows)
    cells, footnotes = status_footnotes(keys, cells)
    # a status is a word and its footnote mark now: kept on one line
    wraps = WRAPS - {"status"}
    table, dropped = _fitted_table(title, keys, header, cells, width, DROP_ORDER, wraps)
    notes = [*footnotes, folds_note(board), unsupported_note(board), dropped]
    _print(table, notes, width)


def print_summary(summary, width: int | None = None) -> None:
    """Draw the across-task summary and its notes as a rich table on stdout."""
    from harness.results.tables import (
        SUMMARY_DROP_ORDER,
        SUMMARY_KEYS,
        summary_cells,
        summary_notes,
    )

    width = table_width(width)
    title = f"Across tasks ({summary.basis} scores)"
    header, cells = summary_cells(summary)
    table, dropped = _fitted_table(title, SUMMARY_KEYS, header, cells, width, SUMMARY_DROP_ORDER)
    _print(table, [dropped, *summary_notes(summary)], width)


def load_boards(
    tasks: list[str], tracking_uri: str | None, basis: str, log: bool, show_all: bool = False
):
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
    tracker = Tracker(stores, repair=False)  # a read command rebuilds no store
    tell(tracker.notices)
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
    boards = [task_board(tracker, name, show_all=show_all) for name in names]
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
        False,
        "--log/--no-log",
        help="Also log each table to the task's MLflow 'leaderboard' run (a read command "
        "writes nothing to the store unless asked; 'harness run' logs it itself).",
    ),
    show_all: bool = typer.Option(
        False, "--all", help="Also list the models that cannot handle the task, as rows."
    ),
    width: int = typer.Option(
        None,
        "--width",
        min=40,
        help="Columns of the terminal table (default: the terminal's; columns that do not fit "
        "are left out and named below it).",
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
    boards, summary, _ = load_boards(list(tasks or ()), tracking_uri, basis, log, show_all)
    if fmt == "table":
        from harness.results.tables import LEGEND

        for board in boards:
            print_table(board, f"Leaderboard: {board.task}", width)
        if summary is not None:
            print_summary(summary, width)
        _print(None, [LEGEND.format(alpha=boards[0].alpha)], table_width(width))
    else:
        from harness.results.tables import render

        typer.echo(render(boards, summary, fmt), nl=False)
