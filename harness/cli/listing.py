"""`harness list tasks|models [--json]`: what is registered, without loading any data.

Task sizes come from the rows and features each task declares (checked against its data by the
contract tests), so listing stays fast; `harness show TASK` loads the data and prints its card. A
task that declares no size (a plugin may leave out `rows=` and `features=`) shows a dash, with a
footnote saying so, and null in the JSON.
"""

from __future__ import annotations

import json

import typer

from harness.cli.app import app, console

__all__ = ["list_app", "list_models", "list_tasks"]

list_app = typer.Typer(help="List registered tasks or models.", no_args_is_help=True)
app.add_typer(list_app, name="list")


UNDECLARED = "-"
UNDECLARED_NOTE = (
    f"{UNDECLARED} : the task does not declare its rows and features; `harness show TASK` loads "
    "its data and measures them."
)


def _cell(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if value is None:
        return UNDECLARED
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _print(rows: list[dict], as_json: bool, title: str, note: str | None = None) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title=title)
    for key in rows[0] if rows else ["name"]:
        table.add_column(key.replace("_", " "))
    for row in rows:
        table.add_row(*(_cell(v) for v in row.values()))
    out = console()
    out.print(table)
    if note:
        out.print(note, markup=False, highlight=False)


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
    undeclared = any(row["rows"] is None or row["features"] is None for row in rows)
    _print(rows, as_json, "Tasks", UNDECLARED_NOTE if undeclared else None)


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
