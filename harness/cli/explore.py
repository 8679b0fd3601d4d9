"""`harness explore TASK`: an HTML page (and Markdown twin) about the task's training data."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app, console

__all__ = ["explore"]


@app.command("explore")
def explore(
    task: str = typer.Argument(..., help="Task name (see 'harness list tasks')."),
    out: Path = typer.Option(
        None, "--out", "-o", help="Folder for explore.html (default: harness-report/explore-TASK)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the holdout split (as in 'harness run')."),
) -> None:
    """Look at the data before modelling: target, missingness, features, correlations."""
    from harness import registry
    from harness.protocol.splits import check_seed
    from harness.results.explore import sections
    from harness.results.report import check_out_dir, write

    registry.get_task(task)
    check_seed(seed)  # before the folder is made: a refused command writes nothing
    out = out or Path("harness-report") / f"explore-{task}"
    check_out_dir(out)
    found, meta = sections(task, seed=seed)
    html_path, md_path = write(
        out,
        found,
        meta,
        "Only the training part is shown; the holdout stays unseen.",
        name="explore",
        title=f"harness explore: {task}",
    )
    console().print(
        f"Explore: {html_path.resolve()}\nMarkdown: {md_path.resolve()}",
        markup=False,
        highlight=False,
    )
