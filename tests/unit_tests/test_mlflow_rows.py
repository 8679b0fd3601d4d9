"""A trial run written in one transaction (`harness.store.rows`) reads back from MLflow exactly
as one written with MLflow's public calls: the same run fields, metrics, histories, params and
tags, found by the same searches, with the same rows in every table. If an MLflow release changes
its tables, these tests fail, not a user's run."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from harness.errors import StoreError
from harness.store import rows as mlflow_rows
from harness.store.tracker import Tracker
from harness.store.urls import make_folders, resolve_stores

TASK = "breast_cancer"
TRIAL = {
    "tags": {"harness.kind": "trial", "harness.trial": 3, "harness.status": "ok", "x": "y" * 6000},
    "metrics": {"cv_roc_auc_mean": 0.97, "cv_roc_auc_std": 0.01, "fit_seconds": 0.25},
    "series": {"fold_roc_auc": [0.96, 0.98, 0.97], "fold_log_loss": [0.2, 0.1, 0.2]},
    "params": {"C": 0.5, "penalty": "l2", "layers": [64, 32]},
    "status": "FINISHED",
    "start_time": 1_700_000_000_000,
    "end_time": 1_700_000_004_000,
}


@pytest.fixture
def tracker(tmp_path: Path) -> Tracker:
    stores = resolve_stores(None, None, root=tmp_path)
    make_folders(stores)
    return Tracker(stores)


def _public(tracker: Tracker) -> Tracker:
    """The same store through MLflow's public calls only (as on a tracking server)."""
    return Tracker(tracker.stores, direct_rows=False)


def _rows(tracker: Tracker, table: str, run_id: str) -> list[tuple]:
    """A run's rows of one MLflow table, ids and names left out, sorted."""
    path = tracker.stores.tracking_uri[len("sqlite:///") :]
    with sqlite3.connect(path) as db:
        cursor = db.execute(f"SELECT * FROM {table} WHERE run_uuid = ?", (run_id,))  # noqa: S608
        columns = [c[0] for c in cursor.description]
        skip = {"run_uuid", "name", "artifact_uri", "timestamp"}
        return sorted(
            tuple(v for c, v in zip(columns, row, strict=True) if c not in skip) for row in cursor
        )


def _write_both(tracker: Tracker, **trial) -> tuple:
    parent = tracker.start_run(TASK, "linear", {"harness.kind": "study"})
    ours = tracker.record_run(TASK, "linear-trial-3", parent=parent, **trial)
    theirs = _public(tracker).record_run(TASK, "linear-trial-3", parent=parent, **trial)
    return parent, ours, theirs


def test_the_sql_store_gets_the_one_transaction_writer(tracker):
    assert tracker.direct_rows and not _public(tracker).direct_rows


def test_a_run_in_one_transaction_reads_back_as_one_from_the_public_calls(tracker):
    parent, ours, theirs = _write_both(tracker, **TRIAL)
    assert ours != theirs
    client = tracker.client
    mine, public = client.get_run(ours), client.get_run(theirs)
    for field in (
        "status",
        "start_time",
        "end_time",
        "lifecycle_stage",
        "user_id",
        "experiment_id",
        "run_name",
    ):
        assert getattr(mine.info, field) == getattr(public.info, field), field
    assert mine.info.status == "FINISHED" and mine.info.run_name == "linear-trial-3"
    assert mine.info.artifact_uri == public.info.artifact_uri.replace(theirs, ours)
    assert mine.data.metrics == public.data.metrics
    assert mine.data.metrics["fold_roc_auc"] == 0.97  # the latest step's value
    assert mine.data.params == public.data.params
    assert mine.data.params == {"C": "0.5", "penalty": "l2", "layers": "[64, 32]"}
    assert mine.data.tags == public.data.tags
    assert mine.data.tags["mlflow.parentRunId"] == parent
    assert len(mine.data.tags["x"]) == 5000  # cut as the public path's tags are
    for key in (*TRIAL["metrics"], *TRIAL["series"]):
        history = [(m.step, m.value) for m in client.get_metric_history(ours, key)]
        assert sorted(history) == sorted(
            (m.step, m.value) for m in client.get_metric_history(theirs, key)
        )
    assert [(m.step, m.value) for m in client.get_metric_history(ours, "fold_roc_auc")] == [
        (0, 0.96),
        (1, 0.98),
        (2, 0.97),
    ]
    for table in ("runs", "tags", "params", "metrics", "latest_metrics"):
        assert _rows(tracker, table, ours) == _rows(tracker, table, theirs), table
    for search in (
        "tags.`harness.kind` = 'trial'",
        "metrics.cv_roc_auc_mean > 0.9",
        "params.penalty = 'l2'",
        "attributes.status = 'FINISHED'",
        f"tags.`mlflow.parentRunId` = '{parent}'",
        "attributes.run_name = 'linear-trial-3'",
    ):
        found = {r.info.run_id for r in tracker.search(TASK, search)}
        assert {ours, theirs} <= found, search


def test_nan_and_infinite_scores_and_a_failed_trial_are_stored_as_mlflow_stores_them(tracker):
    trial = {
        **TRIAL,
        "metrics": {"cv_rmse_mean": math.nan, "cv_rmse_std": math.inf, "worst": -math.inf},
        "series": {"fold_rmse": [1.0, math.nan]},
        "status": "FAILED",
    }
    _, ours, theirs = _write_both(tracker, **trial)
    mine, public = tracker.client.get_run(ours), tracker.client.get_run(theirs)
    assert mine.info.status == public.info.status == "FAILED"
    assert math.isnan(mine.data.metrics["cv_rmse_mean"])
    assert math.isnan(mine.data.metrics["fold_rmse"])
    assert mine.data.metrics["cv_rmse_std"] == public.data.metrics["cv_rmse_std"] > 1e308
    assert mine.data.metrics["worst"] == public.data.metrics["worst"] < -1e308
    for table in ("metrics", "latest_metrics"):
        assert _rows(tracker, table, ours) == _rows(tracker, table, theirs), table


def test_a_key_mlflow_refuses_is_a_store_error_and_writes_no_part_of_the_run(tracker):
    parent = tracker.start_run(TASK, "linear", {"harness.kind": "study"})
    before = len(tracker.search(TASK))
    for bad in ({"params": {"a\nb": 1}}, {"metrics": {"a\tb": 1.0}}):
        trial = {**TRIAL, **bad}
        with pytest.raises(StoreError, match="The MLflow store .* failed: Invalid"):
            tracker.record_run(TASK, "linear-trial-3", parent=parent, **trial)
        with pytest.raises(StoreError, match="The MLflow store .* failed: Invalid"):
            _public(tracker).record_run(TASK, "linear-trial-3", parent=parent, **trial)
    assert len(tracker.search(TASK)) == before + 2  # the public calls leave each run behind


def test_a_tracking_server_gets_the_public_calls():
    from mlflow.tracking import MlflowClient

    assert mlflow_rows.writer(MlflowClient(tracking_uri="http://127.0.0.1:9")) is None
