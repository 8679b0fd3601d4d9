"""An interrupted run ends its MLflow runs, keeps finished trials, and the same command resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from mlflow.tracking import MlflowClient


def test_sigterm_ends_open_runs_and_a_rerun_completes_the_missing_trials(store):
    args = [
        sys.executable,
        "-m",
        "harness",
        "run",
        "breast_cancer",
        "-m",
        "random_forest",
        "--trials",
        "6",
    ]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    proc = subprocess.Popen(
        args,
        cwd=store.root,
        env={**env, "HARNESS_DEVICE": "cpu"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    study = None
    while time.monotonic() < deadline:  # wait until at least one trial has finished
        time.sleep(0.5)
        try:
            study = store.study("breast_cancer.random_forest")
        except Exception:
            continue
        if any(t.state.name == "COMPLETE" for t in study.trials):
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Interrupted: finished trials are kept" in err
    assert "Traceback" not in err

    client = MlflowClient(tracking_uri=store.tracking_uri)
    experiment = client.get_experiment_by_name("breast_cancer")
    runs = client.search_runs([experiment.experiment_id])
    assert runs and all(r.info.status != "RUNNING" for r in runs)
    killed = [r for r in runs if r.data.tags.get("harness.kind") == "study"]
    assert [r.info.status for r in killed] == ["KILLED"]
    # the board's row for the model until it runs again: current, and it says why it stopped
    assert killed[0].data.tags["harness.current"] == "true"
    assert killed[0].data.tags["mlflow.note.content"].startswith("random_forest — failed: ")

    rerun = subprocess.run(
        args,
        cwd=store.root,
        env={**env, "HARNESS_DEVICE": "cpu"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    study = store.study("breast_cancer.random_forest")
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(done) == 6
    trial_runs = [
        r
        for r in client.search_runs([experiment.experiment_id])
        if r.data.tags.get("harness.kind") == "trial"
    ]
    numbers = sorted(int(r.data.tags["harness.trial"]) for r in trial_runs)
    assert numbers == sorted(t.number for t in done)  # each finished trial logged exactly once
    # the resumed study's run is the model's current one; the killed run is superseded
    studies = client.search_runs(
        [experiment.experiment_id],
        "tags.`harness.kind` = 'study'",
        order_by=["attributes.start_time DESC"],
    )
    assert [(r.info.status, r.data.tags["harness.current"]) for r in studies] == [
        ("FINISHED", "true"),
        ("KILLED", "false"),
    ]


def test_a_deleted_experiment_is_reported_with_how_to_restore_it(cli, store):
    assert cli("run", "breast_cancer", "-m", "dummy", "--trials", "1").code == 0
    client = MlflowClient(tracking_uri=store.tracking_uri)
    client.delete_experiment(client.get_experiment_by_name("breast_cancer").experiment_id)
    for args in (("run", "breast_cancer", "-m", "dummy", "--trials", "1"), ("ui", "breast_cancer")):
        result = cli(*args)
        assert result.code == 1, args
        assert "The MLflow experiment 'breast_cancer' was deleted" in result.err
        assert "mlflow experiments restore --experiment-id" in result.err
        assert "Traceback" not in result.err
