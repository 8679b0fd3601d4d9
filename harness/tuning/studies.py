"""Optuna storages and studies: opening (with fingerprint checks), counted trials, the sampler."""

from __future__ import annotations

import os
import random
import socket
import time
import uuid
import warnings
from typing import Any

from harness import DISTRIBUTION
from harness.errors import StoreError
from harness.protocol.splits import SEEDS, Prepared
from harness.store import journal
from harness.store.sqlite import DISK_FULL_HINT, disk_full, local_lock, opened, write_ahead_log
from harness.store.urls import mask
from harness.tuning.attrs import (
    CREATOR_ATTR,
    DATA_FINGERPRINT_ATTR,
    FOLDS_ATTR,
    FOLDS_FINGERPRINT_ATTR,
    HOST_ATTR,
    PID_ATTR,
    SEED_ATTR,
    SLOT_ATTR,
    UID_ATTR,
    is_done,
)
from harness.tuning.optuna_internals import trial_id

__all__ = [
    "counts",
    "done_trials",
    "load_study",
    "make_sampler",
    "open_storage",
    "open_study",
    "process_id",
    "run_here",
]


def open_storage(storage_url: str, name: str | None = None) -> Any:
    """The Optuna storage of `storage_url`: for a `journal:///` folder, the journal file of study
    `name` (`harness.journal`); otherwise Optuna's RDB storage with heartbeats, its tables created
    once (retried while other processes or threads create them), SQLite in write-ahead-log mode
    (`write_ahead_log`)."""
    import optuna

    if journal.is_journal(storage_url):
        if name is None:
            raise ValueError("a journal storage holds one study per file: name the study")
        return journal.open_storage(storage_url, name)
    for attempt in range(8):
        try:
            with local_lock(storage_url):  # a fresh sqlite database gets its tables once
                storage = optuna.storages.RDBStorage(
                    storage_url,
                    heartbeat_interval=60,
                    grace_period=120,
                    engine_kwargs={"connect_args": {"timeout": 60}}
                    if storage_url.startswith("sqlite")
                    else {},
                )
            if storage_url.startswith("sqlite"):
                write_ahead_log(storage.engine)
                opened(storage.engine.url.database)
            return storage
        except Exception as exc:  # two processes creating the schema of a fresh database
            text = str(exc)
            racing = any(m in text for m in ("UniqueViolation", "already exists", "IntegrityError"))
            if not racing or attempt == 7:
                raise
            time.sleep(0.5 + random.random())
    raise AssertionError("unreachable")


def load_study(storage_url: str, name: str) -> Any:
    """The existing study `name` of a storage, as it is: no fingerprint checks, no slots queued
    (a journal folder gets an empty file for a study it does not hold yet)."""
    import optuna

    return optuna.load_study(study_name=name, storage=open_storage(storage_url, name))


