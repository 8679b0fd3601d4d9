"""What a new user finds in the MLflow UI: dataset inputs on every study run, one current run
per model, run descriptions, and `harness ui TASK` opening the task's runs table (not the GenAI
overview) in headless Chromium. On the session's three-task store (`board_store`); the ensemble
run and the current marker after a rerun and a resume are checked where those runs are made
(tests/ensemble_tests, tests/cli_tests/test_interrupt.py).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from mlflow.tracking import MlflowClient

from harness.store import schema
from tests.conftest import Store, run_cli

TASK = "breast_cancer"
MODELS = ("dummy", "linear", "random_forest")


def _runs(store: Store, task: str = TASK) -> list:
    client = MlflowClient(tracking_uri=store.tracking_uri)
    experiment = client.get_experiment_by_name(task)
    return client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1000
    )


def _of(runs: list, kind: str, model: str | None = None) -> list:
    return [
        r
        for r in runs
        if r.data.tags.get(schema.KIND) == kind
        and (model is None or r.data.tags.get(schema.MODEL) == model)
    ]


def _columns(dataset) -> dict[str, tuple[str, bool]]:
    return {
        c["name"]: (c["type"], c["required"]) for c in json.loads(dataset.schema)["mlflow_colspec"]
    }


def test_study_runs_log_the_training_part_and_the_holdout_as_dataset_inputs(board_store):
    import mlflow.data

    runs = _runs(board_store)
    studies = _of(runs, schema.KIND_STUDY)
    assert sorted(r.data.tags[schema.MODEL] for r in studies) == sorted(MODELS)
    for run in studies:
        inputs = {i.dataset.name: i for i in run.inputs.dataset_inputs}
        assert set(inputs) == {TASK, f"{TASK}-holdout"}
        train, holdout = inputs[TASK], inputs[f"{TASK}-holdout"]
        assert train.dataset.digest == run.data.tags[schema.DATA_FINGERPRINT][:8]
        assert len(holdout.dataset.digest) == 8 and holdout.dataset.digest != train.dataset.digest
        assert [(t.key, t.value) for t in train.tags] == [("mlflow.data.context", "training")]
        assert [(t.key, t.value) for t in holdout.tags] == [("mlflow.data.context", "holdout")]
        for part, rows in ((train, 455), (holdout, 114)):
            assert json.loads(part.dataset.profile) == {
                "num_rows": rows,
                "num_elements": rows * 31,
                "features": 30,
            }
            columns = _columns(part.dataset)
            assert len(columns) == 31 and columns["mean radius"] == ("double", True)
            assert list(columns)[-1] == "diagnosis" and columns["diagnosis"] == ("string", True)
            source = mlflow.data.get_source(part)  # MLflow reads it back as a code source
            assert part.dataset.source_type == "code" and source.to_dict()["tags"] == {
                "task": TASK,
                "package": "scikit-learn",
                "dataset": "sklearn.datasets.load_breast_cancer",
                "source": "scikit-learn sklearn.datasets.load_breast_cancer (569 rows, 30 "
                "features)",
            }
    for trial in _of(runs, schema.KIND_TRIAL):  # trials carry no inputs (no per-trial cost)
        assert trial.inputs.dataset_inputs == []
    # penguins: categories are strings, a column with missing values is not required
    (penguin,) = _of(_runs(board_store, "penguins"), schema.KIND_STUDY, "linear")
    inputs = {i.dataset.name: i.dataset for i in penguin.inputs.dataset_inputs}
    columns = _columns(inputs["penguins"])
    assert columns["island"] == ("string", True) and columns["sex"] == ("string", False)
    assert columns["bill_length_mm"][0] == "double" and columns["species"] == ("string", True)
    assert json.loads(inputs["penguins"].source)["tags"]["dataset"] == "modeldata::penguins"
    # ames: a regression target is a double
    (house,) = _of(_runs(board_store, "ames"), schema.KIND_STUDY, "linear")
    assert _columns(house.inputs.dataset_inputs[0].dataset)["log_Sale_Price"] == ("double", True)


def test_every_run_the_board_shows_is_current_and_no_trial_is(board_store):
    runs = _runs(board_store)
    marked = {r.info.run_id: r.data.tags.get(schema.CURRENT) for r in runs}
    board = json.loads(run_cli("leaderboard", TASK, "-f", "json", cwd=board_store.root).out)
    (leaderboard,) = _of(runs, schema.KIND_LEADERBOARD)
    current = {run_id for run_id, mark in marked.items() if mark == "true"}
    assert current == {row["run_id"] for row in board} | {leaderboard.info.run_id}
    assert all(schema.CURRENT not in r.data.tags for r in _of(runs, schema.KIND_TRIAL))


def test_study_runs_describe_their_board_row_and_their_data(board_store):
    data = (
        "Data: breast_cancer, 455 training rows and 114 holdout rows, 30 features; source: "
        "scikit-learn sklearn.datasets.load_breast_cancer (569 rows, 30 features)."
    )
    for run in _of(_runs(board_store), schema.KIND_STUDY):
        m, model = run.data.metrics, run.data.tags[schema.MODEL]
        assert run.data.tags["mlflow.note.content"] == (
            f"{model} — CV roc_auc {m['cv_roc_auc_mean']:.4f} ± {m['cv_roc_auc_std']:.4f} over 5 "
            f"folds, holdout {m['holdout_roc_auc']:.4f}, 2 trials, bag of 5\n\n{data}"
        )
        assert run.data.tags["mlflow.source.name"] == f"harness run {TASK}"
        assert run.data.tags["mlflow.source.type"] == "LOCAL"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _dump(chromium: str, url: str) -> str:
    """The DOM of `url` once the MLflow UI rendered it (wide: the table renders every column)."""
    done = subprocess.run(
        [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--window-size=3200,900",
         "--virtual-time-budget=25000", "--dump-dom", url],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_ui_opens_the_tasks_runs_table_with_the_dataset_column_and_stops(board_store, chromium):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    server = subprocess.Popen(
        [sys.executable, "-m", "harness", "ui", TASK, "--port", str(port), "--no-browser"],
        cwd=board_store.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, start_new_session=True,
    )  # fmt: skip
    runs = _runs(board_store)
    experiment_id = runs[0].info.experiment_id
    url = (
        f"http://127.0.0.1:{port}/#/experiments/{experiment_id}/runs?"
        "workflowType=machine_learning&viewStateShareKey=harness"
    )
    try:
        first, second = server.stdout.readline(), server.stdout.readline()
        assert f"at http://127.0.0.1:{port}" in first and "mlflow.db" in first
        assert second == f"{TASK}: {url}\n"
        deadline, status = time.monotonic() + 150, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/ajax-api/2.0/mlflow/experiments/search?max_results=50",
                    timeout=5,
                ) as response:
                    status, body = response.status, response.read().decode()
                    break
            except OSError:
                time.sleep(1)
        assert status == 200, "the UI did not answer in time"
        assert all(f'"{task}"' in body for task in (TASK, "penguins", "ames"))
        dom = _dump(chromium, url)
    finally:
        server.send_signal(signal.SIGTERM)  # harness stops the server's process group itself
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server outlived harness ui"
    text = re.sub(r"<[^>]+>", " ", dom)  # what the page says, without its markup
    # the classic runs table in the Model training view, not the GenAI overview
    assert "Detect Issues" not in text and "Usage" not in text
    assert 'aria-label="Sort: cv_roc_auc_mean"' in dom
    linear = _of(runs, schema.KIND_STUDY, "linear")[0]
    digest = linear.data.tags[schema.DATA_FINGERPRINT][:8]
    assert f"breast_cancer ({digest})" in text and "breast_cancer-holdout (" in text
    assert ">training</span>" in dom and ">holdout</span>" in dom  # their contexts
    # the board's runs only: 3 studies and the leaderboard run, no trial (10 runs in all)
    assert len(runs) == 10 and re.search(r"\b4\s+matching runs", text), text[-3000:]
    # the Description column (the UI cuts it): `linear — CV roc_auc 0.9951 ± 0.0057 over 5 folds`
    assert linear.data.tags["mlflow.note.content"].split(",")[0] in text
    # the view harness ui wrote: the board's search, sorted by the CV score, best first
    client = MlflowClient(tracking_uri=board_store.tracking_uri)
    view = json.loads(client.get_experiment(experiment_id).tags["mlflow.sharedViewState.harness"])
    assert view["searchFilter"] == "tags.`harness.current` = 'true'"
    assert (view["orderByKey"], view["orderByAsc"]) == ("metrics.`cv_roc_auc_mean`", False)


def test_ui_without_a_task_lists_the_experiments_and_each_tasks_runs(board_store):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    server = subprocess.Popen(
        [sys.executable, "-m", "harness", "ui", "--port", str(port), "--no-browser"],
        cwd=board_store.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        lines = [server.stdout.readline() for _ in range(5)]
    finally:
        server.send_signal(signal.SIGTERM)  # at once: the addresses are printed before it starts
        server.wait(timeout=60)
    base = f"http://127.0.0.1:{port}"
    assert lines[1] == f"experiments: {base}/#/experiments?workflowType=machine_learning\n"
    client = MlflowClient(tracking_uri=board_store.tracking_uri)
    for line, task in zip(lines[2:], ("ames", "breast_cancer", "penguins"), strict=True):
        experiment_id = client.get_experiment_by_name(task).experiment_id
        assert line == (
            f"{task}: {base}/#/experiments/{experiment_id}/runs?"
            "workflowType=machine_learning&viewStateShareKey=harness\n"
        )
