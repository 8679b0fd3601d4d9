"""Submission files from what a study stored: the refitted best configuration's predictions.

`harness run` refits each study's best configuration on the whole training part and stores its
predictions in MLflow: `submission.csv` for the unlabeled test part of a task that has one (a
Kaggle folder: already in the sample submission's format), and `holdout_predictions.csv` for the
private holdout. `harness submit` picks a study run (the leader's, or a named model's) and writes
its submission; for a task without a test part it writes the holdout predictions in Kaggle's
usual shape: the id, then the probability of the positive class (binary), one probability column
per class (multiclass), or the predicted value (regression).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, UsageError
from harness.store import schema
from harness.store.tracker import Tracker

__all__ = ["Submission", "holdout_submission", "make_submission", "write_submission"]


@dataclass(frozen=True)
class Submission:
    """A submission file's content and where it came from.

    Attributes:
        frame: The rows to write.
        model: The model whose study run made the predictions.
        run_id: That study run.
        part: "test" (the task's unlabeled test part) or "holdout".
    """

    frame: Any
    model: str
    run_id: str
    part: str


def _artifact(tracker: Tracker, run_id: str, name: str) -> Any:
    """A CSV artifact of a run as a DataFrame, or None when the run has no such file."""
    import pandas as pd

    names = {item.path for item in tracker.client.list_artifacts(run_id)}
    if name not in names:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = tracker.client.download_artifacts(run_id, name, tmp)
        return pd.read_csv(path, keep_default_na=False, na_values=[""])


def holdout_submission(predictions: Any, target: str, problem_type: str) -> Any:
    """Holdout predictions (id, truth, predicted, proba_<class>) in Kaggle's submission shape."""
    import pandas as pd

    frame = pd.DataFrame({"id": predictions["id"]})
    probas = [c for c in predictions.columns if c.startswith("proba_")]
    if problem_type == "regression":
        frame[target] = predictions[f"predicted_{target}"]
    elif problem_type == "binary":
        frame[target] = predictions[probas[-1]]  # code 1, the positive class, comes last
    else:
        for column in probas:
            frame[column[len("proba_") :]] = predictions[column]
    return frame


def make_submission(tracker: Tracker, task: str, model: str | None = None) -> Submission:
    """The submission of `model`'s newest study run on `task` (default: the leader's).

    Raises:
        HarnessError: The task has no ranked study, the model has no finished study, or the run
            stored no predictions.
    """
    from harness.results.leaderboard import chosen_row

    row = chosen_row(tracker, task, model, "submit")
    submission = _artifact(tracker, row.run_id, "submission.csv")
    if submission is not None:
        return Submission(submission, row.model, row.run_id, "test")
    predictions = _artifact(tracker, row.run_id, schema.HOLDOUT_PREDICTIONS)
    if predictions is None:
        raise HarnessError(
            f"The study run {row.run_id} of {row.model!r} on task {task!r} stored no "
            "predictions; rerun it with 'harness run'."
        )
    run = tracker.client.get_run(row.run_id)
    problem_type = run.data.tags.get(schema.PROBLEM_TYPE) or _problem_type(predictions)
    target = next(c[len("predicted_") :] for c in predictions.columns if c.startswith("predicted_"))
    frame = holdout_submission(predictions, target, problem_type)
    return Submission(frame, row.model, row.run_id, "holdout")


def _problem_type(predictions: Any) -> str:
    probas = [c for c in predictions.columns if c.startswith("proba_")]
    if not probas:
        return "regression"
    return "binary" if len(probas) == 2 else "multiclass"


def write_submission(submission: Submission, out: Path) -> Path:
    """Write the submission as CSV to `out` (parent folders are created).

    Raises:
        UsageError: `out` is a folder or cannot be written.
    """
    out = Path(out).expanduser()
    if out.is_dir():
        raise UsageError(
            f"--out {str(out)!r} is a folder; give a file name such as submission.csv."
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        submission.frame.to_csv(out, index=False)
    except OSError as exc:
        raise UsageError(f"Cannot write --out {str(out)!r}: {exc.strerror or exc}.") from None
    return out
