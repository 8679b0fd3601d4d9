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


def _with_infinite(diabetes: pd.DataFrame) -> pd.DataFrame:
    frame = diabetes.drop(columns=["id"])
    frame.loc[[3, 50, 100], "bmi"] = np.inf
    frame.loc[[7], "s1"] = -np.inf
    return frame


def _regression(dataset):
    """A regression task of the diabetes rows with infinite values."""
    from harness.contracts.task import Task

    return Task(
        name="sugar",
        description="Diabetes progression with infinite values.",
        modality="tabular",
        problem_type="regression",
        metric="rmse",
        load=lambda: dataset,
    )


def test_infinite_features_are_made_missing_and_reported_for_a_registered_task(diabetes):
    from harness.contracts.task import Dataset
    from harness.protocol.splits import prepare

    frame = _with_infinite(diabetes)
    X = frame.drop(columns=["target"])
    dataset = Dataset(X=X, y=frame["target"], feature_kinds={c: "numeric" for c in X.columns})
    task = _regression(dataset)
    data = prepare(task, dataset, folds=3, seed=0)
    assert data.infinite == {"bmi": 3, "s1": 1}
    both = pd.concat([data.X, data.holdout_X])
    assert not np.isinf(both.to_numpy()).any()
    assert both["bmi"].isna().sum() == 3 and both["s1"].isna().sum() == 1
    assert np.isinf(X.to_numpy()).sum() == 4  # the task's own data is left as it is
    # the fingerprint is the data's as loaded: a study of it stays valid
    assert data.data_fingerprint == prepare(task, dataset, folds=3, seed=0).data_fingerprint
    (finding,) = [f for f in check_prepared(task, data) if f.check == "infinite"]
    assert finding.columns == ("bmi", "s1")
    assert finding.message.startswith(
        "infinite values (inf or -inf) in 2 numeric columns of the 442 labeled rows: 'bmi' 3, "
        "'s1' 1; they are treated as missing values (imputed like them)."
    )


def test_a_registered_tasks_infinite_target_is_refused_like_a_missing_one(diabetes):
    import pytest

    from harness.contracts.task import Dataset
    from harness.errors import DataError

    X = diabetes[["bmi"]]
    y = diabetes["target"].copy()
    y.iloc[[1, 2]] = [np.inf, -np.inf]
    with pytest.raises(DataError, match="the target has 2 infinite values .inf or -inf.; drop"):
        Dataset(X=X, y=y, feature_kinds={"bmi": "numeric"})
    with pytest.raises(DataError, match="the holdout target has 2 infinite values"):
        Dataset(
            X=X,
            y=diabetes["target"],
            feature_kinds={"bmi": "numeric"},
            holdout_X=X,
            holdout_y=y,
        )


def test_the_test_parts_infinite_values_are_made_missing_too(diabetes):
    from harness.contracts.task import Dataset
    from harness.protocol.splits import prepare
    from harness.run import Reporter, _health_and_extras

    frame = _with_infinite(diabetes)
    X = frame.drop(columns=["target"])
    clean = X.replace([np.inf, -np.inf], np.nan).fillna(0)
    dataset = Dataset(
        X=clean, y=frame["target"], feature_kinds={c: "numeric" for c in X.columns}, test_X=X
    )
    task = _regression(dataset)
    data = prepare(task, dataset, folds=3, seed=0)
    extras = _health_and_extras(task, data, dataset, None, Reporter())
    assert not np.isinf(extras.test_X.to_numpy()).any()
    assert extras.test_X["bmi"].isna().sum() == 3
    (finding,) = [f for f in extras.findings if f.check == "infinite"]
    assert "of the 442 test rows: 'bmi' 3, 's1' 1" in finding.message


def test_a_csv_with_infinite_values_runs_with_a_warning_and_no_numpy_noise(cli, store, diabetes):
    frame = _with_infinite(diabetes)
    frame.loc[[10, 11], "target"] = [np.inf, -np.inf]
    frame.to_csv(store.root / "sugar.csv", index=False)
    assert "inf" in (store.root / "sugar.csv").read_text()
    result = cli(
        "run", "sugar.csv", "--target", "target", "-m", "linear", "--trials", "1", "--folds", "3"
    )
    assert result.code == 0, result.err
    err = " ".join(result.err.split())
    assert "Inferred: dropped 2 rows whose target 'target' is infinite (inf or -inf)" in err
    assert (
        "Health warning (infinite): infinite values (inf or -inf) in 2 numeric columns of the "
        "440 labeled rows: 'bmi' 3, 's1' 1; they are treated as missing values"
    ) in err
    assert "RuntimeWarning" not in result.err and "Traceback" not in result.err
    assert "contains infinity" not in result.err + result.out
