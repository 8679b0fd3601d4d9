"""Hard limits and kills from the outside: a bad trial costs one trial, a killed run resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from mlflow.tracking import MlflowClient


def _trial_runs(store, task: str) -> list:
    client = MlflowClient(tracking_uri=store.tracking_uri)
    experiment = client.get_experiment_by_name(task)
    return [
        r
        for r in client.search_runs([experiment.experiment_id])
        if r.data.tags.get("harness.kind") == "trial"
    ]


@pytest.mark.parametrize(
    ("mode", "limits", "status", "message"),
    [
        ("sleep", ["--trial-timeout", "3"], "timeout", "over the limit of 3 s per trial"),
        ("hog", ["--memory-limit", "600M"], "oom", "over the limit of 600 MiB per worker"),
        ("segfault", [], "failed", "the worker process died (SIGSEGV)"),
    ],
)
def test_a_trial_over_a_limit_or_crashing_is_recorded_and_the_run_goes_on(
    cli, store, plugin_site, mode, limits, status, message
):
    env = {**plugin_site({"misbehaving": "extra_plugins:MISBEHAVING"}), "MISBEHAVE": mode}
    started = time.monotonic()
    result = cli(
        "run",
        "breast_cancer",
        "-m",
        "misbehaving",
        "-m",
        "dummy",
        "--trials",
        "1",
        *limits,
        env=env,
    )
    assert time.monotonic() - started < 120
    assert result.code == 3, result.err
    err = " ".join(result.err.split())  # rich wraps long lines
    assert f"misbehaving ({status}): " in err and message in err
    assert "Traceback" not in err
    assert "│ 1    │ dummy" in result.out  # the other study still ran and ranks
    (trial,) = [r for r in _trial_runs(store, "breast_cancer") if "misbehaving" in r.info.run_name]
    assert trial.data.tags["harness.status"] == status
    assert message in trial.data.tags["harness.error"]


def test_a_booster_over_the_trial_timeout_is_cut_short_before_it_not_killed(store):
    # XGBoost's default on flights takes about 10 s a fold on one core, the refit more: with
    # --trial-timeout 6 both stop at their fit deadline, a margin before the kill.
    from harness import run as harness_run
    from harness.run import config as run_config
    from harness.store.urls import resolve_stores

    stores = resolve_stores(
        f"sqlite:///{store.root}/mlruns/mlflow.db", f"journal:///{store.root}/mlruns/optuna"
    )
    config = run_config.RunConfig(
        task="flights", models=("xgboost",), trials=1, trial_timeout=6.0, n_jobs=1, ensemble=False
    )
    _, _, (result,) = harness_run.run(config, stores)
    assert result.status == "ok", result.reason
    (trial,) = _trial_runs(store, "flights")
    assert trial.data.tags["harness.status"] == "ok"
    assert trial.data.metrics["cut_short"] == 1.0
    assert sum(trial.data.metrics[k] for k in ("fit_seconds", "predict_seconds")) < 6.0
    client = MlflowClient(tracking_uri=store.tracking_uri)
    study = client.get_run(trial.data.tags["mlflow.parentRunId"])
    assert study.data.metrics["refit_cut_short"] == 1.0 and study.data.metrics["fit_seconds"] < 6


def test_kill_9_mid_study_then_the_same_command_completes_every_trial_exactly_once(store, children):
    args = [sys.executable, "-m", "harness", "run", "breast_cancer", "-m", "random_forest"]
    args += ["--trials", "5"]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["HARNESS_DEVICE"] = "cpu"
    proc = subprocess.Popen(
        args, cwd=store.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 180
    workers: list[int] = []
    while time.monotonic() < deadline:  # wait for a finished trial, with the next one running
        time.sleep(0.3)
        workers = children(proc.pid) or workers
        try:
            study = store.study("breast_cancer.random_forest")
        except Exception:
            continue
        states = [t.state.name for t in study.trials]
        if "COMPLETE" in states and "RUNNING" in states:
            break
    assert proc.poll() is None, "the run ended before it could be killed"
    assert workers, "no worker process was seen"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    for _ in range(50):  # the worker dies with its study process
        if not [pid for pid in workers if os.path.exists(f"/proc/{pid}")]:
            break
        time.sleep(0.1)
    assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}")]

    rerun = subprocess.run(args, cwd=store.root, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    study = store.study("breast_cancer.random_forest")
    complete = sorted(t.number for t in study.trials if t.state.name == "COMPLETE")
    assert len(complete) == 5
    logged = sorted(int(r.data.tags["harness.trial"]) for r in _trial_runs(store, "breast_cancer"))
    assert logged == complete  # every finished trial in MLflow exactly once

    client = MlflowClient(tracking_uri=store.tracking_uri)
    experiment = client.get_experiment_by_name("breast_cancer")
    runs = client.search_runs([experiment.experiment_id])
    assert all(r.info.status != "RUNNING" for r in runs)
    studies = sorted(
        (r for r in runs if r.data.tags.get("harness.kind") == "study"),
        key=lambda r: r.info.start_time,
    )
    assert [r.info.status for r in studies] == ["KILLED", "FINISHED"]
    assert "was killed mid-study" in studies[0].data.tags["harness.error"]
