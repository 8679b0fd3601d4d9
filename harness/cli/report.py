"""`harness report [TASK...] --out DIR`: an HTML page and its Markdown twin, with plots."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app, console
from harness.results.leaderboard import BASES

__all__ = ["report"]


@app.command("report")
def report(
    tasks: list[str] = typer.Argument(
        None, help="Task names (default: every task with runs in the store)."
    ),
    out: Path = typer.Option(
        Path("harness-report"), "--out", "-o", help="Folder for report.html, report.md and img/."
    ),
    basis: str = typer.Option(
        "cv", "--by", help="Score the across-task summary on 'cv' (default) or 'holdout' scores."
    ),
    log: bool = typer.Option(
        False,
        "--log/--no-log",
        help="Also log the plots to MLflow (study and leaderboard runs); by default the report "
        "writes nothing to the store.",
    ),
    show_all: bool = typer.Option(
        False, "--all", help="Also list the models that cannot handle a task, as rows."
    ),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else ./mlruns)."
    ),
) -> None:
    """Write a self-contained HTML report (and a Markdown twin) of the leaderboards with plots."""
    from harness.cli.leaderboard import load_boards
    from harness.errors import UsageError
    from harness.results.report import build, check_out_dir

    if basis not in BASES:
        raise UsageError(f"--by must be one of {', '.join(BASES)}; got {basis!r}.")
    check_out_dir(out)  # an unwritable folder fails before any work
    boards, summary, tracker = load_boards(list(tasks or ()), tracking_uri, basis, False, show_all)
    html_path, md_path = build(tracker, boards, summary, out, log=log)
    console().print(
        f"Report: {html_path.resolve()}\nMarkdown: {md_path.resolve()}",
        markup=False,
        highlight=False,
    )
