"""Statistics behind the leaderboards: is a win real, and how models compare across tasks.

- `nadeau_bengio`: the corrected resampled t-test on per-fold score differences of two models
  scored on the same folds (Nadeau & Bengio 2003; with repeated CV as in Bouckaert & Frank 2004).
- `versus_leader`: every model against the board's leader, two-sided (the leader is picked after
  the fact, so the direction of each comparison is chosen by the data) and Holm-adjusted for the
  number of models compared (`holm`), so a board of equally good models gets a false "worse"
  mark on at most alpha of boards.
- `mean_interval`: a confidence interval of a model's mean CV score, with the same correction
  for the overlap of the folds' training sets.
- `normalized_score`: (score - constant baseline) / (best - constant baseline), as the AutoML
  Benchmark does: the dummy model scores 0, the task's best model 1.
- `bradley_terry`: ratings on the Elo scale from pairwise wins, with bootstrap confidence
  intervals over tasks (as TabArena does).
- `friedman` and `critical_difference`: the Friedman test on ranks across tasks and the Nemenyi
  critical difference of mean ranks (Demšar 2006).

Every function takes scores oriented by the metric: pass `maximize=False` for losses and errors.
scipy is imported inside the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ALPHA",
    "Friedman",
    "PairedTest",
    "Rating",
    "bradley_terry",
    "friedman",
    "holm",
    "mean_interval",
    "nadeau_bengio",
    "nemenyi_q",
    "normalized_score",
    "pairwise_wins",
    "ranks",
    "versus_leader",
]

ALPHA = 0.05

# Nemenyi: studentized range quantile / sqrt(2) at alpha 0.05 for k = 2..10 models (Demšar 2006).
_NEMENYI_Q05 = {
    2: 1.960,
    3: 2.343,
    4: 2.569,
    5: 2.728,
    6: 2.850,
    7: 2.949,
    8: 3.031,
    9: 3.102,
    10: 3.164,
}


@dataclass(frozen=True)
class PairedTest:
    """The outcome of comparing one model with the leader on identical folds.

    Attributes:
        mean_diff: Mean per-fold advantage of the leader (positive: the leader is better).
        t: The corrected t statistic (inf when every fold difference is the same positive value).
        p_value: One-sided p-value of "the leader is better"; 1.0 for the leader itself.
        dof: Degrees of freedom (folds - 1).
        significant: Whether the model is significantly worse than the leader at `alpha`.
    """

    mean_diff: float
    t: float
    p_value: float
    dof: int
    significant: bool


def mean_interval(
    scores: Sequence[float], *, test_train_ratio: float, level: float = 1 - ALPHA
) -> tuple[float, float] | None:
    """A `level` confidence interval of the mean of per-fold CV scores (None below two folds).

    mean ± t_{k-1} * sqrt((1/k + n_test/n_train) * var), var the sample variance of the k fold
    scores: the Nadeau-Bengio variance correction, because folds share most of their training
    rows and their scores are not independent (with `test_train_ratio` 0 it is the textbook
    t-interval). It says where the model's expected score lies; the fold standard deviation
    shown beside it ("±") says how much single folds vary.
    """
    from scipy import stats

    values = np.asarray(scores, dtype=float)
    k = len(values)
    if k < 2 or not np.all(np.isfinite(values)):
        return None
    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + level / 2, k - 1)) * math.sqrt(
        (1.0 / k + test_train_ratio) * float(values.var(ddof=1))
    )
    return mean - half, mean + half


def nadeau_bengio(
    leader: Sequence[float],
    other: Sequence[float],
    *,
    test_train_ratio: float,
    maximize: bool,
    alpha: float = ALPHA,
    two_sided: bool = False,
) -> PairedTest:
    """Corrected resampled t-test: is `other` significantly worse than `leader`?

    The per-fold differences d_j = leader_j - other_j (negated for metrics to minimize, so a
    positive d always favours the leader) over all k folds (K * R with repeated CV) give
    t = mean(d) / sqrt((1/k + n_test/n_train) * var(d)), with var the sample variance and
    k - 1 degrees of freedom. The correction n_test/n_train accounts for the overlap of the
    training sets of different folds, which makes the plain paired t-test far too confident.
    The test is one-sided: H0 "the other model is at least as good", H1 "the leader is better";
    `two_sided` tests H0 "they are as good" against "they differ" instead.

    Args:
        leader: Per-fold scores of the leader.
        other: Per-fold scores of the other model, on the same folds in the same order.
        test_train_ratio: Validation rows / training rows of a fold: 1 / (K - 1) for K-fold.
        maximize: Whether higher scores are better.
        alpha: Significance level.

    Raises:
        ValueError: Different numbers of folds, or fewer than two.
    """
    from scipy import stats

    a, b = np.asarray(leader, dtype=float), np.asarray(other, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"the models were scored on {len(a)} and {len(b)} folds")
    k = len(a)
    if k < 2:
        raise ValueError("a paired test needs at least two folds")
    d = (a - b) if maximize else (b - a)
    mean = float(d.mean())
    var = float(d.var(ddof=1))
    corrected = (1.0 / k + test_train_ratio) * var
    if corrected <= 1e-300:  # identical differences on every fold: no doubt either way
        t = math.copysign(math.inf, mean) if mean else 0.0
        if two_sided:
            p = 1.0 if mean == 0 else 0.0
        else:
            p = 0.0 if mean > 0 else 1.0
    else:
        t = mean / math.sqrt(corrected)
        p = float(stats.t.sf(t, df=k - 1))
        if two_sided:
            p = min(1.0, 2 * min(p, 1.0 - p))
    return PairedTest(mean_diff=mean, t=t, p_value=p, dof=k - 1, significant=p < alpha)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979), in the input's order.

    The i-th smallest of m p-values becomes max over j <= i of min(1, (m - j + 1) p_(j)); a
    hypothesis is rejected when its adjusted p-value is below alpha, which keeps the chance of any
    false rejection in the family at most alpha, whatever the dependence between the tests.
    """
    m = len(p_values)
    adjusted = [1.0] * m
    running = 0.0
    for place, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - place) * float(p_values[index])))
        adjusted[index] = running
    return adjusted


