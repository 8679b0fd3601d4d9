"""Contract checks of a task plugin: what load() returns, its declared size, holdout and folds."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness.contracts.task import Task
from harness.contracts.testing.probes import load_task, run_checks
from harness.protocol.splits import Prepared, prepare

__all__ = [
    "TASK_CHECKS",
    "check_declared_size",
    "check_deterministic_folds",
    "check_holdout_and_folds",
    "check_load_returns_a_dataset",
    "check_task",
    "check_time_ordered_holdout",
]

# --- task checks ----------------------------------------------------------------------------


def check_load_returns_a_dataset(task: Task, *, seed: int = 0) -> None:
    """`load()` returns a `Dataset` whose target fits the problem type (two classes for binary,
    three or more for multiclass, numbers for regression)."""
    data, _ = load_task(task, seed)
    n_classes = data.y.nunique()
    if task.problem_type == "binary":
        assert n_classes == 2, f"{task.name}: binary task with {n_classes} classes"
    elif task.problem_type == "multiclass":
        assert n_classes >= 3, f"{task.name}: multiclass task with {n_classes} classes"
    else:
        assert np.issubdtype(data.y.dtype, np.number), f"{task.name}: non-numeric target"


def check_declared_size(task: Task, *, seed: int = 0) -> None:
    """The `rows` and `features` the task declares (when it does) match its data."""
    if task.rows is None and task.features is None:
        return
    data, _ = load_task(task, seed)
    rows = len(data.X) + (0 if data.holdout_X is None else len(data.holdout_X))
    if task.rows is not None:
        assert rows == task.rows, (
            f"{task.name}: declares rows={task.rows} but load() returned {rows} labeled rows; "
            "update the declaration (harness list tasks shows it)"
        )
    if task.features is not None:
        assert data.X.shape[1] == task.features, (
            f"{task.name}: declares features={task.features} but load() returned "
            f"{data.X.shape[1]} feature columns; update the declaration"
        )


def check_time_ordered_holdout(task: Task, *, seed: int = 0) -> None:
    """A time-ordered task (its Dataset has `times`) holds out its latest rows."""
    data, prepared = load_task(task, seed)
    if data.times is not None and data.holdout_X is None and data.ids is None:
        times = data.times.reset_index(drop=True)  # holdout ids are row numbers here
        is_hold = np.isin(np.arange(len(times)), prepared.holdout_ids)
        assert times[~is_hold].max() <= times[is_hold].min(), (
            f"{task.name}: time-ordered task whose holdout is not the latest rows"
        )


def check_deterministic_folds(task: Task, *, seed: int = 0) -> None:
    """Loading the task twice gives the same holdout and folds (`load()` is deterministic)."""
    _, prepared = load_task(task, seed)
    again = prepare(task, task.load(), folds=task.folds, seed=seed)
    assert prepared.folds_fingerprint == again.folds_fingerprint, (
        f"{task.name}: loading twice gave different folds; load() must be deterministic"
    )


def check_holdout_and_folds(task: Task, *, seed: int = 0) -> None:
    """The holdout and the training part are non-empty, holdout ids are unique, and the two
    sides of every fold are disjoint."""
    _, prepared = load_task(task, seed)
    assert len(prepared.y) > 0 and len(prepared.holdout_y) > 0, (
        f"{task.name}: {len(prepared.y)} training and {len(prepared.holdout_y)} holdout rows"
    )
    hold = set(map(int, prepared.holdout_ids))
    assert len(hold) == len(prepared.holdout_y), f"{task.name}: duplicate holdout ids"
    for train, valid in prepared.folds:
        assert not np.intersect1d(train, valid).size, f"{task.name}: a fold's rows overlap"


# What `check_task` runs, in order.
TASK_CHECKS: tuple[Callable[..., None], ...] = (
    check_load_returns_a_dataset,
    check_declared_size,
    check_time_ordered_holdout,
    check_deterministic_folds,
    check_holdout_and_folds,
)


def check_task(task: Task, *, seed: int = 0) -> Prepared:
    """Load the task twice and check what it returns keeps the contract; return its split.

    Runs `TASK_CHECKS`: a `Dataset` comes back; the class count fits the problem type; the
    declared `rows` and `features` (when given) match the data; a time-ordered task's holdout is
    its latest rows; loading twice gives the same folds; holdout ids are unique; a fold's two
    sides are disjoint. Raises one AssertionError listing every check that failed.
    """
    run_checks(task.name, TASK_CHECKS, task, {"seed": seed})
    return load_task(task, seed)[1]
