"""`harness show TASK [--json]`: load a task's data and print its dataset card."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import typer

from harness.cli.app import app

__all__ = ["LABEL", "SHOWN_PER_KIND", "WIDTH", "render", "show"]

SHOWN_PER_KIND = 8
WIDTH = 100
LABEL = 15


def _field(label: str, text: str, *, indent: int = LABEL) -> list[str]:
    """`label` padded to the label column, then `text` wrapped with a hanging indent."""
    head = f"{label:<{indent}}" if label else " " * indent
    return textwrap.wrap(
        text, WIDTH, initial_indent=head, subsequent_indent=" " * indent, break_on_hyphens=False
    ) or [head.rstrip()]


def _names(names: list[str]) -> str:
    more = len(names) - SHOWN_PER_KIND
    shown = ", ".join(names[:SHOWN_PER_KIND])
    return f"{shown}, ... ({more} more)" if more > 0 else shown


def _target_lines(card: dict[str, Any]) -> list[str]:
    summary = card["target_summary"]
    if summary["kind"] == "classes":
        lines = [
            f"  {c['label']}: {c['count']:,} ({c['share']:.1%})"
            + ("  <- positive class" if c["positive"] else "")
            for c in summary["classes"]
        ]
        lines.append(f"  majority / minority: {summary['imbalance_ratio']:.2f}")
        return lines
    keys = ("mean", "std", "min", "q25", "median", "q75", "max")
    return ["  " + ", ".join(f"{k} {summary[k]:,.4g}" for k in keys)]


def render(card: dict[str, Any]) -> list[str]:
    """The card as plain text lines."""
    size, split, missing = card["size"], card["split"], card["missing"]
    metrics = ", ".join([card["metric"] + " (primary)", *card["extra_metrics"]])
    problem = card["problem_type"]
    if card["positive_class"] is not None:
        problem += f" (positive class {card['positive_class']!r})"
    lines = [f"{card['name']}: {card['description']}", ""]
    for label, text in (
        ("Modality:", card["modality"]),
        ("Problem type:", problem),
        ("Target:", card["target"]),
        ("Metrics:", metrics),
        ("Source:", card["source"] or "not given"),
        ("Citation:", card["citation"] or "not given"),
        ("Licence:", card["licence"] or "unknown"),
        *((("Notes:", card["notes"]),) if card["notes"] else ()),
    ):
        lines += _field(label, text)
    rows = f"{size['rows']:,} labeled rows, {size['features']} features"
    if size["official_test_rows"]:
        rows += f" (of which {size['official_test_rows']:,} in the official test part)"
    if size["unlabeled_test_rows"]:
        rows += f"; {size['unlabeled_test_rows']:,} unlabeled test rows"
    lines += [""] + _field("Size:", rows) + ["Feature kinds:"]
    for kind, count in card["feature_kinds"].items():
        label = f"  {kind} ({count}):"
        lines += _field(label, _names(card["columns"][kind]), indent=max(LABEL, len(label) + 1))
    if card.get("images"):
        lines += _field("Images:", card["images"])
    if card.get("augmentation"):
        lines += _field("Augmentation:", card["augmentation"])
    if missing["cells"]:
        worst = list(missing["columns"].items())[:8]
        text = (
            f"{missing['cells']:,} values ({missing['share']:.2%} of cells) in "
            f"{missing['rows_with_any']:,} rows; "
            + ", ".join(f"{c} {n:,}" for c, n in worst)
            + (", ..." if len(missing["columns"]) > len(worst) else "")
        )
        lines += _field("Missing:", text)
    else:
        lines += _field("Missing:", "none")
    lines.append("Class balance:" if card["problem_type"] != "regression" else "Target values:")
    lines += _target_lines(card)
    lines.append("")
    if "error" in split:
        lines += _field("Split:", f"cannot be made: {split['error']}")
    else:
        lines += _field(
            "Holdout:",
            f"{split['holdout']}: {split['holdout_rows']:,} rows (seed 0), scored once per study",
        )
        lines += _field("CV:", f"{split['cv']}; {split['training_rows']:,} training rows")
    lines.append("")
    if card["references"]:
        lines.append("Published references:")
        for ref in card["references"]:
            lines.append(f"  {ref['metric']} {ref['value']:.4g}: {ref['model']}")
            lines += _field("    protocol:", ref["protocol"], indent=14)
            lines += _field("    source:", ref["source"], indent=14)
    else:
        lines.append("Published references: none carried yet")
    return lines


@app.command("show")
def show(
    task: str = typer.Argument(..., help="Task name (see 'harness list tasks')."),
    as_json: bool = typer.Option(False, "--json", help="Print the card as JSON."),
) -> None:
    """Load TASK's data and print its card: source, size, kinds, balance, split, references."""
    from harness import registry
    from harness.results.cards import task_card

    card = task_card(registry.get_task(task))
    if as_json:
        typer.echo(json.dumps(card, indent=2, default=str))
        return
    typer.echo("\n".join(render(card)))
