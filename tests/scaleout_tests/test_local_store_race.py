"""Processes that open a fresh local store at the same moment (workers started together on one
machine) each get a working store: MLflow's and Optuna's first-use migrations run once, under a
lock beside the database file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

OPEN_BOTH = """
import sys
from harness.store.tracker import Tracker
from harness.store.urls import Stores
from harness.tuning import studies
folder = sys.argv[1]
stores = Stores(f"sqlite:///{folder}/mlflow.db", f"sqlite:///{folder}/optuna.db", None)
Tracker(stores).experiment_id("race")
studies.open_storage(stores.storage_url)
"""


@pytest.mark.slow  # three MLflow imports and migrations in a row (30-80 s on 2 shared cores)
def test_three_processes_opening_a_fresh_local_store_at_once_all_succeed(tmp_path: Path):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_BOTH, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    assert [e.name for e in client.search_experiments() if e.name == "race"] == ["race"]
