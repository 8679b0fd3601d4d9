"""`harness importance TASK [--model M]`: what drives a final model (permutation, holdout)."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app, console, tell

__all__ = ["BAR_WIDTH", "importance", "render"]

BAR_WIDTH = 30  # characters of the longest bar


def render(result, top: int) -> list[str]:
    """The importance as text lines: a ranked table with bars, then what it means."""
    frame = result.frame
    shown = frame.head(top)
    width = max([len("feature"), *(len(str(f)) for f in shown["feature"])])
    width = min(width, 40)
    largest = max(float(frame["importance"].abs().max()), 1e-300)
    lines = [f"{'#':>3}  {'feature':<{width}}  {'importance':>10}  {'± std':>9}"]
    for rank, (feature, value, std) in enumerate(shown.itertuples(index=False), start=1):
        name = str(feature) if len(str(feature)) <= width else str(feature)[: width - 1] + "…"
        bar = "█" * round(BAR_WIDTH * max(value, 0.0) / largest)
        lines.append(f"{rank:>3}  {name:<{width}}  {value:>10.4g}  {std:>9.2g}  {bar}")
    if len(frame) > top:
        lines.append(f"     ... {len(frame) - top} more features (--top {len(frame)} lists all)")
    direction = "higher" if result.maximize else "lower"
    lines += [
        "",
        f"Permutation importance of {result.model} (study run {result.run_id}) on "
        f"{result.rows:,} holdout rows, {result.repeats} shuffles per feature: how much "
        f"{result.metric} ({direction} is better; {result.baseline:.4g} unshuffled) gets worse "
        "when the feature's values are shuffled. About 0: the model does not use it.",
    ]
    return lines


@app.command("importance")
def importance(
    task: str = typer.Argument(..., help="Task name (a registered task or your data's name)."),
    model: str = typer.Option(
        None, "--model", "-m", help="Model whose final model to explain (default: the leader)."
    ),
    repeats: int = typer.Option(5, "--repeats", help="Shuffles per feature."),
    top: int = typer.Option(20, "--top", help="Features to list."),
    refresh: bool = typer.Option(
        False, "--refresh", help="Recompute, even if the run stored an importance."
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="Also write the importances as CSV to this file."
    ),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else ./mlruns)."
    ),
) -> None:
    """Permutation importance of a final model on the holdout: which features it relies on."""
    from harness.errors import UsageError
    from harness.results.importance import importance_of
    from harness.results.leaderboard import no_runs
    from harness.store.tracker import Tracker
    from harness.store.urls import local_store_missing, resolve_stores

    if repeats < 1:
        raise UsageError(f"--repeats must be at least 1; got {repeats}.")
    if top < 1:
        raise UsageError(f"--top must be at least 1; got {top}.")
    if out is not None and Path(out).is_dir():
        raise UsageError(
            f"--out {str(out)!r} is a folder; give a file name such as importance.csv."
        )
    stores = resolve_stores(tracking_uri, create=False)
    if local_store_missing(stores):  # opening it would create an empty database
        raise no_runs(task, stores)
    tracker = Tracker(stores, repair=False)
    tell(tracker.notices)
    result = importance_of(tracker, task, model, repeats=repeats, refresh=refresh)
    if out is not None:
        Path(out).expanduser().parent.mkdir(parents=True, exist_ok=True)
        result.frame.to_csv(Path(out).expanduser(), index=False)
    console().print("\n".join(render(result, top)), markup=False, highlight=False)
