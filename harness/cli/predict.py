"""`harness predict TASK --input new.csv --out predictions.csv`: new rows through a logged model."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app, console, tell

__all__ = ["predict"]


@app.command("predict")
def predict(
    task: str = typer.Argument(
        ..., help="Task name, or the folder or file your data was run from (harness run PATH)."
    ),
    model: str = typer.Option(
        None,
        "--model",
        "-m",
        help="Model whose logged model predicts (default: the leader by CV, maybe the ensemble).",
    ),
    input_path: Path = typer.Option(
        ..., "--input", "-i", help="CSV or Parquet file of new rows with the task's features."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="CSV file to write the predictions to."),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else ./mlruns)."
    ),
) -> None:
    """Predict new rows with a study's logged model: the id column (when the input has it),
    the predicted label and one probability per class, or the predicted value.

    The input needs every feature column of the task, in any order; the target and id columns
    are accepted and ignored, any other column is refused. Nothing is written when the input
    is refused.
    """
    from harness import registry
    from harness.data.local import Options, looks_like_path, read_table
    from harness.data.local.builder import Builder, chosen_name
    from harness.errors import DataError, NotSupportedError, UsageError
    from harness.results.leaderboard import no_runs
    from harness.results.models import load_model, pick_run, predict_table
    from harness.store import schema
    from harness.store.tracker import Tracker
    from harness.store.urls import local_store_missing, resolve_stores

    out = out.expanduser()
    if out.is_dir():
        raise UsageError(
            f"--out {str(out)!r} is a folder; give a file name such as predictions.csv."
        )
    known = set(registry.tasks())
    name = task
    if looks_like_path(task, known):
        path = Path(task).expanduser()
        if not path.exists():
            raise DataError(f"No such file or folder: '{task}' (give the task's name or its data).")
        name = chosen_name(Builder(path, Options()), known)
    table = read_table(input_path.expanduser())  # refuses missing, empty and header-only files
    stores = resolve_stores(tracking_uri, create=False)
    if local_store_missing(stores):  # opening it would create an empty database
        raise no_runs(name, stores)
    tracker = Tracker(stores, repair=False)  # a read command rebuilds no store
    tell(tracker.notices)
    run = pick_run(tracker, name, model)
    if run.data.tags.get(schema.MODALITY) == "image":
        raise NotSupportedError(
            f"harness predict reads rows of a table, and {name!r} is an image task. Load its "
            f"logged model with mlflow.pyfunc.load_model('models:/"
            f"{run.data.tags.get(schema.LOGGED_MODEL, '<id>')}') and pass a DataFrame of "
            "pixel arrays."
        )
    loaded = load_model(tracker, run)
    result = predict_table(loaded, table)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        result.frame.to_csv(out, index=False)
    except OSError as exc:
        raise UsageError(f"Cannot write --out {str(out)!r}: {exc.strerror or exc}.") from None
    err = console(stderr=True)
    for note in result.notes:
        err.print(f"Note: {note}.", markup=False, highlight=False)
    final = {"bag": "bag of fold models", "refit": "refit", "blend": "blend"}[loaded.kind]
    err.print(
        f"Wrote {out}: {len(result.frame)} rows predicted by {loaded.model} ({final}; "
        f"logged model {loaded.model_id}, run {loaded.run_id}).",
        markup=False,
        highlight=False,
    )
