"""Several `harness worker` processes share one PostgreSQL Optuna storage and one MLflow server.

Three workers and a `harness run` start at the same moment on one task with two models and
`--trials 12`. Each study must end with exactly 12 counted trials (one per slot, none twice), the
run must refit on all 12, every counted trial must be in MLflow exactly once, and a second
`harness run` afterwards must refit without a new trial.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from harness.tuning import attrs, studies

TRIALS = 12
MODELS = ("knn", "naive_bayes")


def _env() -> dict:
    environ = {
        k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "HARNESS_STORAGE")
    }
    return {**environ, "HARNESS_DEVICE": "cpu", "COLUMNS": "200"}


def _harness(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _study(storage: str, name: str):
    import optuna

    return optuna.load_study(study_name=name, storage=storage)


def _trial_runs(tracking_uri: str, task: str, uid: str) -> list:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(task)
    return [
        run
        for run in client.search_runs(
            [experiment.experiment_id],
            f"tags.`harness.study_uid` = '{uid}' and tags.`harness.kind` = 'trial'",
            max_results=1000,
        )
    ]


def _study_runs(tracking_uri: str, task: str, model: str, kind: str = "study") -> list:
    """The study runs (or a worker's runs) of a model, oldest first."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(task)
    return client.search_runs(
        [experiment.experiment_id],
        f"tags.`harness.kind` = '{kind}' and tags.`harness.model` = '{model}'",
        order_by=["attributes.start_time ASC"],
    )


def test_three_workers_and_a_run_fill_every_study_with_exactly_the_asked_trials(servers, tmp_path):
    task = "breast_cancer"
    stores = ["--storage", servers.storage, "--tracking-uri", servers.tracking_uri]
    args = [task, *(a for name in MODELS for a in ("--model", name))]
    args += ["--trials", str(TRIALS), "--folds", "3", "--jobs", "1", *stores]
    folders = [tmp_path / f"machine{i}" for i in range(4)]
    for folder in folders:
        folder.mkdir()
    # Three workers and a `harness run` start at once, as on four machines.
    procs = [_harness("worker", *args, cwd=f) for f in folders[:3]]
    procs.append(_harness("run", *args, cwd=folders[3]))
    outcomes = [_finish(proc) for proc in procs]
    for code, _, err in outcomes:
        assert code == 0, err
        assert "Traceback" not in err

    ran = Counter()
    for _, _, err in outcomes[:3]:
        for name in MODELS:
            line = next(x for x in err.splitlines() if x.startswith(f"{name}: this worker ran"))
            ran[name] += int(line.split("ran ")[1].split()[0])
            assert f"the study has {TRIALS} of {TRIALS}" in line
    for name in MODELS:
        worker_runs = _study_runs(servers.tracking_uri, task, name, kind="worker")
        assert len(worker_runs) == 3  # a worker never refits: its runs count trials only
        assert not any("holdout_roc_auc" in run.data.metrics for run in worker_runs)
        (during,) = _study_runs(servers.tracking_uri, task, name)
        # The run waited for the workers' trials, then refitted on all of them.
        assert during.data.metrics["trials_done"] == TRIALS
        assert "holdout_roc_auc" in during.data.metrics
        ran[name] += int(during.data.metrics["trials_run"])
        study = _study(servers.storage, f"{task}.{name}")
        counted = studies.done_trials(study)
        assert len(counted) == TRIALS
        assert ran[name] == TRIALS  # the processes' own counts add up: no trial counted twice
        assert sorted(t.user_attrs[attrs.SLOT_ATTR] for t in counted) == list(range(TRIALS))
        assert counted[0].user_attrs.get(attrs.DEFAULT_ATTR)  # slot 0: the defaults
        states = Counter(t.state.name for t in study.trials)
        assert states["RUNNING"] == 0 and states["WAITING"] == 0, states
        # Every other trial was surplus (taken off the queue or stopped at its claim): no slot
        # was run to the end twice.
        ids = {t._trial_id for t in counted}
        others = [t for t in study.trials if t._trial_id not in ids]
        assert all(t.user_attrs.get(attrs.SURPLUS_ATTR) for t in others), others
        runs = _trial_runs(servers.tracking_uri, task, study.user_attrs["harness.uid"])
        logged = Counter(int(r.data.tags["harness.trial"]) for r in runs)
        assert logged == Counter(t.number for t in counted)  # each counted trial exactly once

    # After the workers: the same command refits again, without a new trial.
    code, _, err = _finish(_harness("run", *args, cwd=folders[0]))
    assert code == 0, err
    for name in MODELS:
        during, after = _study_runs(servers.tracking_uri, task, name)
        assert after.data.metrics["trials_run"] == 0
        assert after.data.metrics["trials_done"] == TRIALS

    from harness.results.leaderboard import task_board
    from harness.store.tracker import Tracker
    from harness.store.urls import resolve_stores

    tracker = Tracker(resolve_stores(servers.tracking_uri, servers.storage, create=False))
    board = task_board(tracker, task)
    # Each model once (the workers' runs are not rows), and the run's ensemble of the two.
    assert sorted(row.model for row in board.rows) == sorted([*MODELS, "ensemble"])
    singles = [row for row in board.rows if row.model != "ensemble"]
    assert all(row.status == "ok" and row.trials == TRIALS for row in singles)
