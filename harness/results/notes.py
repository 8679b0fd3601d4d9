"""A run's description in MLflow (`mlflow.note.content`): its board row in words, and its data.

The MLflow UI shows the description on the run's page and beside the run in the runs table, so
a study or ensemble run says what the board says of it (`row_in_words`): `xgboost — CV roc_auc
0.9910 ± 0.0040 over 5 folds, holdout 0.9870, 25 trials, bag of 5`, or its status and reason.
The run writes it once it has ended its study (`harness.run.study.describe`).
"""

from __future__ import annotations

from typing import Any

from harness.results.leaderboard import Row, row_of
from harness.results.tables import members_text, status_text
from harness.store import schema

__all__ = ["describe_run", "row_in_words"]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def row_in_words(row: Row) -> str:
    """A board row as one line: the model (an ensemble's members), then its CV score over its
    folds, holdout, trials and final model, or its status and the reason."""
    name = f"{row.model} ({members_text(row)})" if row.members else row.model
    if row.cv_mean is None:
        return f"{name} — {status_text(row)}"
    score = f"CV {row.metric} {row.cv_mean:.4f} ± {row.cv_std or 0:.4f}"
    if row.folds and row.folds_of:
        score += f" over {row.folds} of {row.folds_of} folds"
    elif row.folds:
        score += f" over {_count(row.folds, 'fold')}"
    parts = [score]
    if row.holdout is not None:
        parts.append(f"holdout {row.holdout:.4f}")
    if row.trials is not None:
        parts.append(_count(row.trials, "trial"))
    if row.final:
        parts.append(row.final)
    status = status_text(row)
    return f"{name} — {', '.join(parts)}" + ("" if status == "ok" else f"; {status}")


def describe_run(tracker: Any, run_id: str, data_note: str = "") -> str:
    """Write the description of a study or ensemble run from what it logged (its row), then
    `data_note` (what it ran on) as a second paragraph; return the text."""
    text = row_in_words(row_of(tracker.get_run(run_id)))
    if data_note:
        text += f"\n\n{data_note}"
    tracker.log(run_id, tags={schema.NOTE: text})
    return text
