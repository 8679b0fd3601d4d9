"""Per-fold median pruning that reads the study's completed trials once per trial."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.tuning.optuna_internals import trial_id

__all__ = ["FoldMedianPruner", "make_pruner"]


def make_pruner() -> Any:
    """Median pruning after each fold, once five trials have finished."""
    return FoldMedianPruner(n_startup_trials=5, n_warmup_steps=1)


class FoldMedianPruner:
    """Optuna's `MedianPruner` rule, reading the study's completed trials once per trial.

    A trial is pruned at a step when its best score so far is worse than the median of the
    completed trials' scores at that step (after `n_startup_trials` completed trials, from step
    `n_warmup_steps` on), the rule of `optuna.pruners.MedianPruner`. Optuna's pruner re-reads
    every completed trial from the storage at every report: several milliseconds each on SQLite,
    after each fold and after each epoch of a network. This one reads them at the trial's first
    report and reuses them for its later reports; a trial another process completes meanwhile
    is seen from the next trial on. Optuna calls a pruner only through `prune` (its
    `BasePruner` is not subclassed, so importing this module does not import Optuna).
    """

    def __init__(self, n_startup_trials: int = 5, n_warmup_steps: int = 0) -> None:
        self.n_startup_trials, self.n_warmup_steps = n_startup_trials, n_warmup_steps
        self._current: int | None = None  # the trial whose completed-trials read is kept
        self._completed: list[Any] = []

    def prune(self, study: Any, trial: Any) -> bool:
        from optuna.study import StudyDirection
        from optuna.trial import TrialState

        if trial_id(trial) != self._current:
            self._current = trial_id(trial)
            self._completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        step = trial.last_step
        if (
            not self._completed
            or len(self._completed) < self.n_startup_trials
            or step is None
            or step < self.n_warmup_steps
        ):
            return False
        maximize = study.direction == StudyDirection.MAXIMIZE
        own = np.asarray(list(trial.intermediate_values.values()), dtype=float)
        if np.all(np.isnan(own)):
            return True
        best = np.nanmax(own) if maximize else np.nanmin(own)
        others = np.asarray(
            [t.intermediate_values[step] for t in self._completed if step in t.intermediate_values],
            dtype=float,
        )
        if not len(others) or np.all(np.isnan(others)):
            return False
        median = float(np.nanmedian(others))
        return bool(best < median if maximize else best > median)
