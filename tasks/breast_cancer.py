"""Wisconsin diagnostic breast cancer: malignant vs benign from 30 cell-nucleus measurements."""

from __future__ import annotations

from harness.contracts import Dataset, Reference, Task
from harness.contracts.datasets import sklearn_classes


def load() -> Dataset:
    return sklearn_classes("breast_cancer", "diagnosis")


TASK = Task(
    name="breast_cancer",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="malignant",
    target="diagnosis",
    load=load,
    rows=569,
    features=30,
    source="scikit-learn sklearn.datasets.load_breast_cancer (569 rows, 30 features)",
    citation=(
        "W. N. Street, W. H. Wolberg, O. L. Mangasarian (1993). Nuclear feature extraction for "
        "breast tumor diagnosis. UCI Machine Learning Repository."
    ),
    licence="CC BY 4.0 (UCI Machine Learning Repository)",
    references=(
        Reference(
            metric="accuracy",
            value=0.97,
            model="random forest",
            protocol="held-out test split, default hyperparameters",
            source="scikit-learn examples and common Kaggle notebooks",
        ),
    ),
)
