"""Ensembles of a run's studies: greedy forward selection with replacement (Caruana et al. 2004).

Each study keeps the out-of-fold (OOF) predictions of its best trial, made on the folds every
model of the task shares, and its holdout predictions. `select` fits the ensemble's weights on
the OOF predictions and the training target only, as AutoGluon and auto-sklearn do: start from
the best single model, then add (with replacement) whichever model improves the blend most, for a
fixed number of rounds, and keep the best prefix of that sequence. The weights are how often each
model was picked. The holdout is then scored once with the same weights, so it stays out of the
choice exactly as for a single study.

Rows without an OOF prediction (the first block of forward-chaining time folds) are left out of
the fit. Classification blends probabilities (then arg-max for label metrics); regression blends
values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from harness.contracts.metrics import get_metric
from harness.errors import HarnessError

__all__ = [
    "FAMILY",
    "MODEL",
    "ROUNDS",
    "TOLERANCE",
    "Selection",
    "blend",
    "fold_scores",
    "score_seconds",
    "scored_rows",
    "select",
]

ROUNDS = 50
MODEL = "ensemble"
FAMILY = "ensemble"
TOLERANCE = 1e-9  # relative gain a later round needs to count as better than an earlier one


@dataclass(frozen=True)
class Selection:
    """The outcome of the greedy selection.

    Attributes:
        weights: Model -> weight (they sum to 1), models with weight 0 left out, in input order.
        counts: Model -> how often it was picked.
        score: The metric of the blended OOF predictions on `rows`.
        single: Model -> its own OOF score on `rows`.
        trajectory: The blend's OOF score after each round (round 1 = the best single model).
        rows: Indices of the training rows the weights were fitted on (rows with OOF predictions).
        metric: The metric optimized.
    """

    weights: dict[str, float]
    counts: dict[str, int]
    score: float
    single: dict[str, float]
    trajectory: list[float] = field(default_factory=list)
    rows: np.ndarray = field(default_factory=lambda: np.arange(0), repr=False, compare=False)
    metric: str = ""

    def as_dict(self) -> dict:
        """JSON-ready description (members, weights, counts, scores)."""
        return {
            "metric": self.metric,
            "weights": self.weights,
            "counts": self.counts,
            "oof_score": self.score,
            "single_oof_scores": self.single,
            "trajectory": self.trajectory,
            "rows_used": int(len(self.rows)),
        }


def scored_rows(predictions: Mapping[str, np.ndarray]) -> np.ndarray:
    """Indices of the rows where every model has a finite OOF prediction."""
    mask = None
    for values in predictions.values():
        finite = np.isfinite(values) if values.ndim == 1 else np.isfinite(values).all(axis=1)
        mask = finite if mask is None else mask & finite
    return np.flatnonzero(mask) if mask is not None else np.arange(0)


def blend(predictions: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """The weighted mean of the models' predictions (probability matrices or value vectors)."""
    total = sum(weights.values())
    out = None
    for name, weight in weights.items():
        part = np.asarray(predictions[name], dtype=float) * (weight / total)
        out = part if out is None else out + part
    if out is None:
        raise HarnessError("An ensemble needs at least one member with a positive weight.")
    return out