def open_study(
    storage_url: str, name: str, direction: str, *, seed: int, data: Prepared, fresh: bool = False
) -> Any:
    """Create or load the study `name`, checking it was tuned on the same folds and data.

    Raises:
        StoreError: The storage cannot be opened, or the study was tuned on other folds or data.
    """
    import optuna

    # Failed trials are recorded (state, error text) by harness; Optuna would print tracebacks.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    try:
        storage = open_storage(storage_url, name)
        if fresh:
            try:
                optuna.delete_study(study_name=name, storage=storage)
            except KeyError:
                pass
        # Exactly one process creates the study (its name is unique in the storage) and writes
        # its identity; the others load it and wait for that identity.
        try:
            study = optuna.create_study(storage=storage, study_name=name, direction=direction)
            created = True
        except optuna.exceptions.DuplicatedStudyError:
            study = optuna.load_study(study_name=name, storage=storage)
            created = False
    except Exception as exc:
        text = mask(str(exc)).splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = "Pass a working --storage."
        if "No module named" in text and "psycopg" in text:
            hint = (
                "Install the PostgreSQL driver: pip install 'psycopg[binary]' "
                f"(or the 'postgres' extra of {DISTRIBUTION})."
            )
        elif disk_full(text):
            hint = DISK_FULL_HINT
        raise StoreError(
            f"Cannot open the Optuna storage {mask(storage_url)!r}: {text}. {hint}"
        ) from None
    attrs = study.user_attrs
    waited = time.monotonic()
    while not created and UID_ATTR not in attrs and time.monotonic() - waited < 15:
        time.sleep(0.2)  # the creator is writing the study's identity
        attrs = study.user_attrs
    if FOLDS_FINGERPRINT_ATTR not in attrs:
        study.set_user_attr(FOLDS_FINGERPRINT_ATTR, data.folds_fingerprint)
        study.set_user_attr(DATA_FINGERPRINT_ATTR, data.data_fingerprint)
        study.set_user_attr(SEED_ATTR, seed)
        study.set_user_attr(FOLDS_ATTR, len(data.folds))
        if created:  # it queues the first slots; processes joining at once wait for them
            study.set_user_attr(CREATOR_ATTR, process_id())
        study.set_user_attr(UID_ATTR, uuid.uuid4().hex[:12])  # last: loaders wait for it
    elif attrs[FOLDS_FINGERPRINT_ATTR] != data.folds_fingerprint:
        raise StoreError(
            f"Study {name!r} in {mask(storage_url)!r} was tuned on other folds or data "
            f"(seed {attrs.get(SEED_ATTR)}, {attrs.get(FOLDS_ATTR)} folds, data "
            f"{attrs.get(DATA_FINGERPRINT_ATTR)}; now seed {seed}, {len(data.folds)} folds, "
            f"data {data.data_fingerprint}). Rerun with the same --seed and --folds, "
            "or add --fresh to start the study over."
        )
    if study.direction.name.lower() != direction:
        raise StoreError(
            f"Study {name!r} optimizes in the other direction; add --fresh to start it over."
        )
    return study


def done_trials(study: Any) -> list[Any]:
    """The study's trials that count towards `--trials`, in order.

    A trial counts when it is done (`is_done`) and, for a trial of a numbered slot, it is the
    first done trial of its slot (by trial id): a slot counts once, however many processes raced
    for it. Done trials without a slot (from studies made before slots) count as they are.
    """
    counted, filled = [], set()
    for trial in sorted(study.get_trials(deepcopy=False), key=trial_id):
        if not is_done(trial):
            continue
        slot = trial.user_attrs.get(SLOT_ATTR)
        if slot is not None:
            if slot in filled:
                continue
            filled.add(slot)
        counted.append(trial)
    return sorted(counted, key=lambda t: t.number)


def run_here(trials: list[Any]) -> list[Any]:
    """The trials among `trials` that this process ran (by the host and pid they record)."""
    host, pid = socket.gethostname(), os.getpid()
    return [
        t
        for t in trials
        if t.user_attrs.get(HOST_ATTR) == host and t.user_attrs.get(PID_ATTR) == pid
    ]


def counts(study: Any, trial: Any, done: list[Any] | None = None) -> bool:
    """Whether `trial` is one of the study's counted trials (`done_trials`, or `done` when the
    caller has just read them)."""
    done = done_trials(study) if done is None else done
    return any(trial_id(t) == trial_id(trial) for t in done)


def process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def make_sampler(seed: int, n_done: int) -> Any:
    """A seeded TPE sampler, named explicitly (Optuna 5 changed TPE's defaults).

    The seed is offset by the trials already done, so a resumed study samples deterministically
    from its history instead of repeating the first configurations of the fresh sampler; the
    sum wraps around below 2**32, the seeds NumPy takes.
    """
    import optuna

    return optuna.samplers.TPESampler(
        seed=(seed + n_done) % SEEDS,
        n_startup_trials=10,
        multivariate=True,
        constant_liar=False,
    )
