"""Validation sized to the budget: a budget too short for K booster defaults scores fewer folds.

The plan itself is arithmetic on the data's size and the budget (`schedule.planned_folds`); the
run that uses it is real (penguins in a real store), with the machine's cost per cell raised so
that a small task needs what flights needs at 60 s here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from harness import registry
from harness import run as harness_run
from harness.data.local import Options, load_path
from harness.errors import UsageError
from harness.protocol.splits import fewer_folds, prepare
from harness.run import config as run_config
from harness.run import schedule
from harness.store import schema
from harness.store.urls import resolve_stores
from tests.conftest import Store, run_cli


def test_the_plan_keeps_k_folds_unless_k_booster_defaults_miss_a_models_share():
    flights = dict(rows=261_877, features=7, folds=5, models=12)
    assert schedule.planned_folds(budget=60, **flights) == 2  # a fit of 3.7 s, a share of 4.5
    assert schedule.planned_folds(budget=300, **flights) == 5
    assert schedule.planned_folds(budget=180, **flights) == 3  # a share of 13.5 s
    assert schedule.planned_folds(budget=120, workers=2, **flights) == 4  # two at a time
    hotel_rates = dict(rows=12_321, features=29, folds=5, models=12)
    assert schedule.planned_folds(budget=60, **hotel_rates) == 5
    assert schedule.planned_folds(budget=1, **flights) == schedule.MIN_FOLDS
    assert schedule.planned_folds(budget=60, rows=261_877, features=7, folds=5, models=0) == 5
    assert schedule.planned_folds(budget=1, rows=10**6, features=9, folds=2, models=5) == 2


def test_fewer_folds_are_the_first_ones_or_for_time_order_the_last_ones():
    task = registry.get_task("penguins")
    data = prepare(task, task.load(), folds=5, seed=0)
    fewer = fewer_folds(data, 2)
    assert fewer.folds_of == 5 and len(fewer.folds) == 2
    for (a_train, a_valid), (b_train, b_valid) in zip(fewer.folds, data.folds[:2], strict=True):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_valid, b_valid)
    assert fewer.folds_fingerprint != data.folds_fingerprint
    assert fewer_folds(data, 2).folds_fingerprint == fewer.folds_fingerprint  # deterministic
    assert fewer_folds(data, 3).folds_fingerprint != fewer.folds_fingerprint
    assert fewer_folds(data, 5) is data and fewer_folds(data, 9) is data
    repeated = prepare(task, task.load(), folds=5, seed=0, repeats=2)
    assert fewer_folds(repeated, 2) is repeated
    with pytest.raises(UsageError, match="At least 2 folds must be scored, got 1."):
        fewer_folds(data, 1)


def test_time_ordered_fewer_folds_keep_the_latest(tmp_path):
    """Time-ordered folds keep the last ones: they train on the most rows, validate the latest."""
    rows = 300
    table = pd.DataFrame({"day": np.arange(rows), "x": np.random.default_rng(0).normal(size=rows)})
    table["y"] = table["x"] * 2 + np.random.default_rng(1).normal(size=rows)
    path = tmp_path / "series.csv"
    table.to_csv(path, index=False)
    local = load_path(str(path), Options(target="y", time="day"), known_tasks=set())
    data = prepare(local.task, local.dataset, folds=5, seed=0)
    fewer = fewer_folds(data, 2)
    assert data.ordered and len(fewer.folds) == 2
    np.testing.assert_array_equal(fewer.folds[-1][1], data.folds[-1][1])  # the latest block
    np.testing.assert_array_equal(fewer.folds[0][1], data.folds[-2][1])


def test_a_budgeted_run_scores_the_planned_folds_in_their_own_studies(tmp_path, monkeypatch):
    monkeypatch.setattr(schedule, "FIT_SECONDS_PER_MILLION_CELLS", 20_000.0)
    store = Store(tmp_path)
    stores = resolve_stores(store.tracking_uri, root=tmp_path)
    config = run_config.RunConfig(
        task="penguins", models=("dummy", "linear", "naive_bayes"), budget=20, n_jobs=1
    )
    task, data, results = harness_run.run(config, stores)
    assert len(data.folds) == 2 and data.folds_of == 5
    assert all(r.status == "ok" for r in results), [(r.model, r.reason) for r in results]
    client = MlflowClient(tracking_uri=store.tracking_uri)
    linear = client.get_run(next(r.run_id for r in results if r.model == "linear"))
    assert linear.data.tags[schema.FOLDS] == "2" and linear.data.tags[schema.FOLDS_OF] == "5"
    assert linear.data.tags[schema.STUDY] == "penguins.linear@2of5"
    assert len(store.study("penguins.linear@2of5").trials[0].user_attrs) > 0
    board = run_cli("leaderboard", "penguins", "--no-log", "--width", "200", cwd=tmp_path)
    assert board.code == 0, board.err
    words = " ".join(board.out.split())
    assert (
        "CV on 2 of 5 folds: the run's budget could not fit all 5 for each model "
        "(docs/PRESETS.md)." in words
    )
    assert "ensemble" in board.out  # cross-fitted on 2 folds
    # without a budget the same models score all 5 folds, in the studies of the full split
    full = run_cli("run", "penguins", "-m", "linear", "-n", "2", "--no-ensemble", cwd=tmp_path)
    assert full.code == 0, full.err
    assert "in 5 folds" in full.err
    assert len(store.study("penguins.linear").trials) == 2
