"""Like-for-like checks of published references whose protocol differs from our task's.

Run `python benchmarks/reference_protocols.py`; it prints the rows that docs/REFERENCES.md marks
"like-for-like". It uses the harness's own model plugins (their default configuration) through
`splits.prepare` and `Model.build`, with the published feature set and split:

- flights (tidymodels "Preprocess your data with recipes"): late by 30+ minutes from day of week,
  month, origin, destination, carrier, distance, the actual departure time `dep_time` and
  `air_time`; flights inner-joined with weather hours; random 75/25 split; logistic regression.
  Then the same split and columns with the scheduled departure time in place of the leaks.
- ames (Tidy Modeling with R, ch. 10): log10 sale price from 6 predictors, random 80/20 split,
  random forest, seeds 0, 1, 2.

It is a benchmark, not a test: it takes about a minute of CPU and writes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import mean_squared_error, roc_auc_score

from harness import registry
from harness.contracts.task import Dataset, Task
from harness.data.packages import frame_dataset, r_dataset
from harness.protocol.cv import spec_for
from harness.protocol.splits import prepare


def _score(task: Task, data: Dataset, model_name: str, seed: int) -> float:
    prepared = prepare(task, data, folds=2, seed=seed)
    model = registry.get_model(model_name)
    spec = spec_for(task.problem_type, "tabular", prepared)
    estimator = model.build(spec, dict(model.defaults), seed=seed)
    estimator.fit(prepared.X, prepared.y)
    if task.problem_type == "binary":
        return roc_auc_score(prepared.holdout_y, estimator.predict_proba(prepared.holdout_X)[:, 1])
    return mean_squared_error(prepared.holdout_y, estimator.predict(prepared.holdout_X)) ** 0.5


def flights() -> None:
    """Our linear model on the tidymodels protocol, then on our features with the same split."""
    frame = r_dataset("nycflights13", "flights")
    hours = r_dataset("nycflights13", "weather")[["origin", "time_hour"]]
    frame = frame.merge(hours, on=["origin", "time_hour"], how="inner")
    frame = frame.dropna(subset=["arr_delay", "dep_time", "air_time"]).reset_index(drop=True)
    date = pd.to_datetime(frame[["year", "month", "day"]])
    base = pd.DataFrame(
        {
            "dow": date.dt.day_name().astype(object),
            "month": date.dt.month.astype(str).astype(object),
            "origin": frame["origin"],
            "dest": frame["dest"],
            "carrier": frame["carrier"],
            "distance": frame["distance"].astype(float),
        }
    )
    target = pd.Series(np.where(frame["arr_delay"] >= 30, "late", "on_time"))
    task = Task(
        name="flights_probe",
        description="probe",
        modality="tabular",
        problem_type="binary",
        metric="roc_auc",
        load=lambda: None,
        positive_class="late",
        holdout=0.25,
    )
    variants = {
        "tidymodels features (dep_time, air_time)": base.assign(
            dep_time=frame["dep_time"], air_time=frame["air_time"]
        ),
        "scheduling features only (sched_dep_time)": base.assign(
            sched_dep_time=frame["sched_dep_time"].astype(float)
        ),
    }
    for label, X in variants.items():
        kinds = {c: "numeric" if X[c].dtype.kind in "fi" else "categorical" for c in X}
        auc = _score(task, Dataset(X=X, y=target, feature_kinds=kinds), "linear", seed=0)
        print(f"flights, linear, {label}, random 75/25: ROC AUC {auc:.4f} ({len(X):,} rows)")


def ames() -> None:
    """Our random forest on the 6 predictors of Tidy Modeling with R, log10 price, 80/20."""
    columns = ["Neighborhood", "Gr_Liv_Area", "Year_Built", "Bldg_Type", "Latitude", "Longitude"]
    frame = r_dataset("modeldata", "ames")[[*columns, "Sale_Price"]]
    frame["Sale_Price"] = np.log10(frame["Sale_Price"])
    data = frame_dataset(frame, "Sale_Price")
    task = Task(
        name="ames_probe",
        description="probe",
        modality="tabular",
        problem_type="regression",
        metric="rmse",
        load=lambda: data,
    )
    for seed in (0, 1, 2):
        rmse = _score(task, data, "random_forest", seed)
        print(f"ames, random_forest, 6 predictors, random 80/20, seed {seed}: RMSE {rmse:.4f}")


if __name__ == "__main__":
    flights()
    ames()
