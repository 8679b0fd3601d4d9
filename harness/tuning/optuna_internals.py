"""The two private Optuna attributes harness relies on, in one place.

Optuna exposes no public trial id or storage of a study, and the shared queue of slots needs
both: to order trials by creation across processes (`trial_id`), and to take a queued trial off
the queue atomically (`storage_of`). Optuna 4 and 5 keep them as `_trial_id` and `_storage`;
`tests/unit_tests/test_optuna_internals.py` checks them against Optuna's public storage API, so an
upgrade that renames them fails the tests, not a user's run.
"""

from __future__ import annotations

from typing import Any

__all__ = ["storage_of", "trial_id"]


def trial_id(trial: Any) -> int:
    """The storage-wide id of a trial (`optuna.Trial` or `FrozenTrial`): unique across the
    storage's studies and increasing in creation order, unlike `number` (per study)."""
    return trial._trial_id


def storage_of(study: Any) -> Any:
    """The `optuna.storages.BaseStorage` a study reads and writes."""
    return study._storage
