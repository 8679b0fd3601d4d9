"""The Optuna user attributes harness writes, and how a trial's results are read back."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CREATOR_ATTR",
    "DATA_FINGERPRINT_ATTR",
    "DEFAULT_ATTR",
    "ERROR_ATTR",
    "FIT_INFO_ATTR",
    "FOLDS_ATTR",
    "FOLDS_FINGERPRINT_ATTR",
    "HOST_ATTR",
    "PID_ATTR",
    "PORTFOLIO_ATTR",
    "QUEUED_ATTR",
    "RESULT_ATTR",
    "SEED_ATTR",
    "SLOTTED_ATTR",
    "SLOT_ATTR",
    "STATUS_ATTR",
    "SURPLUS_ATTR",
    "UID_ATTR",
    "is_done",
    "results_of",
]

DEFAULT_ATTR = "harness.default"
SLOT_ATTR = "harness.slot"  # the queue slot a trial fills (see ensure_slots)
PORTFOLIO_ATTR = "harness.portfolio"  # n: the trial is the portfolio's n-th configuration
SURPLUS_ATTR = "harness.surplus"  # a trial beyond the queue, or a second trial for a filled slot
SLOTTED_ATTR = "harness.slotted"  # study attribute: its trials come from numbered slots
HOST_ATTR, PID_ATTR = "harness.host", "harness.pid"  # the process running a trial
CREATOR_ATTR = "harness.creator"  # study attribute: host:pid of the process that created it
QUEUED_ATTR = "harness.queued"  # study attribute: its first slots are queued
ERROR_ATTR = "error"
STATUS_ATTR = "harness.status"  # timeout / oom for trials killed at a limit
FIT_INFO_ATTR = "fit_info"
# A completed trial's results, in one user attribute (one storage write instead of one per key):
# fold_<metric> (per-fold scores), fit_seconds and predict_seconds (per fold), FIT_INFO_ATTR.
# Trials of studies made before it hold the same keys as separate attributes (`results_of`).
RESULT_ATTR = "harness.result"
# Study attributes: the study's identity and what it was tuned on (`studies.open_study` checks)
UID_ATTR = "harness.uid"  # written last: a process loading a new study waits for it
FOLDS_FINGERPRINT_ATTR = "harness.folds_fingerprint"
DATA_FINGERPRINT_ATTR = "harness.data_fingerprint"
SEED_ATTR = "harness.seed"
FOLDS_ATTR = "harness.folds"


def is_done(trial: Any) -> bool:
    """Whether a trial counts towards the budget: complete, pruned, or failed by the model."""
    from optuna.trial import TrialState

    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and ERROR_ATTR in trial.user_attrs


def results_of(trial: Any) -> dict[str, Any]:
    """A trial's user attributes with its results (`RESULT_ATTR`) among them, as separate keys:
    fold_<metric>, fit_seconds, predict_seconds, FIT_INFO_ATTR. Trials from before the results
    were one attribute hold those keys themselves, and are read the same way."""
    attrs = dict(trial.user_attrs)
    attrs.update(attrs.pop(RESULT_ATTR, {}))
    return attrs
