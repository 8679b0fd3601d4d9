"""How a whole-run budget (`harness run TASK --budget 10m`) is shared among the studies.

The policy, in rungs (successive halving over studies, with each model's cost per trial):

1. Rung 0: every eligible model runs its default configuration (trial 0): baselines first, then
   classical models, then neural ones (usually the slowest); within a family the learners that
   usually lead a tabular board and scale to many rows go first (`DEFAULT_ORDER`: the boosters,
   then the linear model and the forests; the kernel methods last), the others in the order
   asked for.
   Rung 0 as a whole should end by half of the tuning time (all of it when the studies fill at
   most two turns, `--workers` at a time), so the models that come last (the slow neural ones)
   cannot take the time the promising models would be tuned in. Within that half, a default
   trial may use at most twice its fair share of the tuning time left (divided among the turns
   of the studies not yet begun), so one slow default cannot starve the others. Whatever is left
   of the half, every default may run for its equal share of the whole tuning time (the tuning
   time divided by the turns), so none is cut before it had that. A resumed study that already
   has trials keeps them.
2. After each rung the studies are ranked by their best CV score so far. Rung r (r >= 1) keeps the
   best half of the previous rung (at least one study per worker) and gives each 2**r more trials;
   baselines are references, not contenders: they run their defaults only.
   A study leaves the race when it has no completed trial, reaches `--trials`, or its typical trial
   would not end before the tuning deadline.
3. No trial starts when the study's typical trial would not end by the tuning deadline, and a trial
   still running at the deadline is killed and recorded as `timeout` (the hard stop).
4. The tuning deadline is the budget minus a reserve for refitting every study on the whole
   training part and scoring the holdout: at first 10% of the budget, then, once trials have run,
   the estimated refit times (a fold's fit time scaled to the whole training part, plus a margin)
   shared among the workers, plus the ensemble's selection (a score of every member in every
   round, timed once on the training part), within 5% to 50% of the budget.
5. Iterative learners (the boosters, the networks) get a fit deadline a margin before each kill
   (`harness.protocol.deadline`): a default that would not finish in its share is cut short and
   ranked with the rounds it had, and only learners that cannot stop are killed. A refit's fit
   deadline is the time the reserve planned for it (`refit_until`), so the refit of a trial cut
   short does not take the other refits' time. As studies rank, the reserve grows: every default
   of rung 0 ends by the tuning deadline of the moment it begins.

Every study keeps its own honest row: it is refitted and scored on the holdout however few trials it
got. Each study's run records the seconds and trials it was given (`tuning_seconds`, `trials_run`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.errors import UsageError

__all__ = [
    "BUDGET_KILL",
    "DEFAULT_ORDER",
    "DEFAULT_SHARE",
    "ENSEMBLE_PICKS_PER_MEMBER",
    "ENSEMBLE_SECONDS",
    "FAMILY_ORDER",
    "FIRST_RESERVE",
    "FIRST_RUNG_SHARE",
    "MAX_RESERVE",
    "MIN_RESERVE",
    "MODEL_LOG_SECONDS",
    "RANKED_BEFORE_BOUND",
    "REFIT_MARGIN",
    "REFIT_OVERHEAD_SECONDS",
    "FIT_SECONDS_PER_MILLION_CELLS",
    "MIN_FOLDS",
    "FirstRung",
    "Standing",
    "cut_by_budget",
    "first_rung",
    "next_rung",
    "parse_duration",
    "planned_folds",
    "refit_until",
    "reserve_seconds",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
FIRST_RESERVE = 0.10
MIN_RESERVE, MAX_RESERVE = 0.05, 0.50
REFIT_MARGIN = 1.25
REFIT_OVERHEAD_SECONDS = 1.0
ENSEMBLE_PICKS_PER_MEMBER = 2  # the picks an ensemble's selection is planned for, per member
DEFAULT_SHARE = 2.0  # a rung-0 default trial may take this many fair shares of the time left
FIRST_RUNG_SHARE = 0.5  # of the tuning time, for rung 0 when it takes more than two turns
RANKED_BEFORE_BOUND = 2  # models beyond the baselines with a score before rung 0's end applies
BUDGET_KILL = "the run's budget"  # in the error of a trial the budget cut (harness.worker)
FAMILY_ORDER = ("baseline", "classical", "neural")
# Rung 0's order within a family: the boosters lead most tabular boards of the catalog and keep
# what they learned when their share ends; the kernel methods (svm, knn) cost rows squared.
# On flights at 60 s, in name order, catboost (first) to svm each got 2-7 s and none finished.
DEFAULT_ORDER = (
    "lightgbm",
    "xgboost",
    "hist_gradient_boosting",
    "catboost",
    "linear",
    "random_forest",
    "extra_trees",
    "elastic_net",
    "naive_bayes",
    "knn",
    "svm",
    "keras_mlp",
    "keras_resnet",
)
ENSEMBLE_SECONDS = 3.0  # reading the members' predictions back, logging the blend (scores: timed)
# Saving a study's final model in its worker and logging it to MLflow (`--log-models`, the
# default): measured 0.2-1.5 s for most bags and refits (docs/PREDICT.md "Cost"); kept
# in the reserve with the study's final model.
MODEL_LOG_SECONDS = 1.5
# A booster's default fit, per million cells (rows x features) of a fold's training rows, on
# 2 cores: LightGBM and XGBoost fitted flights' 175,000 x 7 in 2.4-3 s (docs/BENCHMARKS.md
# "Scale"); what `planned_folds` sizes the validation with.
FIT_SECONDS_PER_MILLION_CELLS = 2.5
MIN_FOLDS = 2  # folds a budget scores at least: the paired test and the cross-fitted ensemble


def parse_duration(text: str | float, flag: str = "--budget") -> float:
    """Seconds in `text`: a number of seconds, or a number with s, m or h (e.g. 90, 10m, 1.5h).

    Raises:
        UsageError: The text is not such a duration, or it is not finite and positive.
    """
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match:
            raise UsageError(
                f"{flag} must be a duration such as 90, 90s, 10m or 1.5h; got {text!r}."
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not seconds > 0:
        raise UsageError(f"{flag} must be more than 0 seconds; got {text!r}.")
    if not math.isfinite(seconds):
        raise UsageError(f"{flag} must be a finite number of seconds; got {text!r}.")
    return seconds


def planned_folds(
    rows: int, features: int, folds: int, budget: float, models: int, workers: int = 1
) -> int:
    """Folds of a K-fold split a run's budget can score: K, or fewer when K booster defaults
    would not fit a model's share of the tuning time (at least `MIN_FOLDS`).

    A default's share is the tuning time (the budget less its first reserve) divided among the
    turns of the `models` (those beyond the baselines, `workers` at a time); a fit's cost is
    `FIT_SECONDS_PER_MILLION_CELLS` per million cells of a fold's training rows, (K-1)/K of the
    training part's `rows`. Scoring fewer folds of the same split (rather than a row sample)
    keeps every fit on the rows it would have had, which is where large data helps.
    """
    if folds <= MIN_FOLDS or models < 1:
        return folds
    share = budget * (1 - FIRST_RESERVE) / max(1, math.ceil(models / max(workers, 1)))
    fit = FIT_SECONDS_PER_MILLION_CELLS * rows * (folds - 1) / folds * max(features, 1) / 1e6
    fits = int(share // fit) if fit > 0 else folds
    return max(MIN_FOLDS, min(folds, fits))


@dataclass(frozen=True)
class Standing:
    """Where a study stands between rungs.

    Attributes:
        name: The model's name.
        best: Best CV score so far (None: no completed trial).
        done: Trials the study has done in total.
        trial_seconds: Typical (median) wall time of its trials in this run (0 if unknown).
        refit_seconds: Estimated time to refit its best configuration on the training part.
        failed: Whether the study failed (its model code raised outside a trial).
        baseline: Whether the model is a baseline (a reference: rung 0 only, never tuned).
    """

    name: str
    best: float | None
    done: int
    trial_seconds: float = 0.0
    refit_seconds: float = 0.0
    failed: bool = False
    baseline: bool = False


@dataclass(frozen=True)
class FirstRung:
    """The time of rung 0 (every model's defaults), planned when it begins.

    Attributes:
        end: When rung 0 should be over (a slow default may go past it by its `fair` seconds).
        fair: Seconds every default may run, however late its turn: its equal share of the
            tuning time.
    """

    end: float
    fair: float

    @classmethod
    def plan(cls, start: float, deadline: float, studies: int, workers: int) -> FirstRung:
        """Rung 0 for `studies` studies, `workers` at a time, from `start` to the tuning
        `deadline` (clock seconds): half the tuning time, all of it for at most two turns."""
        turns = max(1, math.ceil(studies / max(workers, 1)))
        tuning = max(0.0, deadline - start)
        share = 1.0 if turns <= 2 else FIRST_RUNG_SHARE
        return cls(end=start + share * tuning, fair=tuning / turns)

    def until(
        self, now: float, waiting: int, workers: int, deadline: float, ranked: int = 0
    ) -> float:
        """When a default trial beginning at `now` must end, with `waiting` studies yet to begin
        and `ranked` studies other than the baselines already holding a score.

        At most twice its fair share of the tuning time left (shared among the turns of the
        studies not yet begun, this one included), but never less than `fair` seconds, and
        never past the tuning `deadline`. Once `RANKED_BEFORE_BOUND` models beyond the baselines
        have a score, also not past rung 0's `end`: the time it saves goes to models that ranked.
        Before that, nothing has ranked to receive the time, and a default ending at the half
        would leave the rest of the run to the baselines.
        """
        turns = max(1, math.ceil((waiting + 1) / max(workers, 1)))
        bounded = now + DEFAULT_SHARE * (deadline - now) / turns
        if ranked >= RANKED_BEFORE_BOUND:
            bounded = min(self.end, bounded)
        return min(deadline, max(bounded, now + self.fair))


def first_rung(studies: Sequence[object]) -> dict[str, int]:
    """Rung 0's grants (model name -> 0 more trials: its defaults): cheapest families first,
    and within a family `DEFAULT_ORDER`, then the order asked for."""

    def rank(study: object) -> tuple[int, int]:
        family, name = study.model.family, study.model.name  # type: ignore[attr-defined]
        return (
            FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER),
            DEFAULT_ORDER.index(name) if name in DEFAULT_ORDER else len(DEFAULT_ORDER),
        )

    ordered = sorted(studies, key=rank)  # stable: the order asked for among the others
    return {study.model.name: 0 for study in ordered}  # type: ignore[attr-defined]


def cut_by_budget(trial: object) -> bool:
    """Whether a finished trial was killed by the budget (not by a model error or other limit)."""
    from harness.tuning.attrs import ERROR_ATTR

    return BUDGET_KILL in str(trial.user_attrs.get(ERROR_ATTR, ""))  # type: ignore[attr-defined]


def reserve_seconds(
    budget: float,
    standings: Sequence[Standing],
    workers: int,
    *,
    ensemble: bool = False,
    score_seconds: float = 0.0,
    selections: int = 1,
) -> float:
    """Seconds kept at the end of the budget for refits, holdout scoring and the ensemble.

    Args:
        budget: The run's budget in seconds.
        standings: Every study so far (those with a score will be refitted and ensembled).
        workers: Studies refitted at once.
        ensemble: Whether the run ends with the ensemble of its studies.
        score_seconds: Seconds one score of out-of-fold predictions takes on the training part
            (`harness.protocol.ensemble.score_seconds`): the selection scores every member in
            every round.
        selections: Greedy selections the ensemble makes: one per fold for its cross-fitted
            CV, and one on all rows for its weights.
    """
    known = [s.refit_seconds for s in standings if s.best is not None]
    if not known:
        return FIRST_RESERVE * budget
    needed = sum(s * REFIT_MARGIN + REFIT_OVERHEAD_SECONDS for s in known) / max(workers, 1)
    if ensemble and len(known) > 1:
        from harness.protocol.ensemble import ROUNDS

        # A selection stops at its first plateau: a few picks per member at most, in practice.
        picks = min(ROUNDS, ENSEMBLE_PICKS_PER_MEMBER * len(known)) + 1
        scores = picks * len(known) * selections
        needed += ENSEMBLE_SECONDS + REFIT_MARGIN * scores * score_seconds
    return min(max(needed, MIN_RESERVE * budget), MAX_RESERVE * budget)


def refit_until(now: float, refit_seconds: float) -> float:
    """The fit deadline of a refit beginning at `now` and estimated at `refit_seconds`: the time
    the reserve planned for it (`REFIT_MARGIN` times the estimate, plus
    `REFIT_OVERHEAD_SECONDS`).

    Not the end of the budget: a run already late (a refit that could not stop took longer than
    planned) would cut the later refits to one round, and their holdout would score a model
    unlike the one their CV scored (measured on hotel_rates at 60 s: XGBoost's holdout RMSE 98,
    the dummy's 102).
    """
    return now + refit_seconds * REFIT_MARGIN + REFIT_OVERHEAD_SECONDS


def next_rung(
    standings: Sequence[Standing],
    rung: int,
    *,
    direction: str,
    workers: int,
    max_trials: int,
    seconds_left: float,
) -> dict[str, int]:
    """The grants of rung `rung` (>= 1): model name -> more trials, best studies first.

    Args:
        standings: Every study after the previous rung.
        rung: The rung to plan (rung 0, the defaults, needs no plan).
        direction: "maximize" or "minimize" (the primary metric's).
        workers: Studies that run at once; at least this many stay in the race when they can.
        max_trials: A study's cap on trials in total (`--trials`).
        seconds_left: Seconds until the tuning deadline.
    """
    alive = [
        s
        for s in standings
        if not s.failed
        and not s.baseline
        and s.best is not None
        and s.done < max_trials
        and s.trial_seconds < seconds_left
    ]
    sign = -1.0 if direction == "maximize" else 1.0
    alive.sort(key=lambda s: (sign * s.best, s.trial_seconds, s.name))
    keep = max(min(workers, len(alive)), math.ceil(len(standings) / 2**rung))
    chosen = alive[:keep]
    more = 2**rung
    return {s.name: min(more, max_trials - s.done) for s in chosen}