def select(
    oof: Mapping[str, np.ndarray], y: np.ndarray, metric: str, *, rounds: int = ROUNDS
) -> Selection:
    """Greedy forward selection with replacement on out-of-fold predictions.

    Args:
        oof: Model -> OOF predictions of the training part (same rows, same folds for all).
            Ties between models go to the one given first.
        y: The training part's encoded target.
        metric: The metric to optimize (its direction is respected).
        rounds: Picks in total (the first is the best single model).

    Returns:
        The selection with the weights of the best round (the earliest among equal scores).

    Raises:
        HarnessError: No model, predictions of different shapes, or no row every model predicted.
    """
    if not oof:
        raise HarnessError("An ensemble needs at least one model with out-of-fold predictions.")
    if rounds < 1:
        raise HarnessError(f"The ensemble needs at least 1 round, got {rounds}.")
    names = list(oof)
    shapes = {name: np.shape(oof[name]) for name in names}
    if len(set(shapes.values())) > 1 or next(iter(shapes.values()))[0] != len(y):
        raise HarnessError(
            f"Out-of-fold predictions of different shapes ({shapes}) for {len(y)} training rows; "
            "were the studies run on the same folds?"
        )
    scorer = get_metric(metric)
    rows = scored_rows(oof)
    if len(rows) == 0:
        raise HarnessError("No training row has an out-of-fold prediction from every model.")
    target = np.asarray(y)[rows]
    preds = {name: np.asarray(oof[name], dtype=float)[rows] for name in names}

    def score(prediction: np.ndarray) -> float:
        value = scorer.score(target, prediction)
        return value if math.isfinite(value) else (-math.inf if _up(metric) else math.inf)

    single = {name: score(preds[name]) for name in names}
    counts = dict.fromkeys(names, 0)
    total = None
    picks: list[str] = []
    trajectory: list[float] = []
    for _ in range(rounds):
        best_name, best_score = None, None
        for name in names:  # strict improvement only: ties keep the earlier model
            candidate = preds[name] if total is None else (total + preds[name]) / (len(picks) + 1)
            value = score(candidate)
            if best_score is None or scorer.better(value, best_score):
                best_name, best_score = name, value
        picks.append(best_name)
        total = preds[best_name].copy() if total is None else total + preds[best_name]
        trajectory.append(float(best_score))
    best_round = 0
    for i, value in enumerate(trajectory):  # gains below rounding noise do not count
        margin = TOLERANCE * max(1.0, abs(trajectory[best_round]))
        if (
            scorer.better(value, trajectory[best_round])
            and abs(value - trajectory[best_round]) > margin
        ):
            best_round = i
    for name in picks[: best_round + 1]:
        counts[name] += 1
    n = best_round + 1
    return Selection(
        weights={name: counts[name] / n for name in names if counts[name]},
        counts={name: counts[name] for name in names if counts[name]},
        score=trajectory[best_round],
        single=single,
        trajectory=trajectory,
        rows=rows,
        metric=metric,
    )


def score_seconds(y: np.ndarray, metric: str, classes: int, *, seed: int = 0) -> float:
    """Seconds one score of out-of-fold predictions takes with `metric` on target `y`.

    Timed on random predictions of the right shape (a probability row per training row for a
    classification with `classes` classes, a value per row for a regression), the best of three:
    `select` makes `ROUNDS + 1` such scores per member, which on a large training part (262,000
    rows: about 30 ms a score) is seconds the budget's reserve must hold.
    """
    import time

    scorer = get_metric(metric)
    rng = np.random.default_rng(seed)
    if classes:
        prediction = rng.random((len(y), classes))
        prediction /= prediction.sum(axis=1, keepdims=True)
    else:
        prediction = rng.normal(size=len(y))
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        scorer.score(np.asarray(y), prediction)
        best = min(best, time.perf_counter() - start)
    return best


def _up(metric: str) -> bool:
    return get_metric(metric).direction == "maximize"


def fold_scores(
    prediction: np.ndarray,
    y: np.ndarray,
    folds: tuple[tuple[np.ndarray, np.ndarray], ...],
    metrics: tuple[str, ...],
) -> dict[str, list[float]]:
    """Per-fold scores of an OOF prediction on each fold's validation rows.

    With repeated CV the OOF prediction is the mean over repeats, so fold i of repeat r is scored
    on the averaged predictions of its rows; the count of scores (K * R) matches the studies'.
    """
    out: dict[str, list[float]] = {name: [] for name in metrics}
    for _, valid in folds:
        for name in metrics:
            out[name].append(get_metric(name).score(y[valid], prediction[valid]))
    return out
