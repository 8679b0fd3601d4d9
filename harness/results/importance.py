"""Permutation importance of a study's (or the ensemble's) final model on the private holdout.

What drives the model a user takes away: each feature column of the holdout is shuffled in turn
(`repeats` times, seeded), the logged model predicts the shuffled rows, and the importance of the
feature is how much the task's primary metric gets worse, in the metric's own units: the mean
over the repeats and its standard deviation (scikit-learn's `permutation_importance`). Positive
means the model relies on the feature; about zero, that it does not; negative, that shuffling it
happened to help (noise). The holdout is the one part of the data no choice was made on, so the
importance is not inflated by overfitting to the training rows.

The model is the one the study scored (`harness.results.models.load_model`: the bag of fold
models, the refit, or the ensemble's blend), fed the task's raw feature columns, so the
importance is of each column as the user knows it, preprocessing included. The holdout is
rebuilt from the task's data with the run's seed; the data fingerprint must match the run's, and
the unshuffled score is checked against the holdout score the board shows.

Cost: features x repeats predictions of the holdout (capped at `MAX_ROWS` seeded rows). The
result is stored as `importance.json` on the run, so `harness importance` and `harness report`
compute it once per run (`--refresh` recomputes).
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from harness.contracts.metrics import get_metric
from harness.errors import DataError, HarnessError, NotSupportedError, UsageError
from harness.store import schema
from harness.store.tracker import Tracker

__all__ = [
    "MAX_ROWS",
    "REPEATS",
    "Importance",
    "Predicts",
    "TooCostly",
    "compute",
    "holdout_of",
    "importance_of",
]

REPEATS = 5  # shuffles per feature (scikit-learn's default)
MAX_ROWS = 10_000  # holdout rows used at most (a seeded sample above it)
# The unshuffled score must be the board's holdout score: predictions reloaded in another
# process may differ in float rounding (Keras), not more.
SCORE_TOLERANCE = 1e-6


class TooCostly(HarnessError):
    """Permutation importance would take longer than the caller allows (`compute`)."""


class Predicts(Protocol):
    """What permutation importance needs of a model: its raw predictions of feature rows."""

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray: ...


@dataclass(frozen=True)
class Importance:
    """A model's permutation importance on the holdout.

    Attributes:
        model: The model's name (a study's model, or "ensemble").
        run_id: The run whose logged model was permuted.
        metric: The task's primary metric; importances are in its units.
        maximize: Whether higher is better for the metric.
        baseline: The metric on the unshuffled rows.
        rows: Holdout rows used.
        repeats: Shuffles per feature.
        seed: Seed of the shuffles (and of the row sample).
        frame: One row per feature, most important first: feature, importance (mean worsening
            of the metric), std (over the repeats).
    """

    model: str
    run_id: str
    metric: str
    maximize: bool
    baseline: float
    rows: int
    repeats: int
    seed: int
    frame: pd.DataFrame

    def as_dict(self) -> dict[str, Any]:
        """What `importance.json` holds."""
        return {
            "model": self.model,
            "run_id": self.run_id,
            "metric": self.metric,
            "maximize": self.maximize,
            "baseline": self.baseline,
            "rows": self.rows,
            "repeats": self.repeats,
            "seed": self.seed,
            "features": [
                {"feature": str(f), "importance": float(m), "std": float(s)}
                for f, m, s in self.frame[["feature", "importance", "std"]].itertuples(index=False)
            ],
        }

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> Importance:
        frame = pd.DataFrame(stored["features"], columns=["feature", "importance", "std"])
        fields = ("model", "run_id", "metric", "maximize", "baseline", "rows", "repeats", "seed")
        return cls(**{k: stored[k] for k in fields}, frame=frame)


class _Conformed:
    """A loaded model (`harness.results.models.LoadedModel`) predicting rows already conformed
    to its card, so each shuffle costs a prediction and not a conversion as well."""

    def __init__(self, loaded: Any) -> None:
        self.loaded = loaded

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        return self.loaded.predictor.raw(X)


class _Scored:
    """The estimator scikit-learn's `permutation_importance` passes to the scorer."""

    def __init__(self, model: Predicts) -> None:
        self.model = model

    def fit(self, X: Any, y: Any) -> _Scored:  # never called: the model is fitted
        return self


def compute(
    model: Predicts,
    X: pd.DataFrame,
    y: np.ndarray,
    metric: str,
    *,
    repeats: int = REPEATS,
    seed: int = 0,
    max_rows: int = MAX_ROWS,
    max_seconds: float | None = None,
) -> tuple[pd.DataFrame, float, int]:
    """Permutation importance of `model` on rows `X` with targets `y` (class codes or values).

    With `max_seconds`, the unshuffled prediction is timed first, and a computation expected
    to take longer (features x repeats predictions) raises `TooCostly` instead.

    Returns:
        The features most important first (feature, importance, std), the unshuffled score,
        and the rows used (a seeded sample of `max_rows` when there are more).
    """
    from sklearn.inspection import permutation_importance

    if repeats < 1:
        raise UsageError(f"--repeats must be at least 1; got {repeats}.")
    scorer_metric = get_metric(metric)
    sign = 1.0 if scorer_metric.direction == "maximize" else -1.0
    X = X.reset_index(drop=True)
    y = np.asarray(y)
    if len(X) > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(X), max_rows, replace=False))
        X, y = X.iloc[keep].reset_index(drop=True), y[keep]

    def score(estimator: _Scored, rows: pd.DataFrame, truth: np.ndarray) -> float:
        return sign * scorer_metric.score(truth, estimator.model.predict_raw(rows))

    started = time.perf_counter()
    baseline = sign * score(_Scored(model), X, y)
    expected = (time.perf_counter() - started) * X.shape[1] * repeats
    if max_seconds is not None and expected > max_seconds:
        raise TooCostly(
            f"it would take about {expected:.0f} s ({X.shape[1]} features x {repeats} shuffles "
            "of the holdout)"
        )
    result = permutation_importance(
        _Scored(model), X, y, scoring=score, n_repeats=repeats, random_state=seed, n_jobs=1
    )
    frame = pd.DataFrame(
        {
            "feature": [str(c) for c in X.columns],
            "importance": result.importances_mean,
            "std": result.importances_std,
        }
    )
    frame = frame.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    return frame, float(baseline), len(X)


