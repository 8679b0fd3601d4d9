"""Numbered trial slots in Optuna's queue: several processes share a study, counts stay exact."""

from __future__ import annotations

import os
import socket
import time
import warnings
import weakref
from collections.abc import Sequence
from typing import Any

from harness.tuning.attrs import (
    CREATOR_ATTR,
    DEFAULT_ATTR,
    HOST_ATTR,
    PID_ATTR,
    PORTFOLIO_ATTR,
    QUEUED_ATTR,
    SLOT_ATTR,
    SLOTTED_ATTR,
    SURPLUS_ATTR,
    is_done,
)
from harness.tuning.optuna_internals import storage_of, trial_id
from harness.tuning.studies import done_trials, process_id

__all__ = [
    "CREATOR_GRACE",
    "SurplusTrial",
    "await_slots",
    "claim_slot",
    "ensure_defaults_queued",
    "ensure_slots",
    "reap_dead_trials",
    "settled_attr",
]

CREATOR_GRACE = 10.0  # seconds a process joining a new study waits for its creator's slots


class SurplusTrial(Exception):
    """Raised at the start (or end) of a trial that no slot is left for; the trial is FAIL
    without an error, so it never counts and is never logged."""


def ensure_slots(
    study: Any, target: int, defaults: dict, portfolio: Sequence[dict] = ()
) -> None:
    """Make the study's queue hold one trial for each of its `target` numbered slots.

    The queue is Optuna's own: WAITING trials made by `enqueue_trial`, which `study.ask` pops
    atomically (one process wins each). Slot 0 carries the model's defaults, slots 1..n the
    `portfolio`'s configurations (`harness.tuning.portfolio`); the others are sampled when
    popped. A slot is filled while a trial for it waits, runs, or is done; the
    trials of dead processes on this machine are failed first, so their slots are queued again
    at once (those of other machines after Optuna's heartbeat grace period). Any process may
    call this at any time: a slot queued twice by two processes at the same moment is run once
    (`claim_slot`) and counted once (`done_trials`).
    """
    from optuna.trial import TrialState

    reap_dead_trials(study)
    trials = study.get_trials(deepcopy=False)
    attrs = study.user_attrs
    creator = attrs.get(CREATOR_ATTR)
    if QUEUED_ATTR not in attrs and creator and creator != process_id():
        # Joined a study another process has just created: let it queue the slots, instead of
        # queueing them too (duplicates would only be taken off the queue again).
        waited = time.monotonic()
        while QUEUED_ATTR not in study.user_attrs and time.monotonic() - waited < CREATOR_GRACE:
            time.sleep(0.2)
        trials = study.get_trials(deepcopy=False)
    legacy = [t for t in trials if SLOT_ATTR not in t.user_attrs and is_done(t)]
    filled = {
        t.user_attrs[SLOT_ATTR]
        for t in trials
        if SLOT_ATTR in t.user_attrs
        and (is_done(t) or t.state in (TrialState.WAITING, TrialState.RUNNING))
    }
    defaults_done = any(t.user_attrs.get(DEFAULT_ATTR) for t in legacy)
    if not study.user_attrs.get(SLOTTED_ATTR):
        study.set_user_attr(SLOTTED_ATTR, True)
    for slot in range(target - len(legacy)):
        if slot in filled:
            continue
        if slot == 0 and not defaults_done:
            study.enqueue_trial(dict(defaults), user_attrs={SLOT_ATTR: 0, DEFAULT_ATTR: True})
        elif 0 < slot <= len(portfolio):
            study.enqueue_trial(
                dict(portfolio[slot - 1]), user_attrs={SLOT_ATTR: slot, PORTFOLIO_ATTR: slot}
            )
        else:
            study.enqueue_trial({}, user_attrs={SLOT_ATTR: slot})
    if QUEUED_ATTR not in study.user_attrs:
        study.set_user_attr(QUEUED_ATTR, True)


def ensure_defaults_queued(study: Any, defaults: dict) -> None:
    """Queue the model's defaults as the next trial unless they already ran or wait."""
    from optuna.trial import TrialState

    for trial in study.get_trials(deepcopy=False):
        if trial.user_attrs.get(DEFAULT_ATTR) and (
            is_done(trial) or trial.state == TrialState.WAITING
        ):
            return
    study.enqueue_trial(dict(defaults), user_attrs={DEFAULT_ATTR: True})


