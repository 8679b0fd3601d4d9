"""The slot queue that makes shared studies end with exactly `--trials` counted trials.

The races between machines are forced here, in one process, on both local storages (SQLite's
RDB storage and the journal folder): a slot queued twice, a trial created beyond the queue, two
finished trials of one slot, and the running trial of a dead process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from harness.tuning import attrs, slots
from harness.tuning import studies as tuning_studies


@pytest.fixture(params=["sqlite", "journal"])
def study(request, tmp_path: Path):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    url = {"sqlite": f"sqlite:///{tmp_path / 'optuna.db'}", "journal": f"journal:///{tmp_path}"}
    storage = tuning_studies.open_storage(url[request.param], "t.m")
    return optuna.create_study(storage=storage, study_name="t.m", direction="maximize")


def _objective(trial: optuna.Trial) -> float:
    slots.claim_slot(trial)
    x = trial.suggest_float("x", 0, 1)
    slots.claim_slot(trial, finished=True)
    return x


def _optimize(study, n_trials: int) -> None:
    study.optimize(_objective, n_trials=n_trials, catch=(Exception,))


def test_slots_are_queued_once_each_with_the_defaults_first(study):
    slots.ensure_slots(study, 4, {"x": 0.5})
    slots.ensure_slots(study, 4, {"x": 0.5})  # a second call queues nothing more
    waiting = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert [t.user_attrs[attrs.SLOT_ATTR] for t in waiting] == [0, 1, 2, 3]
    assert waiting[0].user_attrs[attrs.DEFAULT_ATTR] is True
    _optimize(study, 4)
    counted = tuning_studies.done_trials(study)
    assert len(counted) == 4
    assert counted[0].params == {"x": 0.5}


def test_a_slot_queued_twice_runs_once(study):
    slots.ensure_slots(study, 3, {"x": 0.5})
    study.enqueue_trial({}, user_attrs={attrs.SLOT_ATTR: 1})  # another process, same moment
    _optimize(study, 10)
    counted = tuning_studies.done_trials(study)
    assert sorted(t.user_attrs[attrs.SLOT_ATTR] for t in counted) == [0, 1, 2]
    surplus = [t for t in study.trials if t.user_attrs.get(attrs.SURPLUS_ATTR)]
    reasons = sorted(t.user_attrs[attrs.SURPLUS_ATTR] for t in surplus)
    assert reasons == ["no slot", "queued twice"]
    assert all(t.state.name == "FAIL" and not attrs.is_done(t) for t in surplus)


def test_a_trial_beyond_the_queue_is_surplus_and_stops_asking(study):
    slots.ensure_slots(study, 2, {"x": 0.5})
    _optimize(study, 50)  # asks for far more than the queue holds
    assert len(tuning_studies.done_trials(study)) == 2
    assert len(study.trials) == 3  # the one beyond the queue stopped the loop


def test_two_finished_trials_of_one_slot_count_once(study):
    slots.ensure_slots(study, 2, {"x": 0.5})
    study.enqueue_trial({}, user_attrs={attrs.SLOT_ATTR: 1})
    for _ in range(3):  # ask/tell bypasses the claim, as a race past both checks would
        trial = study.ask()
        study.tell(trial, trial.suggest_float("x", 0, 1))
    counted = tuning_studies.done_trials(study)
    assert [t.user_attrs[attrs.SLOT_ATTR] for t in counted] == [0, 1]
    assert counted[1]._trial_id < study.trials[2]._trial_id  # the first of the slot counts
    assert not tuning_studies.counts(study, study.trials[2])


def test_the_running_trial_of_a_dead_process_here_is_queued_again(study):
    slots.ensure_slots(study, 2, {"x": 0.5})
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], text=True, capture_output=True
    ).stdout.strip()
    trial = study.ask()  # slot 0, left RUNNING by a killed process
    import socket

    trial.set_user_attr(attrs.HOST_ATTR, socket.gethostname())
    trial.set_user_attr(attrs.PID_ATTR, int(dead))
    slots.ensure_slots(study, 2, {"x": 0.5})
    assert study.trials[0].state.name == "FAIL"
    waiting = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert sorted(t.user_attrs[attrs.SLOT_ATTR] for t in waiting) == [0, 1]
    _optimize(study, 2)
    assert len(tuning_studies.done_trials(study)) == 2
    slot0 = [t for t in tuning_studies.done_trials(study) if t.user_attrs[attrs.SLOT_ATTR] == 0]
    assert slot0[0].params == {"x": 0.5}  # the defaults again


def test_a_study_without_slots_is_not_checked(study):
    _optimize(study, 3)
    assert len(tuning_studies.done_trials(study)) == 3
