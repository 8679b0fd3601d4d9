"""Ensembles of a run's studies: greedy forward selection with replacement (Caruana et al. 2004).

Each study keeps the out-of-fold (OOF) predictions of its best trial, made on the folds every
model of the task shares, and its holdout predictions. `select` fits the ensemble's weights on
the OOF predictions and the training target only, as AutoGluon and auto-sklearn do: start from
the best single model, then add (with replacement) whichever model improves the blend most, for a
fixed number of rounds, and keep the best prefix of that sequence. The weights are how often each
model was picked. The holdout is then scored once with the same weights, so it stays out of the
choice exactly as for a single study.

A pick must improve the blend by more than a tolerance: a tie or a plateau ends the selection,
so a model that changes nothing (a constant, under a rank metric such as ROC AUC) is never added.
`selection_metric` says what to select on: log loss for a classification task whose metric
ignores calibration (ROC AUC, accuracy), since a selection on such a metric fits its noise and
ruins the blend's probabilities. `cross_fitted_scores` scores the ensemble honestly: each fold
with weights chosen on the other folds' rows.

Rows without an OOF prediction (the first block of forward-chaining time folds) are left out of
the fit. Classification blends probabilities (then arg-max for label metrics); regression blends
values.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
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
    "CALIBRATION_BLIND",
    "blend",
    "by_repeat",
    "cross_fitted_scores",
    "fold_scores",
    "mean_over_repeats",
    "score_seconds",
    "scored_rows",
    "select",
    "selection_metric",
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
    oof: Mapping[str, np.ndarray],
    y: np.ndarray,
    metric: str,
    *,
    rounds: int = ROUNDS,
) -> Selection:
    """Greedy forward selection with replacement on out-of-fold predictions.

    Args:
        oof: Model -> OOF predictions of the training part (same rows, same folds for all).
            Ties between models go to the one given first.
        y: The training part's encoded target.
        metric: The metric to optimize (its direction is respected).
        rounds: The most picks in total (the first is the best single model); the selection
            ends earlier at the first round no candidate improves the blend by more than the
            tolerance.

    Returns:
        The selection, whose weights are how often each model was picked.

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
    rows = scored_rows(oof)
    if len(rows) == 0:
        raise HarnessError("No training row has an out-of-fold prediction from every model.")
    target = np.asarray(y)[rows]
    preds = {name: np.asarray(oof[name], dtype=float)[rows] for name in names}
    score, scorer = _scorer(metric, target), get_metric(metric)
    single = {name: score(preds[name]) for name in names}
    counts = dict.fromkeys(names, 0)
    total, current = None, None
    trajectory: list[float] = []
    for picked in range(rounds):
        added = _adder(preds, total, picked)  # name -> the blend with one more pick of it
        values = {name: score(added(name)) for name in names}
        chosen = names[0]  # strict improvement only: ties go to the model given first
        for name in names:
            if scorer.better(values[name], values[chosen]):
                chosen = name
        if current is not None and not _gain(scorer, values[chosen], current):
            break  # a tie or a plateau: no pick improves the blend
        counts[chosen] += 1
        total = preds[chosen].copy() if total is None else total + preds[chosen]
        current = values[chosen]
        trajectory.append(float(current))
    n = sum(counts.values())
    return Selection(
        weights={name: counts[name] / n for name in names if counts[name]},
        counts={name: counts[name] for name in names if counts[name]},
        score=trajectory[-1],
        single=single,
        trajectory=trajectory,
        rows=rows,
        metric=metric,
    )


def _adder(preds: Mapping[str, np.ndarray], total: np.ndarray | None, picks: int):
    """name -> the mean of the `picks` predictions summed in `total` and one more of `name`."""

    def added(name: str) -> np.ndarray:
        return preds[name] if total is None else (total + preds[name]) / (picks + 1)

    return added


def _scorer(metric: str, target: np.ndarray):
    """A function scoring predictions of `target`'s rows; non-finite scores become the worst."""
    scorer = get_metric(metric)
    worst = -math.inf if scorer.direction == "maximize" else math.inf

    def score(prediction: np.ndarray) -> float:
        value = scorer.score(target, prediction)
        return value if math.isfinite(value) else worst

    return score


