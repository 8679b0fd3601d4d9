"""`harness submit TASK [--model M] --out FILE`: a submission file from the stored predictions."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app, console, tell

__all__ = ["submit"]


@app.command("submit")
def submit(
    task: str = typer.Argument(..., help="Task name (a registered task or your data's name)."),
    model: str = typer.Option(
        None, "--model", "-m", help="Model whose study to submit (default: the leader by CV)."
    ),
    out: Path = typer.Option(Path("submission.csv"), "--out", "-o", help="File to write."),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else ./mlruns)."
    ),
) -> None:
    """Write a Kaggle-style submission from the refitted best configuration's predictions: the
    task's test part in the sample's format, or the holdout for tasks without a test part."""
    from harness.results.leaderboard import no_runs
    from harness.results.submit import make_submission, write_submission
    from harness.store.tracker import Tracker
    from harness.store.urls import local_store_missing, resolve_stores

    stores = resolve_stores(tracking_uri, create=False)
    if local_store_missing(stores):  # opening it would create an empty database
        raise no_runs(task, stores)
    tracker = Tracker(stores, repair=False)  # a read command rebuilds no store
    tell(tracker.notices)
    submission = make_submission(tracker, task, model)
    path = write_submission(submission, out)
    what = "the test part" if submission.part == "test" else "the holdout (no test part)"
    console(stderr=True).print(
        f"Wrote {path}: {len(submission.frame)} rows of {what} from {submission.model} "
        f"(study run {submission.run_id}).",
        markup=False,
        highlight=False,
    )
