"""How the studies of a run are driven: each in full, in threads, or sharing a whole-run budget."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from harness.contracts.metrics import get_metric
from harness.run import schedule
from harness.run.config import Reporter, RunConfig, StudyResult
from harness.run.study import StudyRun
from harness.tuning import studies as tuning_studies

__all__ = ["budgeted", "drive", "each_in_full", "finish_study", "in_threads"]


def drive(
    studies: list[StudyRun],
    config: RunConfig,
    reporter: Reporter,
    cancelled: threading.Event,
    started: float,
) -> dict[str, StudyResult]:
    """Tune, refit and score every study: under the run's budget when it has one (counted from
    `started`), else each to its trials; `config.workers` at a time on one thread pool."""
    pool = None
    if config.workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="study")
    try:
        if config.budget is not None:
            return budgeted(studies, config, reporter, cancelled, started, pool)
        return each_in_full(studies, config, reporter, cancelled, pool)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def finish_study(study: StudyRun, reporter: Reporter) -> StudyResult:
    """Finish a study (refit, holdout, end its run) and report it."""
    result = replace(study.finish(), tuning_seconds=study.tuning_seconds)
    reporter.study_finished(result)
    return result


def each_in_full(
    studies: list[StudyRun],
    config: RunConfig,
    reporter: Reporter,
    cancelled: threading.Event,
    pool: Any = None,
) -> dict[str, StudyResult]:
    """Run each study to its `--trials` (within `--timeout`), on `pool`'s threads if given."""

    def whole(study: StudyRun) -> StudyResult:
        study.run_tuning()
        return finish_study(study, reporter)

    if pool is None:
        results = {}
        for study in studies:
            results[study.model.name] = whole(study)
        return results
    return in_threads(pool, studies, whole, cancelled)


def in_threads(
    pool: Any, studies: list[StudyRun], job: Any, cancelled: threading.Event
) -> dict[str, Any]:
    """`job(study)` for every study on the run's thread `pool`; model name -> its return value.

    One pool serves the whole run: a worker process is forked by a pool thread and gets SIGKILL
    when that thread exits (PR_SET_PDEATHSIG follows the forking thread), so the threads must
    outlive every worker. On Ctrl-C (or SIGTERM) the run is cancelled: every worker process is
    killed, so the trials in flight end uncounted, every thread returns, and the interrupt is
    raised again here.
    """
    from concurrent.futures import FIRST_EXCEPTION, wait

    futures = {pool.submit(job, study): study for study in studies}
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    raise future.exception()
    except BaseException:
        cancelled.set()
        for study in studies:
            study.worker.kill()
        wait(futures)
        for study in studies:
            study.abort()
        raise
    return {study.model.name: future.result() for future, study in futures.items()}


def budgeted(
    studies: list[StudyRun],
    config: RunConfig,
    reporter: Reporter,
    cancelled: threading.Event,
    started: float,
    pool: Any = None,
) -> dict[str, StudyResult]:
    """Share `config.budget` seconds from `started` among the studies (see `harness.schedule`),
    then finish every study that ran a trial; a study the budget never reached is skipped."""
    end = started + config.budget
    direction = get_metric(studies[0].task.metric).direction if studies else "minimize"
    by_name = {study.model.name: study for study in studies}
    standings: dict[str, schedule.Standing] = {}

    score_seconds = 0.0
    if config.ensemble and studies:
        from harness.protocol.ensemble import score_seconds as timed

        data = studies[0].data
        score_seconds = timed(data.y, studies[0].task.metric, data.n_classes)

    def tuning_end() -> float:
        reserve = schedule.reserve_seconds(
            config.budget,
            list(standings.values()),
            config.workers,
            ensemble=config.ensemble,
            score_seconds=score_seconds,
            selections=len(studies[0].data.folds) + 1 if studies else 1,
        )
        return end - reserve

    waiting = set(by_name)  # studies whose rung-0 grant has not begun
    first = schedule.FirstRung.plan(time.monotonic(), tuning_end(), len(studies), config.workers)

    def grant(study: StudyRun, more: int, deadline: float) -> None:
        now = time.monotonic()
        waiting.discard(study.model.name)
        if more == 0:  # rung 0: one slow default may not eat the others' turn or their tuning
            # Each study that ranks adds its refit to the reserve: the rung's deadline moves.
            deadline = min(deadline, tuning_end())
            ranked = sum(
                1
                for name, standing in list(standings.items())
                if standing.best is not None and by_name[name].model.family != "baseline"
            )
            deadline = first.until(now, len(waiting), config.workers, deadline, ranked)
        if now >= deadline:
            return
        if study.run_id is None:
            study.start(None)
        target = min(len(tuning_studies.done_trials(study.study)) + more, config.trials)
        if study.run_id is not None and study.failure is None:
            study.tune(max(target, 1), deadline, until=deadline)
        standings[study.model.name] = study.standing()

    def run_rung(grants: dict[str, int]) -> None:
        deadline = tuning_end()
        chosen = [by_name[name] for name in grants]
        if pool is None:
            for study in chosen:
                grant(study, grants[study.model.name], deadline)
        else:
            granted = lambda study: grant(study, grants[study.model.name], deadline)  # noqa: E731
            in_threads(pool, chosen, granted, cancelled)

    try:
        run_rung(schedule.first_rung(studies))  # rung 0: every model's defaults
        rung = 1
        while True:
            left = tuning_end() - time.monotonic()
            if left <= 0:
                break
            grants = schedule.next_rung(
                list(standings.values()),
                rung,
                direction=direction,
                workers=config.workers,
                max_trials=config.trials,
                seconds_left=left,
            )
            if not grants:
                break
            run_rung(grants)
            rung += 1
    except BaseException:
        for study in studies:
            study.abort()
        raise
    results = {}
    late = "the run's budget ended before its first trial"
    for study in studies:
        if study.study is None:
            results[study.model.name] = study.skipped(late)
        elif not tuning_studies.done_trials(study.study):
            results[study.model.name] = study.skipped(late, started=True)
        elif all(schedule.cut_by_budget(t) for t in tuning_studies.done_trials(study.study)):
            # Killed, not cut short: a learner that cannot stop at its fit deadline.
            reason = "its defaults did not finish within its share of the run's budget"
            results[study.model.name] = study.skipped(reason, started=True)
        else:
            continue
        reporter.study_finished(results[study.model.name])
    ready = [study for study in studies if study.model.name not in results]
    if pool is None:
        for study in ready:
            results[study.model.name] = finish_study(study, reporter)
    else:
        finishing = lambda study: finish_study(study, reporter)  # noqa: E731
        results.update(in_threads(pool, ready, finishing, cancelled))
    return results
