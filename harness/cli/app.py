"""The `harness` Typer application and the console every command prints to.

A leaf of the CLI package: each command module imports `app` and `console` from here and
registers its commands; `harness.cli` imports the command modules, so there is no cycle.
"""

from __future__ import annotations

import sys

import typer

__all__ = ["app", "console", "tell"]

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


def tell(notices) -> None:
    """Print one-line notices (a store re-rooted or rebuilt: `Tracker.notices`) on stderr."""
    err = console(stderr=True)
    for notice in notices:
        err.print(notice, markup=False, highlight=False)