def holdout_of(run: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """The holdout rows (raw features) and targets (class codes or values) a run was scored on,
    rebuilt from its task's data with its seed.

    Raises:
        NotSupportedError: An image task (its features are pixels, not columns).
        DataError: The task's data is no longer the data the run was made on.
    """
    from harness import registry
    from harness.protocol.splits import prepare

    tags = run.data.tags
    name = tags.get(schema.TASK, "")
    if tags.get(schema.MODALITY) == "image":
        raise NotSupportedError(
            f"Task {name!r} is an image task: permutation importance shuffles feature columns, "
            "and its features are pixels. It is available for tabular and text tasks."
        )
    source = tags.get(schema.SOURCE)
    if source:
        from harness.data.local import load_path
        from harness.data.local.settings import Options

        if not Path(source).exists():
            raise DataError(
                f"The data of task {name!r} was read from {source!r}, which is gone; the "
                "holdout cannot be rebuilt without it."
            )
        given = json.loads(tags.get(schema.SOURCE_OPTIONS) or "{}")  # the run's --target etc.
        options = Options(**{**given, "drop": tuple(given.get("drop", ())), "name": name})
        local = load_path(source, options, known_tasks=set(registry.tasks()) - {name})
        task, dataset = local.task, local.dataset
    else:
        task = registry.get_task(name)
        dataset = task.load()
    repeats = int(tags.get(schema.REPEATS) or 1)
    folds = int(tags.get(schema.FOLDS_OF) or 0) or int(tags.get(schema.FOLDS) or 0) // repeats
    data = prepare(task, dataset, folds=max(folds, 2), seed=int(tags.get(schema.SEED) or 0))
    if data.data_fingerprint != tags.get(schema.DATA_FINGERPRINT):
        where = f"the files at {source!r}" if source else f"the data task {name!r} loads"
        raise DataError(
            f"{where[0].upper()}{where[1:]} changed since the run (data fingerprint "
            f"{data.data_fingerprint} against {tags.get(schema.DATA_FINGERPRINT)}): the holdout "
            f"it was scored on cannot be rebuilt. Rerun 'harness run {source or name}'."
        )
    return data.holdout_X, np.asarray(data.holdout_y)


def _stored(tracker: Tracker, run_id: str) -> Importance | None:
    names = {item.path for item in tracker.client.list_artifacts(run_id)}
    if schema.IMPORTANCE not in names:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = tracker.client.download_artifacts(run_id, schema.IMPORTANCE, tmp)
        return Importance.from_dict(json.loads(Path(path).read_text()))


def importance_of(
    tracker: Tracker,
    task: str,
    model: str | None = None,
    *,
    repeats: int = REPEATS,
    seed: int = 0,
    refresh: bool = False,
    max_rows: int = MAX_ROWS,
    keep: bool = True,
    max_seconds: float | None = None,
) -> Importance:
    """The permutation importance of `model`'s final model on `task` (default: the leader's),
    stored on its run as `importance.json` (unless `keep` is False or the store is read-only);
    a stored one with the same repeats and seed, made on no more rows, is reused unless
    `refresh`.

    Raises:
        HarnessError: No such model or study (see `chosen_row`), a run without a logged model,
            data that changed, or a reloaded model that no longer scores the board's holdout.
    """
    from harness.results.leaderboard import chosen_row
    from harness.results.models import load_model

    if repeats < 1:
        raise UsageError(f"--repeats must be at least 1; got {repeats}.")
    row = chosen_row(tracker, task, model, "explain")
    if not refresh:
        stored = _stored(tracker, row.run_id)
        if stored is not None and (stored.repeats, stored.seed) == (repeats, seed):
            if stored.rows <= max_rows:
                return stored
    run = tracker.client.get_run(row.run_id)
    X, y = holdout_of(run)
    loaded = load_model(tracker, run)
    X = loaded.conform(X).frame  # once: shuffling a column keeps the dtypes it was given
    frame, baseline, rows = compute(
        _Conformed(loaded), X, y, row.metric, repeats=repeats, seed=seed, max_rows=max_rows,
        max_seconds=max_seconds,
    )  # fmt: skip
    if rows == len(X) and row.holdout is not None:
        if not math.isclose(baseline, row.holdout, rel_tol=SCORE_TOLERANCE, abs_tol=1e-9):
            raise HarnessError(
                f"The logged model of {row.model!r} on task {task!r} scores the holdout "
                f"{baseline:.6g}, not the {row.holdout:.6g} the board shows; rerun "
                f"'harness run {task}' to log it again."
            )
    result = Importance(
        row.model,
        row.run_id,
        row.metric,
        get_metric(row.metric).direction == "maximize",
        baseline,
        rows,
        repeats,
        seed,
        frame,
    )
    if keep and not tracker.read_only:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, schema.IMPORTANCE)
            path.write_text(json.dumps(result.as_dict(), indent=2))
            tracker.log_artifact(row.run_id, path)
    return result
