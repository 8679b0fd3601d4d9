"""Health checks find duplicates across the split, leaks, imbalance and empty columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.data.health import (
    check_prepared,
    constant_columns,
    duplicates_across,
    imbalance,
    leak_suspects,
)


def test_rows_repeated_in_the_holdout_are_counted(penguins):
    features = penguins.drop(columns=["species", "Id"])
    findings = duplicates_across(features.iloc[:200], features.iloc[190:250])
    assert len(findings) == 1
    assert findings[0].message.startswith("10 of 60 holdout rows (16.7%)")
    assert duplicates_across(features.iloc[:100], features.iloc[100:200]) == []


def test_a_feature_that_copies_the_target_is_a_leak_suspect_and_honest_ones_are_not(churn):
    X = churn.drop(columns=["churn", "customer_id"]).assign(
        refund_code=churn["churn"].map({0: "none", 1: "r"})
    )
    findings = leak_suspects(X, churn["churn"].to_numpy(), classification=True)
    assert [f.columns for f in findings] == [("refund_code",)]
    assert "alone predicts the target for 100.0% of rows" in findings[0].message


def test_a_regression_feature_almost_equal_to_the_target_is_a_leak_suspect(diabetes):
    X = diabetes.drop(columns=["target", "id"]).assign(echo=diabetes["target"] * 2 + 1)
    findings = leak_suspects(X, diabetes["target"].to_numpy(), classification=False)
    assert [f.columns for f in findings] == [("echo",)]


def test_strong_imbalance_and_empty_columns_are_reported():
    y = np.array([0] * 97 + [1] * 3)
    (finding,) = imbalance(y, ("no", "yes"))
    assert "'yes' 3.0%" in finding.message
    assert imbalance(np.array([0, 1] * 50), ("no", "yes")) == []
    frame = pd.DataFrame({"a": [1, 2], "b": [np.nan, np.nan], "c": ["k", "k"]})
    assert [f.check for f in constant_columns(frame)] == ["all_missing", "constant"]


def test_the_built_in_tasks_data_gets_the_same_checks(penguins):
    from harness.protocol.splits import prepare
    from harness.registry import get_task

    task = get_task("penguins")
    data = prepare(task, task.load(), folds=3, seed=0)
    findings = check_prepared(task, data)
    assert all(f.check in ("duplicates", "constant", "leak", "imbalance") for f in findings)
