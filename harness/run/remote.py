"""`harness worker`: join a task's shared studies from any machine and run their trials.

Several machines share two servers: an Optuna RDB storage (PostgreSQL) holds the studies and is
the queue of trials, and an MLflow tracking server (PostgreSQL backend) is the record. A worker
loads and splits the task itself (the same seed gives the same folds; `studies.open_study` refuses
a study tuned on other folds or data), joins each study `<task>.<model>`, and runs trials until
the study has exactly `--trials` counted trials, whichever processes ran them: the trials are
numbered slots in Optuna's own queue, popped atomically (`tuning.slots.ensure_slots`,
`tuning.slots.claim_slot`). Each trial it runs is logged as it ends, as an MLflow child run of the
worker's own parent run (tag `harness.kind` = worker, which leaderboards ignore).

A worker does not refit. `harness run` with the same stores (before, during or after the
workers) runs its share of the trials, logs any trial not yet in MLflow, refits the best
configuration and scores the holdout.
"""

from __future__ import annotations

import os
import socket
import zlib
from typing import Any

from harness import devices, registry
from harness import run as harness_run
from harness.errors import UsageError
from harness.protocol.splits import prepare
from harness.run import study as run_study
from harness.run.config import Reporter, RunConfig, StudyResult
from harness.store import schema
from harness.store.tracker import Tracker
from harness.store.urls import Stores, opening

__all__ = ["run_worker"]


class _WorkerStudy(run_study.StudyRun):
    """A study run without the refit: tune, log the trials this process ran, stop."""

    keeps_models = False  # it never predicts the holdout: no bag to keep

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tags[schema.KIND] = schema.KIND_WORKER
        # Workers that join at the same moment must not sample the same configurations.
        salt = zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode())
        self.sampler_offset = 1 + salt % 2**30  # NumPy seeds stay below 2**32

    def conclude(self, run_id: str, done: list, trials_run: int) -> StudyResult:
        # trials_run counts this process's own trials (studies.run_here), not the other workers'.
        self.tracker.log(
            run_id,
            metrics={"trials_done": len(done), "trials_run": trials_run},
            tags={schema.STATUS: "ok", schema.TRIALS_TARGET: self.config.trials},
        )
        return StudyResult(
            self.model.name, "ok", trials_done=len(done), trials_run=trials_run, run_id=run_id
        )


def run_worker(
    config: RunConfig, stores: Stores, reporter: Reporter | None = None
) -> list[StudyResult]:
    """Run trials of every selected study of a task until each has `config.trials` counted.

    Models that cannot handle the task are left out (no run is recorded for them).

    Raises:
        UsageError: `config.fresh` (a worker never deletes a shared study).
        HarnessError: Unknown task or model, data that cannot be split, stores that cannot be
            reached or used.
    """
    if config.fresh:
        raise UsageError("A worker never deletes shared studies; run 'harness run --fresh' once.")
    reporter = reporter or Reporter()
    task = registry.get_task(config.task)
    selected = [(m, r) for m, r in harness_run.select_models(task, config.models) if r is None]
    data = prepare(
        task,
        task.load(),
        folds=config.folds or task.folds,
        seed=config.seed,
        repeats=config.repeats,
    )
    with opening(stores):  # a store that cannot be opened leaves nothing behind
        tracker = Tracker(stores)
        for notice in tracker.notices:
            if hasattr(reporter, "notice"):
                reporter.notice(notice)
        tracker.experiment_id(task.name)
        tracker.close_orphans(task.name)
    device = devices.device()
    n_jobs = config.n_jobs or devices.cpu_count()
    results = []
    for model, _ in selected:
        study = _WorkerStudy(task, model, data, config, tracker, reporter, device, n_jobs)
        study.run_tuning()
        result = study.finish()
        reporter.study_finished(result)
        results.append(result)
    return results