def versus_leader(
    leader: Sequence[float],
    others: Mapping[str, Sequence[float]],
    *,
    test_train_ratio: float,
    maximize: bool,
    alpha: float = ALPHA,
) -> dict[str, PairedTest]:
    """Each model of `others` against the leader: a two-sided Nadeau-Bengio test per model,
    Holm-adjusted for the family of models compared; `significant` marks a model worse than the
    leader at family-wise level `alpha` (its `p_value` is the adjusted one).

    The leader is the board's best mean, chosen after seeing the scores: one-sided tests against
    it reject far too often (about half of all boards of twelve equally good models show a false
    "worse"), and Holm alone on one-sided p-values still about 6-9%; two-sided and Holm-adjusted,
    about 4% (`tests/unit_tests/test_stats.py` simulates it).
    """
    tests = {
        name: nadeau_bengio(
            leader,
            scores,
            test_train_ratio=test_train_ratio,
            maximize=maximize,
            alpha=alpha,
            two_sided=True,
        )
        for name, scores in others.items()
    }
    adjusted = holm([test.p_value for test in tests.values()])
    return {
        name: PairedTest(
            mean_diff=test.mean_diff,
            t=test.t,
            p_value=p,
            dof=test.dof,
            significant=p < alpha and test.mean_diff > 0,
        )
        for (name, test), p in zip(tests.items(), adjusted, strict=True)
    }


def normalized_score(score: float, baseline: float | None, best: float) -> float | None:
    """(score - baseline) / (best - baseline): the constant baseline is 0 and the best model 1.

    The sign works for both directions because numerator and denominator share the orientation.
    Returns None without a baseline, and 1.0 when the best model is no better than the baseline
    (then every model equal to it is "best", and nothing can be normalized against it).
    """
    if baseline is None:
        return None
    span = best - baseline
    if span == 0:
        return 1.0 if score == best else 0.0
    return (score - baseline) / span


def ranks(scores: Mapping[str, float | None], *, maximize: bool) -> dict[str, float]:
    """Ranks 1..n (1 = best, ties share the average rank); models without a score share the last
    ranks, as the AutoML Benchmark ranks a failed framework below every one that ran."""
    from scipy.stats import rankdata

    names = list(scores)
    worst = -math.inf if maximize else math.inf
    values = np.array([worst if scores[n] is None else scores[n] for n in names], dtype=float)
    oriented = -values if maximize else values
    return dict(zip(names, (float(r) for r in rankdata(oriented, method="average")), strict=True))


def pairwise_wins(
    tasks: Sequence[Mapping[str, float | None]], models: Sequence[str], *, maximize: Sequence[bool]
) -> np.ndarray:
    """wins[i, j]: how often model i beat model j, over tasks (a tie counts half to each).

    A model present on a task without a score (failed, timed out) loses to every model with a
    score there; two such models tie. A model absent from a task is not compared on it.
    """
    index = {m: i for i, m in enumerate(models)}
    wins = np.zeros((len(models), len(models)))
    for scores, up in zip(tasks, maximize, strict=True):
        present = [m for m in scores if m in index]
        for x in range(len(present)):
            for y in range(x + 1, len(present)):
                a, b = present[x], present[y]
                sa, sb = scores[a], scores[b]
                i, j = index[a], index[b]
                if sa is None and sb is None or sa == sb:
                    wins[i, j] += 0.5
                    wins[j, i] += 0.5
                elif sb is None or (sa is not None and (sa > sb if up else sa < sb)):
                    wins[i, j] += 1
                else:
                    wins[j, i] += 1
    return wins


