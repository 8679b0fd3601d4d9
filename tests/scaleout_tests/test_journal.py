"""The local journal storage (`harness.journal`): what a killed writer leaves behind does not
block or break the next one, and processes sharing a study's journal count each slot once."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest

from harness.store import journal
from harness.tuning import attrs, studies


def _url(folder: Path) -> str:
    return f"journal:///{folder}"


def _create(folder: Path, name: str = "t.m"):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = studies.open_storage(_url(folder), name)
    return optuna.create_study(storage=storage, study_name=name, direction="maximize")


def _complete(study, count: int) -> None:
    for number in range(count):
        trial = study.ask()
        study.tell(trial, trial.suggest_float("x", 0, 1) + number)


def test_a_torn_last_line_is_cut_off_by_the_next_writer_and_the_study_reads_on(tmp_path):
    _complete(_create(tmp_path), 3)
    path = journal.study_file(_url(tmp_path), "t.m")
    whole = path.read_bytes()
    with open(path, "ab") as handle:  # a writer killed (or out of space) halfway through a line
        handle.write(b'{"op_code":4,"worker_id":"dead","study_id":0,"datetime_st')

    reader = studies.load_study(_url(tmp_path), "t.m")  # readers skip the torn line
    assert [t.state.name for t in reader.trials] == ["COMPLETE"] * 3
    _complete(reader, 2)  # the next writer cuts it off before appending
    assert path.read_bytes().startswith(whole)
    assert b"datetime_st\n" not in path.read_bytes() and b'"dead"' not in path.read_bytes()
    fresh = studies.load_study(_url(tmp_path), "t.m")  # a new process replays every line
    assert [t.state.name for t in fresh.trials] == ["COMPLETE"] * 5
    assert [t.number for t in fresh.trials] == [0, 1, 2, 3, 4]


def test_a_journal_that_is_only_a_torn_line_is_emptied(tmp_path):
    path = tmp_path / "x.journal"
    path.write_bytes(b'{"op_code":0,"worker')
    journal.cut_torn_line(str(path))
    assert path.read_bytes() == b""
    path.write_bytes(b"a\n" + b"b" * 200_000)  # a torn line longer than one read
    journal.cut_torn_line(str(path))
    assert path.read_bytes() == b"a\n"


HOLD = """
import sys, time
from harness.store import journal
lock = journal.FlockLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_a_writer_killed_while_holding_the_lock_does_not_block_the_next(tmp_path):
    study = _create(tmp_path)
    path = str(journal.study_file(_url(tmp_path), "t.m"))
    holder = subprocess.Popen([sys.executable, "-c", HOLD, path], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        done = threading.Event()
        writer = threading.Thread(target=lambda: (_complete(study, 1), done.set()), daemon=True)
        writer.start()
        assert not done.wait(0.5)  # the lock is really held: the write waits
        killed = time.monotonic()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        assert done.wait(10)  # the kernel released the dead holder's lock
        assert time.monotonic() - killed < 5  # not Optuna's 30 s grace for a stale lock file
    finally:
        holder.kill()
        holder.wait()
    assert [t.state.name for t in studies.load_study(_url(tmp_path), "t.m").trials] == ["COMPLETE"]


SHARE = """
import sys
import optuna
from harness.tuning import slots, studies
optuna.logging.set_verbosity(optuna.logging.ERROR)
study = studies.load_study(sys.argv[1], "t.m")

def objective(trial):
    slots.claim_slot(trial)
    x = trial.suggest_float("x", 0, 1)
    slots.claim_slot(trial, finished=True)
    return x

while slots.await_slots(study, int(sys.argv[2]), {"x": 0.5}, deadline=None, poll=0.05):
    study.optimize(objective, n_trials=1, catch=(Exception,))
"""


def test_processes_sharing_a_journal_study_run_each_slot_once(tmp_path):
    _create(tmp_path)
    processes, target = 3, 30
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SHARE, _url(tmp_path), str(target)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    study = studies.load_study(_url(tmp_path), "t.m")
    counted = studies.done_trials(study)
    assert sorted(t.user_attrs[attrs.SLOT_ATTR] for t in counted) == list(range(target))
    assert counted[0].params == {"x": 0.5}  # slot 0: the defaults
    states = [t.state.name for t in study.trials]
    assert "RUNNING" not in states and "WAITING" not in states
    ids = {t._trial_id for t in counted}
    others = [t for t in study.trials if t._trial_id not in ids]
    assert all(t.user_attrs.get(attrs.SURPLUS_ATTR) for t in others), others


def test_a_journal_storage_opens_one_named_study(tmp_path):
    with pytest.raises(ValueError, match="name the study"):
        studies.open_storage(_url(tmp_path))
    with pytest.raises(ValueError, match="not a file name"):
        studies.open_storage(_url(tmp_path), "../escape")
