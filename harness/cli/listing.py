"""`harness list tasks|models [--json]`: what is registered, without loading any data.

Task sizes come from the rows and features each task declares (checked against its data by the
contract tests), so listing stays fast; `harness show TASK` loads the data and prints its card.
"""

from __future__ import annotations

import json

import typer

from harness.cli.app import app, console

__all__ = ["list_app", "list_models", "list_tasks"]

list_app = typer.Typer(help="List registered tasks or models.", no_args_is_help=True)
app.add_typer(list_app, name="list")


def _cell(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if value is None:
        return "?"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _print(rows: list[dict], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title=title)
    for key in rows[0] if rows else ["name"]:
        table.add_column(key.replace("_", " "))
    for row in rows:
        table.add_row(*(_cell(v) for v in row.values()))
    console().print(table)


@list_app.command("tasks")
def list_tasks(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Registered tasks: modality, problem type, size, metric, folds and description."""
    from harness import registry

    rows = [
        {
            "name": t.name,
            "modality": t.modality,
            "problem_type": t.problem_type,
            "rows": t.rows,
            "features": t.features,
            "metric": t.metric,
            "folds": t.folds,
            "description": t.description,
        }
        for t in registry.tasks().values()
    ]
    _print(rows, as_json, "Tasks")


@list_app.command("models")
def list_models(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Registered models: family, what they support, devices and description."""
    from harness import registry

    rows = [
        {
            "name": m.name,
            "family": m.family,
            "modalities": list(m.modalities),
            "problem_types": list(m.problem_types),
            "hardware": list(m.hardware),
            "description": m.description,
        }
        for m in registry.models().values()
    ]
    _print(rows, as_json, "Models")
