"""Wine recognition: which of three Italian cultivars a wine comes from, by chemical analysis."""

from __future__ import annotations

from harness.contracts import Dataset, Reference, Task
from harness.contracts.datasets import sklearn_classes


def load() -> Dataset:
    return sklearn_classes("wine", "cultivar")


TASK = Task(
    name="wine",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="multiclass",
    metric="log_loss",
    extra_metrics=("accuracy", "balanced_accuracy", "f1_macro"),
    target="cultivar",
    load=load,
    rows=178,
    features=13,
    source="scikit-learn sklearn.datasets.load_wine (178 rows, 13 numeric features, 3 classes)",
    citation=(
        "Forina M. et al. (1991). PARVUS: an extendable package of programs for data "
        "exploration. UCI Machine Learning Repository, Wine."
    ),
    licence="CC BY 4.0 (UCI Machine Learning Repository)",
    references=(
        Reference(
            metric="accuracy",
            value=0.963,
            model="logistic regression (scaled)",
            protocol="StandardScaler, PCA to 2 components, logistic regression; 70/30 split "
            "(random_state 42), scored on the 54-row test part",
            source="scikit-learn example 'Importance of Feature Scaling'",
        ),
    ),
)
