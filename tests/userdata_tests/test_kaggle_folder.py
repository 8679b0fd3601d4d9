"""`harness run FOLDER` on Kaggle's layout writes a submission in exactly the sample's format."""

from __future__ import annotations

import json

import pandas as pd
import pytest

RUN = ("--model", "linear", "--trials", "1")


def assert_same_format(submission: pd.DataFrame, sample: pd.DataFrame) -> None:
    assert list(submission.columns) == list(sample.columns)
    assert len(submission) == len(sample)
    assert submission.iloc[:, 0].tolist() == sample.iloc[:, 0].tolist()  # ids, in sample order
    assert submission.notna().all().all()


def test_a_binary_folder_with_probability_sample_writes_positive_class_probabilities(
    cli, store, kaggle_folder, churn
):
    frame = churn
    frame["country"] = "US"  # constant: a health warning
    folder = kaggle_folder("churn_data", frame, "churn", "customer_id", 0.5)
    result = cli("run", str(folder), *RUN)
    assert result.code == 0, result.err
    assert "Inferred: id column 'customer_id' and target 'churn'" in result.err
    assert "positive class 1: the conventional positive label" in result.err
    assert "Health warning (constant): column 'country' dropped" in result.err
    assert "Health warning (id_like)" not in result.err  # the id column is not a feature
    written = store.root / "submissions" / "churn_data" / "submission.csv"
    assert str(written) in result.err.replace("\n", "")
    submission = pd.read_csv(written)
    sample = pd.read_csv(folder / "sample_submission.csv")
    assert_same_format(submission, sample)
    assert submission["churn"].between(0, 1).all()
    assert submission["churn"].nunique() > 10  # probabilities, not labels
    # the held-out truth of the test rows: the model is far better than chance
    from sklearn.metrics import roc_auc_score

    truth = frame.set_index("customer_id").loc[submission["customer_id"], "churn"]
    assert roc_auc_score(truth, submission["churn"]) > 0.75
    assert (store.root / "submissions" / "churn_data" / "linear.csv").exists()

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=store.tracking_uri)
    experiment = client.get_experiment_by_name("churn_data")
    (run,) = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`harness.kind` = 'study'"
    )
    assert int(run.data.tags["harness.health_warnings"]) >= 1
    assert run.data.tags["harness.source"] == str(folder.resolve())
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"submission.csv", "health.json", "holdout_predictions.csv"} <= names
    health = json.loads(
        open(client.download_artifacts(run.info.run_id, "health.json", str(store.root))).read()
    )
    assert {"check": "constant", "columns": ["country"]} in [
        {"check": h["check"], "columns": h["columns"]} for h in health
    ]


def test_a_multiclass_folder_with_label_sample_writes_labels(cli, store, kaggle_folder, penguins):
    frame = penguins
    folder = kaggle_folder("penguin_colony", frame, "species", "Id", "Adelie")
    result = cli("run", str(folder), *RUN)
    assert result.code == 0, result.err
    assert "problem type multiclass: target 'species' is non-numeric" in result.err
    assert "the submission holds labels" in result.err
    submission = pd.read_csv(store.root / "submissions" / "penguin_colony" / "submission.csv")
    assert_same_format(submission, pd.read_csv(folder / "sample_submission.csv"))
    assert set(submission["species"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    truth = frame.set_index("Id").loc[submission["Id"], "species"]
    assert (truth.to_numpy() == submission["species"].to_numpy()).mean() > 0.9


def test_a_regression_folder_writes_values_and_integer_targets_with_many_values_stay_numbers(
    cli, store, kaggle_folder, diabetes
):
    folder = kaggle_folder("diabetes_progression", diabetes, "target", "id", 150.0)
    result = cli("run", str(folder), *RUN)
    assert result.code == 0, result.err
    assert "problem type regression: target 'target' has" in result.err
    submission = pd.read_csv(store.root / "submissions" / "diabetes_progression" / "submission.csv")
    assert_same_format(submission, pd.read_csv(folder / "sample_submission.csv"))
    assert submission["target"].between(0, 400).all()
    assert submission["target"].nunique() > 50


def test_a_single_csv_file_with_a_target_flag_runs_without_a_submission(cli, store, penguins):
    frame = penguins.drop(columns=["Id"])
    path = store.root / "birds.csv"
    frame.to_csv(path, index=False)
    result = cli("run", str(path), "--target", "species", "--metric", "accuracy", *RUN)
    assert result.code == 0, result.err
    assert "Task birds: multiclass, metric accuracy" in result.err
    assert "CV accuracy" in result.out
    assert not (store.root / "submissions").exists()


@pytest.mark.slow
def test_the_default_run_on_a_folder_writes_one_submission_per_model_and_the_leaders(
    cli, store, kaggle_folder, churn
):
    folder = kaggle_folder("telco_default", churn, "churn", "customer_id", 0.5)
    result = cli("run", str(folder))
    assert result.code == 0, result.err
    written = store.root / "submissions" / "telco_default"
    models = {path.stem for path in written.glob("*.csv")} - {"submission"}
    assert {"linear", "random_forest", "xgboost"} <= models
    sample = pd.read_csv(folder / "sample_submission.csv")
    for path in written.glob("*.csv"):
        assert_same_format(pd.read_csv(path), sample)