_SETTLED: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def settled_attr(study: Any, key: str) -> Any:
    """A study attribute that never changes once set (`SLOTTED_ATTR`), or None.

    `study.user_attrs` is a query of the storage; these are asked at every trial. Once a value is
    seen it is kept for the life of this `study` object; until then each call asks the storage.
    """
    known = _SETTLED.setdefault(study, {})
    if key not in known:
        attrs = study.user_attrs
        if key not in attrs:
            return None
        known[key] = attrs[key]
    return known[key]


def claim_slot(trial: Any, *, finished: bool = False) -> None:
    """Check that a running trial may fill its slot; mark it surplus and raise if not.

    Called when a trial starts (it also records the host and pid running it) and again when its
    folds are done. The trial may not fill its slot when it was created beyond the queue (no
    slot), when another trial of its slot is done, or when one with a lower id is running.
    Another WAITING trial of the same slot (queued twice) is taken off the queue atomically.
    Studies without slots (made by `optimize` directly) are not checked.

    Raises:
        SurplusTrial: The trial is surplus; it ends FAIL without an error and never counts.
    """
    from optuna.trial import TrialState

    study = trial.study
    if not settled_attr(study, SLOTTED_ATTR):
        return
    storage, own_id = storage_of(study), trial_id(trial)
    slot = trial.user_attrs.get(SLOT_ATTR)
    if not finished:
        trial.set_user_attr(HOST_ATTR, socket.gethostname())
        trial.set_user_attr(PID_ATTR, os.getpid())
    surplus = slot is None
    others = [] if surplus else study.get_trials(deepcopy=False)
    for other in others:
        if trial_id(other) == own_id or other.user_attrs.get(SLOT_ATTR) != slot:
            continue
        if other.state == TrialState.WAITING:
            if _take_off_queue(storage, trial_id(other)):
                continue
            other = storage.get_trial(trial_id(other))
        if is_done(other) or (other.state == TrialState.RUNNING and trial_id(other) < own_id):
            surplus = True
            break
    if surplus:
        reason = "no slot" if slot is None else "slot filled" + (" after cv" if finished else "")
        trial.set_user_attr(SURPLUS_ATTR, reason)
        if slot is None:  # the queue is empty: this process stops asking for trials
            study.stop()
        raise SurplusTrial(
            f"trial {trial.number} is surplus: "
            + ("no queued slot was left" if slot is None else f"slot {slot} is filled")
        )


def _take_off_queue(storage: Any, queued_id: int) -> bool:
    """Pop a WAITING trial (atomic: one process wins) and fail it as surplus."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    try:
        if not storage.set_trial_state_values(queued_id, state=TrialState.RUNNING):
            return False
        storage.set_trial_user_attr(queued_id, SURPLUS_ATTR, "queued twice")
        storage.set_trial_state_values(queued_id, state=TrialState.FAIL)
    except UpdateFinishedTrialError:
        return False
    return True


def reap_dead_trials(study: Any) -> int:
    """Fail the RUNNING trials of dead processes: this machine's at once (by pid), other
    machines' after Optuna's heartbeat grace period. Returns how many of this machine's."""
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    from harness.store.orphans import process_alive

    host, reaped = socket.gethostname(), 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid = trial.user_attrs.get(PID_ATTR)
        if trial.user_attrs.get(HOST_ATTR) != host or not isinstance(pid, int):
            continue
        if pid == os.getpid() or process_alive(pid):
            continue
        try:
            storage_of(study).set_trial_state_values(trial_id(trial), state=TrialState.FAIL)
            reaped += 1
        except UpdateFinishedTrialError:
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    return reaped


def await_slots(
    study: Any,
    target: int,
    defaults: dict,
    deadline: float | None,
    poll: float = 1.0,
    portfolio: Sequence[dict] = (),
) -> bool:
    """Wait until the study has a queued slot to run (True) or needs none (False).

    While the study has fewer than `target` counted trials and every unfilled slot is being
    run by another process, this waits (polling every `poll` s) for those trials to end. It
    returns False once `target` trials count or the `deadline` (time.monotonic) has passed.
    """
    from optuna.trial import TrialState

    while True:
        ensure_slots(study, target, defaults, portfolio)
        if len(done_trials(study)) >= target:
            return False
        if study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(poll)
