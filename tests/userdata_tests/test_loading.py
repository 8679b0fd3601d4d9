"""Files become tasks: task.toml and YAML settings, flags over settings, Parquet, encodings,
group and time columns wired into the protocol, and the submission formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.data.local import Options, load_path, looks_like_path, task_name
from harness.protocol.splits import prepare


def test_names_come_from_the_path_as_lower_case_identifiers():
    assert task_name("My Data-2024") == "my_data_2024"
    assert task_name("2024 sales") == "data_2024_sales"
    assert looks_like_path("data.csv") and looks_like_path("./ames") and looks_like_path("a/b")
    assert not looks_like_path("ames", {"ames"})


def test_task_toml_sets_what_would_be_inferred_and_flags_win_over_it(tmp_path, penguins):
    folder = tmp_path / "Colony Survey"
    folder.mkdir()
    penguins.to_csv(folder / "train.csv", index=False)
    (folder / "task.toml").write_text(
        'name = "colony"\ntarget = "sex"\nmetric = "accuracy"\nfolds = 3\nholdout = 0.25\n'
        'drop = ["island"]\npositive_class = "female"\n'
    )
    local = load_path(str(folder), Options())
    task = local.task
    assert (task.name, task.problem_type, task.metric, task.folds, task.holdout) == (
        "colony",
        "binary",
        "accuracy",
        3,
        0.25,
    )
    assert task.positive_class == "female"
    assert "island" not in local.dataset.X.columns and "Id" not in local.dataset.X.columns
    assert any("dropped 11 rows whose target 'sex' is missing" in n for n in local.notes)
    assert local.submission is None

    local = load_path(str(folder), Options(metric="roc_auc", positive_class="male", name="c2"))
    assert (local.task.name, local.task.metric, local.task.positive_class) == (
        "c2",
        "roc_auc",
        "male",
    )


def test_yaml_settings_and_a_parquet_file_work_like_toml_and_csv(tmp_path, diabetes):
    diabetes.to_parquet(tmp_path / "progression.parquet")
    (tmp_path / "progression.yaml").write_text("target: target\nmetric: mae\ndrop: [sex]\n")
    local = load_path(str(tmp_path / "progression.parquet"), Options())
    assert (local.task.name, local.task.problem_type, local.task.metric) == (
        "progression",
        "regression",
        "mae",
    )
    assert "sex" not in local.dataset.X.columns
    assert local.dataset.ids is None  # the id column was dropped as id-like, not given


def test_an_integer_target_is_classification_unless_told_otherwise(tmp_path, penguins):
    frame = penguins.assign(species=penguins["species"].astype("category").cat.codes)
    frame.to_csv(tmp_path / "birds.csv", index=False)
    local = load_path(str(tmp_path / "birds.csv"), Options(target="species"))
    assert local.task.problem_type == "multiclass"
    assert any("override with --problem-type" in note for note in local.notes)
    local = load_path(str(tmp_path / "birds.csv"), Options(target="species", metric="rmse"))
    assert local.task.problem_type == "regression"
    assert "problem type regression, as metric rmse asks" in local.notes
    given = Options(target="species", problem_type="regression")
    assert load_path(str(tmp_path / "birds.csv"), given).task.metric == "rmse"


def test_a_group_column_gives_grouped_folds_and_a_time_column_forward_chaining(tmp_path, churn):
    frame = churn.assign(
        region=np.arange(len(churn)) % 40,
        signed=pd.date_range("2020-01-01", periods=len(churn), freq="D").strftime("%Y-%m-%d"),
    )
    frame.to_csv(tmp_path / "telco.csv", index=False)
    local = load_path(str(tmp_path / "telco.csv"), Options(target="churn", group="region"))
    assert "region" not in local.dataset.X.columns
    data = prepare(local.task, local.dataset, folds=3, seed=0)
    assert data.scheme == "stratified_group"
    local = load_path(str(tmp_path / "telco.csv"), Options(target="churn", time="signed"))
    assert "signed_year" in local.dataset.X.columns  # the time column stays a feature, in parts
    data = prepare(local.task, local.dataset, folds=3, seed=0)
    assert data.scheme == "time"


def test_a_windows_1252_file_is_read_with_a_notice(tmp_path, penguins):
    frame = penguins.assign(island=penguins["island"].str.replace("Dream", "Rêve"))
    frame.to_csv(tmp_path / "birds.csv", index=False, encoding="cp1252")
    local = load_path(str(tmp_path / "birds.csv"), Options(target="species"))
    assert "'birds.csv' is not UTF-8; read it as Windows-1252" in local.notes
    assert "Rêve" in set(local.dataset.X["island"])


def test_one_probability_column_per_class_is_supported_when_the_target_is_named(
    tmp_path, kaggle_folder, penguins
):
    folder = kaggle_folder("colony", penguins, "species", "Id", 0.0)
    sample = pd.read_csv(folder / "sample_submission.csv").drop(columns=["species"])
    for label in ("Adelie", "Chinstrap", "Gentoo"):
        sample[label] = 1 / 3
    sample.to_csv(folder / "sample_submission.csv", index=False)
    local = load_path(str(folder), Options(target="species"))
    assert local.submission.per_class
    proba = np.tile([0.2, 0.5, 0.3], (len(sample), 1))
    frame = local.submission.frame(proba, ("Adelie", "Chinstrap", "Gentoo"))
    assert list(frame.columns) == list(sample.columns)
    assert frame["Chinstrap"].eq(0.5).all()
    assert frame["Id"].tolist() == sample["Id"].tolist()


@pytest.mark.parametrize(("value", "probabilities"), [(0.5, True), (0, False)])
def test_a_binary_sample_of_floats_in_0_1_asks_for_probabilities_and_integers_for_labels(
    kaggle_folder, churn, value, probabilities
):
    folder = kaggle_folder("telco", churn, "churn", "customer_id", value)
    local = load_path(str(folder), Options())
    assert local.submission.probabilities is probabilities
    proba = np.tile([0.3, 0.7], (len(local.submission.ids), 1))
    frame = local.submission.frame(proba, (0, 1))
    expected = 0.7 if probabilities else 1
    assert frame["churn"].eq(expected).all()
    assert frame["churn"].dtype == (float if probabilities else np.int64)