def _gain(scorer, value: float, reference: float) -> bool:
    """Whether `value` is better than `reference` by more than the tolerance."""
    margin = TOLERANCE * max(1.0, abs(reference))
    return scorer.better(value, reference) and abs(value - reference) > margin


CALIBRATION_BLIND = ("roc_auc", "accuracy", "balanced_accuracy", "f1_macro")


def selection_metric(metric: str, n_classes: int) -> str:
    """What an ensemble of a task scored by `metric` selects on: `metric`, or log loss for a
    classification metric that ignores calibration.

    On breast_cancer (455 training rows, 13 models at their defaults), a selection on ROC AUC
    chases differences in its fourth decimal: cross-fitted, its blend scored ROC AUC 0.9942 and
    log loss 0.0856, 16% worse than the best member's 0.0737; the same selection on log loss, a
    proper scoring rule that is smooth where ROC AUC is flat, scored ROC AUC 0.9948 and log loss
    0.0801.
    """
    return "log_loss" if n_classes and metric in CALIBRATION_BLIND else metric


def by_repeat(oof: np.ndarray, n_rows: int, n_classes: int) -> np.ndarray:
    """OOF predictions with their repeat axis first: repeats x rows (x classes).

    Studies store one set per repeat; runs made before stored one set averaged over the
    repeats (rows x classes, or rows), which reads as a single repeat.
    """
    oof = np.asarray(oof, dtype=float)
    single = 2 if n_classes else 1  # the dimensions of one set
    if oof.ndim == single:
        oof = oof[np.newaxis]
    if oof.ndim != single + 1 or oof.shape[1] != n_rows:
        raise HarnessError(
            f"Out-of-fold predictions of shape {oof.shape} do not fit {n_rows} training rows."
        )
    return oof


def mean_over_repeats(oof: np.ndarray) -> np.ndarray:
    """One set of OOF predictions from a set per repeat: each row's mean over the repeats that
    validated it (NaN where none did)."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
        return np.nanmean(oof, axis=0)


def cross_fitted_scores(
    oof: Mapping[str, np.ndarray],
    y: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    metrics: tuple[str, ...],
    *,
    repeats: int = 1,
    select_on: str | None = None,
    rounds: int = ROUNDS,
) -> dict[str, list[float]]:
    """The ensemble's honest fold scores: each fold scored with weights chosen without it.

    For fold i of repeat r, the selection runs on repeat r's OOF predictions of every row but
    fold i's, and the blend of fold i's predictions with those weights is scored with each
    metric. A one-member ensemble thus scores exactly its
    member's fold scores; a selection that overfits its rows scores worse here than on them.

    Args:
        oof: Model -> its OOF predictions by repeat (`by_repeat`).
        y: The training part's encoded target.
        folds: The (train, validation) pairs every member was scored on, repeat by repeat.
        metrics: The metrics to score.
        repeats: How many times the K-fold was repeated.
        select_on: The metric the selection optimizes (default: `metrics[0]`).
        rounds: As for `select`.

    Returns:
        Metric -> one score per fold, in the folds' order.
    """
    per_repeat = len(folds) // max(repeats, 1)
    scores: dict[str, list[float]] = {name: [] for name in metrics}
    for number, (_, valid) in enumerate(folds):
        repeat = number // per_repeat
        # a member stored before OOF predictions were kept per repeat has one set for all
        this_repeat = {name: sets[min(repeat, len(sets) - 1)] for name, sets in oof.items()}
        held = {name: values[valid] for name, values in this_repeat.items()}
        without = {name: np.array(values, dtype=float) for name, values in this_repeat.items()}
        for values in without.values():
            values[valid] = np.nan  # the fold's rows take no part in choosing its weights
        weights = select(without, y, select_on or metrics[0], rounds=rounds).weights
        blended = blend(held, weights)
        for name in metrics:
            scores[name].append(float(get_metric(name).score(np.asarray(y)[valid], blended)))
    return scores


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
