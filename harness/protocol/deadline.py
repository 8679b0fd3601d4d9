"""When a fit should stop: the soft deadline of the job running here, shared among its folds.

A study's worker kills a job at its hard limit (the end of its share of a `--budget`, or
`--trial-timeout`). A little before that, the job gets a **fit deadline**: a `time.monotonic()`
instant installed in a context variable while the job runs (CLOCK_MONOTONIC is system-wide on
Linux, so the study process's instants hold in the forked worker). An iterative learner reads it
with `fit_deadline()` (plugins: `harness.contracts.reporting.fit_deadline`), stops adding trees or
epochs when it passes, keeps the best iteration it has and says so in its `fit_info_`
(`CUT_SHORT`: 1.0). Cross-validation gives each fold its share of the time left, so a fast fold
leaves time to the later ones. Learners that ignore it are killed at the hard limit, as before.

No Optuna, no MLflow, nothing heavy: the worker, cross-validation and model plugins all read it.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

__all__ = [
    "CUT_SHORT",
    "MARGIN_SHARE",
    "MIN_MARGIN",
    "fit_deadline",
    "fitting_until",
    "fold_deadline",
    "soft_deadline",
]

# The `fit_info_` key (and MLflow metric) of a fit stopped at its deadline: 1.0 cut short, 0.0 not.
CUT_SHORT = "cut_short"
# The fit deadline comes this long before the hard kill: time to predict the last fold (or the
# holdout), finish the round in progress and send the results back.
MIN_MARGIN = 0.5  # seconds
MARGIN_SHARE = 0.05  # of the job's time

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "harness_fit_deadline", default=None
)


def fit_deadline() -> float | None:
    """The `time.monotonic()` instant by which the fit running here should stop, or None."""
    return _DEADLINE.get()


@contextlib.contextmanager
def fitting_until(deadline: float | None) -> Iterator[None]:
    """Install `deadline` (None: no deadline) as the fit deadline of the code inside."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def soft_deadline(hard: float | None, start: float) -> float | None:
    """The fit deadline of a job started at `start` and killed at `hard` (None: never): a margin
    of `MARGIN_SHARE` of its time, at least `MIN_MARGIN` seconds, before the kill."""
    if hard is None:
        return None
    return hard - max(MIN_MARGIN, MARGIN_SHARE * (hard - start))


def fold_deadline(
    deadline: float | None, folds_left: int, reserve: float = 0.0, now: float | None = None
) -> float | None:
    """The fit deadline of the next of `folds_left` folds: an equal share of the time left to
    `deadline`, less `reserve` seconds (its prediction, as long as the last fold's took).

    Fold i of K starting at t stops fitting at t + (D - t) / (K - i) - reserve, so a fold that
    ends early leaves its time to the later ones.
    """
    if deadline is None:
        return None
    now = time.monotonic() if now is None else now
    return now + (deadline - now) / max(folds_left, 1) - reserve
