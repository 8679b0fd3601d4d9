"""Several `harness worker` processes share one PostgreSQL Optuna storage and one MLflow server.

Three workers start at the same moment on one task with two models and `--trials 12`; each
study must end with exactly 12 counted trials (one per slot, none twice), every counted trial
must be in MLflow exactly once, and `harness run` afterwards must refit without a new trial.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from harness import tuning

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


def test_three_workers_fill_every_study_with_exactly_the_asked_trials(servers, tmp_path):
    task = "breast_cancer"
    stores = ["--storage", servers.storage, "--tracking-uri", servers.tracking_uri]
    models = [arg for name in MODELS for arg in ("--model", name)]
    folders = [tmp_path / f"machine{i}" for i in range(3)]
    for folder in folders:
        folder.mkdir()
    workers = [
        _harness("worker", task, *models, "--trials", str(TRIALS), "--jobs", "1", *stores, cwd=f)
        for f in folders
    ]
    outcomes = [_finish(proc) for proc in workers]
    for code, _, err in outcomes:
        assert code == 0, err
        assert "Traceback" not in err

    ran = Counter()
    for _, _, err in outcomes:
        for name in MODELS:
            line = next(x for x in err.splitlines() if x.startswith(f"{name}: this worker ran"))
            ran[name] += int(line.split("ran ")[1].split()[0])
            assert f"the study has {TRIALS} of {TRIALS}" in line
    for name in MODELS:
        study = _study(servers.storage, f"{task}.{name}")
        counted = tuning.done_trials(study)
        assert len(counted) == TRIALS
        assert ran[name] == TRIALS  # the workers' own counts add up: no trial counted twice
        assert sorted(t.user_attrs[tuning.SLOT_ATTR] for t in counted) == list(range(TRIALS))
        assert counted[0].user_attrs.get(tuning.DEFAULT_ATTR)  # slot 0: the defaults
        states = Counter(t.state.name for t in study.trials)
        assert states["RUNNING"] == 0 and states["WAITING"] == 0, states
        # Every other trial was surplus (taken off the queue or stopped at its claim): no slot
        # was run to the end twice.
        ids = {t._trial_id for t in counted}
        others = [t for t in study.trials if t._trial_id not in ids]
        assert all(t.user_attrs.get(tuning.SURPLUS_ATTR) for t in others), others
        runs = _trial_runs(servers.tracking_uri, task, study.user_attrs["harness.uid"])
        logged = Counter(int(r.data.tags["harness.trial"]) for r in runs)
        assert logged == Counter(t.number for t in counted)  # each counted trial exactly once

    code, out, err = _finish(
        _harness("run", task, *models, "--trials", str(TRIALS), *stores, cwd=folders[0])
    )
    assert code == 0, err
    from mlflow.tracking import MlflowClient

    client = MlflowClient(servers.tracking_uri)
    experiment = client.get_experiment_by_name(task)
    studies = client.search_runs(
        [experiment.experiment_id], "tags.`harness.kind` = 'study'", max_results=100
    )
    assert sorted(r.data.tags["harness.model"] for r in studies) == sorted(MODELS)
    for run in studies:
        assert run.data.metrics["trials_run"] == 0  # the refit needed no new trial
        assert run.data.metrics["trials_done"] == TRIALS
        assert "holdout_roc_auc" in run.data.metrics

    code, out, err = _finish(
        _harness(
            "leaderboard",
            task,
            "--format",
            "csv",
            "--no-log",
            "--tracking-uri",
            servers.tracking_uri,
            cwd=folders[0],
        )
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(row["model"] for row in rows if row.get("task", task) == task) == sorted(MODELS)
