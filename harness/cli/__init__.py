"""The `harness` command line: one thin module per command group (parse -> call core -> render).

Nothing heavy is imported here: `harness --help` and `harness list` never load TensorFlow,
XGBoost, MLflow or Optuna. A `HarnessError` becomes `Error: <message>` on stderr with its exit
code (1, or 2 for bad usage); no traceback is shown for mistakes a user can fix.
"""

from __future__ import annotations

import typer

from harness.cli import (  # noqa: F401  (each registers its commands on `app`)
    explore,
    importance,
    leaderboard,
    listing,
    predict,
    report,
    run,
    show,
    submit,
    ui,
    worker,
)
from harness.cli.app import app, console
from harness.errors import HarnessError

__all__ = ["app", "console", "fail", "main"]


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
