"""Problem-type and feature-kind inference on real data, and the notes that explain it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.data.infer import (
    apply_columns,
    default_positive_class,
    infer_columns,
    infer_problem_type,
)


def test_few_integer_values_are_class_labels_not_regression(penguins):
    codes = penguins["species"].astype("category").cat.codes.astype("int64")
    guess = infer_problem_type(codes.rename("species_code"))
    assert guess.problem_type == "multiclass"
    assert "3 distinct integer values in 344 rows, read as class labels" in guess.reason


def test_many_integer_values_and_floats_are_regression(diabetes):
    assert infer_problem_type(diabetes["target"]).problem_type == "regression"
    assert infer_problem_type(diabetes["bmi"]).problem_type == "regression"
    assert "non-integer numbers" in infer_problem_type(diabetes["bmi"]).reason


def test_integer_values_read_as_floats_with_two_values_are_binary(churn):
    assert infer_problem_type(churn["churn"].astype(float)).problem_type == "binary"


def test_strings_and_booleans_are_classification(penguins, churn):
    assert infer_problem_type(penguins["species"]).problem_type == "multiclass"
    assert infer_problem_type(penguins["sex"].dropna()).problem_type == "binary"
    assert infer_problem_type(churn["churn"].astype(bool)).problem_type == "binary"


def test_twenty_classes_in_few_rows_are_read_as_numbers():
    y = pd.Series(np.arange(100) % 20, name="score")
    assert infer_problem_type(y).problem_type == "regression"  # 20 values in 100 rows: 20%


def test_the_positive_class_is_one_for_zero_one_labels_and_the_minority_otherwise(penguins):
    assert default_positive_class(pd.Series([0, 0, 1, 0]))[0] == 1
    assert default_positive_class(pd.Series([True, True, False]))[0] is True
    sex = penguins["sex"].dropna()
    positive, why = default_positive_class(sex)
    assert positive == sex.value_counts().idxmin()
    assert why.startswith("the minority class")


def test_feature_kinds_cover_numbers_categories_dates_text_and_ids(penguins):
    rows = len(penguins)
    rng = np.random.default_rng(0)
    frame = penguins.drop(columns=["species"]).assign(
        ticket=[f"T{i:05d}X" for i in rng.permutation(rows)],
        seen=pd.date_range("2024-01-01 08:30", periods=rows, freq="7h").astype(str),
        born=pd.date_range("2020-03-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
        note=[
            f"bird number {i} was seen near the {w} rocks at dawn"
            for i, w in zip(range(rows), rng.choice(["north", "south", "east"], rows), strict=True)
        ],
        flag=rng.integers(0, 2, rows).astype(bool),
        empty=np.nan,
        same="x",
    )
    columns = infer_columns(frame)
    assert columns.kinds["island"] == "categorical"
    assert columns.kinds["bill_length_mm"] == "numeric"
    assert columns.kinds["flag"] == "numeric"
    assert columns.kinds["note"] == "text"
    assert columns.dates == {"seen": True, "born": False}
    assert {"seen_year", "seen_hour", "born_dayofweek"} <= set(columns.kinds)
    assert "born_hour" not in columns.kinds
    assert columns.dropped["Id"] == "id-like: named like an id, unique in every row"
    assert columns.dropped["ticket"] == "id-like: a string unique in every row"
    assert columns.dropped["empty"] == "all values missing"
    assert columns.dropped["same"] == "constant ('x')"
    assert any("dates, expanded to numeric parts" in note for note in columns.notes)
    assert any("free text" in note for note in columns.notes)

    X = apply_columns(frame, columns)
    assert list(X.columns) == list(columns.kinds)
    assert X["born_year"].iloc[0] == 2020 and X["seen_hour"].iloc[0] == 8
    assert X["flag"].dtype == float
    assert X["island"].dtype == object


def test_an_integer_sequence_is_id_like_but_a_numeric_feature_is_not(diabetes):
    columns = infer_columns(diabetes.drop(columns=["target"]).rename(columns={"id": "row"}))
    assert columns.dropped == {"row": "id-like: an integer sequence, unique in every row"}
    assert columns.kinds["bmi"] == "numeric"


@pytest.mark.parametrize("forced", ["categorical", "numeric"])
def test_forced_kinds_win_over_inference(penguins, forced):
    columns = infer_columns(penguins[["body_mass_g", "island"]], **{forced: ("body_mass_g",)})
    assert columns.kinds["body_mass_g"] == forced
