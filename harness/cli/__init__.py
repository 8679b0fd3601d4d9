"""The `harness` command line: one thin module per command group (parse -> call core -> render).

Nothing heavy is imported here: `harness --help` and `harness list` never load TensorFlow,
XGBoost, MLflow or Optuna. A `HarnessError` becomes `Error: <message>` on stderr with its exit
code (1, or 2 for bad usage); no traceback is shown for mistakes a user can fix.
"""

from __future__ import annotations

import sys

import typer

from harness.errors import HarnessError

app = typer.Typer(
    name="harness",
    help="Kaggle-style benchmark harness: real tasks, fair folds, Optuna tuning, MLflow tracking.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from harness import __version__

        typer.echo(f"harness {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Kaggle-style benchmark harness: real tasks, fair folds, Optuna tuning, MLflow tracking."""


def console(stderr: bool = False):
    """A rich console; 120 columns when output is not a terminal (pipes, files, CI logs)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 120)


def fail(error: HarnessError) -> None:
    """Print a user-facing error and exit with its code."""
    typer.echo(f"Error: {error}", err=True)
    raise SystemExit(error.exit_code)


def main() -> None:
    """Entry point of the `harness` console script and `python -m harness`."""
    try:
        app(standalone_mode=True)
    except HarnessError as error:
        fail(error)


from harness.cli import explore as _explore  # noqa: E402,F401
from harness.cli import leaderboard as _leaderboard  # noqa: E402,F401  (registers commands)
from harness.cli import listing as _listing  # noqa: E402,F401
from harness.cli import report as _report  # noqa: E402,F401
from harness.cli import run as _run  # noqa: E402,F401
from harness.cli import show as _show  # noqa: E402,F401
from harness.cli import submit as _submit  # noqa: E402,F401
from harness.cli import ui as _ui  # noqa: E402,F401
from harness.cli import worker as _worker  # noqa: E402,F401