def _fit_bradley_terry(wins: np.ndarray, prior: float) -> np.ndarray:
    """Bradley-Terry strengths by the MM algorithm (Hunter 2004), log-scale, mean zero.

    `prior` adds that many virtual wins in each direction to every pair, which keeps strengths
    finite when a model won (or lost) every comparison.
    """
    n = len(wins)
    w = wins + prior * (1 - np.eye(n))
    games = w + w.T
    strength = np.ones(n)
    for _ in range(1000):
        denom = (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        updated = w.sum(axis=1) / np.where(denom > 0, denom, 1)
        updated = np.where(updated > 0, updated, 1e-12)
        updated /= np.exp(np.log(updated).mean())
        if np.max(np.abs(np.log(updated) - np.log(strength))) < 1e-10:
            strength = updated
            break
        strength = updated
    logs = np.log(strength)
    return logs - logs.mean()


@dataclass(frozen=True)
class Rating:
    """A Bradley-Terry rating on the Elo scale with its bootstrap interval."""

    model: str
    elo: float
    low: float
    high: float


def bradley_terry(
    tasks: Sequence[Mapping[str, float | None]],
    *,
    maximize: Sequence[bool],
    bootstrap: int = 200,
    seed: int = 0,
    prior: float = 0.5,
    confidence: float = 0.95,
) -> list[Rating]:
    """Elo-scale Bradley-Terry ratings from pairwise per-task comparisons, best first.

    Elo = 1000 + 400 * log10(strength / geometric mean strength), so the average model is 1000
    and a 400-point gap means 10:1 odds of winning a task. The interval is the percentile
    bootstrap over tasks (tasks resampled with replacement, `bootstrap` times, seeded).

    Args:
        tasks: Per task, model -> oriented score (None: ran but has no score).
        maximize: Per task, whether higher scores are better.
        bootstrap: Bootstrap replicates.
        seed: Seed of the bootstrap.
        prior: Virtual wins each way per pair (see `_fit_bradley_terry`).
        confidence: Width of the interval.
    """
    models = sorted({m for scores in tasks for m in scores})
    if not models:
        return []
    scale = 400 / math.log(10)
    wins = pairwise_wins(tasks, models, maximize=maximize)
    point = 1000 + scale * _fit_bradley_terry(wins, prior)
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(bootstrap):
        pick = rng.integers(0, len(tasks), len(tasks))
        chosen = [tasks[i] for i in pick]
        ups = [maximize[i] for i in pick]
        wins = pairwise_wins(chosen, models, maximize=ups)
        samples.append(1000 + scale * _fit_bradley_terry(wins, prior))
    low_q, high_q = (1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100
    sample = np.array(samples) if samples else point[None, :]
    low, high = np.percentile(sample, low_q, axis=0), np.percentile(sample, high_q, axis=0)
    ratings = [
        Rating(m, float(point[i]), float(low[i]), float(high[i])) for i, m in enumerate(models)
    ]
    return sorted(ratings, key=lambda r: (-r.elo, r.model))


@dataclass(frozen=True)
class Friedman:
    """The Friedman test across tasks and the Nemenyi critical difference of mean ranks."""

    mean_ranks: dict[str, float]
    statistic: float | None
    p_value: float | None
    critical_difference: float | None
    n_tasks: int


def nemenyi_q(k: int, alpha: float = ALPHA) -> float:
    """The Nemenyi q_alpha for k models (Demšar's table at 0.05, else scipy's studentized range)."""
    if alpha == ALPHA and k in _NEMENYI_Q05:
        return _NEMENYI_Q05[k]
    from scipy.stats import studentized_range

    return float(studentized_range.ppf(1 - alpha, k, 1e6)) / math.sqrt(2)


def friedman(rank_table: Mapping[str, Mapping[str, float]], alpha: float = ALPHA) -> Friedman:
    """Friedman test and Nemenyi critical difference from ranks per task.

    Args:
        rank_table: task -> model -> rank (every task ranks the same models; see `ranks`).
        alpha: Significance level of the critical difference.

    The critical difference is q_alpha * sqrt(k (k + 1) / (6 N)) for k models and N tasks: two
    models whose mean ranks differ by less are not significantly different. With fewer than two
    tasks or two models there is nothing to test, and the statistic is None.
    """
    tasks = list(rank_table)
    models = sorted({m for r in rank_table.values() for m in r})
    n, k = len(tasks), len(models)
    matrix = np.array([[rank_table[t][m] for m in models] for t in tasks]).reshape(n, k)
    mean_ranks = {m: float(matrix[:, i].mean()) for i, m in enumerate(models)} if n else {}
    if n < 2 or k < 2:
        return Friedman(mean_ranks, None, None, None, n)
    from scipy import stats

    stat = 12 * n / (k * (k + 1)) * float(np.sum((matrix.mean(axis=0) - (k + 1) / 2) ** 2))
    # Tied ranks (failed models share the last ranks) shrink the ranks' variance: divide by
    # 1 - sum(t^3 - t) / (n k (k^2 - 1)) over every group of t tied models in a task, as
    # scipy.stats.friedmanchisquare does.
    ties = sum(
        float(count**3 - count) for row in matrix for count in np.unique(row, return_counts=True)[1]
    )
    correction = 1.0 - ties / (n * k * (k * k - 1))
    if correction > 0:
        stat /= correction
    p_value = float(stats.chi2.sf(stat, k - 1))
    cd = nemenyi_q(k, alpha) * math.sqrt(k * (k + 1) / (6 * n))
    return Friedman(mean_ranks, stat, p_value, cd, n)
